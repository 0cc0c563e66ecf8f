//! Stubs that agree with the manifest build (what they call with is tested over HTTP in
//! `tests/manifest.rs` of the workspace).

use gipity_runtime::Result;

/// Items of one category.
#[gipity_runtime::function(name = "get-items")]
pub async fn get_items(category: &str) -> Result<Vec<String>>;

#[gipity_runtime::function(name = "my-todos", auth = "user")]
pub async fn my_todos() -> Result<Vec<String>>;

#[gipity_runtime::function(name = "undeclared-auth", auth = "public")]
pub async fn undeclared_auth() -> Result<()>;

#[gipity_runtime::functions]
pub trait Shop {
    async fn checkout(&self) -> Result<()>;
    #[gipity(auth = "member")]
    async fn refund(&self) -> Result<()>;
    #[gipity(name = "team-report")]
    async fn report(&self) -> Result<String>;
}

/// `reports` is a records table, and `functions/reports.js` a function: the file wins.
#[gipity_runtime::function]
pub async fn reports() -> Result<()>;

/// Not declared, but `functions/undeclared-file.js` exists: public.
#[gipity_runtime::function(name = "undeclared-file")]
pub async fn undeclared_file() -> Result<()>;

fn main() {}
