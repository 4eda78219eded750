//! Paths confined to a directory, as Backstage's `resolveSafeChildPath`: a relative path that
//! climbs out with `..`, an absolute path elsewhere, or a path through a symlink that points
//! outside is refused with `NotAllowedError` before any file is touched.

use std::path::{Component, Path, PathBuf};

use crate::error::ScaffolderError;
use crate::files::Files;

/// The refusal of a path that leaves its directory, worded as Backstage's.
pub(crate) fn escape() -> ScaffolderError {
    ScaffolderError::NotAllowed(
        "Relative path is not allowed to refer to a directory outside its parent".into(),
    )
}

/// `base` joined with `rel`, refused unless the result (with symlinks resolved as far as the
/// path exists) stays inside `base`. `base` must exist. For a directory outside any workspace
/// (a publish root); the checks are [`Files::resolve`]'s, on a tree on disk at `base`.
pub fn safe_child(base: &Path, rel: &str) -> Result<PathBuf, ScaffolderError> {
    let files = Files::disk(base);
    let rel = files.resolve(rel)?;
    Ok(files.path(&rel))
}

/// Resolves `.` and `..` without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `base` with `/` separators (for responses and logs).
pub fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        assert!(safe_child(base, "a/b.txt").is_ok());
        assert!(safe_child(base, "a/../b.txt").is_ok());
        for bad in ["../x", "a/../../x", "/etc/passwd"] {
            let err = safe_child(base, bad).unwrap_err();
            assert_eq!(err.name(), "NotAllowedError", "{bad}");
        }
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), base.join("link")).unwrap();
        assert_eq!(
            safe_child(base, "link/x.txt").unwrap_err().name(),
            "NotAllowedError"
        );
        std::fs::create_dir(base.join("in")).unwrap();
        std::os::unix::fs::symlink(base.join("in"), base.join("ok")).unwrap();
        assert!(safe_child(base, "ok/x.txt").is_ok());
    }
}
