use gipity_runtime::Result;

#[gipity_runtime::function(timeout = "10")]
pub async fn slow() -> Result<()>;

#[gipity_runtime::function(timeout = "0s")]
pub async fn zero() -> Result<()>;

#[gipity_runtime::function(timeout = "2d")]
pub async fn long() -> Result<()>;

fn main() {}
