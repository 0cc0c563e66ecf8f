use gipity_runtime::Result;

#[gipity_runtime::functions]
pub trait Shop {
    async fn get_items(&self, category: &str) -> Result<Vec<String>> {
        Ok(vec![category.to_owned()])
    }
}

fn main() {}
