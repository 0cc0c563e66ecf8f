use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn move_to((x, y): (i32, i32)) -> Result<()>;

fn main() {}
