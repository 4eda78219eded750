//! Discovery's state for a catalog's lifetime (in `Catalog::state`): the settings, the latest
//! inventory, and the completeness computed from it and a snapshot, kept until either changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use catalog::Catalog;
use catalog::read::Snapshot;

use crate::completeness::Completeness;
use crate::sync::{Inventory, Settings, SyncError, now_ms, row_of, sync};

#[derive(Default)]
pub struct State {
    settings: RwLock<Option<Settings>>,
    inventory: RwLock<Option<Arc<Inventory>>>,
    /// One scan at a time: the schedule and an accepted proposal's rescan must not interleave.
    running: tokio::sync::Mutex<()>,
    /// (snapshot generation, inventory scan time, completeness).
    completeness: Mutex<Option<(u64, i64, Arc<Completeness>)>>,
    /// Pull and merge requests opened for accepted proposals, by repository path (this
    /// process's; the host keeps them, and the branch makes a second one an error).
    change_requests: Mutex<HashMap<String, forge::ChangeRequest>>,
}

impl State {
    pub fn of(catalog: &Catalog) -> Arc<State> {
        catalog.state::<State>()
    }

    pub fn configure(&self, settings: Settings) {
        *self.settings.write().expect("settings lock") = Some(settings);
    }

    /// `None` when no repository source is configured.
    pub fn settings(&self) -> Option<Settings> {
        self.settings.read().expect("settings lock").clone()
    }

    /// Remembers the pull or merge request opened for the repository at `path`, in memory and
    /// in the repository's stored record (so the page links to it after a restart too).
    pub async fn note_change_request(
        &self,
        catalog: &Catalog,
        path: &str,
        request: forge::ChangeRequest,
    ) -> Result<(), store::StoreError> {
        self.change_requests
            .lock()
            .expect("change requests lock")
            .insert(path.to_owned(), request.clone());
        let record = self.inventory().and_then(|inv| {
            inv.repositories
                .iter()
                .find(|r| r.path.as_os_str() == path)
                .cloned()
        });
        if let Some(mut repo) = record
            && let Some(h) = repo.host.as_mut()
        {
            h.change_request = Some(request);
            catalog
                .database()
                .put_discovered(&[row_of(&repo, now_ms())])
                .await?;
        }
        Ok(())
    }

    /// The pull or merge request opened for the repository at `path`, if one was.
    pub fn change_request(&self, path: &str) -> Option<forge::ChangeRequest> {
        let noted = self
            .change_requests
            .lock()
            .expect("change requests lock")
            .get(path)
            .cloned();
        noted.or_else(|| {
            let inv = self.inventory()?;
            let repo = inv
                .repositories
                .iter()
                .find(|r| r.path.as_os_str() == path)?;
            repo.host.as_ref()?.change_request.clone()
        })
    }

    /// Puts the requests noted in this process into a new inventory's records (a scan that ran
    /// while one was opened did not know it) and stores the records that lacked them.
    async fn keep_change_requests(
        &self,
        catalog: &Catalog,
        inventory: &mut Inventory,
    ) -> Result<(), store::StoreError> {
        let noted = self
            .change_requests
            .lock()
            .expect("change requests lock")
            .clone();
        let mut rows = Vec::new();
        for repo in &mut inventory.repositories {
            let Some(cr) = noted.get(repo.path.to_string_lossy().as_ref()) else {
                continue;
            };
            if let Some(h) = repo.host.as_mut()
                && h.change_request.as_ref() != Some(cr)
            {
                h.change_request = Some(cr.clone());
                rows.push(row_of(repo, now_ms()));
            }
        }
        catalog.database().put_discovered(&rows).await
    }

    /// The latest scan, once one finished.
    pub fn inventory(&self) -> Option<Arc<Inventory>> {
        self.inventory.read().expect("inventory lock").clone()
    }

    /// Scans now (waiting for a scan already running), then records today's completeness.
    pub async fn sync_now(&self, catalog: &Catalog) -> Result<Arc<Inventory>, SyncError> {
        let Some(settings) = self.settings() else {
            return Ok(Arc::new(Inventory::default()));
        };
        let _one = self.running.lock().await;
        let previous = self.inventory();
        let mut inventory = sync(catalog, &settings, previous.as_deref()).await?;
        self.keep_change_requests(catalog, &mut inventory).await?;
        let inventory = Arc::new(inventory);
        *self.inventory.write().expect("inventory lock") = Some(inventory.clone());
        tracing::info!(
            repositories = inventory.repositories.len(),
            read = inventory.read,
            reused = inventory.reused,
            missing = inventory.missing.len(),
            unreadable = inventory.errors.len(),
            registered = inventory.registered,
            "discovery scan"
        );
        let completeness = self.completeness(&catalog.snapshot());
        if let Some(c) = completeness {
            let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
            catalog
                .database()
                .put_completeness(&c.day_rows(&day))
                .await?;
        }
        Ok(inventory)
    }

    /// One scope's (`org` or a group's ref) recorded completeness from `since` (`YYYY-MM-DD`).
    pub async fn trend(
        catalog: &Catalog,
        scope: &str,
        since: &str,
    ) -> Result<Vec<store::CompletenessDay>, store::StoreError> {
        catalog.database().completeness_days(scope, since).await
    }

    /// Completeness over `snapshot` and the latest inventory; `None` before the first scan.
    pub fn completeness(&self, snapshot: &Snapshot) -> Option<Arc<Completeness>> {
        let settings = self.settings()?;
        let inventory = self.inventory()?;
        let key = (snapshot.generation(), inventory.scanned_at);
        let mut cached = self.completeness.lock().expect("completeness lock");
        if let Some((g, t, c)) = cached.as_ref()
            && (*g, *t) == key
        {
            return Some(c.clone());
        }
        let c = Arc::new(Completeness::compute(snapshot, &inventory, &settings));
        *cached = Some((key.0, key.1, c.clone()));
        Some(c)
    }
}
