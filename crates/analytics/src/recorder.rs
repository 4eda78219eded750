//! Recording use: [`Recorder::record`] for the portal's own events (queued, written in batches
//! by a background task, so a page never waits for the database), [`Recorder::ingest`] for
//! batches from Backstage frontends (written before answering, so the answer says what was
//! stored), raw-event expiry, and the in-memory roll-ups kept current with every write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use catalog::Catalog;
use chrono::{DateTime, Utc};
use serde_json::Value;
use store::Db;
use tokio::sync::{mpsc, oneshot};

use crate::activity::Activity;
use crate::event::Event;
use crate::ingest::{self, BatchError, Outcome, Rejected};
use crate::org::Org;
use crate::settings::Settings;

/// Events waiting for the writer; past this, new ones are dropped (and counted) rather than
/// slow a page down.
const QUEUE: usize = 10_000;
/// The writer stores what it has after this long, or sooner when it has this many.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
const FLUSH_AT: usize = 1_000;
/// Days of roll-ups held in memory: a year of series, plus the 8 weeks a summary looks back.
pub(crate) const DAYS_IN_MEMORY: u64 = 430;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub dropped: AtomicU64,
    pub rate_limited: AtomicU64,
}

enum Msg {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Analytics' state on the catalog (`Catalog::state`).
#[derive(Default)]
pub struct State {
    settings: RwLock<(u64, Settings)>,
    pub(crate) activity: RwLock<Activity>,
    loaded: tokio::sync::OnceCell<()>,
    queue: OnceLock<mpsc::Sender<Msg>>,
    bucket: Mutex<Option<(f64, Instant)>>,
    pub counters: Counters,
    demo: RwLock<Option<(String, String)>>,
}

/// Per snapshot: the org built with the settings of a given version.
#[derive(Default)]
struct OrgSlot(Mutex<Option<(u64, Arc<Org>)>>);

/// The handle other capabilities record through: `Recorder::of(&catalog).record(event)`.
#[derive(Clone)]
pub struct Recorder {
    pub(crate) state: Arc<State>,
    db: Db,
}

impl Recorder {
    pub fn of(catalog: &Catalog) -> Recorder {
        Recorder {
            state: catalog.state::<State>(),
            db: catalog.database().clone(),
        }
    }

    /// Replaces the settings (at start-up, from the config file).
    pub fn configure(&self, settings: Settings) {
        let mut s = self
            .state
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *s = (s.0 + 1, settings);
    }

    pub fn settings(&self) -> Settings {
        self.state
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Counters since start, for `/metrics`.
    pub fn counters(&self) -> &Counters {
        &self.state.counters
    }

    /// Queues one event; never waits. Call from within the server's runtime.
    pub fn record(&self, event: Event) {
        let tx = self.state.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(self.clone().write_queued(rx));
            tx
        });
        if tx.try_send(Msg::Event(Box::new(event))).is_err() {
            self.state.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every event queued before this call is stored.
    pub async fn flush(&self) {
        let Some(tx) = self.state.queue.get() else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    async fn write_queued(self, mut rx: mpsc::Receiver<Msg>) {
        let mut batch: Vec<Event> = Vec::new();
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        loop {
            let msg = if batch.is_empty() {
                rx.recv().await
            } else {
                match tokio::time::timeout(FLUSH_EVERY, rx.recv()).await {
                    Ok(m) => m,
                    Err(_) => {
                        self.write_logged(&mut batch).await;
                        continue;
                    }
                }
            };
            match msg {
                None => {
                    self.write_logged(&mut batch).await;
                    return;
                }
                Some(Msg::Event(e)) => {
                    batch.push(*e);
                    if batch.len() >= FLUSH_AT {
                        self.write_logged(&mut batch).await;
                    }
                }
                Some(Msg::Flush(done)) => {
                    waiting.push(done);
                    self.write_logged(&mut batch).await;
                    for w in waiting.drain(..) {
                        let _ = w.send(());
                    }
                }
            }
        }
    }

    async fn write_logged(&self, batch: &mut Vec<Event>) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store(batch).await {
            tracing::warn!(error = %e, events = batch.len(), "could not store usage events");
            self.state
                .counters
                .dropped
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        batch.clear();
    }

    /// Stores events now; returns how many were new (the rest had an id already stored).
    pub async fn store(&self, events: &[Event]) -> Result<usize, store::StoreError> {
        self.ensure_loaded().await?;
        let rows: Vec<store::EventRow> = events.iter().map(Event::to_row).collect();
        let fresh = self.db.insert_events(&rows).await?;
        {
            let mut a = self
                .state
                .activity
                .write()
                .unwrap_or_else(|e| e.into_inner());
            // Each new id once: a batch may carry the same id twice.
            let mut new = fresh.clone();
            for r in rows.iter().filter(|r| new.remove(&r.id)) {
                let Ok(day) = r.day.parse() else { continue };
                a.used(day, &r.user_ref, &r.feature);
                if let Some(also) = &r.also {
                    a.used(day, &r.user_ref, also);
                }
                if let Some(rank) = r.search_rank {
                    a.searched(day, &r.user_ref, rank.min(store::MAX_RANK), 1, false);
                }
            }
        }
        let c = &self.state.counters;
        c.stored.fetch_add(fresh.len() as u64, Ordering::Relaxed);
        c.duplicates
            .fetch_add((rows.len() - fresh.len()) as u64, Ordering::Relaxed);
        Ok(fresh.len())
    }

    /// Reads, checks and stores one `POST /events` body: each bad event is rejected with its
    /// index and reason and the others kept; an id already stored counts as a duplicate.
    pub async fn ingest(&self, body: &Value, now: DateTime<Utc>) -> Result<Outcome, BatchError> {
        let settings = self.settings();
        let items = ingest::events_of(body, settings.max_batch)?;
        self.take_tokens(items.len(), settings.max_events_per_second)?;
        let oldest = now - chrono::Duration::days(i64::from(settings.retention_days));
        let mut good = Vec::with_capacity(items.len());
        let mut rejected = Vec::new();
        for (index, v) in items.iter().enumerate() {
            match ingest::parse(v, now, oldest) {
                Ok(e) => good.push(e),
                Err(reason) => rejected.push(Rejected { index, reason }),
            }
        }
        self.state
            .counters
            .rejected
            .fetch_add(rejected.len() as u64, Ordering::Relaxed);
        let accepted = if good.is_empty() {
            0
        } else {
            self.store(&good).await?
        };
        Ok(Outcome {
            accepted,
            duplicates: good.len() - accepted,
            rejected,
        })
    }

    /// A token bucket over all senders: `per_second` events a second, two seconds' worth at once.
    fn take_tokens(&self, n: usize, per_second: u64) -> Result<(), BatchError> {
        let rate = per_second.max(1) as f64;
        let capacity = rate * 2.0;
        let mut b = self.state.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, last) = b.unwrap_or((capacity, now));
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(capacity);
        let need = n as f64;
        if need > tokens {
            *b = Some((tokens, now));
            self.state
                .counters
                .rate_limited
                .fetch_add(1, Ordering::Relaxed);
            return Err(BatchError::RateLimited {
                per_second,
                retry_after: ((need - tokens) / rate).ceil().max(1.0) as u64,
            });
        }
        *b = Some((tokens - need, now));
        Ok(())
    }

    /// Deletes raw events older than the retention; the roll-ups stay.
    pub async fn expire(&self, now: DateTime<Utc>) -> Result<u64, store::StoreError> {
        let days = i64::from(self.settings().retention_days);
        let before = now - chrono::Duration::days(days);
        self.db.expire_events(before.timestamp_millis()).await
    }

    /// Loads the roll-ups into memory once.
    pub(crate) async fn ensure_loaded(&self) -> Result<(), store::StoreError> {
        self.state
            .loaded
            .get_or_try_init(|| async {
                let from = Utc::now().date_naive() - chrono::Days::new(DAYS_IN_MEMORY);
                self.reload_since(from).await?;
                let demo = match (
                    self.db.analytics_note("demo_from").await?,
                    self.db.analytics_note("demo_to").await?,
                ) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                *self.state.demo.write().unwrap_or_else(|e| e.into_inner()) = demo;
                Ok::<(), store::StoreError>(())
            })
            .await
            .map(|_| ())
    }

    /// Reads roll-ups from `from` on into memory: feature use is a set (reading it twice
    /// changes nothing), search counts are replaced by the stored ones, which include every
    /// replica's writes.
    async fn reload_since(&self, from: chrono::NaiveDate) -> Result<(), store::StoreError> {
        let since = from.to_string();
        let days = self.db.user_days_since(&since).await?;
        let searches = self.db.search_days_since(&since).await?;
        let mut a = self
            .state
            .activity
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for r in &days {
            if let Ok(day) = r.day.parse() {
                a.used(day, &r.user_ref, &r.feature);
            }
        }
        for r in &searches {
            if let Ok(day) = r.day.parse() {
                a.searched(day, &r.user_ref, r.rank, r.n, true);
            }
        }
        Ok(())
    }

    /// Keeps things current for the process's life: every minute reloads the last two days
    /// (what other replicas wrote), every hour deletes expired raw events.
    pub async fn run(self) {
        let mut last_expiry: Option<Instant> = None;
        loop {
            if let Err(e) = self.ensure_loaded().await {
                tracing::warn!(error = %e, "could not load usage roll-ups");
            } else if let Err(e) = self
                .reload_since(Utc::now().date_naive() - chrono::Days::new(1))
                .await
            {
                tracing::warn!(error = %e, "could not reload recent usage roll-ups");
            }
            if last_expiry.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                match self.expire(Utc::now()).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "expired raw usage events"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not expire raw usage events"),
                }
                last_expiry = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }

    /// The org (population and groups) of `snap` under the current settings.
    pub fn org(&self, snap: &catalog::read::Snapshot) -> Arc<Org> {
        let (version, population) = {
            let s = self
                .state
                .settings
                .read()
                .unwrap_or_else(|e| e.into_inner());
            (s.0, s.1.population.clone())
        };
        let slot = snap.derived::<OrgSlot>(|_| OrgSlot::default());
        let mut cached = slot.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, c)) = cached.as_ref()
            && *v == version
        {
            return c.clone();
        }
        // Parses every User and Group once per snapshot: off the async workers.
        let org = Arc::new(catalog::off_async_workers(|| {
            Org::build(snap, population.as_ref())
        }));
        *cached = Some((version, org.clone()));
        org
    }

    /// The span of generated demo history, if the data holds any: `(from, to)`.
    pub fn demo_range(&self) -> Option<(String, String)> {
        self.state
            .demo
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Marks `[from, to]` as generated demo history.
    pub async fn mark_demo(&self, from: &str, to: &str) -> Result<(), store::StoreError> {
        self.db.set_analytics_note("demo_from", from).await?;
        self.db.set_analytics_note("demo_to", to).await?;
        *self.state.demo.write().unwrap_or_else(|e| e.into_inner()) =
            Some((from.to_owned(), to.to_owned()));
        Ok(())
    }
}
