use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(category: &str) -> Result<Vec<String>>
where
    String: Clone;

fn main() {}
