//! The URL rules of the client on both targets, through its public API: the same inputs are
//! accepted and refused natively (over `url::Url`) and in the browser (over the browser's URL
//! parser). The tables are those of the runtime's own unit tests of `validate/urls`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gipity_runtime::Client;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::{wasm_bindgen_test as test, wasm_bindgen_test_configure};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test_configure!(run_in_browser);

/// The emulator's address, the one origin besides Gipity's pages a loopback client may return
/// to.
const EMULATOR: &str = "http://127.0.0.1:8787";

/// The tables of the runtime's unit tests of `validate/urls`.
#[path = "../../gipity-runtime/src/validate/urls/tests/cases.rs"]
mod cases;

use cases::{BAD_BASE_URLS, BASE_URLS, HOSTILE_RETURN_URLS, RETURN_URLS};

fn client(base: &str, return_url: Option<&str>) -> gipity_runtime::Result<Client> {
    let builder = Client::builder("p_demo").base_url(base);
    match return_url {
        Some(url) => builder.return_url(url),
        None => builder,
    }
    .build()
}

#[test]
fn hostile_return_urls_are_refused() {
    let long_path = format!("https://app.gipity.ai/{}", "a".repeat(2048));
    let long = [("over 2048 bytes", long_path.as_str())];
    for (what, input) in HOSTILE_RETURN_URLS.iter().chain(&long) {
        for base in ["https://a.gipity.ai", EMULATOR] {
            assert!(
                client(base, Some(input)).is_err(),
                "{what}: {input:?} accepted with base {base}"
            );
        }
    }
}

#[test]
fn gipity_pages_and_the_loopback_origin_are_taken_as_return_urls() {
    for &(input, _, _) in RETURN_URLS {
        // Every one not on https is on the emulator's origin.
        let loopback_only = !input.to_ascii_lowercase().starts_with("https://");
        assert!(
            client(EMULATOR, Some(input)).is_ok(),
            "{input:?} refused with base {EMULATOR}"
        );
        assert_eq!(
            client("https://a.gipity.ai", Some(input)).is_ok(),
            !loopback_only,
            "{input:?} with base https://a.gipity.ai"
        );
    }
}

#[test]
fn base_urls_are_normalized_alike() {
    for &(input, insecure, expected) in BASE_URLS {
        let client = Client::builder("p_demo")
            .base_url(input)
            .allow_insecure_http(insecure)
            .build()
            .unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(client.base_url().as_str(), expected, "{input:?}");
    }
}

#[test]
fn bad_base_urls_are_refused() {
    for input in BAD_BASE_URLS {
        assert!(client(input, None).is_err(), "{input:?} accepted");
    }
}
