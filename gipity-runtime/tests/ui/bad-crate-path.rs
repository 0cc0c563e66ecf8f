use gipity_runtime::Result;

#[gipity_runtime::function(crate = "gipity runtime")]
pub async fn ask() -> Result<()>;

fn main() {}
