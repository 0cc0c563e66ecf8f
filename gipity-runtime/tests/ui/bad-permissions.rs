use gipity_runtime::Result;

#[gipity_runtime::function(permissions = "identity | admin")]
pub async fn ask() -> Result<()>;

#[gipity_runtime::function(permissions = 0)]
pub async fn nothing() -> Result<()>;

fn main() {}
