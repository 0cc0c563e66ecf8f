use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn get_items(category: impl serde::Serialize) -> Result<Vec<String>>;

// Nested in another type too.
#[gipity_runtime::function]
pub async fn get_tags(tags: Vec<impl serde::Serialize>) -> Result<Vec<String>>;

fn main() {}
