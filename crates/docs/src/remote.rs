//! `url:` docs sources: `mkdocs.yml` and the pages its nav names, read through the catalog's URL
//! reader (http(s), allow-listed hosts also across redirects, bounded in time and size) and
//! mirrored into a local folder, which is then built like a `dir:` source. A URL cannot be
//! listed, so such a source needs a `nav`; files are text (images of `url:` sources are not read).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use catalog::UrlReader;

use crate::mkdocs::{self, NavEntry};
use crate::paths;
use crate::site::{MAX_PAGES, Problem};

/// The local folder a source URL is mirrored into, named by a hash of the URL.
pub fn mirror_dir(root: &Path, url: &str) -> PathBuf {
    // FNV-1a: a stable, short folder name; not a security measure (the URL is allow-listed).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in url.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    root.join(format!("{h:016x}"))
}

/// Reads the source at `base` into `dest`: `mkdocs.yml` and every page of its nav. Files whose
/// text did not change are not rewritten (so the build re-renders only changed pages), and files
/// no longer named are removed.
pub async fn mirror(reader: &UrlReader, base: &str, dest: &Path) -> Result<(), Problem> {
    let fail = |line: Option<usize>, message: String| Problem {
        file: "mkdocs.yml".into(),
        line,
        message,
    };
    let base = base.trim_end_matches('/');
    let config_text = reader
        .read(&format!("{base}/mkdocs.yml"))
        .await
        .map_err(|e| fail(None, e.to_string()))?;
    let (config, _) = mkdocs::parse(&config_text).map_err(|p| fail(Some(p.line), p.message))?;
    let nav = config.nav.ok_or_else(|| {
        fail(
            None,
            "a url: source needs a nav in mkdocs.yml (a URL cannot be listed)".into(),
        )
    })?;
    let mut pages = Vec::new();
    collect(&nav, &mut pages);
    pages.truncate(MAX_PAGES);

    let mut keep: HashSet<PathBuf> = HashSet::new();
    let config_path = dest.join("mkdocs.yml");
    write_if_changed(&config_path, &config_text).map_err(|e| fail(None, e))?;
    keep.insert(config_path);
    for page in pages {
        // Only paths that stay inside the docs folder; the build reports the others as missing.
        let Some(rel) = paths::join("index.md", &page).filter(|p| !p.is_empty()) else {
            continue;
        };
        // A page that cannot be read is left out; the build names it as missing from the nav.
        let Ok(text) = reader
            .read(&format!("{base}/{}/{rel}", config.docs_dir))
            .await
        else {
            continue;
        };
        let path = dest.join(&config.docs_dir).join(&rel);
        write_if_changed(&path, &text).map_err(|e| fail(None, e))?;
        keep.insert(path);
    }
    remove_others(dest, &keep);
    Ok(())
}

fn collect(nav: &[NavEntry], out: &mut Vec<String>) {
    for e in nav {
        match e {
            NavEntry::Page { path, .. } if !out.contains(path) => out.push(path.clone()),
            NavEntry::Section { children, .. } => collect(children, out),
            _ => {}
        }
    }
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot write the mirror: {e}"))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write the mirror: {e}"))
}

/// Removes files under `dir` that are not in `keep` (pages dropped from the nav).
fn remove_others(dir: &Path, keep: &HashSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => remove_others(&path, keep),
            Ok(_) if !keep.contains(&path) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
}
