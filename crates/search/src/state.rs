//! The index a replica serves, kept in `Catalog::state`: rebuilt after each catalog change
//! (only changed entities are extracted again; the rest of the documents are taken from the
//! previous index) and when another source hands in its documents.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use catalog::Catalog;
use catalog::read::{Entity, Snapshot};

use crate::document::{Document, SOURCE_CATALOG};
use crate::entities::documents_of;
use crate::index::Index;

/// One built index and what it reflects.
#[derive(Debug, Default)]
struct Built {
    index: Arc<Index>,
    /// The catalog snapshot generation the catalog documents come from (`None`: not yet built).
    generation: Option<u64>,
    /// (hash of key, hash of etag) per entity indexed, sorted: what a later snapshot is compared
    /// with to find the entities that changed, at 16 bytes an entity.
    etags: Vec<(u64, u64)>,
}

/// The search capability's state on the catalog (`catalog.state::<Search>()`).
#[derive(Debug, Default)]
pub struct Search {
    current: ArcSwap<Built>,
    /// One rebuild at a time; readers never take it.
    building: Mutex<()>,
    /// Set while [`run`] keeps the index up to date: queries then never rebuild it themselves.
    running: AtomicBool,
}

fn hash(s: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5ea2c4).hash_one(s)
}

/// The index for the catalog's current snapshot. While [`run`] keeps it up to date, the index
/// it last built answers (a query never waits for a rebuild, except for the very first one);
/// without it (tests, tools) a stale index is brought up to date here.
pub fn index(catalog: &Catalog) -> Arc<Index> {
    let search = catalog.state::<Search>();
    let snap = catalog.snapshot();
    let cur = search.current.load();
    if cur.generation == Some(snap.generation()) {
        return cur.index.clone();
    }
    if cur.generation.is_none() || !search.running.load(Ordering::Acquire) {
        search.refresh(&snap);
    }
    search.current.load().index.clone()
}

/// Keeps the index up to date with the catalog: builds it at once, then after every published
/// change. The binary spawns it, so that queries do not pay for a rebuild.
pub async fn run(catalog: Arc<Catalog>) {
    catalog
        .state::<Search>()
        .running
        .store(true, Ordering::Release);
    let mut changes = catalog.subscribe();
    let mut snap = catalog.snapshot();
    loop {
        let c = catalog.clone();
        let s = snap.clone();
        // A rebuild is CPU work of up to a second at 50,000 components: off the async workers.
        let _ = tokio::task::spawn_blocking(move || c.state::<Search>().refresh(&s)).await;
        match changes.next().await {
            Some(change) => snap = change.snapshot,
            None => break,
        }
    }
    catalog
        .state::<Search>()
        .running
        .store(false, Ordering::Release);
}

impl Search {
    /// The index now served.
    pub fn current(&self) -> Arc<Index> {
        self.current.load().index.clone()
    }

    /// Brings the catalog documents up to date with `snap`.
    pub fn refresh(&self, snap: &Snapshot) {
        let guard = self.building.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh_locked(snap, guard);
    }

    fn refresh_locked(&self, snap: &Snapshot, _guard: std::sync::MutexGuard<'_, ()>) {
        let old = self.current.load_full();
        let started = Instant::now();
        let mut etags: Vec<(u64, u64)> = snap
            .iter()
            .map(|st| (hash(st.key()), hash(st.etag())))
            .collect();
        etags.sort_unstable();
        if old.generation.is_some() && etags == old.etags {
            // Nothing the index holds changed (a change to the catalog's state that no entity
            // shows, or the same snapshot again): keep the index, note the generation.
            self.current.store(Arc::new(Built {
                index: old.index.clone(),
                generation: Some(snap.generation()),
                etags,
            }));
            return;
        }
        let etag_of = |list: &[(u64, u64)], key: u64| {
            list.binary_search_by_key(&key, |&(k, _)| k)
                .ok()
                .map(|i| list[i].1)
        };
        let unchanged = |entity: &str| {
            let k = hash(entity);
            matches!((etag_of(&old.etags, k), etag_of(&etags, k)), (Some(a), Some(b)) if a == b)
        };
        let keep =
            |d: u32| old.index.source_of(d) != SOURCE_CATALOG || unchanged(old.index.entity_of(d));
        // Extracted as the index takes them: the first build at 100,000 entities would
        // otherwise hold every document's strings at once.
        let extracted = std::cell::Cell::new(0usize);
        let docs = snap
            .iter()
            .filter(|st| {
                let k = hash(st.key());
                etag_of(&old.etags, k) != etag_of(&etags, k)
            })
            .flat_map(|st| {
                extracted.set(extracted.get() + 1);
                documents_of(&Entity::new(st))
            });
        let index = old.index.rebuild(keep, docs);
        let extracted = extracted.get();
        tracing::info!(
            documents = index.len(),
            terms = index.terms(),
            index_kib = index.heap_bytes() / 1024,
            entities_extracted = extracted,
            ms = started.elapsed().as_millis() as u64,
            "search index built"
        );
        self.current.store(Arc::new(Built {
            index: Arc::new(index),
            generation: Some(snap.generation()),
            etags,
        }));
    }

    /// Replaces every document of `source` with `documents` (a docs build handing in all its
    /// pages). Catalog documents come from the catalog: `source` must not be `"catalog"`.
    pub fn replace_source(&self, source: &str, documents: Vec<Document>) {
        self.replace(documents, |idx, d| idx.source_of(d) == source);
    }

    /// Replaces the documents of `source` that belong to `entity` (lower-cased ref) with
    /// `documents` (one entity's docs rebuilt; an empty list removes them).
    pub fn replace_entity(&self, source: &str, entity: &str, documents: Vec<Document>) {
        let entity = entity.to_lowercase();
        self.replace(documents, |idx, d| {
            idx.source_of(d) == source && idx.entity_of(d) == entity
        });
    }

    fn replace(&self, documents: Vec<Document>, drop: impl Fn(&Index, u32) -> bool) {
        // The catalog's documents follow the catalog; another source claiming its name would be
        // replaced by the next refresh, so it is refused here where the mistake is made.
        if documents.iter().any(|d| d.source == SOURCE_CATALOG) {
            tracing::error!(
                "search documents from another source may not use the source name 'catalog'; ignored"
            );
            return;
        }
        let _guard = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.current.load_full();
        let index = old.index.rebuild(|d| !drop(&old.index, d), documents);
        self.current.store(Arc::new(Built {
            index: Arc::new(index),
            generation: old.generation,
            etags: old.etags.clone(),
        }));
    }
}
