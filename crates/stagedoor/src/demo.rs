//! The demo company shipped inside the binary, written out to a directory so it can be served
//! (and edited, to watch the catalog follow).

use std::path::{Path, PathBuf};

mod files {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Writes the demo catalog under `dir` (files already there are left alone, so edits survive a
/// restart) and returns the path of its root `all.yaml`.
pub fn extract(dir: &Path) -> std::io::Result<PathBuf> {
    for (rel, bytes) in files::FILES {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    Ok(dir.join("all.yaml"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_has_a_root_location_and_entities() {
        let dir = tempfile::tempdir().unwrap();
        let root = super::extract(dir.path()).unwrap();
        let text = std::fs::read_to_string(root).unwrap();
        assert!(text.contains("kind: Location"));
        assert!(super::files::FILES.len() > 10);
    }
}
