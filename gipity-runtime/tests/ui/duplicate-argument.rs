use gipity_runtime::Result;

#[gipity_runtime::function(auth = "user", auth = "public")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
