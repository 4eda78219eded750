//! REST clients for code hosts. [`rest`] is the JSON client core every host shares: a base URL,
//! a bearer token that is never logged nor put in errors, `Link: rel="next"` pagination,
//! conditional requests with ETags remembered per URL (an unchanged page is a 304 and costs no
//! rate limit), rate-limit headers honoured (a bounded wait or a clear error), bounded response
//! sizes and clear errors for 401, 403 and 404. [`github`] and [`gitlab`] are typed calls on it.
//! No HTTP server, no HTML: the capability crates (discovery, org import, the scaffolder) call it.

pub mod github;
pub mod github_app;
pub mod gitlab;
pub mod rest;
mod secret;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use rest::{Client, Error, Limits, Listing, Page, TokenSource};
pub use secret::Secret;
pub use types::{ChangeRequest, Commit, Tree, TreeEntry};

/// Percent-encodes one path segment (`group/sub` → `group%2Fsub`), as GitLab wants project and
/// group paths and file paths in its URLs; unreserved characters stay as they are.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a file path for a URL path, keeping its `/` separators (GitHub's contents API).
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_segments_and_paths() {
        assert_eq!(
            super::encode_segment("acme/plat form"),
            "acme%2Fplat%20form"
        );
        assert_eq!(
            super::encode_path(".github/CODE OWNERS"),
            ".github/CODE%20OWNERS"
        );
    }
}
