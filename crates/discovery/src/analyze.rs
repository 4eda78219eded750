//! Analysing one repository on request (Backstage's `POST /analyze-location`): the entities its
//! catalog files hold, or a proposal when it has none. Only repositories under a configured
//! source may be analysed: the path comes from an API caller and must not open the rest of the
//! server's disk. A GitHub or GitLab repository is analysed from its record in the latest scan
//! (the target is its web page or a URL under it): no API call is made on a caller's behalf.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::directory::Directory;
use crate::inventory::Repository;
use crate::propose::{Proposal, ProposalError, propose};
use crate::scan::{self, Limits};
use crate::sync::Settings;

/// What a repository holds, or would hold.
#[derive(Debug)]
pub struct Analysis {
    pub repository: Repository,
    /// Each catalog file's path in the repository and the entities it holds.
    pub files: Vec<(String, Vec<Value>)>,
    pub proposal: Option<Result<Proposal, ProposalError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("{0} is not under a configured repository source")]
    NotAllowed(String),
    #[error("{0}")]
    Unreadable(String),
}

/// Analyses the repository at `path` (an absolute path, or `file://` URL).
pub fn analyze(
    target: &str,
    settings: &Settings,
    directory: &Directory,
) -> Result<Analysis, AnalyzeError> {
    let raw = PathBuf::from(target.strip_prefix("file://").unwrap_or(target));
    let path = std::fs::canonicalize(&raw)
        .map_err(|e| AnalyzeError::Unreadable(format!("{}: {e}", raw.display())))?;
    let allowed = settings
        .sources
        .iter()
        .filter_map(|s| std::fs::canonicalize(s).ok())
        .any(|s| path.starts_with(&s));
    if !allowed {
        return Err(AnalyzeError::NotAllowed(path.display().to_string()));
    }
    let limits = Limits {
        max_search_depth: 0,
        ..settings.limits
    };
    let mut out = scan::scan(
        std::slice::from_ref(&path),
        &[],
        &limits,
        chrono::Utc::now().timestamp(),
    );
    if let Some(e) = out.errors.pop() {
        return Err(AnalyzeError::Unreadable(format!(
            "{}: {}",
            e.path.display(),
            e.message
        )));
    }
    let repository = out
        .repositories
        .pop()
        .filter(|r| r.path == path)
        .ok_or_else(|| {
            AnalyzeError::Unreadable(format!("{} is not a git repository", path.display()))
        })?;
    let files = entities_of(&repository)?;
    let proposal = (!repository.is_cataloged()).then(|| propose(&repository, directory));
    Ok(Analysis {
        repository,
        files,
        proposal,
    })
}

/// Analyses the repository of the latest scan whose web page `target` is or is under (a GitHub
/// or GitLab repository); `None` when no scanned hosted repository matches.
pub fn analyze_hosted(
    target: &str,
    repositories: &[Repository],
    directory: &Directory,
) -> Option<Result<Analysis, AnalyzeError>> {
    let target = target.trim_end_matches('/').trim_end_matches(".git");
    let repository = repositories.iter().find(|r| {
        let page = r.path.to_string_lossy();
        r.host.is_some()
            && (target == page
                || target
                    .strip_prefix(page.as_ref())
                    .is_some_and(|rest| rest.starts_with('/')))
    })?;
    Some(entities_of(repository).map(|files| Analysis {
        repository: repository.clone(),
        files,
        proposal: (!repository.is_cataloged()).then(|| propose(repository, directory)),
    }))
}

fn entities_of(repo: &Repository) -> Result<Vec<(String, Vec<Value>)>, AnalyzeError> {
    let git = match &repo.host {
        Some(_) => None,
        None => Some(scan::open(&repo.path).map_err(AnalyzeError::Unreadable)?),
    };
    repo.catalog_files
        .iter()
        .map(|f| {
            let text = match (&git, &repo.host) {
                (Some(git), _) => crate::sync::blob_at(git, &repo.head, f)
                    .map_err(|e| AnalyzeError::Unreadable(format!("{f}: {e}")))?,
                (None, Some(h)) => h
                    .files
                    .iter()
                    .find(|(p, _)| p == f)
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| {
                        AnalyzeError::Unreadable(format!("{f}: not read from the host"))
                    })?,
                (None, None) => unreachable!("a local repository has its git"),
            };
            let entities = model::yaml::parse_documents(&text)
                .into_iter()
                .filter_map(|d| d.result.ok())
                .filter(|v| v.is_object())
                .collect();
            Ok((f.clone(), entities))
        })
        .collect()
}

/// Where a repository's file is, as a location target.
pub fn file_target(repo: &Path, file: &str) -> String {
    format!("{}/{file}", repo.display())
}

/// Where a repository's file is, as a location (type, target): a `file` on disk, or the `url`
/// of its page on the default branch for a GitHub or GitLab repository.
pub fn location_of(repo: &Repository, file: &str) -> (&'static str, String) {
    match &repo.host {
        Some(h) => {
            let dash = if h.kind == "gitlab" { "/-" } else { "" };
            (
                "url",
                format!(
                    "{}{dash}/blob/{}/{file}",
                    repo.path.display(),
                    repo.default_branch
                ),
            )
        }
        None => ("file", file_target(&repo.path, file)),
    }
}
