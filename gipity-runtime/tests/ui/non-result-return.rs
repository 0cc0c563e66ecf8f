#[gipity_runtime::function]
pub async fn get_items(category: &str) -> Vec<String>;

fn main() {}
