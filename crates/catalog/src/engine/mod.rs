//! The catalog engine: walks every location, re-reads only what changed, resolves conflicts and
//! orphans, stitches, swaps in a new read index and persists the difference.
//!
//! One processing round runs at a time (under `state`); readers never wait for it, because they
//! read an immutable [`Snapshot`] that the round replaces atomically when it is done.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
// A fast hasher (randomly seeded, so still resistant to crafted keys): every round hashes every
// entity key several times, and SipHash was a tenth of an edit's cost at 117,000 entities.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use model::{Entity, relations};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use store::{Db, EntityRow, LocationRow};
use tokio::sync::Mutex;

use crate::fetch::Fetcher;
use crate::index::{Snapshot, Stitched, body};
use crate::packed::{Packed, PackedSlice, Rare};
use crate::process::{
    self, ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, Context, Emitted, ProcessingError,
};
use crate::read::{self, Change, Subscription};
use crate::settings::{CatalogSettings, LocationSpec, OrphanStrategy, Rule};
use crate::source::{self, Confine, FileSig, ReadError, UrlReader};
use crate::stitch;

mod current;
mod entities;
mod locations;
mod round;

use current::{Current, Currents};
pub use locations::{Location, generated_location_ref};
use locations::{generated_location_name, location_produces};
use round::{Loaded, nested_confine, root_dir, root_location_entity};

/// Errors the catalog API maps onto HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// A location registered through the API, or (with `id: None`) from configuration.
#[derive(Debug, Clone)]
struct Root {
    spec: LocationSpec,
    rules: Vec<Rule>,
}

/// What the engine remembers about one file or URL between rounds (no entity bodies: those
/// live in the snapshot, and are recovered from it when needed).
#[derive(Default)]
struct FileState {
    sig: Option<FileSig>,
    fetched_at: Option<Instant>,
    entities: Vec<Emitted>,
    failures: Vec<process::Failure>,
    /// Why the file could not be read last time, reported until it can be.
    read_error: Option<ProcessingError>,
}

impl State {
    /// Approximate heap bytes held between rounds (see [`RoundStats::engine_bytes`]).
    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let emitted = |e: &Emitted| {
            size_of::<Emitted>()
                + e.key.len()
                + std::mem::size_of_val(&*e.outgoing)
                + std::mem::size_of_val(&*e.errors)
                + e.children
                    .iter()
                    .map(|c| size_of::<LocationSpec>() + c.kind.capacity() + c.target.capacity())
                    .sum::<usize>()
        };
        let files: usize = self
            .files
            .iter()
            .map(|(k, f)| {
                k.capacity()
                    + size_of::<(String, FileState)>()
                    + f.entities.iter().map(emitted).sum::<usize>()
                    + (f.entities.capacity() - f.entities.len()) * size_of::<Emitted>()
            })
            .sum();
        let current = self.current.heap_bytes();
        let targets: usize = self.targets.iter().map(|t| t.len() + 24).sum();
        files + current + targets
    }
}

#[derive(Default)]
struct State {
    files: HashMap<String, FileState>,
    current: Currents,
    /// Files or URLs to re-read on the next round whatever their signature says.
    forced: HashSet<String>,
    rounds: u64,
    /// The root locations of the last round, to notice registrations and removals.
    last_roots: Vec<String>,
    /// One copy of each relation target, shared by every entity that declares it: owners,
    /// systems and APIs repeat across thousands of entities.
    targets: HashSet<Packed>,
    /// How many targets were named when `targets` was last pruned (see `round.rs`).
    targets_named: usize,
    /// Writes not yet in the database, and the snapshot that shows them: nothing is published
    /// before it is stored, so a crash can never serve uids that a restart would not find.
    pending: Pending,
}

/// Changes computed by a round whose database write failed; retried by every later round.
#[derive(Default)]
struct Pending {
    /// Upserts by key: the entity, its stitch input hash and when it was stitched. Rows are
    /// made from these only while they are written.
    rows: HashMap<String, (Arc<Stitched>, [u8; 20], i64)>,
    deletes: HashSet<String>,
    snapshot: Option<Arc<Snapshot>>,
}

/// Why the stored state lags behind the catalog, and since when (for `/readyz`).
#[derive(Debug, Clone)]
struct Lag {
    since: SystemTime,
    error: String,
}

/// The walk's record of where entities come from, replayed to claim them only when needed.
enum Step {
    /// A root location's generated Location entity, and its origin.
    Root(Emitted, Arc<str>),
    /// A file's entities: file key, parent Location entity, origin.
    File(String, String, Arc<str>),
}

/// One step of an ancestry chain: an entity and the refs of the Location entities that led to it.
pub type Ancestor = (Arc<Stitched>, Vec<String>);

/// How many published changes a subscriber may fall behind before it is told it missed some.
const CHANGE_BACKLOG: usize = 64;

/// Counts from the last round, for logs and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundStats {
    pub files_read: usize,
    pub entities: usize,
    pub changed: usize,
    pub deleted: usize,
    pub elapsed: Duration,
    /// Approximate heap bytes of the engine's own state after the round: the per-file cache
    /// and the per-entity bookkeeping (the snapshot's entities and index are counted apart).
    pub engine_bytes: usize,
}

pub struct Catalog {
    settings: CatalogSettings,
    db: Db,
    urls: UrlReader,
    /// URL locations' reads: bounded, and in the background once a URL has been read.
    fetcher: Fetcher,
    snapshot: ArcSwap<read::Snapshot>,
    /// Tells subscribers about each published snapshot.
    changes: tokio::sync::broadcast::Sender<Change>,
    state: Mutex<State>,
    /// Locations registered through the API. Outside `state`, so that listing them never waits
    /// for a processing round (which may be waiting on a slow URL).
    registered: std::sync::RwLock<Vec<LocationRow>>,
    ready: AtomicBool,
    /// Set while a database write is failing; cleared by the write that succeeds.
    lag: std::sync::Mutex<Option<Lag>>,
    /// Set when the background task ends (a panic unwinds through its guard).
    stopped: AtomicBool,
    /// Test hook: makes every entity write fail, standing in for a database outage.
    fail_writes: AtomicBool,
    /// Capabilities' own state for the catalog's lifetime, one value per type (see `state`).
    capabilities: std::sync::Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

/// Marks the engine as stopped when the background task ends, however it ends.
struct RunGuard<'a>(&'a AtomicBool);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
        // `run` never returns: the task ends by a panic, or by being dropped at shutdown.
        if std::thread::panicking() {
            tracing::error!("catalog engine task stopped");
        } else {
            tracing::info!("catalog engine stopped");
        }
    }
}

/// Runs CPU-bound work without stalling the async workers (on a multi-threaded runtime), handing
/// it the runtime so URL references can still be fetched from inside; on a current-thread runtime
/// (tests) it runs in place and URL references are refused.
fn cpu_bound<R>(work: impl FnOnce(Option<&tokio::runtime::Handle>) -> R) -> R {
    let handle = tokio::runtime::Handle::current();
    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(|| work(Some(&handle)))
    } else {
        work(None)
    }
}

/// Runs CPU-bound request work (a large page, a projection, a long list of refs) without
/// stalling the async workers that answer every other request, `/healthz` included.
pub fn off_async_workers<R>(work: impl FnOnce() -> R) -> R {
    cpu_bound(|_| work())
}

/// Processes files on every core: YAML parsing is most of the cost of ingesting a catalog.
fn in_parallel<'a>(
    texts: Vec<(&'a LocationSpec, Option<FileSig>, Result<String, ReadError>)>,
    parse: impl Fn((&'a LocationSpec, Option<FileSig>, Result<String, ReadError>)) -> (String, Loaded)
    + Sync,
) -> HashMap<String, Loaded> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let total: usize = texts
        .iter()
        .map(|(_, _, t)| t.as_ref().map_or(0, String::len))
        .sum();
    if workers == 1 || texts.len() < 2 || total < 64 * 1024 {
        return texts.into_iter().map(parse).collect();
    }
    // Deal files out by size so the workers finish together.
    let mut buckets: Vec<(usize, Vec<_>)> = (0..workers).map(|_| (0, Vec::new())).collect();
    let mut texts = texts;
    texts.sort_by_key(|(_, _, t)| std::cmp::Reverse(t.as_ref().map_or(0, String::len)));
    for t in texts {
        let b = buckets
            .iter_mut()
            .min_by_key(|(size, _)| *size)
            .expect("at least one worker");
        b.0 += t.2.as_ref().map_or(0, String::len);
        b.1.push(t);
    }
    let parse = &parse;
    std::thread::scope(|scope| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|(_, bucket)| {
                scope.spawn(move || bucket.into_iter().map(parse).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("YAML parsing does not panic"))
            .collect()
    })
}

impl Catalog {
    /// Connects to the database at `url` (`sqlite://…` or `postgres://…`), migrating it, and
    /// opens the catalog over it.
    pub async fn connect(settings: CatalogSettings, url: &str) -> Result<Arc<Self>, CatalogError> {
        let db = Db::connect(url).await?;
        Self::open(settings, db).await
    }

    /// Opens the catalog over `db`, serving what the database already holds until the first round.
    pub async fn open(settings: CatalogSettings, db: Db) -> Result<Arc<Self>, CatalogError> {
        let rows = db.load_entities().await?;
        let registered = db.list_locations().await?;
        let mut current = Currents::with_capacity(rows.len());
        let mut items = Vec::with_capacity(rows.len());
        let mut origins: HashMap<String, Arc<str>> = HashMap::new();
        let mut kept = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        let mut texts = Vec::with_capacity(rows.len());
        for row in rows {
            let parsed: Value = serde_json::from_str(&row.body).unwrap_or_default();
            let origin = annotation(&parsed, ANNOTATION_ORIGIN_LOCATION).unwrap_or_default();
            let origin = match origins.get(origin) {
                Some(o) => o.clone(),
                None => origins
                    .entry(origin.to_owned())
                    .or_insert_with(|| origin.into())
                    .clone(),
            };
            kept.push(origin);
            ids.push((row.entity_ref, row.uid, row.etag));
            texts.push(row.body.to_string());
        }
        // Compressed together: the first large batch teaches the process its dictionary.
        for (stitched, origin) in Stitched::new_all(ids, texts).into_iter().zip(kept) {
            let stitched = Arc::new(stitched);
            items.push((stitched.clone(), None));
            current.insert(Current { stitched, origin });
        }
        let snapshot = Snapshot::build(items);
        let urls = UrlReader::new(&settings);
        let catalog = Arc::new(Self {
            fetcher: Fetcher::new(urls.clone()),
            urls,
            settings,
            db,
            snapshot: ArcSwap::from_pointee(read::Snapshot::new(Arc::new(snapshot), 0)),
            changes: tokio::sync::broadcast::channel(CHANGE_BACKLOG).0,
            state: Mutex::new(State {
                current,
                ..Default::default()
            }),
            registered: std::sync::RwLock::new(registered),
            ready: AtomicBool::new(false),
            lag: std::sync::Mutex::new(None),
            stopped: AtomicBool::new(false),
            fail_writes: AtomicBool::new(false),
            capabilities: Default::default(),
        });
        Ok(catalog)
    }

    /// The database the catalog lives in. Capability crates keep their own tables there
    /// (campaign progress, …), through `store`'s typed functions; one database to run and back up.
    pub fn database(&self) -> &Db {
        &self.db
    }

    /// A capability's state for as long as this catalog lives (caches that outlive one
    /// snapshot, data pushed by other systems), created with `Default` on first use. One value
    /// per type: a capability keys it by a type of its own, as with `Snapshot::derived`.
    pub fn state<T: std::any::Any + Send + Sync + Default>(&self) -> Arc<T> {
        let mut map = self.capabilities.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone()
            .downcast::<T>()
            .expect("state keyed by its type")
    }

    /// The newest published state.
    pub fn snapshot(&self) -> Arc<read::Snapshot> {
        self.snapshot.load_full()
    }

    /// Notifications of every snapshot published from now on, with the entities it changed.
    pub fn subscribe(&self) -> Subscription {
        Subscription::new(self.changes.subscribe())
    }

    /// Swaps in the next state and tells subscribers which entities it changed.
    fn publish(&self, index: Arc<Snapshot>, changed: Vec<String>, removed: Vec<String>) {
        let generation = self.snapshot.load().generation() + 1;
        let snapshot = Arc::new(read::Snapshot::new(index, generation));
        self.snapshot.store(snapshot.clone());
        // No subscriber is not an error: nobody needed telling.
        let _ = self.changes.send(Change {
            snapshot,
            changed: changed.into(),
            removed: removed.into(),
            missed: false,
        });
    }

    /// True once every location has been read and stitched at least once.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Whether the catalog may take traffic, and if not, why: not yet ingested, the stored
    /// state lagging behind (a database write failing), or the engine task gone.
    pub fn readiness(&self) -> Result<(), String> {
        if self.stopped.load(Ordering::Acquire) {
            return Err("catalog engine task stopped; restart the process".into());
        }
        if let Some(lag) = self.lag.lock().expect("lag lock").as_ref() {
            let secs = lag
                .since
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Err(format!(
                "stored state lags: database unreachable since {secs} (unix seconds): {}",
                lag.error
            ));
        }
        if !self.is_ready() {
            return Err("catalog not yet ingested".into());
        }
        Ok(())
    }

    /// Test hook standing in for a database outage: while set, every entity write fails. Only
    /// in builds with the `fault-injection` feature (this crate's own tests turn it on).
    #[cfg(feature = "fault-injection")]
    pub fn inject_write_fault(&self, on: bool) {
        self.fail_writes.store(on, Ordering::Release);
    }

    /// Runs rounds forever: on start and every watch interval, which is how file edits are
    /// noticed (a round whose inputs did not change costs a few `stat`s). API writes do not wait
    /// for it: they run their own round through [`Catalog::settle`]. A failing round (a database
    /// outage) is retried with back-off, doubling up to 30 s; its writes stay pending meanwhile.
    pub async fn run(self: Arc<Self>) {
        let _guard = RunGuard(&self.stopped);
        let mut backoff = self.settings.watch_interval;
        loop {
            match self.round().await {
                Ok(stats) if stats.changed + stats.deleted > 0 || stats.files_read > 0 => {
                    // What the served state holds, so memory at scale can be read off the log.
                    let snap = self.snapshot();
                    tracing::info!(
                        files_read = stats.files_read,
                        entities = stats.entities,
                        changed = stats.changed,
                        deleted = stats.deleted,
                        ms = stats.elapsed.as_millis() as u64,
                        entity_kib = snap.entity_bytes() / 1024,
                        engine_kib = stats.engine_bytes / 1024,
                        index_kib = snap.index_bytes() / 1024,
                        "catalog round"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, retry_ms = backoff.as_millis() as u64, "catalog round failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
            backoff = self.settings.watch_interval;
            tokio::time::sleep(self.settings.watch_interval).await;
        }
    }

    /// Runs a round now and waits for it (API writes answer after their effect is visible).
    pub async fn settle(&self) -> Result<(), CatalogError> {
        self.round().await.map(|_| ())
    }
}

/// An annotation's value in a parsed entity.
fn annotation<'a>(entity: &'a Value, name: &str) -> Option<&'a str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(name)?
        .as_str()
}

/// Lower-cases without allocating when there is nothing to lower (the usual case for refs).
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
