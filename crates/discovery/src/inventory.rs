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

/// Someone who authored commits on the default branch recently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    /// Lower case.
    pub email: String,
    pub commits: u32,
}
