use gipity_runtime::Result;

// The remote name defaults to the fn's name, which must then be a valid function name.
#[gipity_runtime::function]
pub async fn _get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
