//! The URLs of a client's functions, built once each.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::Url;

/// How many function URLs a client keeps: far more than an app declares. Past it (names made
/// up at run time), a URL is built for its call and not kept.
const MAX_KEPT: usize = 1024;

/// `<base>/api/<app>/fn/<name>` for each function called so far, so that a call shares one
/// rather than building it (a copy of the base and a percent-encoded path segment).
pub(crate) struct FunctionUrls {
    /// `<base>/api/<app>/fn`.
    base: Url,
    built: RwLock<HashMap<Box<str>, Arc<Url>>>,
}

impl FunctionUrls {
    pub(crate) fn new(base: Url) -> Self {
        Self {
            base,
            built: RwLock::new(HashMap::new()),
        }
    }

    /// The URL of function `name` (a checked function name).
    pub(crate) fn get(&self, name: &str) -> Arc<Url> {
        // The lock guards plain data and no code runs under it: a poisoned map is whole.
        let full = {
            let built = self.built.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(url) = built.get(name) {
                return Arc::clone(url);
            }
            built.len() >= MAX_KEPT
        };
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(name);
        }
        let url = Arc::new(url);
        if !full {
            let mut built = self.built.write().unwrap_or_else(PoisonError::into_inner);
            if built.len() < MAX_KEPT {
                built.insert(name.into(), Arc::clone(&url));
            }
        }
        url
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::FunctionUrls;

    #[test]
    fn a_function_url_is_built_once_and_shared() {
        let base = url::Url::parse("https://a.gipity.ai/api/p_1/fn").unwrap();
        let urls = FunctionUrls::new(base);
        let first = urls.get("get-items");
        assert_eq!(first.as_str(), "https://a.gipity.ai/api/p_1/fn/get-items");
        assert!(Arc::ptr_eq(&first, &urls.get("get-items")));
        assert_eq!(
            urls.get("save").as_str(),
            "https://a.gipity.ai/api/p_1/fn/save"
        );
    }

    #[test]
    fn past_the_limit_urls_are_built_per_call_and_still_right() {
        let urls = FunctionUrls::new(url::Url::parse("http://127.0.0.1:1/api/p/fn").unwrap());
        for n in 0..super::MAX_KEPT + 5 {
            let name = format!("f{n}");
            assert!(urls.get(&name).as_str().ends_with(&format!("/fn/{name}")));
        }
        let late = urls.get("late");
        assert_eq!(late.as_str(), "http://127.0.0.1:1/api/p/fn/late");
        assert!(!Arc::ptr_eq(&late, &urls.get("late")));
    }
}
