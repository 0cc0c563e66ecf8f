use gipity_runtime::Result;

#[gipity_runtime::function(rename_all = "camelcase")]
pub async fn save_progress(high_score: u64) -> Result<()>;

fn main() {}
