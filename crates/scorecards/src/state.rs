//! What the scorecards keep for a catalog's lifetime (in `Catalog::state`): the facts other
//! systems pushed, and the latest evaluation, which stays valid until the catalog, the pushed
//! facts or the day change, and which the next evaluation starts from.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use catalog::Catalog;
use catalog::read::Snapshot;
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Map, Value};
use store::{PushedFactsRow, StoreError};

use crate::evaluate::Evaluation;

/// Facts pushed by other systems, by entity key, then source.
#[derive(Debug, Default, Clone)]
pub struct Pushed {
    entities: HashMap<String, BTreeMap<String, PushedEntry>>,
}

#[derive(Debug, Clone, PartialEq)]
struct PushedEntry {
    facts: Map<String, Value>,
    /// Epoch ms.
    expires_at: i64,
}

impl Pushed {
    /// The live facts of one entity at `now_ms` as `{source: {name: value}}`, with the time the
    /// first of them expires; `None` when it has none.
    pub fn of(&self, key: &str, now_ms: i64) -> Option<(Value, i64)> {
        let sources = self.entities.get(key)?;
        let mut out = Map::new();
        let mut expires = i64::MAX;
        for (source, e) in sources.iter().filter(|(_, e)| e.expires_at > now_ms) {
            out.insert(source.clone(), Value::Object(e.facts.clone()));
            expires = expires.min(e.expires_at);
        }
        (!out.is_empty()).then_some((Value::Object(out), expires))
    }

    /// The facts of these stored rows.
    pub fn from_rows(rows: &[PushedFactsRow]) -> Pushed {
        let mut p = Pushed::default();
        for r in rows {
            p.put(r);
        }
        p
    }

    fn put(&mut self, row: &PushedFactsRow) {
        let Ok(Value::Object(facts)) = serde_json::from_str(&row.facts) else {
            return;
        };
        self.entities
            .entry(row.entity_ref.clone())
            .or_default()
            .insert(
                row.source.clone(),
                PushedEntry {
                    facts,
                    expires_at: row.expires_at,
                },
            );
    }
}

/// The scorecards' state of one catalog.
#[derive(Default)]
pub struct State {
    pushed: RwLock<Arc<Pushed>>,
    /// Bumped by every change to `pushed`, so an evaluation knows whether it saw the latest.
    version: std::sync::atomic::AtomicU64,
    /// The latest evaluation; held while one is built, so two requests never build the same.
    latest: Mutex<Option<Arc<Evaluation>>>,
}

impl State {
    pub fn of(catalog: &Catalog) -> Arc<State> {
        catalog.state::<State>()
    }

    fn pushed(&self) -> (Arc<Pushed>, u64) {
        let p = self
            .pushed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        (p, self.version.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Adds rows that were just stored.
    pub(crate) fn add(&self, rows: &[PushedFactsRow]) {
        let mut guard = self.pushed.write().unwrap_or_else(|e| e.into_inner());
        let mut next = (**guard).clone();
        for r in rows {
            next.put(r);
        }
        *guard = Arc::new(next);
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Replaces the pushed facts with what the database holds (at start, and periodically so
    /// that replicas see each other's pushes); a no-op when nothing differs.
    pub async fn reload(&self, db: &store::Db) -> Result<(), StoreError> {
        let rows = db.live_pushed_facts(Utc::now().timestamp_millis()).await?;
        let next = Pushed::from_rows(&rows);
        let mut guard = self.pushed.write().unwrap_or_else(|e| e.into_inner());
        if guard.entities != next.entities {
            *guard = Arc::new(next);
            self.version
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        Ok(())
    }

    /// The evaluation of `snap` at `now`: the latest if it still holds, else a new one built
    /// from it (only what changed is evaluated again).
    pub fn evaluation(&self, snap: &Arc<Snapshot>, now: DateTime<FixedOffset>) -> Arc<Evaluation> {
        let (pushed, version) = self.pushed();
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = latest.as_ref()
            && e.holds_for(snap, version, now)
        {
            return e.clone();
        }
        let next = Arc::new(Evaluation::build_from(
            snap,
            now,
            &pushed,
            version,
            latest.as_deref(),
        ));
        *latest = Some(next.clone());
        next
    }
}
