//! Examples and cross-crate integration tests for the gipity bindings (not published).
