use gipity_runtime::Result;

#[gipity_runtime::function(soft_errors = "yes")]
pub async fn ask() -> Result<()>;

fn main() {}
