use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items<T: serde::Serialize>(category: T) -> Result<Vec<String>>;

fn main() {}
