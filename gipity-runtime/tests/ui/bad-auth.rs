use gipity_runtime::Result;

#[gipity_runtime::function(auth = "admin")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
