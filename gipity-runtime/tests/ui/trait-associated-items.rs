use gipity_runtime::Result;

macro_rules! items {
    () => {};
}

#[gipity_runtime::functions]
pub trait Shop {
    type Item;
    const LIMIT: usize;
    items!();
    async fn get_items(&self, category: &str) -> Result<Vec<String>>;
}

fn main() {}
