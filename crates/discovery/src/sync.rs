//! Keeping the catalog in step with the repositories: a scan of the configured sources, stored
//! (so unchanged repositories are not read again, even after a restart), every catalog file of a
//! default branch mirrored under the data directory and registered as a `file` location through
//! `Catalog::add_location`, and repositories that disappeared kept as missing. Their mirrored
//! files are removed while their locations stay, so the catalog turns their entities into orphans
//! (reported on the completeness page) instead of dropping them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use catalog::{Catalog, LocationSpec};
use store::DiscoveredRow;

use crate::hosted::{self, HostSource};
use crate::inventory::Repository;
use crate::scan::{self, Limits, ScanError};

/// Where repositories are found and how often (config `discovery`, see `docs/configuration.md`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Directory trees of git repositories.
    pub sources: Vec<PathBuf>,
    /// GitHub organisations and GitLab groups.
    pub hosts: Vec<HostSource>,
    /// Time between scans.
    pub interval: Duration,
    /// Where the default branches' catalog files are mirrored for the catalog to read.
    pub mirror: PathBuf,
    pub limits: Limits,
}

/// The latest scan, with what is known about repositories no longer found.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    /// Repositories found, by path.
    pub repositories: Vec<Repository>,
    /// Repositories found before and not any more, with since when (epoch ms).
    pub missing: Vec<(Repository, i64)>,
    pub errors: Vec<ScanError>,
    /// Epoch ms the scan finished.
    pub scanned_at: i64,
    pub read: usize,
    pub reused: usize,
    /// Catalog files newly registered as locations by this scan.
    pub registered: usize,
    /// Problems registering or mirroring catalog files (the rest went on).
    pub register_errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("discovery store: {0}")]
    Store(#[from] store::StoreError),
    #[error("discovery scan stopped: {0}")]
    Join(String),
}

/// The file a repository's catalog file is mirrored to: one folder per repository, named for the
/// repository and a hash of its path (two repositories may share a name).
pub fn mirror_file(settings: &Settings, repo: &Repository, file: &str) -> PathBuf {
    settings.mirror.join(mirror_folder(repo)).join(file)
}

fn mirror_folder(repo: &Repository) -> String {
    // FNV-1a over the path bytes: stable across runs and builds, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in repo.path.as_os_str().as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    let name = crate::propose::sanitise_name(&repo.name).unwrap_or_else(|_| "repository".into());
    format!("{name}-{h:016x}")
}

/// A present repository's stored row, seen at `at` (epoch ms).
pub(crate) fn row_of(r: &Repository, at: i64) -> DiscoveredRow {
    DiscoveredRow {
        path: r.path.to_string_lossy().into_owned(),
        head: r.head.clone(),
        record: serde_json::to_string(r).expect("inventory serialises"),
        seen_at: at,
        missing_since: None,
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One scan of the configured sources, and everything that follows from it (see the module
/// docs). `previous` is the last inventory, or `None` to start from the stored one.
pub async fn sync(
    catalog: &Catalog,
    settings: &Settings,
    previous: Option<&Inventory>,
) -> Result<Inventory, SyncError> {
    let db = catalog.database();
    let stored: Vec<DiscoveredRow> = db.discovered().await?;
    let known: Vec<(Repository, Option<i64>)> = match previous {
        Some(p) => p
            .repositories
            .iter()
            .map(|r| (r.clone(), None))
            .chain(p.missing.iter().map(|(r, at)| (r.clone(), Some(*at))))
            .collect(),
        None => stored
            .iter()
            .filter_map(|row| {
                // A record written by another version that no longer parses is read again.
                let r: Repository = serde_json::from_str(&row.record).ok()?;
                Some((r, row.missing_since))
            })
            .collect(),
    };
    let present: Vec<Repository> = known
        .iter()
        .filter(|(_, m)| m.is_none())
        .map(|(r, _)| r.clone())
        .collect();
    let (sources, limits) = (settings.sources.clone(), settings.limits);
    let now = chrono::Utc::now().timestamp();
    let on_hosts = hosted::scan(&settings.hosts, &present, &limits, now).await;
    let mut scan =
        tokio::task::spawn_blocking(move || scan::scan(&sources, &present, &limits, now))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))?;
    scan.repositories.extend(on_hosts.repositories);
    scan.errors.extend(on_hosts.errors);
    scan.read += on_hosts.read;
    scan.reused += on_hosts.reused;
    let at = now_ms();

    // Stored rows: what was read, or came back, or is new.
    let stored_heads: HashMap<&str, (&str, bool)> = stored
        .iter()
        .map(|r| {
            (
                r.path.as_str(),
                (r.head.as_str(), r.missing_since.is_some()),
            )
        })
        .collect();
    let rows: Vec<DiscoveredRow> = scan
        .repositories
        .iter()
        .filter(|r| {
            stored_heads
                .get(r.path.to_string_lossy().as_ref())
                .is_none_or(|(head, missing)| *head != r.head || *missing)
        })
        .map(|r| row_of(r, at))
        .collect();
    db.put_discovered(&rows).await?;
    let found: HashSet<&Path> = scan.repositories.iter().map(|r| r.path.as_path()).collect();
    // A repository that could not be read this time is not missing: it is there, and its error
    // is reported; its last good record stays.
    let unreadable: HashSet<&Path> = scan.errors.iter().map(|e| e.path.as_path()).collect();
    let mut repositories = scan.repositories.clone();
    let mut missing = Vec::new();
    let mut newly_missing = Vec::new();
    for (r, since) in known {
        if found.contains(r.path.as_path()) {
            continue;
        }
        if unreadable.contains(r.path.as_path()) && since.is_none() {
            repositories.push(r);
            continue;
        }
        if since.is_none() {
            newly_missing.push(r.path.to_string_lossy().into_owned());
        }
        missing.push((r, since.unwrap_or(at)));
    }
    repositories.sort_by(|a, b| a.path.cmp(&b.path));
    db.mark_discovered_missing(&newly_missing, at).await?;

    let mut inventory = Inventory {
        repositories,
        missing,
        errors: scan.errors,
        scanned_at: at,
        read: scan.read,
        reused: scan.reused,
        ..Default::default()
    };
    register(catalog, settings, &mut inventory).await;
    Ok(inventory)
}

/// Mirrors every present repository's catalog files and registers each as a location; removes
/// the mirrored files of missing repositories and of files no longer on a default branch.
async fn register(catalog: &Catalog, settings: &Settings, inventory: &mut Inventory) {
    let registered: HashSet<String> = catalog
        .locations()
        .await
        .into_iter()
        .filter(|l| l.kind == "file")
        .map(|l| l.target)
        .collect();
    forget_mirrors(settings, &inventory.missing);
    let mut wanted: Vec<PathBuf> = Vec::new();
    let mut errors = Vec::new();
    for repo in &inventory.repositories {
        let files: Vec<(String, PathBuf)> = repo
            .catalog_files
            .iter()
            .map(|f| (f.clone(), mirror_file(settings, repo, f)))
            .collect();
        let repo_for_blocking = repo.clone();
        let to_write = files.clone();
        let written = tokio::task::spawn_blocking(move || mirror(&repo_for_blocking, &to_write))
            .await
            .unwrap_or_else(|e| vec![Err(e.to_string())]);
        errors.extend(written.into_iter().filter_map(Result::err));
        wanted.extend(files.into_iter().map(|(_, p)| p));
    }
    // Files mirrored before that no default branch holds now: gone, so their entities orphan.
    let wanted_set: HashSet<&Path> = wanted.iter().map(PathBuf::as_path).collect();
    for target in &registered {
        let p = Path::new(target);
        if p.starts_with(&settings.mirror)
            && !wanted_set.contains(p)
            && p.exists()
            && let Err(e) = std::fs::remove_file(p)
        {
            errors.push(format!("{}: cannot remove: {e}", p.display()));
        }
    }
    // One catalog round for all new files: registering them one by one costs a round each.
    let specs: Vec<LocationSpec> = wanted
        .iter()
        .filter(|file| file.exists())
        .map(|file| file.to_string_lossy().into_owned())
        .filter(|target| !registered.contains(target))
        .map(|target| LocationSpec::new("file", &target))
        .collect();
    match catalog.add_locations(&specs).await {
        Ok(results) => {
            for (spec, result) in specs.iter().zip(results) {
                match result {
                    Ok(_) => inventory.registered += 1,
                    Err(e) => errors.push(format!("{}: cannot register: {e}", spec.target)),
                }
            }
        }
        Err(e) => errors.push(format!("cannot register catalog files: {e}")),
    }
    inventory.register_errors = errors;
}

/// Writes the default branch's version of each catalog file where the catalog reads it; a file
/// whose text is unchanged is not written (the catalog would read it again). A local
/// repository's files come from its object store, a hosted one's from its record (read from the
/// API when the repository was).
fn mirror(repo: &Repository, files: &[(String, PathBuf)]) -> Vec<Result<(), String>> {
    if files.is_empty() {
        return vec![];
    }
    let git = match &repo.host {
        Some(_) => None,
        None => match scan::open(&repo.path) {
            Ok(g) => Some(g),
            Err(e) => return vec![Err(format!("{}: {e}", repo.path.display()))],
        },
    };
    files
        .iter()
        .map(|(file, target)| {
            let fail = |e: String| format!("{}: {file}: {e}", repo.path.display());
            let text = match (&git, &repo.host) {
                (Some(git), _) => blob_at(git, &repo.head, file).map_err(fail)?,
                // A file the read could not use is in the repository's problems already.
                (None, Some(h)) => match h.files.iter().find(|(f, _)| f == file) {
                    Some((_, t)) => t.clone(),
                    None => return Ok(()),
                },
                (None, None) => unreachable!("a local repository has its git"),
            };
            let dir = target.parent().unwrap_or(Path::new("."));
            if !std::fs::read_to_string(target).is_ok_and(|t| t == text) {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
                std::fs::write(target, &text).map_err(|e| fail(e.to_string()))?;
            }
            // The docs it points at, so a cataloged repository's docs build from the mirror
            // as they would from a checkout (hosted repositories' docs are not read yet).
            match &git {
                Some(git) => crate::docs_mirror::mirror_docs(git, &repo.head, file, &text, dir)
                    .map_err(|e| fail(format!("docs: {e}"))),
                None => Ok(()),
            }
        })
        .collect()
}

pub(crate) fn blob_at(repo: &gix::Repository, head: &str, path: &str) -> Result<String, String> {
    let id = gix::ObjectId::from_hex(head.as_bytes()).map_err(|e| e.to_string())?;
    let tree = repo
        .find_commit(id)
        .and_then(|c| c.tree())
        .map_err(|e| format!("cannot read commit {head}: {e}"))?;
    let entry = tree
        .lookup_entry_by_path(path)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("not in commit {head}"))?;
    scan::read_text(repo, entry.object_id(), MAX_CATALOG_FILE)
}

/// The catalog's own limit for one file (`CatalogSettings::max_file_bytes` default).
const MAX_CATALOG_FILE: u64 = 10 * 1024 * 1024;

/// Removes the mirror folders of missing repositories, so the catalog reads their files as gone.
fn forget_mirrors(settings: &Settings, missing: &[(Repository, i64)]) {
    for (r, _) in missing {
        let dir = settings.mirror.join(mirror_folder(r));
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a missing repository's mirror");
        }
    }
}

/// Scans every `interval` for as long as the catalog lives, keeping the latest inventory in the
/// catalog's discovery state and recording completeness for the day.
pub async fn run(catalog: Arc<Catalog>, settings: Settings) {
    let state = crate::state::State::of(&catalog);
    state.configure(settings.clone());
    loop {
        if let Err(e) = state.sync_now(&catalog).await {
            tracing::warn!(error = %e, "discovery scan failed");
        }
        tokio::time::sleep(settings.interval).await;
    }
}
