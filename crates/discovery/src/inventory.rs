//! What discovery knows about one repository: the inventory record a scan produces, stored
//! between scans (so an unchanged repository is not read again) and shown on the pages.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::codeowners::Codeowners;

/// One repository as read from its default branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Absolute path of the repository (the working tree, or the git directory of a bare one).
    pub path: PathBuf,
    /// The folder's name, without a bare repository's `.git` suffix.
    pub name: String,
    pub bare: bool,
    /// `remote.origin.url` from the repository's config, if any.
    pub remote_url: Option<String>,
    /// The branch HEAD names (see `docs/configuration.md`, "Discovery", for why locally).
    pub default_branch: String,
    /// Commit id at the tip of the default branch: what decides whether it must be read again.
    pub head: String,
    /// Archived locally means: `stagedoor.archived = true` in the repository's git config, or a
    /// file named `ARCHIVED` at the root of the default branch.
    pub archived: bool,
    /// Committer time of the tip commit, seconds since the epoch.
    pub last_commit: i64,
    /// Bytes of source per language, largest first.
    pub languages: Vec<(String, u64)>,
    /// CI configuration files found (`.github/workflows/build.yml`, `Jenkinsfile`, ...).
    pub ci: Vec<String>,
    pub codeowners: Option<Codeowners>,
    /// Authors of the last 90 days, most commits first.
    pub contributors: Vec<Contributor>,
    /// Paths of `catalog-info.yaml` (or `.yml`) files, nested ones too.
    pub catalog_files: Vec<String>,
    /// Files that hint at what the repository is (`Dockerfile`, `package.json`, `src/lib.rs`,
    /// `index.html`, ...), as paths: the evidence the type guess is made from.
    pub markers: Vec<String>,
    /// Files and folders skipped because the tree exceeded the scan's bounds, if any.
    pub truncated: bool,
    /// Problems that did not stop the read (a malformed CODEOWNERS line, an oversized file).
    pub problems: Vec<String>,
    /// The host's topics (GitHub topics, GitLab topics); none for local repositories.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Set for a repository read from a code host's API rather than from disk.
    #[serde(default)]
    pub host: Option<Hosted>,
}

/// What is kept of a repository read from a code host (see `hosted.rs`). For these, `path` is
/// the repository's web URL, `head` the host's last-activity time it was read at, and
/// `remote_url` the web URL again (so proposals link to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosted {
    /// `github` or `gitlab`.
    pub kind: String,
    /// The source it was listed by (`github:ORG@API`), so a failed listing keeps its records.
    pub source: String,
    /// `owner/name` on GitHub, the numeric project id on GitLab: what API calls name it by.
    pub project: String,
    /// `pushed_at` (GitHub) or `last_activity_at` (GitLab) when it was read.
    pub activity: String,
    /// The default branch's catalog files, by path, as read: what the mirror is written from.
    pub files: Vec<(String, String)>,
    /// The pull or merge request opened for its accepted proposal, kept across reads and restarts.
    #[serde(default)]
    pub change_request: Option<forge::ChangeRequest>,
}

impl Repository {
    pub fn is_cataloged(&self) -> bool {
        !self.catalog_files.is_empty()
    }

    /// The main language: the one with the most bytes.
    pub fn main_language(&self) -> Option<&str> {
        self.languages.first().map(|(l, _)| l.as_str())
    }
}

/// Authors (name, email) of commits, one entry a commit, counted: most commits first, emails
/// lower case; local history walks and host commit lists both end here.
pub fn tally(authors: impl IntoIterator<Item = (String, String)>) -> Vec<Contributor> {
    let mut by_email: std::collections::HashMap<String, Contributor> = Default::default();
    for (name, email) in authors {
        let email = email.to_ascii_lowercase();
        by_email
            .entry(email.clone())
            .or_insert_with(|| Contributor {
                name,
                email,
                commits: 0,
            })
            .commits += 1;
    }
    let mut out: Vec<Contributor> = by_email.into_values().collect();
    out.sort_by(|a, b| {
        b.commits
            .cmp(&a.commits)
            .then_with(|| a.email.cmp(&b.email))
    });
    out
}

/// Someone who authored commits on the default branch recently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    /// Lower case.
    pub email: String,
    pub commits: u32,
}
