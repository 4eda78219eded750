//! Scanning directory trees of git repositories: finding them (working trees and bare ones),
//! and reading each from its object store at the default branch, without a checkout. A
//! repository whose default-branch commit is unchanged since the previous scan is not read again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::codeowners::{self, Codeowners};
use crate::inventory::{Contributor, Repository};
use crate::languages;

/// Bounds on what one repository may cost, so a huge or hostile repository cannot stall a scan.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Tree entries visited at most (files and folders).
    pub max_entries: usize,
    /// Folder depth followed at most.
    pub max_depth: usize,
    /// Commits walked at most when collecting recent contributors.
    pub max_commits: usize,
    /// How far back contributors count, in seconds.
    pub contributor_window: i64,
    /// Folder depth searched for repositories below each root.
    pub max_search_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_depth: 24,
            max_commits: 10_000,
            contributor_window: 90 * 24 * 3600,
            max_search_depth: 6,
        }
    }
}

/// A repository that could not be read, and why. The rest of the scan goes on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanError {
    pub path: PathBuf,
    pub message: String,
}

/// The outcome of scanning some roots.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every repository read or kept, sorted by path.
    pub repositories: Vec<Repository>,
    pub errors: Vec<ScanError>,
    /// How many were read from git this time, and how many kept from the previous scan.
    pub read: usize,
    pub reused: usize,
}

/// Finds the repositories under `roots` (a root may itself be one) and reads each, reusing
/// `previous` records whose default-branch commit has not moved. `now` is seconds since the epoch
/// (the contributor window ends there).
pub fn scan(roots: &[PathBuf], previous: &[Repository], limits: &Limits, now: i64) -> Scan {
    let known: HashMap<&Path, &Repository> =
        previous.iter().map(|r| (r.path.as_path(), r)).collect();
    let mut out = Scan::default();
    let mut found = Vec::new();
    for root in roots {
        match find_repositories(root, limits.max_search_depth) {
            Ok(mut paths) => found.append(&mut paths),
            Err(message) => out.errors.push(ScanError {
                path: root.clone(),
                message,
            }),
        }
    }
    found.sort();
    found.dedup();
    for path in found {
        match read_repository(&path, known.get(path.as_path()).copied(), limits, now) {
            Ok((repo, reused)) => {
                if reused {
                    out.reused += 1;
                } else {
                    out.read += 1;
                }
                out.repositories.push(repo);
            }
            Err(message) => out.errors.push(ScanError { path, message }),
        }
    }
    out
}

/// Whether `dir` is a repository: a working tree with `.git`, or a bare repository (`HEAD`,
/// `objects/` and `refs/` side by side).
fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

/// Every repository at or below `root`, not looking inside repositories (submodules and vendored
/// checkouts are part of their parent) nor into hidden folders.
pub fn find_repositories(root: &Path, max_depth: usize) -> Result<Vec<PathBuf>, String> {
    let root =
        std::fs::canonicalize(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let mut out = Vec::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if is_repository(&dir) {
            out.push(dir);
            continue;
        }
        if depth >= max_depth {
            continue;
        }
        // A folder that cannot be listed is skipped: it holds no repository we could read.
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            // `file_type` does not follow symbolic links: a link cycle cannot loop the search.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((entry.path(), depth + 1));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn repository_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".git").map(str::to_owned).unwrap_or(name)
}

/// Opens a repository with only its own configuration: the scanning user's global config or
/// environment must not change what is read.
pub(crate) fn open(path: &Path) -> Result<gix::Repository, String> {
    gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| format!("not a readable git repository: {e}"))
}

/// Reads one repository, or returns the previous record when its tip has not moved.
fn read_repository(
    path: &Path,
    previous: Option<&Repository>,
    limits: &Limits,
    now: i64,
) -> Result<(Repository, bool), String> {
    let repo = open(path)?;
    let branch = repo
        .head_name()
        .map_err(|e| format!("cannot read HEAD: {e}"))?
        .ok_or_else(|| "HEAD is detached: no default branch".to_owned())?;
    let default_branch = branch.shorten().to_string();
    let commit = repo
        .head_commit()
        .map_err(|e| format!("default branch {default_branch} has no readable commit: {e}"))?;
    let head = commit.id.to_string();
    let archived_config = repo
        .config_snapshot()
        .boolean("stagedoor.archived")
        .unwrap_or(false);
    let remote_url = repo
        .config_snapshot()
        .string("remote.origin.url")
        .map(|u| u.to_string());
    if let Some(prev) = previous
        && prev.head == head
        && prev.default_branch == default_branch
    {
        let mut kept = prev.clone();
        kept.remote_url = remote_url;
        kept.archived = archived_config || prev.markers.iter().any(|m| m == "ARCHIVED");
        return Ok((kept, true));
    }
    let last_commit = commit
        .time()
        .map_err(|e| format!("tip commit {head} has an unreadable time: {e}"))?
        .seconds;
    let tree = commit
        .tree()
        .map_err(|e| format!("tip commit {head} has no readable tree: {e}"))?;
    let mut walk = TreeWalk::default();
    walk.run(&repo, tree.id, limits)?;
    let mut problems = Vec::new();
    if walk.truncated {
        problems.push(format!(
            "the tree has more than {} entries or is deeper than {}: the rest was not read",
            limits.max_entries, limits.max_depth
        ));
    }
    let codeowners = match codeowners::LOCATIONS
        .iter()
        .find_map(|p| walk.blobs.get(*p).map(|id| (*p, *id)))
    {
        Some((p, id)) => match read_text(&repo, id, codeowners::MAX_BYTES) {
            Ok(text) => {
                let c = Codeowners::parse(p, &text);
                problems.extend(c.errors.iter().cloned());
                Some(c)
            }
            Err(e) => {
                problems.push(format!("{p}: {e}"));
                None
            }
        },
        None => None,
    };
    let contributors = recent_contributors(&repo, commit.id, limits, now)?;
    let mut languages: Vec<(String, u64)> = walk.languages.into_iter().collect();
    languages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let archived = archived_config || walk.markers.iter().any(|m| m == "ARCHIVED");
    Ok((
        Repository {
            path: path.to_path_buf(),
            name: repository_name(path),
            bare: repo.is_bare(),
            remote_url,
            default_branch,
            head,
            archived,
            last_commit,
            languages,
            ci: walk.ci,
            codeowners,
            contributors,
            catalog_files: walk.catalog_files,
            markers: walk.markers,
            truncated: walk.truncated,
            problems,
            topics: Vec::new(),
            host: None,
        },
        false,
    ))
}

/// A blob's text, refusing blobs over `max` bytes before reading them.
pub(crate) fn read_text(
    repo: &gix::Repository,
    id: gix::ObjectId,
    max: u64,
) -> Result<String, String> {
    let size = repo
        .find_header(id)
        .map_err(|e| format!("unreadable object {id}: {e}"))?
        .size();
    if size > max {
        return Err(format!("{size} bytes is over the limit of {max}"));
    }
    let blob = repo
        .find_blob(id)
        .map_err(|e| format!("unreadable object {id}: {e}"))?;
    String::from_utf8(blob.data.clone()).map_err(|_| "not UTF-8 text".to_owned())
}

/// What one pass over the tip's tree collects.
#[derive(Default)]
struct TreeWalk {
    languages: HashMap<String, u64>,
    ci: Vec<String>,
    catalog_files: Vec<String>,
    markers: Vec<String>,
    /// Paths of the blobs looked up later by name (the CODEOWNERS candidates).
    blobs: HashMap<String, gix::ObjectId>,
    truncated: bool,
}

impl TreeWalk {
    fn run(
        &mut self,
        repo: &gix::Repository,
        root: gix::ObjectId,
        limits: &Limits,
    ) -> Result<(), String> {
        // Breadth first with an explicit queue: depth and entry count are bounded, and a deep
        // tree cannot overflow the stack.
        let mut queue = std::collections::VecDeque::from([(root, String::new(), 0usize)]);
        let mut visited = 0usize;
        while let Some((id, prefix, depth)) = queue.pop_front() {
            let tree = repo
                .find_tree(id)
                .map_err(|e| format!("unreadable tree {id} at {prefix:?}: {e}"))?;
            let decoded = tree
                .decode()
                .map_err(|e| format!("corrupt tree {id} at {prefix:?}: {e}"))?;
            for entry in &decoded.entries {
                visited += 1;
                if visited > limits.max_entries {
                    self.truncated = true;
                    return Ok(());
                }
                let name = entry.filename.to_str_lossy();
                let path = if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}/{name}")
                };
                if entry.mode.is_tree() {
                    if languages::is_vendored(&name) {
                        continue;
                    }
                    if depth + 1 >= limits.max_depth {
                        self.truncated = true;
                        continue;
                    }
                    queue.push_back((entry.oid.to_owned(), path, depth + 1));
                } else if entry.mode.is_blob() {
                    self.file(repo, &path, &name, entry.oid.to_owned())?;
                }
            }
        }
        Ok(())
    }

    fn file(
        &mut self,
        repo: &gix::Repository,
        path: &str,
        name: &str,
        id: gix::ObjectId,
    ) -> Result<(), String> {
        if matches!(name, "catalog-info.yaml" | "catalog-info.yml") {
            self.catalog_files.push(path.to_owned());
        }
        if is_ci(path) {
            self.ci.push(path.to_owned());
        }
        if is_marker(path) {
            self.markers.push(path.to_owned());
        }
        if codeowners::LOCATIONS.contains(&path) {
            self.blobs.insert(path.to_owned(), id);
        }
        if let Some(lang) = languages::of(path) {
            let size = repo
                .find_header(id)
                .map_err(|e| format!("unreadable object {id} at {path}: {e}"))?
                .size();
            *self.languages.entry(lang.to_owned()).or_default() += size;
        }
        Ok(())
    }
}

/// CI systems recognised by their configuration file.
pub(crate) fn is_ci(path: &str) -> bool {
    let workflow = path
        .strip_prefix(".github/workflows/")
        .is_some_and(|f| !f.contains('/') && (f.ends_with(".yml") || f.ends_with(".yaml")));
    workflow
        || matches!(
            path,
            ".gitlab-ci.yml"
                | "Jenkinsfile"
                | ".circleci/config.yml"
                | "azure-pipelines.yml"
                | ".travis.yml"
                | "bitbucket-pipelines.yml"
                | ".drone.yml"
                | ".buildkite/pipeline.yml"
                | ".woodpecker.yml"
        )
}

/// Files that say what kind of software a repository holds (see `propose::guess_type`).
pub(crate) fn is_marker(path: &str) -> bool {
    matches!(
        path,
        "ARCHIVED"
            | "Dockerfile"
            | "docker-compose.yml"
            | "docker-compose.yaml"
            | "compose.yaml"
            | "Procfile"
            | "openapi.yaml"
            | "openapi.json"
            | "src/main.rs"
            | "src/lib.rs"
            | "main.go"
            | "go.mod"
            | "Cargo.toml"
            | "package.json"
            | "pyproject.toml"
            | "setup.py"
            | "manage.py"
            | "app.py"
            | "pom.xml"
            | "build.gradle"
            | "index.html"
            | "public/index.html"
            | "src/index.html"
            | "mkdocs.yml"
            | "hugo.toml"
            | "_config.yml"
            | "gatsby-config.js"
            | "next.config.js"
            | "next.config.mjs"
            | "vite.config.ts"
            | "vite.config.js"
    ) || path.ends_with(".gemspec")
        || path.ends_with("/Chart.yaml")
        || path.starts_with("cmd/") && path.ends_with("/main.go") && path.matches('/').count() == 2
}

/// Authors of the commits reachable from `tip` within the window, most commits first; the walk
/// stops at the window's start or after `max_commits`.
fn recent_contributors(
    repo: &gix::Repository,
    tip: gix::ObjectId,
    limits: &Limits,
    now: i64,
) -> Result<Vec<Contributor>, String> {
    use gix::revision::walk::Sorting;
    use gix::traverse::commit::simple::CommitTimeOrder;
    let since = now - limits.contributor_window;
    let walk = repo
        .rev_walk([tip])
        .sorting(Sorting::ByCommitTimeCutoff {
            order: CommitTimeOrder::NewestFirst,
            seconds: since,
        })
        .all()
        .map_err(|e| format!("cannot walk history: {e}"))?;
    let mut authors = Vec::new();
    for info in walk.take(limits.max_commits) {
        let info = info.map_err(|e| format!("cannot walk history: {e}"))?;
        let commit = info
            .object()
            .map_err(|e| format!("unreadable commit {}: {e}", info.id))?;
        let author = commit
            .author()
            .map_err(|e| format!("commit {} has an unreadable author: {e}", info.id))?
            .trim();
        // The cutoff is on commit time; the window is about authorship, so check both.
        if author.time().map(|t| t.seconds).unwrap_or(0) < since {
            continue;
        }
        authors.push((
            author.name.to_str_lossy().into_owned(),
            author.email.to_str_lossy().into_owned(),
        ));
    }
    Ok(crate::inventory::tally(authors))
}
