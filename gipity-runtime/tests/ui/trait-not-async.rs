use gipity_runtime::Result;

#[gipity_runtime::functions]
pub trait Shop {
    fn get_items(&self, category: &str) -> Result<Vec<String>>;
}

fn main() {}
