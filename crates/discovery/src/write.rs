//! Accepting a proposal: a commit that adds `catalog-info.yaml` at the root of the default
//! branch's tree, on a new branch, written into the object store with the shared `gitwrite`
//! crate (gix). The working tree, the index and the default branch are not touched; the owner
//! merges the branch as any other.

use std::path::Path;

use crate::scan::open;

/// The branch a proposal is committed on (under `refs/heads/`).
pub const BRANCH: &str = "stagedoor/catalog-info";

/// Why a proposal could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {message}")]
    Git { path: String, message: String },
    #[error("{path}: branch {branch} already exists; merge or delete it first")]
    BranchExists { path: String, branch: String },
    #[error("{path}: {message}")]
    Host { path: String, message: String },
    #[error("{path}: the default branch already has {file}")]
    AlreadyCataloged { path: String, file: String },
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub branch: String,
    pub commit: String,
    pub file: String,
}

/// Commits `yaml` as `catalog-info.yaml` on a new branch [`BRANCH`] whose parent is the tip of
/// the repository's default branch (what HEAD names). `now` is the commit time in seconds.
pub fn commit_proposal(repo_path: &Path, yaml: &str, now: i64) -> Result<Written, WriteError> {
    let path = repo_path.display().to_string();
    let git = |message: String| WriteError::Git {
        path: path.clone(),
        message,
    };
    let repo = open(repo_path).map_err(git)?;
    let branch = format!("refs/heads/{BRANCH}");
    let exists = repo
        .try_find_reference(branch.as_str())
        .map_err(|e| git(format!("cannot read {branch}: {e}")))?;
    if exists.is_some() {
        return Err(WriteError::BranchExists {
            path,
            branch: BRANCH.into(),
        });
    }
    let tip = repo
        .head_commit()
        .map_err(|e| git(format!("default branch has no readable commit: {e}")))?;
    let tree = tip
        .tree_id()
        .map_err(|e| git(format!("tip commit has no tree: {e}")))?;
    let root = repo
        .find_tree(tree)
        .map_err(|e| git(format!("unreadable tree: {e}")))?;
    for file in ["catalog-info.yaml", "catalog-info.yml"] {
        if root.find_entry(file).is_some() {
            return Err(WriteError::AlreadyCataloged {
                path,
                file: file.into(),
            });
        }
    }
    let entry = gitwrite::Entry {
        path: "catalog-info.yaml",
        content: gitwrite::Content::File {
            bytes: yaml.as_bytes(),
            executable: false,
        },
    };
    let new_tree = gitwrite::write_tree(&repo, Some(tree.detach()), [entry])
        .map_err(|e| git(format!("cannot write the tree: {e}")))?;
    // The repository's own identity is not consulted: the commit is Stagedoor's, the same on
    // every machine, and the scan opens repositories without user or system configuration.
    let who = gitwrite::Identity {
        name: "Stagedoor",
        email: "stagedoor@localhost",
    };
    let info = gitwrite::CommitInfo {
        message: "Add catalog-info.yaml proposed by Stagedoor discovery",
        author: who,
        committer: who,
        time: now,
    };
    let commit = gitwrite::commit(&repo, &branch, new_tree, &[tip.id], &info)
        .map_err(|e| git(format!("cannot commit: {e}")))?;
    Ok(Written {
        branch: BRANCH.into(),
        commit: commit.to_string(),
        file: "catalog-info.yaml".into(),
    })
}
