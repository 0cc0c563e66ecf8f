use gipity_runtime::Result;

#[gipity_runtime::function(rename_all = "camelCase")]
pub async fn save_progress(high_score: u64, #[serde(rename = "highScore")] best: u64)
-> Result<()>;

fn main() {}
