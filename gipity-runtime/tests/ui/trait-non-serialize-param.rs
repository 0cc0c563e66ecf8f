use gipity_runtime::Result;

pub struct Cart;

#[gipity_runtime::functions]
pub trait Shop {
    async fn checkout(&self, cart: &Cart) -> Result<()>;
}

fn main() {}
