use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items<'a>(category: &'a str) -> Result<Vec<String>>;

#[gipity_runtime::function]
pub async fn get_more(category: &'b str) -> Result<Vec<String>>;

fn main() {}
