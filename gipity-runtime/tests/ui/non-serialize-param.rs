use gipity_runtime::Result;

pub struct Category;

#[gipity_runtime::function]
pub async fn get_items(category: Category) -> Result<Vec<String>>;

fn main() {}
