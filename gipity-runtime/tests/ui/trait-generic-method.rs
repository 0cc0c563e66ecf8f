use gipity_runtime::Result;

#[gipity_runtime::functions]
pub trait Shop {
    async fn get_items<T: serde::Serialize>(&self, category: T) -> Result<Vec<String>>;
}

fn main() {}
