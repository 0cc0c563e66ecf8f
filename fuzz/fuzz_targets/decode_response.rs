//! A response body (optionally after a `"<status>\n"` line) through every decoder of the
//! runtime: function data, soft errors, token mints, auth status, the error envelope with its
//! login and consent URLs, and the excerpt of an unexpected body.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gipity_runtime::__fuzz::decode_response(data));
