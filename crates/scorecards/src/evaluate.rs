//! Running every scorecard's checks over the entities it applies to, and the level each entity
//! reaches. An evaluation error (a missing field, a wrong type, a panic inside the CEL
//! interpreter) fails that one check with the reason as its `error`; nothing else is affected.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

use catalog::read::{Entity, Snapshot, Stitched};
use cel::{Context, Env, Value};
use chrono::{DateTime, FixedOffset};

use crate::campaign::{self, CampaignStatus};
use crate::definition::{self, CheckDef, Scorecard};
use crate::facts::Facts;

/// The standard CEL environment the checks are compiled for (`has`, `exists`, `size`, …).
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// Entities per worker below which splitting the work costs more than it saves.
const MIN_PER_WORKER: usize = 500;

/// How one check went for one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub passed: bool,
    /// Why the check could not be evaluated (it then counts as not passed).
    pub error: Option<String>,
}

/// One entity under one scorecard.
#[derive(Debug, Clone)]
pub struct EntityScore {
    pub entity_key: String,
    pub entity_ref: String,
    /// The `ownedBy` target: the team this entity counts for.
    pub owner: Option<String>,
    /// Index into the scorecard's levels of the highest level reached.
    pub level: Option<usize>,
    /// In the order of the scorecard's checks.
    pub checks: Vec<CheckResult>,
}

/// Every scorecard of one snapshot, evaluated over the entities each applies to.
#[derive(Debug)]
pub struct Evaluation {
    /// The `now` the checks saw.
    pub now: DateTime<FixedOffset>,
    pub scorecards: Vec<Arc<Scorecard>>,
    /// Per scorecard (same index), its entities in ref order.
    scores: Vec<Vec<EntityScore>>,
    /// Entity key → (scorecard index, index into its scores).
    by_entity: HashMap<String, Vec<(usize, usize)>>,
    /// Every campaign, in ref order.
    pub campaigns: Vec<CampaignStatus>,
}

impl Evaluation {
    pub fn build(snapshot: &Snapshot, now: DateTime<FixedOffset>) -> Evaluation {
        let scorecards = definition::scorecards(snapshot);
        let now_value = Value::Timestamp(now);
        let scores: Vec<Vec<EntityScore>> = scorecards
            .iter()
            .map(|card| evaluate_card(card, snapshot, &now_value))
            .collect();
        let mut by_entity: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (c, list) in scores.iter().enumerate() {
            for (i, s) in list.iter().enumerate() {
                by_entity
                    .entry(s.entity_key.clone())
                    .or_default()
                    .push((c, i));
            }
        }
        let mut campaigns: Vec<CampaignStatus> = campaign::campaigns(snapshot)
            .into_iter()
            .map(|c| campaign::evaluate(c, &scorecards, &scores, &by_entity, snapshot, &now_value))
            .collect();
        campaigns.sort_by(|a, b| a.campaign.key.cmp(&b.campaign.key));
        Evaluation {
            now,
            scorecards,
            scores,
            by_entity,
            campaigns,
        }
    }

    /// Every scorecard that applies to this entity (by its lower-cased key), with its score.
    pub fn for_entity(&self, key: &str) -> Vec<(&Arc<Scorecard>, &EntityScore)> {
        self.by_entity
            .get(key)
            .into_iter()
            .flatten()
            .map(|&(c, i)| (&self.scorecards[c], &self.scores[c][i]))
            .collect()
    }

    /// The scorecard with this namespace and name (any casing), with every entity's score.
    pub fn scorecard(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<(&Arc<Scorecard>, &[EntityScore])> {
        let c = self.scorecards.iter().position(|s| {
            s.namespace.eq_ignore_ascii_case(namespace) && s.name.eq_ignore_ascii_case(name)
        })?;
        Some((&self.scorecards[c], &self.scores[c]))
    }
}

impl Evaluation {
    /// The campaign with this namespace and name (any casing).
    pub fn campaign(&self, namespace: &str, name: &str) -> Option<&CampaignStatus> {
        self.campaigns.iter().find(|c| {
            c.campaign.namespace.eq_ignore_ascii_case(namespace)
                && c.campaign.name.eq_ignore_ascii_case(name)
        })
    }

    /// Every scorecard with the scores of the entities it applies to.
    pub fn all_scorecards(&self) -> impl Iterator<Item = (&Arc<Scorecard>, &[EntityScore])> {
        self.scorecards
            .iter()
            .zip(&self.scores)
            .map(|(c, s)| (c, s.as_slice()))
    }
}

/// One scorecard over the entities its filter selects, split across the cores.
fn evaluate_card(card: &Scorecard, snapshot: &Snapshot, now: &Value) -> Vec<EntityScore> {
    let Some(filter) = &card.filter else {
        return Vec::new();
    };
    let ids = snapshot.matching(Some(filter));
    let records: Vec<&Arc<Stitched>> = snapshot
        .iter()
        .enumerate()
        .filter(|(id, _)| ids.contains(*id as u32))
        .map(|(_, r)| r)
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(records.len() / MIN_PER_WORKER + 1);
    if workers <= 1 {
        return records
            .iter()
            .map(|r| score(card, &Entity::new(r), snapshot, now))
            .collect();
    }
    let chunk = records.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|r| score(card, &Entity::new(r), snapshot, now))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// One entity under one scorecard: every check, then the level.
pub(crate) fn score(
    card: &Scorecard,
    entity: &Entity,
    snapshot: &Snapshot,
    now: &Value,
) -> EntityScore {
    let ctx = context(entity, snapshot, now);
    let checks: Vec<CheckResult> = card.checks.iter().map(|c| check(c, &ctx)).collect();
    EntityScore {
        entity_key: entity.key().to_owned(),
        entity_ref: entity.entity_ref().to_owned(),
        owner: entity.owner().map(str::to_owned),
        level: level(card, &checks),
        checks,
    }
}

/// What the checks of one entity run against: `entity`, `facts` and `now` bound once.
pub(crate) struct CheckContext {
    ctx: Context<'static, 'static>,
    /// Why the entity could not be bound (every check then fails with it).
    entity_error: Option<String>,
}

pub(crate) fn context(entity: &Entity, snapshot: &Snapshot, now: &Value) -> CheckContext {
    let mut ctx = Context::with_env(ENV.clone());
    let as_cel = cel::to_value(entity.json());
    let entity_error = as_cel
        .as_ref()
        .err()
        .map(|e| format!("the entity cannot be read by CEL: {e}"));
    ctx.add_variable_from_value("entity", as_cel.unwrap_or(Value::Null));
    ctx.add_variable_from_value("facts", Facts::of(entity, snapshot).to_cel());
    ctx.add_variable_from_value("now", now.clone());
    CheckContext { ctx, entity_error }
}

/// One check against one entity's context.
pub(crate) fn check(def: &CheckDef, c: &CheckContext) -> CheckResult {
    match (&def.program, &c.entity_error) {
        (Err(why), _) | (Ok(_), Some(why)) => failed(why.clone()),
        (Ok(program), None) => run(program, &c.ctx),
    }
}

fn failed(error: String) -> CheckResult {
    CheckResult {
        passed: false,
        error: Some(error),
    }
}

fn run(program: &cel::Program, ctx: &Context) -> CheckResult {
    match catch_unwind(AssertUnwindSafe(|| program.execute(ctx))) {
        Err(_) => failed("the CEL interpreter failed on this expression".into()),
        Ok(Err(e)) => failed(e.to_string()),
        Ok(Ok(Value::Bool(passed))) => CheckResult {
            passed,
            error: None,
        },
        Ok(Ok(other)) => failed(format!(
            "the expression gave {}, not a boolean",
            other.type_of()
        )),
    }
}

/// The highest level whose checks, and every lower level's, all passed. A level without checks
/// is reached as soon as the levels below it are.
pub(crate) fn level(card: &Scorecard, checks: &[CheckResult]) -> Option<usize> {
    let lowest_failing = card
        .checks
        .iter()
        .zip(checks)
        .filter(|(_, r)| !r.passed)
        .map(|(c, _)| c.level_index)
        .min()
        .unwrap_or(card.levels.len());
    lowest_failing.min(card.levels.len()).checked_sub(1)
}
