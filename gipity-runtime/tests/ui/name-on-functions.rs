use gipity_runtime::Result;

#[gipity_runtime::functions(name = "shop")]
pub trait Shop {
    async fn get_items(&self, category: &str) -> Result<Vec<String>>;
}

fn main() {}
