//! The docs of every documented entity, kept on the catalog (`Catalog::state`) and rebuilt when
//! the catalog changes, when a file changes (a periodic `stat` pass: only changed pages
//! re-render) and on a schedule for `url:` sources. A failed build keeps the last good site
//! served beside the error.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use catalog::read::{Entity, Snapshot};
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
    /// The entity's ref, annotation and source: the snapshot's own record of them, shared
    /// rather than copied (at N = 50,000, 20,000 documented entities held two copies, ~1 KB
    /// each with the URLs).
    documented: Arc<DocumentedEntity>,
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
    entries: RwLock<HashSet<Entry>>,
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

/// An entry in the set of entries, found by its entity ref: the entry is its own key, so the
/// set keeps no copy of every ref.
#[derive(Clone)]
struct Entry(Arc<EntityDocs>);

impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        self.0.entity_ref()
    }
}

// Hashes and compares as the `str` it borrows as, which `HashSet::get(&str)` relies on.
impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.entity_ref().hash(state);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0.entity_ref() == other.0.entity_ref()
    }
}

impl Eq for Entry {}

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
        self.read().get(key.as_str()).map(|e| Arc::clone(&e.0))
    }

    /// Every documented entity, by ref.
    pub fn entities(&self) -> Vec<Arc<EntityDocs>> {
        let mut all: Vec<_> = self.read().iter().map(|e| Arc::clone(&e.0)).collect();
        all.sort_by(|a, b| a.entity_ref().cmp(b.entity_ref()));
        all
    }

    /// Every served page of every entity, as plain data (what the search index reads).
    pub fn pages(&self) -> Vec<DocPage> {
        self.entities().iter().flat_map(|e| e.pages()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashSet<Entry>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds the docs of every documented entity in `snapshot` once: new and changed sources
    /// are built, unchanged ones only `stat`ed, entities gone or no longer documented dropped.
    /// `url:` sources are built from their mirrors (read by [`Docs::read_urls`]). Returns how
    /// many entries changed.
    pub fn update(&self, snapshot: &Snapshot, settings: &DocsSettings) -> usize {
        let documented = snapshot.derived::<Documented>(|s| Documented::of(s, settings));
        let previous = self.read().clone();
        let work: Vec<(&Arc<DocumentedEntity>, Option<Arc<EntityDocs>>)> = documented
            .0
            .iter()
            .map(|d| (d, previous.get(&*d.entity_ref).map(|e| Arc::clone(&e.0))))
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
        let mut repointed = 0;
        let mut next: HashSet<Entry> = HashSet::with_capacity(results.len());
        let generation = self.generation() + 1;
        for ((d, prev), result) in work.iter().zip(results) {
            let entry = match result {
                Some(mut entry) => {
                    changed += 1;
                    entry.generation = generation;
                    Arc::new(entry)
                }
                None => {
                    let prev = prev.as_ref().expect("unchanged entries exist");
                    if Arc::ptr_eq(&prev.documented, d) {
                        Arc::clone(prev)
                    } else {
                        // Unchanged, but recorded by an earlier snapshot: point it at this
                        // snapshot's equal record, or both copies would stay alive.
                        repointed += 1;
                        Arc::new(EntityDocs {
                            documented: Arc::clone(d),
                            ..EntityDocs::clone(prev)
                        })
                    }
                }
            };
            next.insert(Entry(entry));
        }
        changed += previous.iter().filter(|e| !next.contains(*e)).count();
        if changed > 0 || repointed > 0 {
            // Repointed entries alone change nothing a reader sees: no new generation for them.
            *self.entries.write().unwrap_or_else(|e| e.into_inner()) = next;
        }
        if changed > 0 {
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
            .filter_map(|e| match e.source() {
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
    /// Lower-case entity ref (`component:default/payments-service`).
    pub fn entity_ref(&self) -> &str {
        &self.documented.entity_ref
    }

    /// The annotation as written.
    pub fn reference(&self) -> &str {
        &self.documented.reference
    }

    /// Where the docs were looked for, when the annotation could be resolved.
    pub fn source(&self) -> Option<&Source> {
        self.documented.source.as_ref().ok()
    }

    /// Where the entity's docs are served (computed from the ref on each call: nothing in a
    /// request path needs them; a build has its own in [`Site::urls`]).
    pub fn urls(&self) -> Urls {
        self.documented.urls()
    }

    /// This entity's served pages as plain data.
    pub fn pages(&self) -> Vec<DocPage> {
        let Some(site) = &self.site else {
            return Vec::new();
        };
        site.pages
            .iter()
            .map(|p| DocPage {
                entity_ref: self.entity_ref().to_owned(),
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

/// An entity with a techdocs-ref, as the snapshot has it. What follows from the ref (the URLs,
/// the default site name) is kept only where the entity says otherwise, which for entities
/// the catalog keyed is only a title or a name written in capitals.
#[derive(Debug)]
struct DocumentedEntity {
    entity_ref: Box<str>,
    reference: Box<str>,
    source: Result<Source, Box<str>>,
    /// The site's name when `mkdocs.yml` has none (the title, else the name), when it is not
    /// the ref's name.
    name: Option<Box<str>>,
    /// The docs' URLs, when the ref does not spell them (a ref that is not the entity's own).
    urls: Option<Box<Urls>>,
}

/// A ref's kind, namespace and name (`kind:namespace/name`).
fn ref_parts(entity_ref: &str) -> Option<(&str, &str, &str)> {
    let (kind, rest) = entity_ref.split_once(':')?;
    let (namespace, name) = rest.split_once('/')?;
    Some((kind, namespace, name))
}

impl DocumentedEntity {
    /// The entity's record, when it has a techdocs-ref.
    fn of(e: &Entity, settings: &DocsSettings) -> Option<Self> {
        let reference = e.annotation(source::TECHDOCS_REF)?;
        let resolved = source::of(e, &settings.allowed_hosts)?;
        let key = e.key();
        let parts = ref_parts(key);
        let name = e.title().unwrap_or(e.name());
        let urls = Urls::for_entity(e.namespace(), e.kind(), e.name());
        let by_ref = parts.map(|(kind, namespace, name)| Urls::for_entity(namespace, kind, name));
        Some(DocumentedEntity {
            entity_ref: key.into(),
            reference: reference.into(),
            source: resolved.map_err(String::into_boxed_str),
            name: (parts.map(|(_, _, n)| n) != Some(name)).then(|| name.into()),
            urls: (by_ref.as_ref() != Some(&urls)).then(|| Box::new(urls)),
        })
    }

    fn name(&self) -> &str {
        match (&self.name, ref_parts(&self.entity_ref)) {
            (Some(name), _) => name,
            (None, Some((_, _, name))) => name,
            (None, None) => unreachable!("a name is kept when the ref has none"),
        }
    }

    fn urls(&self) -> Urls {
        match (&self.urls, ref_parts(&self.entity_ref)) {
            (Some(urls), _) => Urls::clone(urls),
            (None, Some((kind, namespace, name))) => Urls::for_entity(namespace, kind, name),
            (None, None) => unreachable!("URLs are kept when the ref has none"),
        }
    }
}

/// The documented entities of a snapshot: computed once per snapshot, so a watch pass does
/// not read every entity's annotations again. Each record is shared with its entity's entry.
#[derive(Debug)]
struct Documented(Box<[Arc<DocumentedEntity>]>);

impl Documented {
    fn of(snapshot: &Snapshot, settings: &DocsSettings) -> Self {
        let list: Vec<_> = snapshot
            .entities(None)
            .filter_map(|e| DocumentedEntity::of(&e, settings).map(Arc::new))
            .collect();
        // Kept as long as the snapshot: without the growth's spare room.
        Documented(list.into_boxed_slice())
    }
}

/// The entity's next entry, or `None` when it is unchanged.
fn refresh(
    d: &Arc<DocumentedEntity>,
    prev: Option<&Arc<EntityDocs>>,
    settings: &DocsSettings,
    fetched: &HashMap<String, (Instant, Option<Problem>)>,
) -> Option<EntityDocs> {
    // `prev` has the same ref, so equal URL overrides mean equal URLs.
    let same_source = prev.is_some_and(|p| {
        let p = &p.documented;
        Arc::ptr_eq(p, d)
            || (p.reference == d.reference
                && p.source.as_ref().ok() == d.source.as_ref().ok()
                && p.urls == d.urls)
    });
    let kept_site = if same_source {
        prev.and_then(|p| p.site.clone())
    } else {
        None
    };
    let fresh = |site, error| EntityDocs {
        documented: Arc::clone(d),
        site,
        error,
        generation: 0,
    };
    let unchanged_error =
        |error: &Option<Problem>| same_source && prev.is_some_and(|p| p.error == *error);
    // A folder (the source's own, or a url: source's mirror) built, keeping the last good site.
    let built =
        |root: &std::path::Path| match site::build(root, &d.urls(), d.name(), kept_site.as_ref()) {
            Ok(site) => {
                let unchanged = same_source
                    && prev.is_some_and(|p| {
                        p.error.is_none() && p.site.as_ref().is_some_and(|s| Arc::ptr_eq(s, &site))
                    });
                (!unchanged).then(|| fresh(Some(site), None))
            }
            Err(error) => {
                let error = Some(error);
                (!unchanged_error(&error)).then(|| fresh(kept_site.clone(), error))
            }
        };
    match &d.source {
        Err(why) => {
            let error = Some(Problem {
                file: "catalog-info.yaml".into(),
                line: None,
                message: String::from(&**why),
            });
            if unchanged_error(&error) {
                return None;
            }
            Some(fresh(kept_site.clone(), error))
        }
        Ok(Source::Dir(root)) => built(root),
        Ok(Source::Url(url)) => match fetched.get(url) {
            // Not read yet: nothing to show, nothing wrong.
            None => (!same_source).then(|| fresh(None, None)),
            Some((_, Some(error))) => {
                let error = Some(error.clone());
                (!unchanged_error(&error)).then(|| fresh(kept_site.clone(), error))
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
