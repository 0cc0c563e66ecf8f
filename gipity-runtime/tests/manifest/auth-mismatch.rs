use gipity_runtime::Result;

#[gipity_runtime::function(name = "my-todos", auth = "public")]
pub async fn my_todos() -> Result<Vec<String>>;

#[gipity_runtime::function(name = "undeclared-auth", auth = "user")]
pub async fn undeclared_auth() -> Result<()>;

#[gipity_runtime::functions(auth = "user")]
pub trait Shop {
    async fn checkout(&self) -> Result<()>;
    async fn refund(&self) -> Result<()>;
}

#[gipity_runtime::function(name = "undeclared-file", auth = "member")]
pub async fn undeclared_file() -> Result<()>;

fn main() {}
