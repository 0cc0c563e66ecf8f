use gipity_runtime::Result;

#[gipity_runtime::function]
pub async fn incidents() -> Result<Vec<String>>;

#[gipity_runtime::function(name = "render")]
pub async fn render() -> Result<()>;

#[gipity_runtime::function(name = "lobby")]
pub async fn lobby() -> Result<()>;

fn main() {}
