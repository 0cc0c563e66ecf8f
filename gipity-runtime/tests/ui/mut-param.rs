use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(mut category: String) -> Result<Vec<String>>;

fn main() {}
