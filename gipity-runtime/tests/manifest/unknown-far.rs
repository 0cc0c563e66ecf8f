use gipity_runtime::Result;

#[gipity_runtime::function(name = "launch-rocket")]
pub async fn launch(target: &str) -> Result<()>;

fn main() {}
