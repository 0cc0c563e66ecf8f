//! The size baseline of `gipity-browser-example`: the same `add` call written by hand with
//! reqwest and serde_json, without `gipity-runtime` (wasm32 only; empty elsewhere).
//!
//! It has none of what the runtime adds (app tokens, auth recovery, typed errors, timeouts,
//! response limits): the difference between the two wasm files is the runtime's cost.

#[cfg(target_arch = "wasm32")]
mod page {
    use serde::Deserialize;
    use wasm_bindgen::prelude::*;

    /// The answer of a Gipity function: `{"data": ...}`.
    #[derive(Deserialize)]
    struct Reply {
        data: f64,
    }

    /// Calls `add` with `{a: 2, b: 3}` on the page's own origin and shows the sum in `#sum`.
    #[wasm_bindgen(start)]
    pub fn start() {
        wasm_bindgen_futures::spawn_local(async {
            let text = match add(2.0, 3.0).await {
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

    /// `POST <origin>/api/p_demo/fn/add`, with the session cookie.
    async fn add(a: f64, b: f64) -> Result<f64, String> {
        let origin = web_sys::window()
            .and_then(|window| window.location().origin().ok())
            .ok_or("no window")?;
        let body = serde_json::json!({ "a": a, "b": b }).to_string();
        let response = reqwest::Client::new()
            .post(format!("{origin}/api/p_demo/fn/add"))
            .header("content-type", "application/json")
            .body(body)
            .fetch_credentials_include()
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| error.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let reply: Reply = serde_json::from_slice(&bytes).map_err(|error| error.to_string())?;
        Ok(reply.data)
    }
}
