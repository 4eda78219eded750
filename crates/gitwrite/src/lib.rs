//! Writing git repositories with gix, shared by discovery (demo repositories, proposal commits)
//! and the scaffolder (`publish:git`, and the commit the hosted publish actions push): new bare
//! repositories on a named default branch, trees from files in memory or a directory on disk,
//! and commits with an explicit author, committer and time. Only the object database and refs
//! are written: no index, no working tree, no hooks, and no user or system git configuration
//! is consulted, so the same inputs give the same commit on every machine.

use std::path::Path;

use gix::ObjectId;
use gix::object::tree::EntryKind;

/// What went wrong, with the repository or file it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

fn err(context: &dyn std::fmt::Display, e: &dyn std::fmt::Display) -> Error {
    Error(format!("{context}: {e}"))
}

/// The name and email a commit is written by.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

/// One entry of a tree to write: its `/`-separated path and what it holds.
pub struct Entry<'a> {
    pub path: &'a str,
    pub content: Content<'a>,
}

pub enum Content<'a> {
    File {
        bytes: &'a [u8],
        executable: bool,
    },
    /// A symbolic link; the bytes are where it points (stored, never followed).
    Link(&'a [u8]),
}

/// Creates a bare repository at `path` whose HEAD names `refs/heads/<default_branch>`. The
/// directory must not exist or be empty.
pub fn init_bare(path: &Path, default_branch: &str) -> Result<gix::Repository, Error> {
    let full = format!("refs/heads/{default_branch}");
    gix::refs::FullName::try_from(full.as_str())
        .map_err(|e| err(&format_args!("branch name {default_branch:?}"), &e))?;
    gix::init_bare(path).map_err(|e| err(&path.display(), &e))?;
    // A new repository's HEAD is a symbolic reference to a branch that does not exist yet;
    // writing the file is how git itself sets it (`git symbolic-ref`), before any commit.
    std::fs::write(path.join("HEAD"), format!("ref: {full}\n"))
        .map_err(|e| err(&path.display(), &e))?;
    gix::open_opts(path, gix::open::Options::isolated()).map_err(|e| err(&path.display(), &e))
}

/// Writes `entries` on top of the tree `base` (the empty tree when `None`) and returns the new
/// tree's id. Paths may name subdirectories (`src/main.rs`).
pub fn write_tree<'a>(
    repo: &gix::Repository,
    base: Option<ObjectId>,
    entries: impl IntoIterator<Item = Entry<'a>>,
) -> Result<ObjectId, Error> {
    let base = match base {
        Some(id) => id,
        None => repo
            .write_object(gix::objs::Tree::empty())
            .map_err(|e| err(&"empty tree", &e))?
            .detach(),
    };
    let mut editor = repo.edit_tree(base).map_err(|e| err(&"tree", &e))?;
    for entry in entries {
        let (bytes, kind) = match entry.content {
            Content::File { bytes, executable } => (
                bytes,
                if executable {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                },
            ),
            Content::Link(target) => (target, EntryKind::Link),
        };
        let blob = repo.write_blob(bytes).map_err(|e| err(&entry.path, &e))?;
        editor
            .upsert(entry.path, kind, blob)
            .map_err(|e| err(&entry.path, &e))?;
    }
    Ok(editor.write().map_err(|e| err(&"tree", &e))?.detach())
}

/// Every file, executable bit and symbolic link under `dir` (a `.git` folder at its top is left
/// out), written as one tree. Empty directories are not kept, as git keeps none.
pub fn tree_from_dir(repo: &gix::Repository, dir: &Path) -> Result<ObjectId, Error> {
    use std::os::unix::fs::PermissionsExt;
    let mut files: Vec<(String, Vec<u8>, Option<bool>)> = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.depth() == 1 && e.file_name() == ".git"));
    for e in walk {
        let e = e.map_err(|e| err(&dir.display(), &e))?;
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap_or(e.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let t = e.file_type();
        if t.is_symlink() {
            let target = std::fs::read_link(e.path()).map_err(|x| err(&e.path().display(), &x))?;
            files.push((rel, target.as_os_str().as_encoded_bytes().to_vec(), None));
        } else if t.is_file() {
            let meta = e.metadata().map_err(|x| err(&e.path().display(), &x))?;
            let bytes = std::fs::read(e.path()).map_err(|x| err(&e.path().display(), &x))?;
            files.push((rel, bytes, Some(meta.permissions().mode() & 0o111 != 0)));
        }
    }
    write_tree(
        repo,
        None,
        files.iter().map(|(path, bytes, exec)| Entry {
            path,
            content: match exec {
                Some(executable) => Content::File {
                    bytes,
                    executable: *executable,
                },
                None => Content::Link(bytes),
            },
        }),
    )
}

/// The commit details besides its tree and parents.
pub struct CommitInfo<'a> {
    pub message: &'a str,
    pub author: Identity<'a>,
    pub committer: Identity<'a>,
    /// Seconds since the epoch (UTC).
    pub time: i64,
}

/// Writes a commit of `tree` with `parents` and moves `reference` (a full name,
/// `refs/heads/main`) to it; returns the commit's id.
pub fn commit(
    repo: &gix::Repository,
    reference: &str,
    tree: ObjectId,
    parents: &[ObjectId],
    info: &CommitInfo<'_>,
) -> Result<ObjectId, Error> {
    let time = format!("{} +0000", info.time);
    fn sig<'s>(who: Identity<'s>, time: &'s str) -> gix::actor::SignatureRef<'s> {
        gix::actor::SignatureRef {
            name: who.name.into(),
            email: who.email.into(),
            time,
        }
    }
    // A name or email holding `<`, `>` or a newline would corrupt the commit header.
    for who in [info.author, info.committer] {
        if [who.name, who.email]
            .iter()
            .any(|s| s.contains(['<', '>', '\n']))
        {
            return Err(Error(format!(
                "invalid identity {:?} <{}>: names and emails cannot hold <, > or line breaks",
                who.name, who.email
            )));
        }
    }
    let id = repo
        .commit_as(
            sig(info.committer, &time),
            sig(info.author, &time),
            reference,
            info.message,
            tree,
            parents.iter().copied(),
        )
        .map_err(|e| err(&reference, &e))?;
    Ok(id.detach())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_becomes_a_commit_on_the_named_branch() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("bin")).unwrap();
        std::fs::write(src.join("README.md"), "# hi\n").unwrap();
        std::fs::write(src.join("bin/run"), "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(src.join("bin/run"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::os::unix::fs::symlink("README.md", src.join("link")).unwrap();
        let repo = init_bare(&dir.path().join("r.git"), "trunk").unwrap();
        let tree = tree_from_dir(&repo, &src).unwrap();
        let who = Identity {
            name: "Ann",
            email: "ann@example.com",
        };
        let info = CommitInfo {
            message: "first",
            author: who,
            committer: Identity {
                name: "Bot",
                email: "bot@example.com",
            },
            time: 1_700_000_000,
        };
        let id = commit(&repo, "refs/heads/trunk", tree, &[], &info).unwrap();
        let head = repo.head_commit().unwrap();
        assert_eq!(head.id, id);
        assert_eq!(repo.head_name().unwrap().unwrap().shorten(), "trunk");
        let author = head.author().unwrap();
        assert_eq!(
            (author.name.to_string(), author.email.to_string()),
            ("Ann".into(), "ann@example.com".into())
        );
        assert_eq!(head.committer().unwrap().name, "Bot");
        let tree = head.tree().unwrap();
        let run = tree.lookup_entry_by_path("bin/run").unwrap().unwrap();
        assert_eq!(run.mode().kind(), EntryKind::BlobExecutable);
        let link = tree.find_entry("link").unwrap();
        assert_eq!(link.mode().kind(), EntryKind::Link);
        assert!(tree.find_entry("README.md").is_some());
        let bad = CommitInfo {
            author: Identity {
                name: "x>",
                email: "e",
            },
            ..info
        };
        assert!(commit(&repo, "refs/heads/trunk", tree.id, &[id], &bad).is_err());
        assert!(init_bare(&dir.path().join("s.git"), "bad..name").is_err());
    }
}
