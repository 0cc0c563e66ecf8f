use gipity_runtime::Result;

#[gipity_runtime::function(name = "get-itmes")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

#[gipity_runtime::functions]
pub trait Todos {
    async fn my_todo(&self) -> Result<Vec<String>>;
}

fn main() {}
