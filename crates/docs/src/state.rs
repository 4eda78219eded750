//! The docs of every documented entity, kept on the catalog (`Catalog::state`) and rebuilt when
//! the catalog changes, when a file changes (a periodic `stat` pass: only changed pages
//! re-render) and on a schedule for `url:` sources. A failed build keeps the last good site
//! served beside the error.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use catalog::read::Snapshot;
use catalog::settings::AllowedHost;
use catalog::{Catalog, CatalogSettings, UrlReader};

use crate::markdown::Heading;
use crate::site::{self, Problem, Site, Urls};
use crate::source::{self, Source};

/// How docs are kept up to date.
#[derive(Debug, Clone)]
pub struct DocsSettings {
    /// Hosts `url:` sources may be read from (the catalog's read allow-list).
    pub allowed_hosts: Vec<AllowedHost>,
    /// How often docs folders are checked for changed files.
    pub watch_interval: Duration,
    /// How often `url:` sources are read again.
    pub url_refresh_interval: Duration,
    /// Where `url:` sources are mirrored to be built (one folder per source URL).
    pub mirror_dir: PathBuf,
}

impl Default for DocsSettings {
    fn default() -> Self {
        DocsSettings {
            allowed_hosts: Vec::new(),
            watch_interval: Duration::from_secs(2),
            url_refresh_interval: Duration::from_secs(300),
            mirror_dir: std::env::temp_dir().join(format!("stagedoor-docs-{}", std::process::id())),
        }
    }
}

/// One documented entity: where its docs are, the last good build and the last error.
#[derive(Debug, Clone)]
pub struct EntityDocs {
    /// Lower-case entity ref (`component:default/payments-service`).
    pub entity_ref: String,
    /// The annotation as written.
    pub reference: String,
    /// Where the docs were looked for, when the annotation could be resolved.
    pub source: Option<Source>,
    pub urls: Urls,
    /// The last good build, served even while newer builds fail.
    pub site: Option<Arc<Site>>,
    /// Why the latest build failed, if it did.
    pub error: Option<Problem>,
    /// The docs generation at which this entry last changed.
    pub generation: u64,
}

/// All docs builds. Get it with [`Docs::of`].
#[derive(Default)]
pub struct Docs {
    entries: RwLock<HashMap<String, Arc<EntityDocs>>>,
    generation: AtomicU64,
    changed: tokio::sync::Notify,
    /// `url:` sources: when each was last read, and why the read failed if it did.
    fetched: Mutex<HashMap<String, (Instant, Option<Problem>)>>,
}

/// A page as plain data, for the search index.
#[derive(Debug, Clone)]
pub struct DocPage {
    /// Lower-case entity ref.
    pub entity_ref: String,
    /// Path in the docs folder (`guide/setup.md`).
    pub path: String,
    pub title: String,
    pub headings: Vec<Heading>,
    /// The page's words without markup.
    pub text: String,
    /// Reader URL.
    pub url: String,
}

impl Docs {
    /// The docs state of this catalog.
    pub fn of(catalog: &Catalog) -> Arc<Docs> {
        catalog.state::<Docs>()
    }

    /// Grows by one whenever any entity's docs change (built, failed, removed).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Waits until the generation moves past `seen`.
    pub async fn changed_since(&self, seen: u64) -> u64 {
        loop {
            let notified = self.changed.notified();
            let now = self.generation();
            if now > seen {
                return now;
            }
            notified.await;
        }
    }

    /// The docs of one entity, by its ref (any case).
    pub fn entity(&self, entity_ref: &str) -> Option<Arc<EntityDocs>> {
        let key = entity_ref.to_lowercase();
        self.read().get(&key).cloned()
    }

    /// Every documented entity, by ref.
    pub fn entities(&self) -> Vec<Arc<EntityDocs>> {
        let mut all: Vec<_> = self.read().values().cloned().collect();
        all.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
        all
    }

    /// Every served page of every entity, as plain data (what the search index reads).
    pub fn pages(&self) -> Vec<DocPage> {
        self.entities().iter().flat_map(|e| e.pages()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<EntityDocs>>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds the docs of every documented entity in `snapshot` once: new and changed sources
    /// are built, unchanged ones only `stat`ed, entities gone or no longer documented dropped.
    /// `url:` sources are built from their mirrors (read by [`Docs::read_urls`]). Returns how
    /// many entries changed.
    pub fn update(&self, snapshot: &Snapshot, settings: &DocsSettings) -> usize {
        let documented = snapshot.derived::<Documented>(|s| Documented::of(s, settings));
        let previous = self.read().clone();
        let work: Vec<(&DocumentedEntity, Option<Arc<EntityDocs>>)> = documented
            .0
            .iter()
            .map(|d| (d, previous.get(&d.entity_ref).cloned()))
            .collect();
        let fetched = self
            .fetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let results = in_parallel(&work, |(d, prev)| {
            refresh(d, prev.as_ref(), settings, &fetched)
        });

        let mut changed = 0;
        let mut next: HashMap<String, Arc<EntityDocs>> = HashMap::with_capacity(results.len());
        let generation = self.generation() + 1;
        for ((d, prev), result) in work.iter().zip(results) {
            let entry = match result {
                Some(mut entry) => {
                    changed += 1;
                    entry.generation = generation;
                    Arc::new(entry)
                }
                None => prev.clone().expect("unchanged entries exist"),
            };
            next.insert(d.entity_ref.clone(), entry);
        }
        changed += previous.keys().filter(|k| !next.contains_key(*k)).count();
        if changed > 0 {
            *self.entries.write().unwrap_or_else(|e| e.into_inner()) = next;
            self.generation.store(generation, Ordering::Release);
            self.changed.notify_waiters();
        }
        changed
    }

    /// Keeps the docs up to date for as long as the catalog lives: a pass on start, after
    /// every catalog change, as soon as a file in a docs folder changes (inotify, through
    /// `notify`), and every watch interval (the fallback where events do not arrive, such as
    /// network file systems, and `url:` schedules).
    pub async fn run(self: Arc<Self>, catalog: Arc<Catalog>, settings: DocsSettings) {
        let mut changes = catalog.subscribe();
        let reader = url_reader(&settings);
        let (mut watcher, mut touched) = FolderWatcher::start();
        loop {
            let snapshot = catalog.snapshot();
            self.read_urls(&snapshot, &settings, &reader).await;
            let this = Arc::clone(&self);
            let s = settings.clone();
            let started = Instant::now();
            let changed = tokio::task::spawn_blocking(move || this.update(&snapshot, &s))
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "docs build pass failed");
                    0
                });
            if changed > 0 {
                tracing::info!(
                    changed,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "docs built"
                );
            }
            // A folder watched only now may have changed since the pass read it: one more pass
            // (the watch is in place, so later changes arrive as events).
            if watcher.as_mut().is_some_and(|w| w.follow(&self.entities())) {
                continue;
            }
            tokio::select! {
                change = changes.next() => if change.is_none() { return },
                Some(()) = touched.recv() => {
                    // An editor's save is several events (write, rename, chmod): let them land,
                    // then make one pass.
                    tokio::time::sleep(WATCH_SETTLE).await;
                    while touched.try_recv().is_ok() {}
                }
                _ = tokio::time::sleep(settings.watch_interval) => {}
            }
        }
    }
}

/// How long a pass waits after the first file event, for the rest of one save to arrive.
const WATCH_SETTLE: Duration = Duration::from_millis(25);

/// The `dir:` docs folders being watched for changes, following the documented entities.
struct FolderWatcher {
    watcher: notify::RecommendedWatcher,
    folders: HashSet<PathBuf>,
}

impl FolderWatcher {
    /// A watcher whose events arrive on the receiver (one `()` per event that may change a
    /// build; reads are not such events, so our own passes never wake us). Without one (the
    /// platform or its limits refuse), the periodic pass alone keeps docs up to date.
    fn start() -> (
        Option<FolderWatcher>,
        tokio::sync::mpsc::UnboundedReceiver<()>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let handler = move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
                let _ = tx.send(());
            }
        };
        match notify::recommended_watcher(handler) {
            Ok(watcher) => (
                Some(FolderWatcher {
                    watcher,
                    folders: HashSet::new(),
                }),
                rx,
            ),
            Err(e) => {
                tracing::warn!(error = %e, "docs folders are not watched; changes are found by the periodic pass");
                (None, rx)
            }
        }
    }

    /// Watches the folder of every `dir:` source in `entries` and stops watching the others.
    /// True when a folder was added.
    fn follow(&mut self, entries: &[Arc<EntityDocs>]) -> bool {
        use notify::Watcher;
        let wanted: HashSet<PathBuf> = entries
            .iter()
            .filter_map(|e| match &e.source {
                Some(Source::Dir(dir)) => Some(dir.clone()),
                _ => None,
            })
            .collect();
        for gone in self.folders.difference(&wanted) {
            let _ = self.watcher.unwatch(gone);
        }
        self.folders.retain(|f| wanted.contains(f));
        let mut added = false;
        for folder in wanted {
            if self.folders.contains(&folder) {
                continue;
            }
            match self
                .watcher
                .watch(&folder, notify::RecursiveMode::Recursive)
            {
                Ok(()) => {
                    self.folders.insert(folder);
                    added = true;
                }
                // Not yet there, or over the system's watch limit: the periodic pass covers it
                // (and it is tried again after the next pass).
                Err(e) => {
                    tracing::debug!(folder = %folder.display(), error = %e, "docs folder not watched")
                }
            }
        }
        added
    }
}

/// The catalog's URL reader with the docs' allow-list.
pub fn url_reader(settings: &DocsSettings) -> UrlReader {
    UrlReader::new(&CatalogSettings {
        allowed_hosts: settings.allowed_hosts.clone(),
        ..Default::default()
    })
}

impl Docs {
    /// Mirrors the `url:` sources of `snapshot` whose refresh interval has passed (or that were
    /// never read) into `settings.mirror_dir`; the next [`Docs::update`] builds them.
    pub async fn read_urls(
        &self,
        snapshot: &Snapshot,
        settings: &DocsSettings,
        reader: &UrlReader,
    ) {
        let documented = snapshot.derived::<Documented>(|s| Documented::of(s, settings));
        let due: Vec<String> = {
            let fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
            let mut due: Vec<String> = documented
                .0
                .iter()
                .filter_map(|d| match &d.source {
                    Ok(Source::Url(url)) => Some(url.clone()),
                    _ => None,
                })
                .filter(|url| {
                    fetched
                        .get(url)
                        .is_none_or(|(at, _)| at.elapsed() >= settings.url_refresh_interval)
                })
                .collect();
            due.sort();
            due.dedup();
            due
        };
        for url in due {
            let dest = crate::remote::mirror_dir(&settings.mirror_dir, &url);
            let result = crate::remote::mirror(reader, &url, &dest).await;
            if let Err(e) = &result {
                tracing::warn!(url = %model::redact::url(&url), error = %e, "docs source not read");
            }
            self.fetched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(url, (Instant::now(), result.err()));
        }
    }
}

impl EntityDocs {
    /// This entity's served pages as plain data.
    pub fn pages(&self) -> Vec<DocPage> {
        let Some(site) = &self.site else {
            return Vec::new();
        };
        site.pages
            .iter()
            .map(|p| DocPage {
                entity_ref: self.entity_ref.clone(),
                path: p.path.clone(),
                title: p.title.clone(),
                headings: p.headings.clone(),
                text: p.text.clone(),
                url: p.url.clone(),
            })
            .collect()
    }

    /// When the docs' source last changed, if known.
    pub fn source_changed(&self) -> Option<SystemTime> {
        self.site.as_ref().and_then(|s| s.source_changed)
    }
}

/// An entity with a techdocs-ref, as the snapshot has it.
#[derive(Debug)]
struct DocumentedEntity {
    entity_ref: String,
    name: String,
    reference: String,
    source: Result<Source, String>,
    urls: Urls,
}

/// The documented entities of a snapshot: computed once per snapshot, so a watch pass does
/// not read every entity's annotations again.
#[derive(Debug)]
struct Documented(Vec<DocumentedEntity>);

impl Documented {
    fn of(snapshot: &Snapshot, settings: &DocsSettings) -> Self {
        let list = snapshot
            .entities(None)
            .filter_map(|e| {
                let reference = e.annotation(source::TECHDOCS_REF)?.to_owned();
                let resolved = source::of(&e, &settings.allowed_hosts)?;
                Some(DocumentedEntity {
                    entity_ref: e.key().to_owned(),
                    name: e.title().unwrap_or(e.name()).to_owned(),
                    reference,
                    source: resolved,
                    urls: Urls::for_entity(e.namespace(), e.kind(), e.name()),
                })
            })
            .collect();
        Documented(list)
    }
}

/// The entity's next entry, or `None` when it is unchanged.
fn refresh(
    d: &DocumentedEntity,
    prev: Option<&Arc<EntityDocs>>,
    settings: &DocsSettings,
    fetched: &HashMap<String, (Instant, Option<Problem>)>,
) -> Option<EntityDocs> {
    let same_source = prev.is_some_and(|p| {
        p.reference == d.reference
            && p.source.as_ref() == d.source.as_ref().ok()
            && p.urls == d.urls
    });
    let kept_site = if same_source {
        prev.and_then(|p| p.site.clone())
    } else {
        None
    };
    let fresh = |source: Option<Source>, site, error| EntityDocs {
        entity_ref: d.entity_ref.clone(),
        reference: d.reference.clone(),
        source,
        urls: d.urls.clone(),
        site,
        error,
        generation: 0,
    };
    let unchanged_error =
        |error: &Option<Problem>| same_source && prev.is_some_and(|p| p.error == *error);
    // A folder (the source's own, or a url: source's mirror) built, keeping the last good site.
    let built =
        |root: &std::path::Path| match site::build(root, &d.urls, &d.name, kept_site.as_ref()) {
            Ok(site) => {
                let unchanged = same_source
                    && prev.is_some_and(|p| {
                        p.error.is_none() && p.site.as_ref().is_some_and(|s| Arc::ptr_eq(s, &site))
                    });
                (!unchanged).then(|| fresh(d.source.clone().ok(), Some(site), None))
            }
            Err(error) => {
                let error = Some(error);
                (!unchanged_error(&error))
                    .then(|| fresh(d.source.clone().ok(), kept_site.clone(), error))
            }
        };
    match &d.source {
        Err(why) => {
            let error = Some(Problem {
                file: "catalog-info.yaml".into(),
                line: None,
                message: why.clone(),
            });
            if unchanged_error(&error) {
                return None;
            }
            Some(fresh(None, kept_site.clone(), error))
        }
        Ok(Source::Dir(root)) => built(root),
        Ok(Source::Url(url)) => match fetched.get(url) {
            // Not read yet: nothing to show, nothing wrong.
            None => (!same_source).then(|| fresh(d.source.clone().ok(), None, None)),
            Some((_, Some(error))) => {
                let error = Some(error.clone());
                (!unchanged_error(&error))
                    .then(|| fresh(d.source.clone().ok(), kept_site.clone(), error))
            }
            Some((_, None)) => built(&crate::remote::mirror_dir(&settings.mirror_dir, url)),
        },
    }
}

/// Runs `f` over `items` on up to the machine's cores, keeping the order.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if workers == 1 || items.len() < 8 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("docs builds do not panic"))
            .collect()
    })
}
