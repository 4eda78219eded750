//! Running every scorecard's checks over the entities it applies to, and the level each entity
//! reaches. An evaluation error (a missing field, a wrong type, a panic inside the CEL
//! interpreter) fails that one check with the reason as its `error`; nothing else is affected.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock};

use catalog::read::{Entity, Snapshot, Stitched};
use cel::{Context, Env, Value};
use chrono::{DateTime, FixedOffset};

use crate::campaign::{self, CampaignStatus};
use crate::definition::{self, CheckDef, Exemption, Scorecard};
use crate::facts::Facts;
use crate::state::Pushed;

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
    /// Set when the check failed but the entity is exempt from it today: it then counts as
    /// passed, and pages say why.
    pub exempt: Option<Arc<Exemption>>,
}

/// One entity under one scorecard.
#[derive(Debug, Clone)]
pub struct EntityScore {
    pub entity_key: String,
    pub entity_ref: String,
    /// What the score was computed from, so the next evaluation can keep it when none of it
    /// changed: the entity's etag, whether its owner existed, and a hash of its pushed facts.
    etag: String,
    owner_exists: bool,
    pushed: u64,
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
    scores: Vec<Vec<Arc<EntityScore>>>,
    /// Every campaign, in ref order.
    pub campaigns: Vec<CampaignStatus>,
    /// What this evaluation saw, and until when it holds (the next midnight, or the moment a
    /// pushed fact it used expires, whichever is first).
    generation: u64,
    pushed_version: u64,
    valid_until: DateTime<FixedOffset>,
    /// Scores computed afresh (the rest were kept from the previous evaluation).
    pub evaluated: usize,
    /// Each scorecard's roll-up along the group hierarchy, computed on first use: pages ask
    /// for it on every view, and at 50,000 entities it is a pass over every score.
    rollups: Vec<std::sync::OnceLock<Arc<crate::RollUp>>>,
}

impl Evaluation {
    /// Every scorecard of `snapshot` evaluated from scratch, with no pushed facts.
    pub fn build(snapshot: &Snapshot, now: DateTime<FixedOffset>) -> Evaluation {
        Evaluation::build_from(snapshot, now, &Pushed::default(), 0, None)
    }

    /// Every scorecard of `snapshot`, keeping from `previous` each score whose scorecard, entity,
    /// owner, pushed facts and day are unchanged.
    pub fn build_from(
        snapshot: &Snapshot,
        now: DateTime<FixedOffset>,
        pushed: &Pushed,
        pushed_version: u64,
        previous: Option<&Evaluation>,
    ) -> Evaluation {
        let scorecards = definition::scorecards(snapshot);
        let now_value = Value::Timestamp(now);
        let now_ms = now.timestamp_millis();
        let midnight = (now.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(*now.offset()).single())
            .unwrap_or(now);
        let earliest_expiry = std::sync::atomic::AtomicI64::new(i64::MAX);
        let inputs = Inputs {
            snapshot,
            now: &now_value,
            now_ms,
            pushed,
            earliest_expiry: &earliest_expiry,
        };
        let same_day = previous.filter(|p| p.now.date_naive() == now.date_naive());
        let mut evaluated = 0;
        let scores: Vec<Vec<Arc<EntityScore>>> = scorecards
            .iter()
            .map(|card| {
                let before = same_day.and_then(|p| p.scores_of(card));
                let (scores, fresh) = evaluate_card(card, &inputs, before);
                evaluated += fresh;
                scores
            })
            .collect();
        let mut campaigns: Vec<CampaignStatus> = campaign::campaigns(snapshot)
            .into_iter()
            .map(|c| {
                let before =
                    same_day.and_then(|p| p.campaigns.iter().find(|s| s.campaign.key == c.key));
                campaign::evaluate(c, &scorecards, &scores, &inputs, before)
            })
            .collect();
        campaigns.sort_by(|a, b| a.campaign.key.cmp(&b.campaign.key));
        let expiry = earliest_expiry.load(std::sync::atomic::Ordering::Relaxed);
        let valid_until = chrono::DateTime::from_timestamp_millis(expiry)
            .map(|t| t.with_timezone(now.offset()))
            .filter(|t| *t < midnight)
            .unwrap_or(midnight);
        let scorecards_len = scorecards.len();
        Evaluation {
            now,
            scorecards,
            scores,
            campaigns,
            generation: snapshot.generation(),
            pushed_version,
            valid_until,
            evaluated,
            rollups: (0..scorecards_len).map(|_| Default::default()).collect(),
        }
    }

    /// True when this evaluation is still the one for `snapshot` at `now` with the pushed facts
    /// at `pushed_version`.
    pub(crate) fn holds_for(
        &self,
        snapshot: &Snapshot,
        pushed_version: u64,
        now: DateTime<FixedOffset>,
    ) -> bool {
        self.generation == snapshot.generation()
            && self.pushed_version == pushed_version
            && now < self.valid_until
    }

    /// The scores of the scorecard that is this very version of `card`, in entity key order.
    fn scores_of(&self, card: &Arc<Scorecard>) -> Option<&[Arc<EntityScore>]> {
        let c = self.scorecards.iter().position(|s| Arc::ptr_eq(s, card))?;
        Some(&self.scores[c])
    }

    /// The roll-up of the scorecard with this version, over the snapshot this evaluation is of
    /// (computed once per evaluation).
    pub fn rollup(&self, card: &Arc<Scorecard>, snapshot: &Snapshot) -> Option<Arc<crate::RollUp>> {
        let c = self.scorecards.iter().position(|s| Arc::ptr_eq(s, card))?;
        Some(
            self.rollups[c]
                .get_or_init(|| Arc::new(crate::RollUp::of(card, &self.scores[c], snapshot)))
                .clone(),
        )
    }

    /// Every scorecard that applies to this entity (by its lower-cased key), with its score.
    pub fn for_entity(&self, key: &str) -> Vec<(&Arc<Scorecard>, &Arc<EntityScore>)> {
        self.scorecards
            .iter()
            .zip(&self.scores)
            .filter_map(|(card, scores)| Some((card, find(scores, key)?)))
            .collect()
    }

    /// The scorecard with this namespace and name (any casing), with every entity's score.
    pub fn scorecard(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<(&Arc<Scorecard>, &[Arc<EntityScore>])> {
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
    pub fn all_scorecards(&self) -> impl Iterator<Item = (&Arc<Scorecard>, &[Arc<EntityScore>])> {
        self.scorecards
            .iter()
            .zip(&self.scores)
            .map(|(c, s)| (c, s.as_slice()))
    }
}

/// The score of the entity with `key` among scores in key order (as the snapshot orders its
/// entities, and so every scorecard's scores).
pub(crate) fn find<'a>(scores: &'a [Arc<EntityScore>], key: &str) -> Option<&'a Arc<EntityScore>> {
    scores
        .binary_search_by(|s| s.entity_key.as_str().cmp(key))
        .ok()
        .map(|i| &scores[i])
}

/// What every score of one evaluation is computed from.
pub(crate) struct Inputs<'a> {
    pub snapshot: &'a Snapshot,
    pub now: &'a Value,
    pub now_ms: i64,
    pub pushed: &'a Pushed,
    /// The first expiry among the pushed facts used (epoch ms).
    pub earliest_expiry: &'a std::sync::atomic::AtomicI64,
}

impl Inputs<'_> {
    /// The entity's live pushed facts and their hash (0: none).
    fn pushed(&self, key: &str) -> (Option<serde_json::Value>, u64) {
        match self.pushed.of(key, self.now_ms) {
            None => (None, 0),
            Some((facts, expires)) => {
                self.earliest_expiry
                    .fetch_min(expires, std::sync::atomic::Ordering::Relaxed);
                // A fixed-key hasher: the hash is compared across evaluations, and every
                // `RandomState` hashes differently.
                let hash = std::hash::BuildHasher::hash_one(
                    &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
                    facts.to_string(),
                );
                (Some(facts), hash | 1)
            }
        }
    }
}

/// One scorecard over the entities its filter selects, split across the cores; a score from
/// `before` is kept when its entity, owner and pushed facts are unchanged. Returns the scores
/// and how many were computed afresh.
fn evaluate_card(
    card: &Scorecard,
    inputs: &Inputs,
    before: Option<&[Arc<EntityScore>]>,
) -> (Vec<Arc<EntityScore>>, usize) {
    let Some(filter) = &card.filter else {
        return (Vec::new(), 0);
    };
    let snapshot = inputs.snapshot;
    let ids = snapshot.matching(Some(filter));
    let records: Vec<&Arc<Stitched>> = snapshot
        .iter()
        .enumerate()
        .filter(|(id, _)| ids.contains(*id as u32))
        .map(|(_, r)| r)
        .collect();
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    // One run of records in key order; the previous scores are in key order too, so they are
    // walked alongside instead of searched for each record.
    let run = |part: &[&Arc<Stitched>]| -> Vec<Arc<EntityScore>> {
        let before = before.unwrap_or_default();
        let mut j = part.first().map_or(0, |r| {
            before.partition_point(|s| s.entity_key.as_str() < r.key())
        });
        part.iter()
            .map(|r| {
                while j < before.len() && before[j].entity_key.as_str() < r.key() {
                    j += 1;
                }
                let (_, pushed_hash) = inputs.pushed(r.key());
                if let Some(prev) = before.get(j).filter(|p| p.entity_key == r.key())
                    && prev.etag == r.etag()
                    && prev.pushed == pushed_hash
                    && prev.owner.as_deref().map(|o| snapshot.get(o).is_some())
                        == prev.owner.as_ref().map(|_| prev.owner_exists)
                {
                    return Arc::clone(prev);
                }
                fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Arc::new(score(card, &Entity::new(r), inputs))
            })
            .collect()
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(records.len() / MIN_PER_WORKER + 1);
    let scores = if workers <= 1 {
        run(&records)
    } else {
        let chunk = records.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = records
                .chunks(chunk)
                .map(|part| scope.spawn(|| run(part)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    };
    (scores, fresh.into_inner())
}

/// One entity under one scorecard: every check, then the level.
pub(crate) fn score(card: &Scorecard, entity: &Entity, inputs: &Inputs) -> EntityScore {
    let (ctx, pushed) = context(entity, inputs);
    let today = today(inputs.now);
    let checks: Vec<CheckResult> = card
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| exempted(card, entity.key(), i, check(c, &ctx), today))
        .collect();
    let owner = entity.owner().map(str::to_owned);
    EntityScore {
        entity_key: entity.key().to_owned(),
        entity_ref: entity.entity_ref().to_owned(),
        etag: entity.record().etag().to_owned(),
        owner_exists: owner
            .as_deref()
            .is_some_and(|o| inputs.snapshot.get(o).is_some()),
        pushed,
        owner,
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

/// Binds `entity`, `facts` (the built-in ones, and `facts.pushed.<source>.<name>` from other
/// systems) and `now`; also returns the hash of the pushed facts bound.
pub(crate) fn context(entity: &Entity, inputs: &Inputs) -> (CheckContext, u64) {
    let mut ctx = Context::with_env(ENV.clone());
    let as_cel = cel::to_value(entity.json());
    let entity_error = as_cel
        .as_ref()
        .err()
        .map(|e| format!("the entity cannot be read by CEL: {e}"));
    ctx.add_variable_from_value("entity", as_cel.unwrap_or(Value::Null));
    let (pushed, hash) = inputs.pushed(entity.key());
    let facts = Facts::of(entity, inputs.snapshot, inputs.now).to_cel_with(pushed);
    ctx.add_variable_from_value("facts", facts);
    ctx.add_variable_from_value("now", inputs.now.clone());
    (CheckContext { ctx, entity_error }, hash)
}

/// One check against one entity's context.
pub(crate) fn check(def: &CheckDef, c: &CheckContext) -> CheckResult {
    match (&def.program, &c.entity_error) {
        (Err(why), _) | (Ok(_), Some(why)) => failed(why.clone()),
        (Ok(program), None) => run(program, &c.ctx),
    }
}

/// `result`, passed with the exemption when it failed and the entity is exempt today.
pub(crate) fn exempted(
    card: &Scorecard,
    entity_key: &str,
    index: usize,
    result: CheckResult,
    today: chrono::NaiveDate,
) -> CheckResult {
    if result.passed {
        return result;
    }
    match card.exemption(entity_key, index, today) {
        Some(x) => CheckResult {
            passed: true,
            exempt: Some(x.clone()),
            ..result
        },
        None => result,
    }
}

/// The day `now` falls on.
pub(crate) fn today(now: &Value) -> chrono::NaiveDate {
    match now {
        Value::Timestamp(t) => t.date_naive(),
        _ => chrono::Utc::now().date_naive(),
    }
}

fn failed(error: String) -> CheckResult {
    CheckResult {
        passed: false,
        error: Some(error),
        exempt: None,
    }
}

fn run(program: &cel::Program, ctx: &Context) -> CheckResult {
    match catch_unwind(AssertUnwindSafe(|| program.execute(ctx))) {
        Err(_) => failed("the CEL interpreter failed on this expression".into()),
        Ok(Err(e)) => failed(e.to_string()),
        Ok(Ok(Value::Bool(passed))) => CheckResult {
            passed,
            error: None,
            exempt: None,
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
