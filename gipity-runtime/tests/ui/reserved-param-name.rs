use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(__gipity_client: &str) -> Result<Vec<String>>;

fn main() {}
