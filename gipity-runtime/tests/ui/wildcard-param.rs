use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(_: &str) -> Result<Vec<String>>;

fn main() {}
