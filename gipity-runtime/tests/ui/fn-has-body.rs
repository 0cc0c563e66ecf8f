use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(category: &str) -> Result<Vec<String>> {
    Ok(vec![category.to_owned()])
}

fn main() {}
