//! Making small bare git repositories with gix: the demo's repositories (written at first start,
//! so no `git` program is needed) and the benchmark's thousands.

use std::path::Path;

/// One file of a generated repository.
pub type File<'a> = (&'a str, &'a str);

/// Creates a bare repository at `path` whose `main` holds `files`, committed by `author`
/// (name, email) at `time` (seconds since the epoch). An existing directory is left alone, so a
/// restart keeps what a user did to the repository.
pub fn bare_repository(
    path: &Path,
    files: &[File<'_>],
    author: (&str, &str),
    time: i64,
) -> Result<bool, String> {
    if path.exists() {
        return Ok(false);
    }
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let repo = gix::init_bare(path).map_err(|e| fail(&e))?;
    let empty = repo
        .write_object(gix::objs::Tree::empty())
        .map_err(|e| fail(&e))?
        .detach();
    let mut editor = repo.edit_tree(empty).map_err(|e| fail(&e))?;
    for (name, text) in files {
        let blob = repo.write_blob(text.as_bytes()).map_err(|e| fail(&e))?;
        editor
            .upsert(*name, gix::object::tree::EntryKind::Blob, blob)
            .map_err(|e| fail(&e))?;
    }
    let tree = editor.write().map_err(|e| fail(&e))?;
    let when = format!("{time} +0000");
    let who = gix::actor::SignatureRef {
        name: author.0.into(),
        email: author.1.into(),
        time: &when,
    };
    repo.commit_as(
        who,
        who,
        "refs/heads/main",
        "Initial commit",
        tree,
        gix::commit::NO_PARENT_IDS,
    )
    .map_err(|e| fail(&e))?;
    Ok(true)
}
