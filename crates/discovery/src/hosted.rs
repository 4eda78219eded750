//! Repository sources on code hosts: a GitHub organisation or a GitLab group (subgroups too),
//! read through their REST APIs (crate `forge`) into the same [`Repository`] records local
//! repositories produce, and accepted proposals opened as pull or merge requests.
//!
//! Incremental like the local scan: the listing is a conditional request (an unchanged page is
//! a 304 that costs no rate limit), and a repository whose `pushed_at` / `last_activity_at` and
//! default branch are what the stored record was read at is not read again; the stored records
//! survive a restart. A repository the listing no longer names, or that answers 404 while it is
//! read, is gone: sync keeps it as missing and its entities become orphans. A listing that fails
//! (a bad token, a rate limit) keeps that source's records as they were, and a repository that
//! fails (a token without permission on it) keeps its last record; both are reported as scan
//! errors and the rest of the scan goes on.

use std::path::PathBuf;

use forge::github::GitHub;
use forge::gitlab::GitLab;
use forge::{ChangeRequest, Secret, Tree};

use crate::codeowners::{self, Codeowners};
use crate::inventory::{Hosted, Repository, tally};
use crate::languages;
use crate::scan::{Limits, Scan, ScanError, is_ci, is_marker};
use crate::write::{BRANCH, WriteError};

/// Catalog files read from one repository at most (each bounded by the client's body limit).
const MAX_CATALOG_FILES: usize = 50;

/// A code host's API client.
#[derive(Debug, Clone)]
pub enum Host {
    GitHub(GitHub),
    GitLab(GitLab),
}

/// One configured source: an organisation (GitHub) or group (GitLab) on one host.
#[derive(Debug, Clone)]
pub struct HostSource {
    pub host: Host,
    /// The organisation's login or the group's full path.
    pub target: String,
}

impl HostSource {
    /// A GitHub organisation; `api` defaults to github.com's.
    pub fn github(api: Option<&str>, token: Option<Secret>, org: &str) -> Result<Self, String> {
        let client = GitHub::new(api, token).map_err(|e| e.to_string())?;
        Ok(HostSource {
            host: Host::GitHub(client),
            target: org.to_owned(),
        })
    }

    /// A GitHub organisation read as a GitHub App installation (app `app_id`, its PEM private
    /// key; the installation by id, else the app's installation on `org`).
    pub fn github_app(
        api: Option<&str>,
        app_id: u64,
        private_key: &Secret,
        installation: Option<u64>,
        org: &str,
    ) -> Result<Self, String> {
        let installation = match installation {
            Some(id) => forge::github_app::Installation::Id(id),
            None => forge::github_app::Installation::Org(org.to_owned()),
        };
        let client = GitHub::with_app(api, app_id, private_key, installation, Default::default())
            .map_err(|e| e.to_string())?;
        Ok(HostSource {
            host: Host::GitHub(client),
            target: org.to_owned(),
        })
    }

    /// A GitLab group and its subgroups; `api` defaults to gitlab.com's.
    pub fn gitlab(api: Option<&str>, token: Option<Secret>, group: &str) -> Result<Self, String> {
        let client = GitLab::new(api, token).map_err(|e| e.to_string())?;
        Ok(HostSource {
            host: Host::GitLab(client),
            target: group.to_owned(),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self.host {
            Host::GitHub(_) => "github",
            Host::GitLab(_) => "gitlab",
        }
    }

    fn base(&self) -> &str {
        match &self.host {
            Host::GitHub(c) => c.client().base(),
            Host::GitLab(c) => c.client().base(),
        }
    }

    /// `github:acme@https://api.github.com`: names the source in records and errors.
    pub fn label(&self) -> String {
        format!("{}:{}@{}", self.kind(), self.target, self.base())
    }
}

/// A listed repository, the same for both hosts.
#[derive(Clone)]
struct Listed {
    web_url: String,
    name: String,
    project: String,
    default_branch: Option<String>,
    archived: bool,
    activity: String,
    topics: Vec<String>,
}

/// Lists and reads every configured host source. `previous` are the records of the last scan
/// (any source); `now` is seconds since the epoch.
pub(crate) async fn scan(
    sources: &[HostSource],
    previous: &[Repository],
    limits: &Limits,
    now: i64,
) -> Scan {
    let mut out = Scan::default();
    let by_path: std::collections::HashMap<&std::path::Path, &Repository> =
        previous.iter().map(|r| (r.path.as_path(), r)).collect();
    for source in sources {
        let label = source.label();
        let listed = match list(source).await {
            Ok(l) => l,
            Err(e) => {
                out.errors.push(ScanError {
                    path: PathBuf::from(&label),
                    message: format!("cannot list repositories: {e}"),
                });
                // What the source held before stays: a failed listing says nothing of them.
                for r in previous
                    .iter()
                    .filter(|r| r.host.as_ref().is_some_and(|h| h.source == label))
                {
                    out.reused += 1;
                    out.repositories.push(r.clone());
                }
                continue;
            }
        };
        let mut to_read = Vec::new();
        for item in listed {
            // An empty repository has no default branch and nothing to read or catalog.
            let Some(branch) = item.default_branch.clone() else {
                continue;
            };
            let prev = by_path.get(std::path::Path::new(&item.web_url));
            if let Some(prev) = prev
                && prev
                    .host
                    .as_ref()
                    .is_some_and(|h| h.activity == item.activity)
                && prev.default_branch == branch
            {
                let mut kept = (*prev).clone();
                // Listed fields change without a push: take them from the listing.
                kept.archived = item.archived;
                kept.topics = item.topics.clone();
                kept.name = item.name.clone();
                out.reused += 1;
                out.repositories.push(kept);
                continue;
            }
            to_read.push((item, branch));
        }
        let (results, skipped) = read_all(source, &label, to_read, limits, now).await;
        for (item, result) in results {
            match result {
                Ok(mut repo) => {
                    // Opening the request pushed a branch, so the repository is read again;
                    // the request it opened is still its.
                    if let Some(prev) = by_path.get(repo.path.as_path())
                        && let Some(h) = repo.host.as_mut()
                    {
                        h.change_request =
                            prev.host.as_ref().and_then(|p| p.change_request.clone());
                    }
                    out.read += 1;
                    out.repositories.push(repo);
                }
                // Deleted between the listing and the read: as gone as an unlisted one.
                Err(e) if e.is_not_found() => {
                    tracing::info!(repository = %item.web_url, "listed but answers 404: gone");
                }
                Err(e) => out.errors.push(ScanError {
                    path: PathBuf::from(&item.web_url),
                    message: e.to_string(),
                }),
            }
        }
        if !skipped.is_empty() {
            out.errors.push(ScanError {
                path: PathBuf::from(&label),
                message: format!(
                    "the rate limit is exhausted: {} repositories were not read this scan (their last records are kept; the next scan reads them)",
                    skipped.len()
                ),
            });
            for item in skipped {
                if let Some(prev) = by_path.get(std::path::Path::new(&item.web_url)) {
                    out.reused += 1;
                    out.repositories.push((*prev).clone());
                }
            }
        }
    }
    out.repositories.sort_by(|a, b| a.path.cmp(&b.path));
    // A repository two sources list (a group and its subgroup) counts once.
    out.repositories.dedup_by(|a, b| a.path == b.path);
    out
}

/// Repositories read at once per source: enough to hide the API's latency, few enough to stay
/// clear of GitHub's secondary (concurrency) rate limits.
const CONCURRENT_READS: usize = 6;

type ReadResult = (Listed, Result<Repository, forge::Error>);

/// Reads `items`, [`CONCURRENT_READS`] at a time. Once the rate limit is exhausted (a wait longer
/// than the client allows), no more reads start: the rest come back as skipped.
async fn read_all(
    source: &HostSource,
    label: &str,
    items: Vec<(Listed, String)>,
    limits: &Limits,
    now: i64,
) -> (Vec<ReadResult>, Vec<Listed>) {
    let mut pending = items.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut done = Vec::new();
    let mut limited = false;
    loop {
        while !limited && running.len() < CONCURRENT_READS {
            let Some((item, branch)) = pending.next() else {
                break;
            };
            let (source, label, limits) = (source.clone(), label.to_owned(), *limits);
            running.spawn(async move {
                let result = read(&source, &label, &item, &branch, &limits, now).await;
                (item, result)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((item, result)) => {
                limited |= matches!(result, Err(forge::Error::RateLimited { .. }));
                done.push((item, result));
            }
            Err(e) => tracing::error!(error = %e, "a repository read task failed"),
        }
    }
    (done, pending.map(|(item, _)| item).collect())
}

async fn list(source: &HostSource) -> Result<Vec<Listed>, forge::Error> {
    Ok(match &source.host {
        Host::GitHub(gh) => gh
            .org_repos(&source.target)
            .await?
            .items
            .into_iter()
            .map(|r| Listed {
                activity: r.pushed_at.unwrap_or_default(),
                web_url: r.html_url,
                name: r.name,
                project: r.full_name,
                default_branch: r.default_branch,
                archived: r.archived,
                topics: r.topics,
            })
            .collect(),
        Host::GitLab(gl) => gl
            .group_projects(&source.target)
            .await?
            .items
            .into_iter()
            .map(|p| Listed {
                activity: p.last_activity_at.unwrap_or_default(),
                web_url: p.web_url,
                name: p.path,
                project: p.id.to_string(),
                default_branch: p.default_branch,
                archived: p.archived,
                topics: p.topics,
            })
            .collect(),
    })
}

/// The parts of a host's answers a record is made from.
async fn languages_of(
    source: &HostSource,
    project: &str,
) -> Result<Vec<(String, u64)>, forge::Error> {
    Ok(match &source.host {
        Host::GitHub(gh) => gh.languages(project).await?,
        // GitLab reports shares, not bytes: kept as hundredths of a percent, so they still sort
        // and compare (docs/configuration.md says so).
        Host::GitLab(gl) => gl
            .languages(project)
            .await?
            .into_iter()
            .map(|(l, pct)| (l, (pct * 100.0).round() as u64))
            .collect(),
    })
}

async fn tree_of(
    source: &HostSource,
    project: &str,
    branch: &str,
    limits: &Limits,
) -> Result<Tree, forge::Error> {
    match &source.host {
        // GitHub answers one response, cut short by GitHub itself past its own bounds.
        Host::GitHub(gh) => gh.tree(project, branch).await,
        Host::GitLab(gl) => gl.tree_bounded(project, branch, limits.max_entries).await,
    }
}

async fn file_of(
    source: &HostSource,
    project: &str,
    path: &str,
    branch: &str,
) -> Result<Vec<u8>, forge::Error> {
    match &source.host {
        Host::GitHub(gh) => gh.file(project, path, branch).await,
        Host::GitLab(gl) => gl.raw_file(project, path, branch).await,
    }
}

/// The catalog's own limit for one file (`CatalogSettings::max_file_bytes` default).
const MAX_CATALOG_FILE: u64 = 10 * 1024 * 1024;

/// A file's text, or `None` with a problem noted when it cannot be used: gone since the tree
/// was read (a 404 here is the file's, not the repository's), served in a way the API does not
/// allow (GitHub's contents API refuses files over 1 MB), over `max` bytes, or not UTF-8. Other
/// errors (permission, rate limit, transport) fail the repository's read.
async fn text_of(
    source: &HostSource,
    project: &str,
    path: &str,
    branch: &str,
    max: u64,
    problems: &mut Vec<String>,
) -> Result<Option<String>, forge::Error> {
    let bytes = match file_of(source, project, path, branch).await {
        Ok(b) => b,
        Err(
            e @ (forge::Error::NotFound { .. }
            | forge::Error::Json { .. }
            | forge::Error::TooLarge { .. }),
        ) => {
            problems.push(format!("{path}: {e}"));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if bytes.len() as u64 > max {
        problems.push(format!(
            "{path}: {} bytes is over the limit of {max}",
            bytes.len()
        ));
        return Ok(None);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(_) => {
            problems.push(format!("{path}: not UTF-8 text"));
            Ok(None)
        }
    }
}

/// Reads one repository: languages, the default branch's tree (catalog files, CI, CODEOWNERS,
/// the files the type guess reads), the catalog files' text and the last 90 days' commits.
async fn read(
    source: &HostSource,
    label: &str,
    item: &Listed,
    branch: &str,
    limits: &Limits,
    now: i64,
) -> Result<Repository, forge::Error> {
    let project = item.project.as_str();
    let languages = languages_of(source, project).await?;
    let tree = tree_of(source, project, branch, limits).await?;
    let mut problems = Vec::new();
    let mut truncated = tree.truncated;
    let (mut ci, mut markers, mut catalog_files) = (Vec::new(), Vec::new(), Vec::new());
    let mut owners_file: Option<&str> = None;
    for (i, entry) in tree.entries.iter().enumerate() {
        if i >= limits.max_entries || entry.path.matches('/').count() >= limits.max_depth {
            truncated = true;
            continue;
        }
        // As on disk: vendored folders are someone else's code.
        if entry.is_dir || entry.path.split('/').any(languages::is_vendored) {
            continue;
        }
        let p = entry.path.as_str();
        let name = p.rsplit('/').next().unwrap_or(p);
        if matches!(name, "catalog-info.yaml" | "catalog-info.yml") {
            catalog_files.push(p.to_owned());
        }
        if is_ci(p) {
            ci.push(p.to_owned());
        }
        if is_marker(p) {
            markers.push(p.to_owned());
        }
    }
    if truncated {
        problems.push(format!(
            "the tree has more than {} entries or is deeper than {}, or the host cut it short: the rest was not read",
            limits.max_entries, limits.max_depth
        ));
    }
    // GitHub's order: the first location that exists is the one that counts.
    for loc in codeowners::LOCATIONS {
        if tree.entries.iter().any(|e| !e.is_dir && e.path == loc) {
            owners_file = Some(loc);
            break;
        }
    }
    let codeowners = match owners_file {
        Some(p) => match text_of(
            source,
            project,
            p,
            branch,
            codeowners::MAX_BYTES,
            &mut problems,
        )
        .await?
        {
            Some(text) => {
                let c = Codeowners::parse(p, &text);
                problems.extend(c.errors.iter().cloned());
                Some(c)
            }
            None => None,
        },
        None => None,
    };
    catalog_files.sort();
    if catalog_files.len() > MAX_CATALOG_FILES {
        problems.push(format!(
            "{} catalog files; only the first {MAX_CATALOG_FILES} are read",
            catalog_files.len()
        ));
        catalog_files.truncate(MAX_CATALOG_FILES);
    }
    let mut files = Vec::new();
    for f in &catalog_files {
        if let Some(text) =
            text_of(source, project, f, branch, MAX_CATALOG_FILE, &mut problems).await?
        {
            files.push((f.clone(), text));
        }
    }
    let since = chrono::DateTime::from_timestamp(now - limits.contributor_window, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut commits = match &source.host {
        Host::GitHub(gh) => gh.commits_since(project, branch, &since).await?,
        Host::GitLab(gl) => gl.commits_since(project, branch, &since).await?,
    };
    commits.truncate(limits.max_commits);
    let time = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp())
    };
    let last_commit = commits
        .iter()
        .filter_map(|c| time(&c.date))
        .max()
        .or_else(|| time(&item.activity))
        .unwrap_or_default();
    let contributors = tally(
        commits
            .into_iter()
            .filter(|c| !c.author_email.is_empty())
            .map(|c| (c.author_name, c.author_email)),
    );
    Ok(Repository {
        path: PathBuf::from(&item.web_url),
        name: item.name.clone(),
        bare: false,
        remote_url: Some(item.web_url.clone()),
        default_branch: branch.to_owned(),
        head: item.activity.clone(),
        archived: item.archived,
        last_commit,
        languages,
        ci,
        codeowners,
        contributors,
        catalog_files,
        markers,
        truncated,
        problems,
        topics: item.topics.clone(),
        host: Some(Hosted {
            kind: source.kind().to_owned(),
            source: label.to_owned(),
            project: item.project.clone(),
            activity: item.activity.clone(),
            files,
            change_request: None,
        }),
    })
}

/// Opens a pull request (GitHub) or merge request (GitLab) adding `catalog-info.yaml` with
/// `yaml` at the root of `repo`'s default branch: a new branch [`BRANCH`] from its tip, one
/// commit, and the request titled `title` with `body`.
pub async fn open_change_request(
    sources: &[HostSource],
    repo: &Repository,
    yaml: &str,
    title: &str,
    body: &str,
) -> Result<ChangeRequest, WriteError> {
    let path = repo.path.display().to_string();
    let host_error = |e: forge::Error| WriteError::Host {
        path: path.clone(),
        message: e.to_string(),
    };
    let Some(hosted) = &repo.host else {
        return Err(WriteError::Host {
            path,
            message: "not a repository on a code host".into(),
        });
    };
    let Some(source) = sources.iter().find(|s| s.label() == hosted.source) else {
        return Err(WriteError::Host {
            path,
            message: format!("its source {} is no longer configured", hosted.source),
        });
    };
    // A branch that exists already answers 422 (GitHub) or 400 (GitLab).
    let branch_error = |e: forge::Error| match e.status() {
        Some(400 | 422) => WriteError::BranchExists {
            path: path.clone(),
            branch: BRANCH.into(),
        },
        _ => host_error(e),
    };
    let (project, base) = (hosted.project.as_str(), repo.default_branch.as_str());
    let file = "catalog-info.yaml";
    let message = "Add catalog-info.yaml proposed by Stagedoor discovery";
    match &source.host {
        Host::GitHub(gh) => {
            let tip = gh.branch_head(project, base).await.map_err(host_error)?;
            gh.create_branch(project, BRANCH, &tip)
                .await
                .map_err(branch_error)?;
            gh.put_file(project, BRANCH, file, yaml.as_bytes(), message)
                .await
                .map_err(host_error)?;
            gh.open_pull_request(project, BRANCH, base, title, body)
                .await
                .map_err(host_error)
        }
        Host::GitLab(gl) => {
            gl.create_branch(project, BRANCH, base)
                .await
                .map_err(branch_error)?;
            gl.commit_file(project, BRANCH, file, yaml.as_bytes(), message)
                .await
                .map_err(host_error)?;
            gl.open_merge_request(project, BRANCH, base, title, body)
                .await
                .map_err(host_error)
        }
    }
}
