//! The one way in for everything that reads the catalog: an immutable [`Snapshot`] with typed
//! [`Entity`] accessors, [`Subscription`]s that say which entities changed, and a per-snapshot
//! cache for what a capability derives from the catalog ([`Snapshot::derived`]).
//!
//! Pages and capabilities hold an `Arc<Snapshot>` for as long as they answer one request or do
//! one pass; the engine swaps in a new snapshot after every stored change and never mutates one,
//! so nothing here locks against processing.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use model::filter::Filter;
use serde_json::Value;
use tokio::sync::broadcast;

pub use crate::index::{Bits, Stitched};
pub use crate::query::{
    DEFAULT_QUERY_LIMIT, FullText, Order, QueryError, QueryPage, QueryRequest, decode_after,
    encode_after, facets, like_contains, list, list_all, project, project_value, query,
};

/// The status item type under which processing errors are stitched into `status.items`.
pub const PROCESSING_STATUS: &str = "backstage.io/catalog-processing";

type Slot = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

/// One published state of the catalog: every entity as served, its index, and the data
/// capabilities derived from exactly this state.
pub struct Snapshot {
    index: Arc<crate::index::Snapshot>,
    generation: u64,
    derived: Mutex<HashMap<TypeId, Slot>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("entities", &self.index.len())
            .finish_non_exhaustive()
    }
}

/// Lookups, filters and iteration come from the index the snapshot wraps.
impl Deref for Snapshot {
    type Target = crate::index::Snapshot;
    fn deref(&self) -> &Self::Target {
        &self.index
    }
}

impl Snapshot {
    pub(crate) fn new(index: Arc<crate::index::Snapshot>, generation: u64) -> Self {
        Snapshot {
            index,
            generation,
            derived: Mutex::new(HashMap::new()),
        }
    }

    /// A snapshot over the given entities, outside any engine: for tests and tools.
    pub fn of(entities: Vec<Arc<Stitched>>) -> Self {
        let index =
            crate::index::Snapshot::build(entities.into_iter().map(|e| (e, None)).collect());
        Self::new(Arc::new(index), 0)
    }

    pub(crate) fn index(&self) -> &Arc<crate::index::Snapshot> {
        &self.index
    }

    /// Counts published states: each stored change makes a snapshot with a higher number.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The entity with this ref (any casing), parsed for reading.
    pub fn entity(&self, entity_ref: &str) -> Option<Entity> {
        self.index.get(entity_ref).map(Entity::new)
    }

    /// The entities a Backstage filter selects (all with `None`), in ref order, each parsed as
    /// it is reached: cheap to stop early, a full parse of the catalog when run to the end.
    pub fn entities(&self, filter: Option<&Filter>) -> impl Iterator<Item = Entity> + '_ {
        let ids = self.index.matching(filter);
        self.index
            .iter()
            .enumerate()
            .filter(move |(id, _)| ids.contains(*id as u32))
            .map(|(_, e)| Entity::new(e))
    }

    /// What `build` derives from this snapshot, built on first use and shared by every later
    /// caller until the next snapshot replaces this one. One value per type: a capability keys
    /// its cache by a type of its own. `build` must not ask for its own type again.
    pub fn derived<T: Any + Send + Sync>(&self, build: impl FnOnce(&Snapshot) -> T) -> Arc<T> {
        let slot = self
            .derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(TypeId::of::<T>())
            .or_default()
            .clone();
        // Built outside the map's lock, so one capability's slow build never holds up another's.
        let value = slot.get_or_init(|| Arc::new(build(self)) as Arc<dyn Any + Send + Sync>);
        value
            .clone()
            .downcast::<T>()
            .expect("slot keyed by its type")
    }
}

/// One relation of an entity, as served in `relations[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation<'a> {
    /// `ownedBy`, `partOf`, …
    pub kind: &'a str,
    /// The target's full ref, lower-cased as Backstage serves it.
    pub target: &'a str,
}

/// One processing error stitched into an entity, with where in which file it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub name: String,
    pub message: String,
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

/// One entity parsed once, read through typed accessors instead of JSON pointers.
#[derive(Debug, Clone)]
pub struct Entity {
    record: Arc<Stitched>,
    json: Value,
}

impl Entity {
    pub fn new(record: &Arc<Stitched>) -> Self {
        // Bodies are produced by the engine as JSON; one that does not parse reads as empty.
        let json = serde_json::from_str(&record.body()).unwrap_or(Value::Null);
        Entity {
            record: record.clone(),
            json,
        }
    }

    /// The stored record: ids and the JSON text exactly as served.
    pub fn record(&self) -> &Arc<Stitched> {
        &self.record
    }

    /// The whole entity as the catalog API serves it.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// `kind:namespace/name` as written.
    pub fn entity_ref(&self) -> &str {
        self.record.key()
    }

    /// The lower-cased ref: the key lookups and relations use.
    pub fn key(&self) -> &str {
        self.record.key()
    }

    pub fn uid(&self) -> &str {
        self.record.uid()
    }

    fn str_at(&self, pointer: &str) -> Option<&str> {
        self.json.pointer(pointer).and_then(Value::as_str)
    }

    pub fn kind(&self) -> &str {
        self.str_at("/kind").unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.str_at("/metadata/namespace")
            .unwrap_or(model::entity_ref::DEFAULT_NAMESPACE)
    }

    pub fn name(&self) -> &str {
        self.str_at("/metadata/name").unwrap_or_default()
    }

    pub fn title(&self) -> Option<&str> {
        self.str_at("/metadata/title")
    }

    pub fn description(&self) -> Option<&str> {
        self.str_at("/metadata/description")
    }

    /// `spec.type`, the kind's own classification (service, website, team, …).
    pub fn spec_type(&self) -> Option<&str> {
        self.str_at("/spec/type")
    }

    pub fn lifecycle(&self) -> Option<&str> {
        self.str_at("/spec/lifecycle")
    }

    /// Any field of `spec`.
    pub fn spec(&self, field: &str) -> Option<&Value> {
        self.json.get("spec").and_then(|s| s.get(field))
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.json
            .pointer("/metadata/tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    fn string_map(&self, pointer: &str) -> impl Iterator<Item = (&str, &str)> {
        self.json
            .pointer(pointer)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
    }

    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.string_map("/metadata/labels")
    }

    pub fn annotations(&self) -> impl Iterator<Item = (&str, &str)> {
        self.string_map("/metadata/annotations")
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.json
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }

    /// Every relation, in the order the catalog serves them (sorted by type, then target).
    pub fn relations(&self) -> impl Iterator<Item = Relation<'_>> {
        self.json
            .get("relations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some(Relation {
                    kind: r.get("type")?.as_str()?,
                    target: r.get("targetRef")?.as_str()?,
                })
            })
    }

    /// The targets of one relation type.
    pub fn targets<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.relations()
            .filter(move |r| r.kind == kind)
            .map(|r| r.target)
    }

    /// The owner, as the `ownedBy` relation names it.
    pub fn owner(&self) -> Option<&str> {
        self.targets(model::relations::OWNED_BY).next()
    }

    /// The processing errors this entity carries.
    pub fn problems(&self) -> Vec<Problem> {
        self.json
            .pointer("/status/items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|i| i.get("type").and_then(Value::as_str) == Some(PROCESSING_STATUS))
            .map(|i| {
                let e = i.get("error").unwrap_or(&Value::Null);
                let at = |p: &str| e.pointer(p);
                Problem {
                    name: e
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("Error")
                        .into(),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .into(),
                    file: at("/cause/file")
                        .or_else(|| at("/file"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .into(),
                    line: at("/cause/line")
                        .or_else(|| at("/line"))
                        .and_then(Value::as_u64),
                    column: at("/cause/column")
                        .or_else(|| at("/column"))
                        .and_then(Value::as_u64),
                }
            })
            .collect()
    }
}

/// A published change: the snapshot that shows it and the keys of the entities it touched.
#[derive(Debug, Clone)]
pub struct Change {
    pub snapshot: Arc<Snapshot>,
    /// Lower-cased refs of entities added or changed.
    pub changed: Arc<[String]>,
    /// Lower-cased refs of entities gone.
    pub removed: Arc<[String]>,
    /// Set when this subscriber fell behind and missed changes: treat every entity as changed.
    pub missed: bool,
}

/// Change notifications, in publication order.
pub struct Subscription {
    rx: broadcast::Receiver<Change>,
}

impl Subscription {
    pub(crate) fn new(rx: broadcast::Receiver<Change>) -> Self {
        Subscription { rx }
    }

    /// The next change, or `None` once the catalog is gone. Changes already waiting are merged
    /// into one, so a slow subscriber catches up in one step; one that fell so far behind that
    /// changes were dropped gets the newest with `missed` set.
    pub async fn next(&mut self) -> Option<Change> {
        let mut missed = false;
        let mut change = loop {
            match self.rx.recv().await {
                Ok(change) => break change,
                Err(broadcast::error::RecvError::Lagged(_)) => missed = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        };
        loop {
            match self.rx.try_recv() {
                Ok(newer) => change = change.then(newer),
                Err(broadcast::error::TryRecvError::Lagged(_)) => missed = true,
                Err(_) => break,
            }
        }
        change.missed |= missed;
        Some(change)
    }
}

impl Change {
    /// This change followed by `newer`, as one.
    fn then(self, newer: Change) -> Change {
        // Keys the newer change speaks for; the older change's word on them is superseded.
        let newer_keys: HashSet<&str> = newer
            .changed
            .iter()
            .chain(newer.removed.iter())
            .map(String::as_str)
            .collect();
        let older = |keys: &Arc<[String]>| {
            keys.iter()
                .filter(|k| !newer_keys.contains(k.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        };
        let mut changed = older(&self.changed);
        changed.extend(newer.changed.iter().cloned());
        let mut removed = older(&self.removed);
        removed.extend(newer.removed.iter().cloned());
        Change {
            snapshot: newer.snapshot,
            changed: changed.into(),
            removed: removed.into(),
            missed: self.missed || newer.missed,
        }
    }
}
