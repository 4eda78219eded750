//! A repository just created on this server (by the scaffolder's `publish:git`): scanned at
//! once when it is under a configured source, so its catalog file is registered before the
//! task's next step, rather than at the next scheduled scan.

use std::path::Path;

use catalog::Catalog;

use crate::state::State;

/// Scans now if `repo` is under one of the sources; says what became of it, for a task's log.
pub async fn scan_new_repository(catalog: &Catalog, repo: &Path) -> Result<String, String> {
    let state = State::of(catalog);
    let under_a_source = state.settings().is_some_and(|s| {
        s.sources
            .iter()
            .any(|src| src.canonicalize().is_ok_and(|src| repo.starts_with(src)))
    });
    if !under_a_source {
        return Ok(format!(
            "{} is not under a discovery source, so it is not cataloged automatically",
            repo.display()
        ));
    }
    let inventory = state.sync_now(catalog).await.map_err(|e| e.to_string())?;
    let found = inventory
        .repositories
        .iter()
        .find(|r| r.path == repo)
        .ok_or_else(|| format!("discovery did not find {}", repo.display()))?;
    let registered = inventory
        .register_errors
        .iter()
        .find(|e| e.contains(&*found.name));
    Ok(match (found.catalog_files.is_empty(), registered) {
        (true, _) => format!(
            "Discovery found {}; it has no catalog file to register",
            found.name
        ),
        (false, Some(e)) => format!(
            "Discovery found {} but could not register it: {e}",
            found.name
        ),
        (false, None) => format!(
            "Discovery found {} and registered its {}",
            found.name,
            found.catalog_files.join(", ")
        ),
    })
}
