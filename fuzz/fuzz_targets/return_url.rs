//! A string through every URL, name, GUID and secret rule of the runtime: return URLs, the API
//! base URL, login and consent URLs from the server, function names, app GUIDs, tokens, keys
//! and device secrets.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gipity_runtime::__fuzz::urls(data));
