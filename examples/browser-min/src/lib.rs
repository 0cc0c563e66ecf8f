//! The smallest page with one binding: the public function `add` called through a generated
//! stub (wasm32 only; empty elsewhere). It does what `gipity-browser-bare-reqwest` does by hand
//! with reqwest, so that the difference between their wasm files, each built alone, is what
//! one binding and the runtime cost a page.

#[cfg(target_arch = "wasm32")]
mod page {
    use gipity_runtime::{Client, Result};
    use wasm_bindgen::prelude::*;

    /// `a + b`, computed by the app's public function `add`.
    #[gipity_runtime::function(auth = "public")]
    async fn add(a: f64, b: f64) -> Result<f64>;

    /// Calls `add` with `{a: 2, b: 3}` on the page's own origin and shows the sum in `#sum`.
    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            let text = match sum().await {
                Ok(sum) => format!("2 + 3 = {sum}"),
                Err(error) => format!("add failed: {error}"),
            };
            if let Some(element) = web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.get_element_by_id("sum"))
            {
                element.set_text_content(Some(&text));
            }
        });
    }

    /// The page's origin is the API's (the emulator serves both).
    async fn sum() -> Result<f64> {
        let origin = web_sys::window()
            .and_then(|window| window.location().origin().ok())
            .unwrap_or_default();
        Client::builder("p_demo")
            .base_url(&origin)
            .build()?
            .install()?;
        add(2.0, 3.0).await
    }
}
