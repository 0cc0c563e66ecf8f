use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(category: impl serde::Serialize) -> Result<Vec<String>>;

fn main() {}
