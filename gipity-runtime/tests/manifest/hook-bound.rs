use gipity_runtime::Result;

#[gipity_runtime::function(name = "player-deleted")]
pub async fn player_deleted(user: &str) -> Result<()>;

fn main() {}
