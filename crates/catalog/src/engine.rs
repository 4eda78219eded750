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
use crate::index::{Snapshot, Stitched};
use crate::process::{
    self, ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, Context, Emitted, ProcessingError,
};
use crate::read::{self, Change, Subscription};
use crate::settings::{CatalogSettings, LocationSpec, OrphanStrategy, Rule};
use crate::source::{self, Confine, FileSig, ReadError, UrlReader};
use crate::stitch;

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

struct Current {
    stitched: Arc<Stitched>,
    input_hash: [u8; 20],
    /// The root location this entity came through; shared by all of that root's entities.
    origin: Arc<str>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, FileState>,
    current: HashMap<String, Current>,
    /// Files or URLs to re-read on the next round whatever their signature says.
    forced: HashSet<String>,
    rounds: u64,
    /// The root locations of the last round, to notice registrations and removals.
    last_roots: Vec<String>,
    /// One copy of each relation target, shared by every entity that declares it: owners,
    /// systems and APIs repeat across thousands of entities.
    targets: HashSet<Arc<str>>,
    /// Writes not yet in the database, and the snapshot that shows them: nothing is published
    /// before it is stored, so a crash can never serve uids that a restart would not find.
    pending: Pending,
}

/// Changes computed by a round whose database write failed; retried by every later round.
#[derive(Default)]
struct Pending {
    rows: HashMap<String, EntityRow>,
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

/// A file read for this round: its signature and what processing it gave, or why it could not be read.
struct Loaded {
    sig: Option<FileSig>,
    result: Result<process::FileOutput, ReadError>,
}

/// Applies one freshly read file to the cache and returns whether anything changed. When the
/// file cannot be read for a reason other than "gone", its last good entities stay, carrying
/// the error; a document that failed keeps its entity's last good version the same way.
fn apply_file(state: &mut State, file: &LocationSpec, loaded: Loaded) -> bool {
    let entry = state.files.entry(file.key()).or_default();
    entry.sig = loaded.sig;
    entry.fetched_at = Some(Instant::now());
    let output = match loaded.result {
        Ok(output) => output,
        Err(e) => {
            let err = ProcessingError::new(e.name(), e.to_string());
            let changed = entry.read_error.as_ref() != Some(&err) || !entry.entities.is_empty();
            if matches!(e, ReadError::NotFound(_)) {
                entry.entities.clear();
                entry.failures.clear();
            } else {
                let at = err.clone().at(&file.target, 1, 1);
                for e in &mut entry.entities {
                    e.errors = vec![at.clone()];
                }
            }
            entry.read_error = Some(err);
            return changed;
        }
    };
    entry.read_error = None;
    let previous = std::mem::take(&mut entry.entities);
    let mut entities = output.entities;
    // Looked up by key and by document (the first one wins, hence `rev`), not scanned per
    // failure: that was quadratic in big files.
    let previous_by_key: HashMap<&str, &Emitted> =
        previous.iter().rev().map(|p| (p.key.as_str(), p)).collect();
    let previous_by_doc: HashMap<usize, &Emitted> =
        previous.iter().rev().map(|p| (p.doc_index, p)).collect();
    let mut emitted: HashSet<String> = entities.iter().map(|e| e.key.clone()).collect();
    for f in &output.failures {
        let keep = match &f.key {
            Some(k) => previous_by_key.get(k.as_str()).copied(),
            None => previous_by_doc.get(&f.doc_index).copied(),
        };
        if let Some(p) = keep
            && emitted.insert(p.key.clone())
        {
            let mut kept = p.clone();
            kept.body = None;
            kept.errors = vec![f.error.clone()];
            entities.push(kept);
        }
    }
    entities.sort_by_key(|e| e.doc_index);
    entry.entities = entities;
    entry.failures = output.failures;
    true
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

/// One entity claimed in this round, with where it came from.
struct Claim {
    emitted: Emitted,
    origin: Arc<str>,
    orphan: bool,
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
        let mut current = HashMap::with_capacity(rows.len());
        let mut items = Vec::with_capacity(rows.len());
        let mut origins: HashMap<String, Arc<str>> = HashMap::new();
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
            let entity_ref = parsed
                .as_object()
                .and_then(process::loose_ref)
                .map(|r| r.to_string());
            let stitched = Arc::new(Stitched {
                entity_ref: entity_ref.unwrap_or_else(|| row.entity_ref.clone()),
                key: row.entity_ref.clone(),
                uid: row.uid,
                etag: row.etag,
                body: row.body,
            });
            let input_hash = unhex(&row.hash);
            items.push((stitched.clone(), None));
            current.insert(
                row.entity_ref,
                Current {
                    stitched,
                    input_hash,
                    origin,
                },
            );
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
        });
        Ok(catalog)
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

    /// Test hook standing in for a database outage: while set, every entity write fails.
    #[doc(hidden)]
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
                    tracing::info!(
                        files_read = stats.files_read,
                        entities = stats.entities,
                        changed = stats.changed,
                        deleted = stats.deleted,
                        ms = stats.elapsed.as_millis() as u64,
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

    /// One processing round. Public so tests and the benchmark can drive it directly.
    pub async fn round(&self) -> Result<RoundStats, CatalogError> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        state.rounds += 1;
        let roots = self.roots();
        self.read_root_urls_ahead(&state, &roots).await;
        let mut stats = RoundStats::default();

        // 1. Walk every location, re-reading files whose signature changed.
        let mut claims: Vec<Claim> = Vec::new();
        let mut claimed: HashMap<String, String> = HashMap::new(); // key -> location key
        let mut parent_errors: HashMap<String, Vec<ProcessingError>> = HashMap::new();
        let mut visited_files: HashSet<String> = HashSet::new();
        let mut steps: Vec<Step> = Vec::new();
        let roots_changed = self.roots_changed(&mut state, &roots);
        let mut dirty = state.rounds == 1 || roots_changed;
        for root in &roots {
            let root_entity = root_location_entity(&root.spec);
            let root_key = root_entity.key.clone();
            let origin: Arc<str> = root.spec.key().into();
            let root_dir = root_dir(&root.spec);
            steps.push(Step::Root(root_entity, origin.clone()));
            // Breadth first, one level of Location targets at a time, so that every file of a
            // level can be read and parsed in parallel before its entities are claimed in order.
            let mut seen_specs: HashSet<String> = HashSet::new();
            let mut level: Vec<(LocationSpec, String)> =
                vec![(root.spec.clone(), root_key.clone())];
            // The root may point anywhere; what its files name stays under its directory.
            let mut confine = Some(Confine::Anywhere);
            while !level.is_empty() {
                let mut files: Vec<(LocationSpec, String)> = Vec::new();
                for (spec, parent) in level.drain(..) {
                    if !seen_specs.insert(spec.key()) {
                        parent_errors.entry(parent).or_default().push(ProcessingError::new(
                            "InputError",
                            format!("location {} is referenced more than once from {origin}; cycles are ignored", spec.key()),
                        ));
                        continue;
                    }
                    match self.expand(&spec, confine) {
                        Ok(found) => files.extend(
                            found
                                .into_iter()
                                .filter(|f| visited_files.insert(f.key()))
                                .map(|f| (f, parent.clone())),
                        ),
                        Err(e) => parent_errors
                            .entry(parent)
                            .or_default()
                            .push(ProcessingError::new(e.name(), e.to_string())),
                    }
                }
                let mut loaded = self
                    .load_due(
                        &mut state,
                        files.iter().map(|(f, _)| f),
                        (&*origin, &root.rules, root_dir.as_deref()),
                    )
                    .await;
                for (file, parent) in files {
                    let changed = match loaded.remove(&file.key()) {
                        Some(mut l) => {
                            if let Ok(output) = &mut l.result {
                                intern_targets(&mut state.targets, &mut output.entities);
                            }
                            apply_file(&mut state, &file, l)
                        }
                        None => false,
                    };
                    dirty |= changed;
                    stats.files_read += changed as usize;
                    let fs = state.files.entry(file.key()).or_default();
                    if let Some(e) = &fs.read_error {
                        parent_errors
                            .entry(parent.clone())
                            .or_default()
                            .push(e.clone());
                    }
                    // Indexed once per file: scanning the entities for each failure was
                    // quadratic, on every round (2 s per unchanged round at 20,000 of each).
                    let by_key: HashSet<&str> =
                        fs.entities.iter().map(|e| e.key.as_str()).collect();
                    let by_doc: HashMap<usize, &[ProcessingError]> = fs
                        .entities
                        .iter()
                        .map(|e| (e.doc_index, e.errors.as_slice()))
                        .collect();
                    for f in &fs.failures {
                        let attached = match &f.key {
                            Some(k) => by_key.contains(k.as_str()),
                            None => by_doc
                                .get(&f.doc_index)
                                .is_some_and(|errors| errors.contains(&f.error)),
                        };
                        if !attached {
                            parent_errors
                                .entry(parent.clone())
                                .or_default()
                                .push(f.error.clone());
                        }
                    }
                    for e in &fs.entities {
                        level.extend(e.children.iter().map(|c| (c.clone(), e.key.clone())));
                    }
                    steps.push(Step::File(file.key(), parent, origin.clone()));
                }
                confine = nested_confine(root_dir.as_deref());
            }
        }
        // Files no longer reached are forgotten.
        let before = state.files.len();
        state.files.retain(|k, _| visited_files.contains(k));
        self.fetcher
            .retain(|url| visited_files.contains(&LocationSpec::new("url", url).key()));
        dirty |= state.files.len() != before;
        if !dirty && self.is_ready() && state.pending.snapshot.is_none() {
            stats.entities = state.current.len();
            stats.elapsed = started.elapsed();
            return Ok(stats);
        }
        // Something changed: claim every entity in walk order (first claim wins).
        for step in steps {
            match step {
                Step::Root(entity, origin) => {
                    let key = entity.key.clone();
                    claim(
                        &mut claims,
                        &mut claimed,
                        &mut parent_errors,
                        entity,
                        (&origin, &origin, &key),
                    );
                }
                Step::File(file_key, parent, origin) => {
                    // Bodies move out of the cache: it keeps only what later rounds compare.
                    let entities: Vec<Emitted> = state
                        .files
                        .get_mut(&file_key)
                        .map(|fs| {
                            fs.entities
                                .iter_mut()
                                .map(|e| {
                                    let body = e.body.take();
                                    Emitted { body, ..e.clone() }
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    for e in entities {
                        claim(
                            &mut claims,
                            &mut claimed,
                            &mut parent_errors,
                            e,
                            (&origin, &file_key, &parent),
                        );
                    }
                }
            }
        }

        let walked = started.elapsed();
        // 2. Orphans: entities nobody emits any more, from a location that still exists.
        let origins: HashSet<String> = roots.iter().map(|r| r.spec.key()).collect();
        if self.settings.orphan_strategy == OrphanStrategy::Keep {
            for (key, cur) in &state.current {
                if !claimed.contains_key(key)
                    && origins.contains(&*cur.origin)
                    && let Some(body) = stitch::unstitch(&cur.stitched.body)
                {
                    let me = process::loose_ref(&body);
                    let (outgoing, _) = me
                        .as_ref()
                        .map(|me| relations::outgoing(&body, me))
                        .unwrap_or_default();
                    claims.push(Claim {
                        emitted: Emitted {
                            key: key.clone(),
                            entity_ref: cur.stitched.entity_ref.clone(),
                            doc_index: 0,
                            line: 0,
                            hash: process::hash_json(&body),
                            body: Some(stitch::Processed::new(&body)),
                            outgoing: outgoing
                                .into_iter()
                                .map(|(t, r)| (t, r.to_string().into()))
                                .collect(),
                            errors: vec![],
                            children: vec![],
                        },
                        origin: cur.origin.clone(),
                        orphan: true,
                    });
                }
            }
        }

        // 3. Relations in both directions, sorted as Backstage sorts them. Borrowed from the
        // claims: this runs over every entity on every change, so it must not allocate per relation.
        let mut bodies: Vec<Option<stitch::Processed>> =
            claims.iter_mut().map(|c| c.emitted.body.take()).collect();
        let mut rels: HashMap<Cow<'_, str>, Vec<(&'static str, &str)>> =
            HashMap::with_capacity(claims.len());
        for c in &claims {
            for (t, target) in &c.emitted.outgoing {
                rels.entry(Cow::Borrowed(c.emitted.key.as_str()))
                    .or_default()
                    .push((t, &**target));
                if let Some(inv) = relations::inverse(t) {
                    rels.entry(lower(target))
                        .or_default()
                        .push((inv, c.emitted.entity_ref.as_str()));
                }
            }
        }
        for list in rels.values_mut() {
            list.sort_unstable();
            list.dedup();
        }

        // 4. Stitch what changed; keep what did not.
        let mut next: HashMap<String, Current> = HashMap::with_capacity(claims.len());
        let mut upserts: Vec<(Arc<Stitched>, [u8; 20])> = Vec::new();
        for (c, body) in claims.iter().zip(bodies.iter_mut()) {
            let key = c.emitted.key.clone();
            let relations = rels
                .get(key.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut errors = c.emitted.errors.clone();
            if let Some(extra) = parent_errors.get(&key) {
                errors.extend(extra.iter().cloned());
            }
            let input_hash = stitch::input_hash(&c.emitted.hash, relations, &errors, c.orphan);
            if let Some(cur) = state.current.get(&key)
                && cur.input_hash == input_hash
            {
                next.insert(
                    key,
                    Current {
                        stitched: cur.stitched.clone(),
                        input_hash,
                        origin: c.origin.clone(),
                    },
                );
                continue;
            }
            let body = match body.take() {
                Some(b) => b,
                None => match state
                    .current
                    .get(&key)
                    .and_then(|cur| stitch::unstitch(&cur.stitched.body))
                {
                    Some(b) => stitch::Processed::new(&b),
                    None => continue,
                },
            };
            let uid = state
                .current
                .get(&key)
                .map(|c| c.stitched.uid.clone())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            // The stitch input hash changes exactly when the final entity does: it is the etag.
            let etag = stitch::hex(&input_hash);
            let text = stitch::stitch_text(&body, relations, &errors, c.orphan, &uid, &etag);
            let stitched = Arc::new(Stitched {
                entity_ref: c.emitted.entity_ref.clone(),
                key: key.clone(),
                uid,
                etag,
                body: text.into(),
            });
            upserts.push((stitched.clone(), input_hash));
            next.insert(
                key,
                Current {
                    stitched,
                    input_hash,
                    origin: c.origin.clone(),
                },
            );
        }
        let deletes: Vec<String> = state
            .current
            .keys()
            .filter(|k| !next.contains_key(*k))
            .cloned()
            .collect();
        stats.changed = upserts.len();
        stats.deleted = deletes.len();
        stats.entities = next.len();

        let stitched_at = started.elapsed();
        // 5. Persist, then publish: a crash between the two must not have served uids that the
        // database does not hold. A failed write stays pending, with the snapshot that shows it,
        // and every later round retries it first.
        let now = now_ms();
        let pending = &mut state.pending;
        for key in &deletes {
            pending.rows.remove(key);
            pending.deletes.insert(key.clone());
        }
        for (s, h) in &upserts {
            pending.deletes.remove(&s.key);
            pending.rows.insert(
                s.key.clone(),
                EntityRow {
                    entity_ref: s.key.clone(),
                    uid: s.uid.clone(),
                    etag: s.etag.clone(),
                    hash: stitch::hex(h),
                    location_key: None,
                    body: s.body.clone(),
                    updated_at: now,
                },
            );
        }
        // The snapshot loaded from the database is already right when nothing changed.
        // Otherwise the next snapshot is derived from the latest one, parsing only what changed.
        if !upserts.is_empty() || !deletes.is_empty() {
            let changed: Vec<Arc<Stitched>> = upserts.iter().map(|(s, _)| s.clone()).collect();
            let base = pending
                .snapshot
                .clone()
                .unwrap_or_else(|| self.snapshot().index().clone());
            pending.snapshot = Some(Arc::new(base.update(changed, &deletes)));
        }
        drop(upserts);
        state.current = next;
        // Processed bodies were needed for this round only; the snapshot holds the final ones.
        for fs in state.files.values_mut() {
            for e in &mut fs.entities {
                e.body = None;
            }
        }
        self.flush(&mut state).await?;
        let published = started.elapsed();
        stats.elapsed = started.elapsed();
        tracing::debug!(
            walked_ms = walked.as_millis() as u64,
            stitched_ms = (stitched_at - walked).as_millis() as u64,
            persisted_ms = (published - stitched_at).as_millis() as u64,
            "round phases"
        );
        Ok(stats)
    }

    /// Writes what is pending, then publishes its snapshot and marks the catalog ready. On
    /// failure nothing is dropped: the writes stay pending and `/readyz` reports the lag.
    async fn flush(&self, state: &mut State) -> Result<(), CatalogError> {
        let pending = &state.pending;
        let result = if self.fail_writes.load(Ordering::Acquire) {
            Err(store::StoreError::Conflict("injected write fault".into()))
        } else {
            let rows: Vec<EntityRow> = pending.rows.values().cloned().collect();
            let deletes: Vec<String> = pending.deletes.iter().cloned().collect();
            self.db.apply_entity_changes(&rows, &deletes).await
        };
        if let Err(e) = result {
            let mut lag = self.lag.lock().expect("lag lock");
            let since = lag.as_ref().map_or_else(SystemTime::now, |l| l.since);
            *lag = Some(Lag {
                since,
                error: e.to_string(),
            });
            return Err(e.into());
        }
        let pending = std::mem::take(&mut state.pending);
        if let Some(snapshot) = pending.snapshot {
            let changed = pending.rows.into_keys().collect();
            let removed = pending.deletes.into_iter().collect();
            self.publish(snapshot, changed, removed);
        }
        *self.lag.lock().expect("lag lock") = None;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Reads, together, the root URL locations this round must read now (never read, or
    /// refreshed): the walk goes one root at a time and would read them one after another.
    async fn read_root_urls_ahead(&self, state: &State, roots: &[Root]) {
        let urls: Vec<&str> = roots
            .iter()
            .filter(|r| r.spec.kind == "url")
            .filter(|r| {
                let key = r.spec.key();
                state.forced.contains(&key)
                    || state.files.get(&key).is_none_or(|e| e.fetched_at.is_none())
            })
            .map(|r| r.spec.target.as_str())
            .collect();
        if urls.len() > 1 {
            self.fetcher.read_ahead(&urls).await;
        }
    }

    fn roots_changed(&self, state: &mut State, roots: &[Root]) -> bool {
        let keys: Vec<String> = roots.iter().map(|r| r.spec.key()).collect();
        let changed = keys != state.last_roots;
        state.last_roots = keys;
        changed
    }

    fn roots(&self) -> Vec<Root> {
        let mut roots: Vec<Root> = self
            .settings
            .locations
            .iter()
            .map(|(spec, rules)| Root {
                spec: spec.clone(),
                rules: rules.clone(),
            })
            .collect();
        roots.extend(self.registered().iter().map(|l| Root {
            spec: LocationSpec::new(&l.kind, &l.target),
            rules: vec![],
        }));
        // The same location given twice (in config and on the command line, say) is one root.
        let mut seen = HashSet::new();
        roots.retain(|r| seen.insert(r.spec.key()));
        roots
    }

    /// The files a location names: for `file`, the expansion of its path; for `url`, itself.
    /// `confine` is `None` where no file may be named at all (below a URL root).
    fn expand(
        &self,
        spec: &LocationSpec,
        confine: Option<Confine<'_>>,
    ) -> Result<Vec<LocationSpec>, ReadError> {
        match spec.kind.as_str() {
            "file" => Ok(source::expand_file_target(
                &spec.target,
                confine.ok_or_else(|| {
                    ReadError::Denied(format!(
                        "{} is a file target in a catalog file read from a URL; only a \
                         configured location may name files there",
                        spec.target
                    ))
                })?,
            )?
            .into_iter()
            .map(|p| LocationSpec::new("file", &p.to_string_lossy()))
            .collect()),
            "url" => Ok(vec![spec.clone()]),
            other => Err(ReadError::Invalid(format!(
                "unsupported location type {other:?}; use file or url"
            ))),
        }
    }

    /// Reads and parses, in parallel, every file that changed since it was last read (URLs:
    /// whose refresh interval passed), or that a refresh forced.
    async fn load_due<'a>(
        &self,
        state: &mut State,
        files: impl Iterator<Item = &'a LocationSpec>,
        (origin, rules, root_dir): (&str, &[Rule], Option<&std::path::Path>),
    ) -> HashMap<String, Loaded> {
        let mut texts: Vec<(&LocationSpec, Option<FileSig>, Result<String, ReadError>)> =
            Vec::new();
        // URLs never read yet (or forced by a refresh) are read now, together; the others are
        // re-read in the background and their outcome is processed by the round after it arrives,
        // so a slow host never holds up a round.
        let mut read_now: Vec<&LocationSpec> = Vec::new();
        for file in files {
            let key = file.key();
            let forced = state.forced.remove(&key);
            let entry = state.files.get(&key);
            if file.kind == "url" {
                let never_read = entry.is_none_or(|e| e.fetched_at.is_none());
                let stale = entry
                    .and_then(|e| e.fetched_at)
                    .is_none_or(|t| t.elapsed() >= self.settings.url_refresh_interval);
                if let Some(outcome) = self.fetcher.take(&file.target) {
                    texts.push((file, None, outcome));
                } else if forced || never_read {
                    read_now.push(file);
                } else if stale {
                    self.fetcher.start(&file.target);
                }
                continue;
            }
            let sig = source::file_sig(std::path::Path::new(&file.target));
            let is_due =
                sig.is_none() || entry.is_none_or(|e| e.sig != sig || e.fetched_at.is_none());
            if forced || is_due {
                texts.push((file, sig, self.read_target(file).await));
            }
        }
        let targets: Vec<&str> = read_now.iter().map(|f| f.target.as_str()).collect();
        let outcomes = self.fetcher.read_all(&targets).await;
        texts.extend(
            read_now
                .into_iter()
                .zip(outcomes)
                .map(|(f, o)| (f, None, o)),
        );
        // Parsing and processing are CPU work: give them every core, off the async workers.
        cpu_bound(|runtime| {
            in_parallel(texts, |(file, sig, text)| {
                let ctx = Context {
                    settings: &self.settings,
                    urls: &self.urls,
                    location: file,
                    origin,
                    rules,
                    root_dir,
                    runtime,
                };
                let result = text.and_then(|t| process::process_file_guarded(&ctx, &t));
                (file.key(), Loaded { sig, result })
            })
        })
    }

    /// Reads one file or URL, bounded in size (and for URLs, in time and hosts).
    async fn read_target(&self, file: &LocationSpec) -> Result<String, ReadError> {
        if file.kind == "url" {
            self.urls.read(&file.target).await
        } else {
            source::read_file(
                std::path::Path::new(&file.target),
                self.settings.max_file_bytes,
            )
        }
    }

    /// Runs a round now and waits for it (API writes answer after their effect is visible).
    pub async fn settle(&self) -> Result<(), CatalogError> {
        self.round().await.map(|_| ())
    }

    // --- Locations -------------------------------------------------------------------------

    fn registered(&self) -> std::sync::RwLockReadGuard<'_, Vec<LocationRow>> {
        self.registered.read().expect("registered lock")
    }

    pub async fn locations(&self) -> Vec<LocationRow> {
        self.registered().clone()
    }

    pub async fn location(&self, id: &str) -> Option<LocationRow> {
        self.registered().iter().find(|l| l.id == id).cloned()
    }

    /// Registers a location (or, with `dry_run`, only reads it) and returns the entities it yields.
    pub async fn add_location(
        &self,
        spec: LocationSpec,
        dry_run: bool,
    ) -> Result<(Option<LocationRow>, Vec<Value>, bool), CatalogError> {
        if !matches!(spec.kind.as_str(), "url" | "file") {
            return Err(CatalogError::Input(format!(
                "unsupported location type {:?}; use url or file",
                spec.kind
            )));
        }
        if spec.target.trim().is_empty() {
            return Err(CatalogError::Input(
                "location target must be a non-empty string".into(),
            ));
        }
        let existing = self
            .registered()
            .iter()
            .find(|l| l.kind == spec.kind && l.target == spec.target)
            .cloned();
        if dry_run {
            let entities = self.preview(&spec).await?;
            return Ok((existing, entities, true));
        }
        if existing.is_some() {
            return Err(CatalogError::Conflict(format!(
                "Location {} already exists",
                spec.key()
            )));
        }
        let row = LocationRow {
            id: uuid::Uuid::new_v4().to_string(),
            kind: spec.kind.clone(),
            target: spec.target.clone(),
            created_at: now_ms(),
        };
        self.db.add_location(&row).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => CatalogError::Conflict(m),
            other => CatalogError::Store(other),
        })?;
        self.registered
            .write()
            .expect("registered lock")
            .push(row.clone());
        self.settle().await?;
        let origin = spec.key();
        let snap = self.snapshot();
        let entities = snap
            .iter()
            .filter_map(|s| serde_json::from_str::<Value>(&s.body).ok())
            .filter(|v| annotation(v, ANNOTATION_ORIGIN_LOCATION) == Some(origin.as_str()))
            .collect();
        Ok((Some(row), entities, false))
    }

    /// Reads a location without keeping anything: what registering it would produce.
    async fn preview(&self, spec: &LocationSpec) -> Result<Vec<Value>, CatalogError> {
        let origin = spec.key();
        let mut out = vec![Value::Object(
            root_location_entity(spec)
                .body
                .expect("synthetic body")
                .to_entity(),
        )];
        let mut queue = VecDeque::from([spec.clone()]);
        let mut seen = HashSet::new();
        let root_dir = root_dir(spec);
        let mut confine = Some(Confine::Anywhere);
        while let Some(spec) = queue.pop_front() {
            if !seen.insert(spec.key()) || seen.len() > 10_000 {
                continue;
            }
            let files = self.expand(&spec, confine);
            confine = nested_confine(root_dir.as_deref());
            let files = files.map_err(|e| CatalogError::Input(e.to_string()))?;
            for file in files {
                let text = self.read_target(&file).await.map_err(|e| match e {
                    ReadError::NotFound(m) => CatalogError::NotFound(m),
                    other => CatalogError::Input(other.to_string()),
                })?;
                let output = cpu_bound(|runtime| {
                    let ctx = Context {
                        settings: &self.settings,
                        urls: &self.urls,
                        location: &file,
                        origin: &origin,
                        rules: &[],
                        root_dir: root_dir.as_deref(),
                        runtime,
                    };
                    process::process_file_guarded(&ctx, &text)
                })
                .map_err(|e| CatalogError::Input(e.to_string()))?;
                if let Some(f) = output.failures.first() {
                    return Err(CatalogError::Input(format!(
                        "{}: {}",
                        f.error.name, f.error.message
                    )));
                }
                for e in output.entities {
                    queue.extend(e.children.iter().cloned());
                    out.extend(e.body.map(|p| Value::Object(p.to_entity())));
                }
            }
        }
        Ok(out)
    }

    pub async fn delete_location(&self, id: &str) -> Result<(), CatalogError> {
        if !self.db.delete_location(id).await? {
            return Err(CatalogError::NotFound(format!(
                "Found no location with ID {id}"
            )));
        }
        self.registered
            .write()
            .expect("registered lock")
            .retain(|l| l.id != id);
        self.settle().await
    }

    /// The registered location an entity came from (Backstage matches on its origin annotation).
    pub async fn location_by_entity(&self, key: &str) -> Result<LocationRow, CatalogError> {
        let snap = self.snapshot();
        let s = snap
            .get(key)
            .ok_or_else(|| CatalogError::NotFound(format!("found no entity for ref {key}")))?;
        let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
        let origin = annotation(&body, ANNOTATION_ORIGIN_LOCATION).ok_or_else(|| {
            CatalogError::NotFound(format!("found no origin annotation for ref {key}"))
        })?;
        let (kind, target) = origin.split_once(':').unwrap_or(("", origin));
        self.registered()
            .iter()
            .find(|l| l.kind == kind && l.target == target)
            .cloned()
            .ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "Found no location with type {kind} and target {target}"
                ))
            })
    }

    // --- Entities --------------------------------------------------------------------------

    /// Re-reads the file an entity came from, now.
    pub async fn refresh(&self, key: &str) -> Result<(), CatalogError> {
        let snap = self.snapshot();
        let s = snap
            .get(key)
            .ok_or_else(|| CatalogError::NotFound(format!("Entity {key} not found")))?;
        let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
        if let Some(loc) = annotation(&body, ANNOTATION_LOCATION) {
            self.state.lock().await.forced.insert(loc.to_owned());
        }
        self.settle().await
    }

    /// Deletes an entity. One still present in its file comes back when that file is next read,
    /// as in Backstage; an orphan is gone for good.
    pub async fn delete_by_uid(&self, uid: &str) -> Result<(), CatalogError> {
        // An unknown uid is not an error (Backstage answers 204 too): the entity is gone either way.
        let Some(s) = self.snapshot().get_by_uid(uid).cloned() else {
            return Ok(());
        };
        let mut state = self.state.lock().await;
        // Persist, then publish: a failed write leaves the entity served and stored.
        self.db
            .apply_entity_changes(&[], std::slice::from_ref(&s.key))
            .await?;
        state.current.remove(&s.key);
        // Dropped from its file's cached output too, so it stays away until that file changes.
        for fs in state.files.values_mut() {
            if fs.entities.iter().any(|e| e.key == s.key) {
                fs.entities.retain(|e| e.key != s.key);
            }
        }
        let next = self
            .snapshot()
            .update(Vec::new(), std::slice::from_ref(&s.key));
        self.publish(Arc::new(next), Vec::new(), vec![s.key.clone()]);
        Ok(())
    }

    /// The chain of entities that led to this one: its Location entities up to the root.
    pub fn ancestry(&self, key: &str) -> Result<Vec<Ancestor>, CatalogError> {
        let snap = self.snapshot();
        let mut out = Vec::new();
        let mut next = Some(key.to_lowercase());
        let mut seen = HashSet::new();
        while let Some(k) = next.take() {
            if !seen.insert(k.clone()) {
                break;
            }
            let s = snap
                .get(&k)
                .ok_or_else(|| CatalogError::NotFound(format!("No such entity {k}")))?
                .clone();
            let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
            let loc = annotation(&body, ANNOTATION_LOCATION).unwrap_or("");
            // The parent is the Location entity whose targets produced this entity's file.
            let parent = snap
                .iter()
                .filter(|p| p.key.starts_with("location:") && p.key != s.key)
                .find(|p| {
                    let pb: Value = serde_json::from_str(&p.body).unwrap_or_default();
                    location_produces(&pb, loc)
                })
                .map(|p| p.key.clone());
            out.push((s, parent.iter().cloned().collect()));
            next = parent;
        }
        Ok(out)
    }

    /// Validates an entity as processing would, for `POST /validate-entity`: the location must be
    /// a `url:` ref (as in Backstage), the entity must pass every check ingestion makes, and a
    /// Location entity's targets must be `url` targets this server may read. Errors come as
    /// Backstage's `{name, message}` pairs.
    pub async fn validate(
        &self,
        entity: &Entity,
        location: &str,
    ) -> Result<(), Vec<ProcessingError>> {
        let target = validate_location_ref(location).map_err(|e| vec![e])?;
        let problems = process::problems(entity);
        if !problems.is_empty() {
            let subject =
                process::loose_ref(entity).map_or_else(|| "entity".into(), |r| r.to_string());
            let all: Vec<String> = problems.iter().map(process::describe).collect();
            let message = format!("{subject} is invalid: {}", all.join("; "));
            return Err(vec![ProcessingError::new("InputError", message)]);
        }
        let here = LocationSpec::new("url", target);
        let kind = entity
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.settings.allows(kind, &here, &[]) {
            let message = format!("kind {kind} is not allowed by catalog.rules");
            return Err(vec![ProcessingError::new("NotAllowedError", message)]);
        }
        if kind.eq_ignore_ascii_case("location") {
            for t in process::location_targets(entity, &here) {
                if t.kind != "url" {
                    let message = r#"Registered locations must be of an allowed type ["url"]"#;
                    return Err(vec![ProcessingError::new("InputError", message)]);
                }
                if let Err(e) = self.urls.read(&t.target).await {
                    let message = format!("Unable to read url, {e}");
                    return Err(vec![ProcessingError::new("Error", message)]);
                }
            }
        }
        Ok(())
    }
}

/// The target of a `url:<target>` location ref, or Backstage's `TypeError` for anything else.
fn validate_location_ref(location: &str) -> Result<&str, ProcessingError> {
    let invalid = |why: String| ProcessingError::new("TypeError", why);
    let Some((kind, target)) = location.split_once(':') else {
        return Err(invalid(format!(
            "Unable to parse location ref '{location}', expected '<type>:<target>', e.g. 'url:https://host/path'"
        )));
    };
    let (kind, target) = (kind.trim(), target.trim());
    if kind.is_empty() || target.is_empty() {
        return Err(invalid(format!(
            "Unable to parse location ref '{location}', expected '<type>:<target>', e.g. 'url:https://host/path'"
        )));
    }
    if kind != "url" {
        return Err(invalid(format!(
            "Invalid location ref {location}, only 'url:<target>' is supported, e.g. url:https://host/path"
        )));
    }
    Ok(target)
}

/// Records the first claim of an entity. A later location emitting the same entity is ignored,
/// and the conflict is reported on the Location entity that led to it, as Backstage does.
fn claim(
    claims: &mut Vec<Claim>,
    claimed: &mut HashMap<String, String>,
    parent_errors: &mut HashMap<String, Vec<ProcessingError>>,
    emitted: Emitted,
    (origin, location_key, parent): (&Arc<str>, &str, &str),
) {
    if let Some(first) = claimed.get(&emitted.key) {
        let message = format!(
            "Detected conflicting entityRef {} already referenced by {first} and now also {location_key}",
            emitted.entity_ref
        );
        parent_errors
            .entry(parent.to_owned())
            .or_default()
            .push(ProcessingError::new("ConflictError", message));
        return;
    }
    claimed.insert(emitted.key.clone(), location_key.to_owned());
    claims.push(Claim {
        emitted,
        origin: origin.clone(),
        orphan: false,
    });
}

/// The ref of the Location entity Backstage generates for a registered location:
/// `location:default/generated-<sha1(type:target)>`.
pub fn generated_location_ref(spec: &LocationSpec) -> String {
    format!("location:default/{}", generated_location_name(spec))
}

fn generated_location_name(spec: &LocationSpec) -> String {
    format!(
        "generated-{}",
        stitch::hex(&Sha1::digest(spec.key().as_bytes()))
    )
}

/// Backstage's generated Location entity for a root location.
fn root_location_entity(spec: &LocationSpec) -> Emitted {
    let name = generated_location_name(spec);
    let Value::Object(body) = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {ANNOTATION_LOCATION: spec.key(), ANNOTATION_ORIGIN_LOCATION: spec.key()},
        },
        "spec": {"type": spec.kind, "target": spec.target},
    }) else {
        unreachable!("literal object")
    };
    Emitted {
        key: format!("location:default/{name}"),
        entity_ref: format!("location:default/{name}"),
        doc_index: 0,
        line: 0,
        hash: process::hash_json(&body),
        body: Some(stitch::Processed::new(&body)),
        outgoing: vec![],
        errors: vec![],
        children: vec![],
    }
}

/// Whether a Location entity's targets include the file at location key `loc`.
fn location_produces(location_entity: &Value, loc: &str) -> bool {
    let spec = &location_entity["spec"];
    let own = annotation(location_entity, ANNOTATION_LOCATION).unwrap_or("");
    let (own_kind, own_target) = own.split_once(':').unwrap_or(("file", own));
    let base = LocationSpec::new(own_kind, own_target);
    let kind = spec["type"].as_str().unwrap_or(own_kind);
    let mut targets: Vec<&str> = spec["targets"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    targets.extend(spec["target"].as_str());
    targets.iter().any(|t| {
        let resolved = if own.is_empty()
            || location_entity
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("generated-"))
                && own == format!("{kind}:{t}")
        {
            LocationSpec::new(kind, t)
        } else {
            source::resolve(&base, kind, t)
        };
        resolved.key() == loc
            || (resolved.kind == "file"
                && loc
                    .strip_prefix("file:")
                    .is_some_and(|l| glob_or_dir_contains(&resolved.target, l)))
    })
}

fn glob_or_dir_contains(target: &str, file: &str) -> bool {
    if target.contains(['*', '?', '[']) {
        glob::Pattern::new(target).is_ok_and(|p| p.matches(file))
    } else {
        std::path::Path::new(file).starts_with(target)
    }
}

/// The real directory that files named in a root's catalog files (nested Location targets,
/// `$text` and friends) must stay under; `None` for a URL root, or a root that does not exist.
fn root_dir(spec: &LocationSpec) -> Option<PathBuf> {
    if spec.kind != "file" {
        return None;
    }
    let base = source::glob_base(&spec.target);
    let dir = if base.is_dir() {
        base
    } else {
        base.parent()?.to_path_buf()
    };
    dir.canonicalize().ok()
}

/// How the targets that a root's catalog files name are confined: under its directory, and
/// not at all to files below a URL root.
fn nested_confine(root_dir: Option<&std::path::Path>) -> Option<Confine<'_>> {
    root_dir.map(Confine::Under)
}

/// An annotation's value in a parsed entity.
fn annotation<'a>(entity: &'a Value, name: &str) -> Option<&'a str> {
    entity
        .get("metadata")?
        .get("annotations")?
        .get(name)?
        .as_str()
}

/// Replaces each relation target with the shared copy, adding new ones.
fn intern_targets(targets: &mut HashSet<Arc<str>>, entities: &mut [Emitted]) {
    for e in entities {
        for (_, target) in &mut e.outgoing {
            match targets.get(&**target) {
                Some(shared) => *target = shared.clone(),
                None => {
                    targets.insert(target.clone());
                }
            }
        }
    }
}

/// Lower-cases without allocating when there is nothing to lower (the usual case for refs).
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

fn unhex(s: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, chunk) in s.as_bytes().chunks(2).take(20).enumerate() {
        out[i] = std::str::from_utf8(chunk)
            .ok()
            .and_then(|c| u8::from_str_radix(c, 16).ok())
            .unwrap_or(0);
    }
    out
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
