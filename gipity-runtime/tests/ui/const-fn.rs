use gipity_runtime::Result;

#[gipity_runtime::function]
pub const async fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
