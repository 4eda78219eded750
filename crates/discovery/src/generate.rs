//! Making small bare git repositories (with the shared `gitwrite` crate): the demo's repositories (written at first start,
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
    let repo = gitwrite::init_bare(path, "main").map_err(|e| e.to_string())?;
    let entries = files.iter().map(|(name, text)| gitwrite::Entry {
        path: name,
        content: gitwrite::Content::File {
            bytes: text.as_bytes(),
            executable: false,
        },
    });
    let tree = gitwrite::write_tree(&repo, None, entries).map_err(|e| fail(&e))?;
    let who = gitwrite::Identity {
        name: author.0,
        email: author.1,
    };
    let info = gitwrite::CommitInfo {
        message: "Initial commit",
        author: who,
        committer: who,
        time,
    };
    gitwrite::commit(&repo, "refs/heads/main", tree, &[], &info).map_err(|e| fail(&e))?;
    Ok(true)
}
