//! The docs a mirrored catalog file points at (`backstage.io/techdocs-ref: dir:…`), copied from
//! the repository's default branch next to the mirrored file, so the docs builder finds the
//! `mkdocs.yml` and Markdown it would find in a checkout. Bounded in files and bytes.

use std::collections::{HashSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::scan;

/// At most this many files and bytes of docs per catalog file: a docs site, not a repository.
const MAX_FILES: usize = 2_000;
const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// The `dir:` target of the catalog text's `backstage.io/techdocs-ref` annotation, if any (a
/// `url:` docs source is read by the docs builder itself).
fn techdocs_dir(catalog_text: &str) -> Option<&str> {
    catalog_text.lines().find_map(|line| {
        let value = line.trim().strip_prefix("backstage.io/techdocs-ref:")?;
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        value.strip_prefix("dir:")
    })
}

/// `dir` joined to `base` inside the repository, or `None` when it would leave it.
fn join_inside(base: &str, dir: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for c in Path::new(dir).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// Copies the docs of the catalog file at `file` (a path in the repository) under `target_dir`
/// (where the mirrored catalog file sits): `mkdocs.yml` and every file below its docs folder.
/// Files already equal are not written (the docs watcher would rebuild); files the branch no
/// longer has are removed. Nothing happens when the catalog file names no `dir:` docs.
pub(crate) fn mirror_docs(
    git: &gix::Repository,
    head: &str,
    file: &str,
    catalog_text: &str,
    target_dir: &Path,
) -> Result<(), String> {
    let Some(dir) = techdocs_dir(catalog_text) else {
        return Ok(());
    };
    let file_dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    let site = join_inside(file_dir, dir)
        .ok_or_else(|| format!("techdocs-ref dir:{dir} leaves the repository"))?;
    let local_site = join_inside("", dir).unwrap_or_default();
    let commit = gix::ObjectId::from_hex(head.as_bytes()).map_err(|e| e.to_string())?;
    let root = git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| format!("cannot read commit {head}: {e}"))?;
    let in_repo = |p: &str| {
        if site.is_empty() {
            p.to_owned()
        } else {
            format!("{site}/{p}")
        }
    };
    let mut wanted: Vec<(String, gix::ObjectId)> = Vec::new();
    let mut docs_dir = "docs".to_owned();
    for name in ["mkdocs.yml", "mkdocs.yaml"] {
        if let Ok(Some(entry)) = root.lookup_entry_by_path(in_repo(name)) {
            let id = entry.object_id();
            let text = scan::read_text(git, id, MAX_BYTES)?;
            if let Some(d) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("docs_dir:"))
            {
                docs_dir = d.trim().trim_matches(|c| c == '"' || c == '\'').to_owned();
            }
            wanted.push((name.to_owned(), id));
            break;
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let docs_root = join_inside(&site, &docs_dir)
        .ok_or_else(|| format!("mkdocs docs_dir {docs_dir} leaves the repository"))?;
    let docs_rel = join_inside("", &docs_dir).unwrap_or_default();
    if let Ok(Some(entry)) = root.lookup_entry_by_path(&docs_root)
        && entry.mode().is_tree()
    {
        let mut queue = VecDeque::from([(entry.object_id(), docs_rel.clone())]);
        while let Some((id, prefix)) = queue.pop_front() {
            let tree = git.find_tree(id).map_err(|e| e.to_string())?;
            let decoded = tree.decode().map_err(|e| e.to_string())?;
            for e in &decoded.entries {
                let path = format!("{prefix}/{}", e.filename.to_str_lossy());
                if e.mode.is_tree() {
                    queue.push_back((e.oid.to_owned(), path));
                } else if e.mode.is_blob() {
                    if wanted.len() >= MAX_FILES {
                        return Err(format!(
                            "docs under {docs_root} have over {MAX_FILES} files"
                        ));
                    }
                    wanted.push((path, e.oid.to_owned()));
                }
            }
        }
    }
    let base = target_dir.join(&local_site);
    let mut total = 0u64;
    let mut written: HashSet<PathBuf> = HashSet::new();
    for (rel, id) in &wanted {
        let bytes = git.find_blob(*id).map_err(|e| e.to_string())?.data.clone();
        total += bytes.len() as u64;
        if total > MAX_BYTES {
            return Err(format!("docs under {docs_root} are over {MAX_BYTES} bytes"));
        }
        let path = base.join(rel);
        written.insert(path.clone());
        if std::fs::read(&path).is_ok_and(|b| b == bytes) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // Pages the branch no longer has go, so the built docs drop them too.
    for entry in walkdir::WalkDir::new(base.join(&docs_rel))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        if !written.contains(entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_folder_is_found_and_kept_inside_the_repository() {
        let yaml = "metadata:\n  annotations:\n    backstage.io/techdocs-ref: \"dir:.\"\n";
        assert_eq!(techdocs_dir(yaml), Some("."));
        assert_eq!(
            techdocs_dir("backstage.io/techdocs-ref: url:https://x"),
            None
        );
        assert_eq!(join_inside("services/a", "."), Some("services/a".into()));
        assert_eq!(join_inside("services/a", "../b"), Some("services/b".into()));
        assert_eq!(join_inside("", "../b"), None);
        assert_eq!(join_inside("a", "/etc"), None);
    }
}
