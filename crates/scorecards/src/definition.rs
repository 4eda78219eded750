//! A Scorecard entity read into a definition whose check expressions are compiled, once per
//! version of the entity (its etag), however many snapshots it survives.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, Mutex};

use catalog::read::Entity;
use model::filter::{self, Filter};
use model::validate::stagedoor_kinds;
use serde_json::Value;

/// One scorecard, ready to evaluate.
#[derive(Debug)]
pub struct Scorecard {
    /// `scorecard:namespace/name`, lower-cased as the catalog keys it.
    pub key: String,
    pub entity_ref: String,
    pub name: String,
    pub namespace: String,
    pub title: Option<String>,
    pub owner: Option<String>,
    /// The filter as written, and parsed (`None`: unusable, so the scorecard applies to nothing
    /// and says why in `error`).
    pub filter_text: String,
    pub filter: Option<Filter>,
    /// Ordered, lowest first.
    pub levels: Vec<String>,
    pub checks: Vec<CheckDef>,
    /// Exemptions by entity key (lower-cased): the check index each concerns, and its terms.
    pub exemptions: HashMap<String, Vec<(usize, Arc<Exemption>)>>,
    /// Why the scorecard as a whole cannot be evaluated.
    pub error: Option<String>,
}

/// An entity let off one check for a while, with the reason: written in the scorecard's
/// `spec.exemptions`, so the scorecard's owner approves it in review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    pub entity_ref: String,
    pub check: String,
    pub reason: String,
    /// The last day it applies.
    pub until: chrono::NaiveDate,
}

/// One check of a scorecard.
pub struct CheckDef {
    pub id: String,
    pub title: String,
    pub level: String,
    /// Index of `level` in the scorecard's levels.
    pub level_index: usize,
    pub expression: String,
    pub fix: Option<String>,
    /// The compiled expression, or why it does not compile.
    pub program: Result<cel::Program, String>,
}

impl std::fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckDef")
            .field("id", &self.id)
            .field("level", &self.level)
            .field("compiled", &self.program.is_ok())
            .finish_non_exhaustive()
    }
}

impl Scorecard {
    /// Reads a Scorecard entity. The catalog only serves scorecards that passed validation, so
    /// the fields are there; what is missing anyway is reported, not assumed.
    pub fn from_entity(entity: &Entity) -> Scorecard {
        let spec = entity.json().get("spec");
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let filter_text = text(spec.and_then(|s| s.get("filter"))).unwrap_or_default();
        let mut error = None;
        let filter = match filter::parse_query(std::slice::from_ref(&filter_text)) {
            Ok(Some(f)) => Some(f),
            Ok(None) => {
                error = Some("spec.filter has no conditions".to_owned());
                None
            }
            Err(e) => {
                error = Some(format!("spec.filter: {}", e.0));
                None
            }
        };
        let levels: Vec<String> = spec
            .and_then(|s| s.get("levels"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect();
        let checks = spec
            .and_then(|s| s.get("checks"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(stagedoor_kinds::MAX_CHECKS)
            .map(|c| {
                let field = |k: &str| text(c.get(k));
                let level = field("level").unwrap_or_default();
                let expression = field("expression").unwrap_or_default();
                let level_index = levels.iter().position(|l| *l == level);
                let program = match level_index {
                    None => Err(format!("level {level:?} is not one of spec.levels")),
                    Some(_) => compile(&expression),
                };
                CheckDef {
                    id: field("id").unwrap_or_default(),
                    title: field("title").unwrap_or_default(),
                    level,
                    level_index: level_index.unwrap_or(usize::MAX),
                    expression,
                    fix: field("fix"),
                    program,
                }
            })
            .collect();
        let mut exemptions: HashMap<String, Vec<(usize, Arc<Exemption>)>> = HashMap::new();
        for x in spec
            .and_then(|s| s.get("exemptions"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = |k: &str| text(x.get(k)).unwrap_or_default();
            let check: &Vec<CheckDef> = &checks;
            let (Some(i), Ok(entity), Ok(until)) = (
                check.iter().position(|c| c.id == field("check")),
                model::EntityRef::parse(&field("entity"), None, "default"),
                chrono::NaiveDate::parse_from_str(&field("until"), "%Y-%m-%d"),
            ) else {
                continue;
            };
            exemptions.entry(entity.key()).or_default().push((
                i,
                Arc::new(Exemption {
                    entity_ref: entity.key(),
                    check: field("check"),
                    reason: field("reason"),
                    until,
                }),
            ));
        }
        Scorecard {
            key: entity.key().to_owned(),
            entity_ref: entity.entity_ref().to_owned(),
            name: entity.name().to_owned(),
            namespace: entity.namespace().to_owned(),
            title: entity.title().map(str::to_owned),
            owner: entity.owner().map(str::to_owned),
            filter_text,
            filter,
            levels,
            checks,
            exemptions,
            error,
        }
    }

    /// The title if there is one, else the name.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// The exemption from check `index` that `entity_key` has on `today`, if any.
    pub fn exemption(
        &self,
        entity_key: &str,
        index: usize,
        today: chrono::NaiveDate,
    ) -> Option<&Arc<Exemption>> {
        self.exemptions
            .get(entity_key)?
            .iter()
            .find(|(i, x)| *i == index && x.until >= today)
            .map(|(_, x)| x)
    }
}

/// Compiles a check's expression with the same rules validation applies (size, facts), so an
/// expression that slipped past validation still fails here with the same message.
pub(crate) fn compile(source: &str) -> Result<cel::Program, String> {
    stagedoor_kinds::check_expression(source)?;
    catch_unwind(AssertUnwindSafe(|| cel::Program::compile(source)))
        .map_err(|_| "the CEL parser failed on this expression".to_owned())?
        .map_err(|e| format!("invalid CEL expression: {e}"))
}

/// Compiled scorecards by entity key and etag (a hash of the entity's whole content, so one
/// etag is one version, and sharing between catalogs in one process is safe), with the build
/// that last used each.
static COMPILED: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);

/// Versions kept beyond those of the latest snapshot: enough that several catalogs in one
/// process (tests, tools) do not evict each other's, few enough to bound the memory.
const MAX_CACHED: usize = 256;

#[derive(Default)]
struct Cache {
    build: u64,
    entries: HashMap<String, (u64, Arc<Scorecard>)>,
}

/// Every Scorecard entity of the snapshot, compiled or taken from the cache.
pub(crate) fn scorecards(snapshot: &catalog::read::Snapshot) -> Vec<Arc<Scorecard>> {
    let kind = Filter::Eq {
        key: "kind".into(),
        values: vec!["scorecard".into()],
    };
    let mut cache = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    cache.build += 1;
    let build = cache.build;
    let out = snapshot
        .entities(Some(&kind))
        .map(|e| {
            let entry = cache
                .entries
                .entry(format!("{} {}", e.key(), e.record().etag()))
                .or_insert_with(|| (build, Arc::new(Scorecard::from_entity(&e))));
            entry.0 = build;
            entry.1.clone()
        })
        .collect();
    if cache.entries.len() > MAX_CACHED {
        // Over the bound, keep only what this snapshot uses.
        cache.entries.retain(|_, (used, _)| *used == build);
    }
    out
}
