//! Facts pushed by other systems (`POST /api/scorecards/v1/facts`): each item checked on its own,
//! the valid ones stored and seen by the next evaluation as `facts.pushed.<source>.<name>`, each
//! invalid one rejected with its index and reason.

use catalog::Catalog;
use chrono::Utc;
use model::validate::type_name;
use serde_json::Value;
use store::{PushedFactsRow, StoreError};

use crate::state::State;

/// Most items in one push.
pub const MAX_BATCH: usize = 1000;
/// Largest `facts` object of one item, as JSON.
pub const MAX_FACTS_BYTES: usize = 64 * 1024;
/// How deep a fact's value may nest (a list of maps is depth 2).
pub const MAX_DEPTH: usize = 4;
/// A fact lives a day unless the item says otherwise, and never more than a year.
pub const DEFAULT_TTL_SECONDS: i64 = 86_400;
pub const MAX_TTL_SECONDS: i64 = 366 * 86_400;

/// One item that was not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    pub index: usize,
    pub error: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PushOutcome {
    pub accepted: usize,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug)]
pub enum PushError {
    /// The batch as a whole is refused (too many items); nothing was stored.
    TooMany(usize),
    Store(StoreError),
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushError::TooMany(n) => {
                write!(f, "{n} items in one push; at most {MAX_BATCH} are allowed")
            }
            PushError::Store(e) => write!(f, "{e}"),
        }
    }
}

/// Checks each item, stores the valid ones in one transaction and makes them visible.
pub async fn push(catalog: &Catalog, items: &[Value]) -> Result<PushOutcome, PushError> {
    if items.len() > MAX_BATCH {
        return Err(PushError::TooMany(items.len()));
    }
    let snap = catalog.snapshot();
    let now = Utc::now().timestamp_millis();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match row(item, &snap, now) {
            Ok(r) => rows.push(r),
            Err(error) => rejected.push(Rejected { index, error }),
        }
    }
    catalog
        .database()
        .put_pushed_facts(&rows)
        .await
        .map_err(PushError::Store)?;
    State::of(catalog).add(&rows);
    Ok(PushOutcome {
        accepted: rows.len(),
        rejected,
    })
}

/// One item as a row, or why it cannot be one.
fn row(item: &Value, snap: &catalog::read::Snapshot, now: i64) -> Result<PushedFactsRow, String> {
    let Value::Object(item) = item else {
        return Err("must be an object with entityRef, source and facts".into());
    };
    let text = |k: &str| -> Result<&str, String> {
        match item.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(other) => Err(format!(
                "{k} must be a non-empty string, found {}",
                type_name(other)
            )),
            None => Err(format!("{k} is missing")),
        }
    };
    let entity = text("entityRef")?;
    let r = model::EntityRef::parse(entity, None, "default").map_err(|_| {
        format!("entityRef {entity:?} is not an entity reference (kind:namespace/name)")
    })?;
    if snap.get(&r.key()).is_none() {
        return Err(format!(
            "entityRef {entity:?}: no such entity in the catalog"
        ));
    }
    let source = text("source")?;
    if !is_name(source) {
        return Err(format!(
            "source {source:?} must be 1-63 characters of [a-z0-9_], starting with a letter, so checks can name it (facts.pushed.{})",
            source
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
    }
    let facts = match item.get("facts") {
        Some(Value::Object(f)) => f,
        Some(other) => {
            return Err(format!(
                "facts must be an object, found {}",
                type_name(other)
            ));
        }
        None => return Err("facts is missing".into()),
    };
    for (name, value) in facts {
        if !is_name(name) {
            return Err(format!(
                "fact name {name:?} must be 1-63 characters of [a-z0-9_], starting with a letter"
            ));
        }
        depth_ok(value, 1).map_err(|e| format!("facts.{name}: {e}"))?;
    }
    let text_facts = Value::Object(facts.clone()).to_string();
    if text_facts.len() > MAX_FACTS_BYTES {
        return Err(format!(
            "facts take {} bytes; at most {MAX_FACTS_BYTES} are allowed",
            text_facts.len()
        ));
    }
    let ttl = match item.get("ttlSeconds") {
        None => DEFAULT_TTL_SECONDS,
        Some(v) => match v.as_i64() {
            Some(t) if (1..=MAX_TTL_SECONDS).contains(&t) => t,
            _ => {
                return Err(format!(
                    "ttlSeconds must be a whole number from 1 to {MAX_TTL_SECONDS}, found {v}"
                ));
            }
        },
    };
    Ok(PushedFactsRow {
        entity_ref: r.key(),
        source: source.to_owned(),
        facts: text_facts,
        expires_at: now + ttl * 1000,
        updated_at: now,
    })
}

fn is_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn depth_ok(v: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nests deeper than {MAX_DEPTH} levels"));
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|i| depth_ok(i, depth + 1)),
        Value::Object(map) => map.values().try_for_each(|i| depth_ok(i, depth + 1)),
        Value::Null => Err("null is not a fact value; leave the fact out".into()),
        _ => Ok(()),
    }
}
