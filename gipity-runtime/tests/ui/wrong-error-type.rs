#[gipity_runtime::function]
pub async fn get_items(category: &str) -> Result<Vec<String>, String>;

fn main() {}
