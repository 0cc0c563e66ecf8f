use gipity_runtime::Result;

#[gipity_runtime::functions(auth = "user")]
pub trait Shop {
    #[gipity(name = "get items", auth = "everyone", timout = "1s")]
    async fn get_items(&self, category: &str) -> Result<Vec<String>>;
}

fn main() {}
