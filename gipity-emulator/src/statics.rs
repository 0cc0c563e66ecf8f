//! Static files for `--serve DIR` (outside `/api`).

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use axum::response::Response;

use crate::http::{ApiError, respond};

/// Serves `segments` (decoded path segments) from `root`; a directory serves its
/// `index.html`. Refuses anything that could leave `root`.
pub(crate) async fn serve(root: &Path, segments: &[String]) -> Result<Response, ApiError> {
    let Some(relative) = relative_path(segments) else {
        return Err(ApiError::bad_request("the path is not allowed"));
    };
    let not_found = || Err(ApiError::not_found("no such file"));
    let Ok(root) = tokio::fs::canonicalize(root).await else {
        return not_found();
    };
    let mut path = root.join(relative);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    // Symbolic links must not lead out of the root either.
    let Ok(path) = tokio::fs::canonicalize(&path).await else {
        return not_found();
    };
    if !path.starts_with(&root) {
        return not_found();
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(respond(StatusCode::OK, content_type(&path), bytes)),
        Err(_) => not_found(),
    }
}

/// The segments as a relative path, or `None` when one could escape the root.
fn relative_path(segments: &[String]) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            // `//` inside a path is refused; a trailing `/` names a directory.
            if i == last {
                continue;
            }
            return None;
        }
        let bad = segment == "."
            || segment == ".."
            || segment.contains(['/', '\\', '\0', ':'])
            || segment.starts_with('~');
        if bad {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn traversal_is_refused() {
        assert_eq!(
            relative_path(&segs("a/b.js")),
            Some(PathBuf::from("a/b.js"))
        );
        assert_eq!(relative_path(&segs("")), Some(PathBuf::new()));
        assert_eq!(relative_path(&segs("pkg/")), Some(PathBuf::from("pkg")));
        assert_eq!(relative_path(&segs("../etc/passwd")), None);
        assert_eq!(relative_path(&segs("a/../../x")), None);
        assert_eq!(relative_path(&["a\\..\\x".to_owned()]), None);
        assert_eq!(relative_path(&["..%2f".replace("%2f", "/")]), None);
        assert_eq!(relative_path(&segs("a//b")), None);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("x.JS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
