//! Paths inside a docs folder: lexical resolution of relative links, page routes, and the one
//! check every file read or served goes through (inside the folder, never through a symlink or
//! `..` out of it).

use std::path::{Component, Path, PathBuf};

/// Joins a relative `link` to the directory of `from` (both `/`-separated, relative to the docs
/// folder) and normalises it. `None` when it climbs out of the folder.
pub fn join(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in link.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The reader route of a page (MkDocs' directory URLs): `index.md` → ``, `a/README.md` → `a/`,
/// `a/b.md` → `a/b/`.
pub fn route(page: &str) -> String {
    let stem = page.strip_suffix(".md").unwrap_or(page);
    let (dir, file) = match stem.rsplit_once('/') {
        Some((d, f)) => (format!("{d}/"), f),
        None => (String::new(), stem),
    };
    if file.eq_ignore_ascii_case("index") || file.eq_ignore_ascii_case("readme") {
        dir
    } else {
        format!("{dir}{file}/")
    }
}

/// Decodes `%XX` escapes (links to `My%20Page.md`); invalid escapes stay as written.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a file inside a docs folder may not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// An absolute path, a `..` segment, a backslash or a NUL byte.
    BadPath,
    /// The file resolves (through a symlink) outside the folder.
    Outside,
    /// Not there, or not a regular file.
    Missing,
}

/// The real path of `rel` inside `root`, if it is a regular file that stays inside `root` once
/// every symlink is resolved. `root` must already be canonical.
pub fn inside(root: &Path, rel: &str) -> Result<PathBuf, Refused> {
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') {
        return Err(Refused::BadPath);
    }
    let rel_path = Path::new(rel);
    if !rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Refused::BadPath);
    }
    let real = root
        .join(rel_path)
        .canonicalize()
        .map_err(|_| Refused::Missing)?;
    if !real.starts_with(root) {
        return Err(Refused::Outside);
    }
    if !real.is_file() {
        return Err(Refused::Missing);
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_links() {
        assert_eq!(join("a/b.md", "c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join("a/b.md", "../c.md").as_deref(), Some("c.md"));
        assert_eq!(
            join("a/b.md", "./img/x.png").as_deref(),
            Some("a/img/x.png")
        );
        assert_eq!(join("b.md", "../../etc/passwd"), None);
        assert_eq!(join("b.md", "../x"), None);
    }

    #[test]
    fn routes_are_directory_urls() {
        assert_eq!(route("index.md"), "");
        assert_eq!(route("README.md"), "");
        assert_eq!(route("a/index.md"), "a/");
        assert_eq!(route("a/b.md"), "a/b/");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("My%20Page.md"), "My Page.md");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
