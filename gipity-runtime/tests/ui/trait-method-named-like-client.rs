use gipity_runtime::{Client, Result};

// `client.me()` and `client.call(..)` are `Client`'s own methods: these would never be called.
#[gipity_runtime::functions(auth = "user")]
pub trait Profile {
    async fn me(&self) -> Result<String>;

    #[gipity(name = "call-support")]
    async fn call(&self, topic: &str) -> Result<()>;

    // Renamed: fine.
    #[gipity(name = "me")]
    async fn my_profile(&self) -> Result<String>;
}

fn main() {
    let _ = |client: Client| async move { client.my_profile().await };
}
