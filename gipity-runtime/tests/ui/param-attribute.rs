use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(#[cfg(unix)] category: String) -> Result<Vec<String>>;

fn main() {}
