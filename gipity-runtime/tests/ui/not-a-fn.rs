#[gipity_runtime::function]
pub struct Items;

fn main() {}
