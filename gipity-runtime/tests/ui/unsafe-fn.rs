use gipity_runtime::Result;

#[gipity_runtime::function]
pub async unsafe fn get_items(category: &str) -> Result<Vec<String>>;

fn main() {}
