use gipity_runtime::Result;

#[gipity_runtime::functions]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
