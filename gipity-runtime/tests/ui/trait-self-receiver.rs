use gipity_runtime::Result;

#[gipity_runtime::functions]
pub trait Shop {
    async fn by_value(self) -> Result<()>;
    async fn by_mut(&mut self) -> Result<()>;
    async fn boxed(self: Box<Self>) -> Result<()>;
}

fn main() {}
