use gipity_runtime::Result;

pub struct Item;

#[gipity_runtime::function]
pub async fn get_items(category: &str) -> Result<Vec<Item>>;

fn main() {}
