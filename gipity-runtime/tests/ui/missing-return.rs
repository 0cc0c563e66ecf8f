#[gipity_runtime::function]
pub async fn get_items(category: &str);

fn main() {}
