use gipity_runtime::Result;

#[gipity_runtime::function(name = "get-items", manifest = "app/gipity.yaml")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

#[gipity_runtime::functions(manifest = "")]
pub trait Todos {
    #[gipity(manifest = "gipity.yaml")]
    async fn my_todos(&self) -> Result<Vec<String>>;
}

fn main() {}
