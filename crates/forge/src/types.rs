//! Records both hosts' calls answer in one shape, so a caller reads a GitHub repository and a
//! GitLab project the same way.

/// One entry of a repository tree (files and folders, recursively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: String,
    pub is_dir: bool,
    /// Bytes, when the host says (GitHub does for files; GitLab does not).
    pub size: Option<u64>,
}

/// A repository tree, and whether the host cut it short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub entries: Vec<TreeEntry>,
    pub truncated: bool,
}

/// One commit on a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    /// The host's login for the author, when it knows one (GitHub).
    pub author_login: Option<String>,
    /// Authored time, RFC 3339.
    pub date: String,
}

/// A pull request (GitHub) or merge request (GitLab) that was opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRequest {
    /// The pull request's number or the merge request's `iid`.
    pub number: u64,
    /// Its page for people.
    pub url: String,
    /// The branch it merges.
    pub branch: String,
}
