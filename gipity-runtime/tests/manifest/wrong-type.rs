use gipity_runtime::Result;

#[gipity_runtime::function(name = "get-items")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
