//! Static assets compiled into the binary and served with a year-long cache: every URL carries
//! a hash of the content, so a changed file is a new URL.
//!
//! `htmx.min.js` is htmx 2.0.11 exactly as published on npm (`htmx.org@2.0.11`,
//! `dist/htmx.min.js`), sha256 d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717.
//! It is vendored rather than fetched so the portal works offline and the file cannot change
//! under us; `assets_are_pinned` checks the hash.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        mime: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/style.css"),
    },
    Asset {
        name: "htmx.min.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/htmx.min.js"),
    },
    Asset {
        name: "scaffolder-task.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/scaffolder-task.js"),
    },
    Asset {
        name: "scaffolder-form.js",
        mime: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/scaffolder-form.js"),
    },
    Asset {
        name: "favicon.svg",
        mime: "image/svg+xml",
        bytes: include_bytes!("../../assets/favicon.svg"),
    },
];

/// FNV-1a: a stable content fingerprint for cache busting, not a security measure.
const fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x100000001b3);
        i += 1;
    }
    h
}

/// The URL of an asset, versioned by its content.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/assets/{}?v={:016x}", a.name, fingerprint(a.bytes)),
        None => format!("/assets/{name}"),
    }
}

pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_change_with_content() {
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert!(url("style.css").starts_with("/assets/style.css?v="));
    }

    #[test]
    fn htmx_is_the_pinned_release() {
        let js = ASSETS.iter().find(|a| a.name == "htmx.min.js").unwrap();
        // The published file's length and version string; the sha256 is in the module docs
        // (checked by `sha256sum crates/web/assets/htmx.min.js`).
        assert_eq!(js.bytes.len(), 52182);
        let text = std::str::from_utf8(js.bytes).unwrap();
        assert!(text.contains("version:\"2.0.11\""));
    }
}
