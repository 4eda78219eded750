//! Campaigns: a mandate that every entity a filter selects passes some scorecard checks by a
//! deadline. Evaluated with the scorecards, per snapshot: which entities still fail, and how each
//! owning team stands.

use std::sync::Arc;

use catalog::read::{Entity, Snapshot};
use chrono::NaiveDate;
use model::filter::{self, Filter};
use serde_json::Value as Json;

use crate::definition::{CheckDef, Scorecard};
use crate::evaluate::{self, CheckResult, EntityScore};

/// One Campaign entity, read.
#[derive(Debug)]
pub struct Campaign {
    /// `campaign:namespace/name`, lower-cased as the catalog keys it.
    pub key: String,
    pub name: String,
    pub namespace: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub filter_text: String,
    pub filter: Option<Filter>,
    /// The check references as written (`scorecard/check`).
    pub checks: Vec<String>,
    pub start: Option<NaiveDate>,
    pub deadline: Option<NaiveDate>,
    /// The Campaign entity's version.
    pub etag: String,
}

impl Campaign {
    pub fn from_entity(entity: &Entity) -> Campaign {
        let spec = entity.json().get("spec");
        let text = |k: &str| spec.and_then(|s| s.get(k)).and_then(Json::as_str);
        let date = |k: &str| text(k).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let filter_text = text("filter").unwrap_or_default().to_owned();
        Campaign {
            key: entity.key().to_owned(),
            name: entity.name().to_owned(),
            namespace: entity.namespace().to_owned(),
            title: entity.title().map(str::to_owned),
            description: entity.description().map(str::to_owned),
            owner: entity.owner().map(str::to_owned),
            filter: filter::parse_query(std::slice::from_ref(&filter_text))
                .ok()
                .flatten(),
            filter_text,
            checks: spec
                .and_then(|s| s.get("checks"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
            start: date("start"),
            deadline: date("deadline"),
            etag: entity.record().etag().to_owned(),
        }
    }

    /// The title if there is one, else the name.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// Where a campaign stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before its start date.
    NotStarted,
    /// Between start and deadline, with entities still failing.
    Active,
    /// Nothing fails (before or after the deadline).
    Complete,
    /// Past the deadline with entities still failing.
    Overdue,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::NotStarted => "not-started",
            Phase::Active => "active",
            Phase::Complete => "complete",
            Phase::Overdue => "overdue",
        }
    }
}

/// One check a campaign asks for, resolved to its scorecard.
#[derive(Debug)]
pub struct CampaignCheck {
    /// As written: `scorecard/check`.
    pub reference: String,
    pub title: String,
    pub fix: Option<String>,
    /// Why the reference does not resolve (no such scorecard or check): the check then fails
    /// for every entity, with this as its error, so a typo cannot make a campaign look done.
    pub error: Option<String>,
}

/// One entity under a campaign.
#[derive(Debug, Clone)]
pub struct CampaignEntity {
    pub entity_ref: String,
    pub owner: Option<String>,
    /// Per campaign check (same order).
    pub checks: Vec<CheckResult>,
    /// The scores each check's result was taken from (`None`: computed here), so the next
    /// evaluation can keep this entry when they are the very same.
    from: Vec<Option<Arc<EntityScore>>>,
}

impl CampaignEntity {
    pub fn passing(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// One owning team's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignTeam {
    /// `None` for entities without an owner.
    pub owner: Option<String>,
    pub total: usize,
    pub passing: usize,
}

/// A campaign evaluated over one snapshot.
#[derive(Debug)]
pub struct CampaignStatus {
    pub campaign: Arc<Campaign>,
    pub checks: Vec<CampaignCheck>,
    /// Entities in ref order.
    pub entities: Vec<Arc<CampaignEntity>>,
    /// Teams in ref order (no owner last).
    pub teams: Vec<CampaignTeam>,
    pub passing: usize,
}

impl CampaignStatus {
    pub fn total(&self) -> usize {
        self.entities.len()
    }

    pub fn failing(&self) -> usize {
        self.total() - self.passing
    }

    pub fn phase(&self, today: NaiveDate) -> Phase {
        let c = &self.campaign;
        if c.start.is_some_and(|s| today < s) {
            Phase::NotStarted
        } else if self.failing() == 0 {
            Phase::Complete
        } else if c.deadline.is_some_and(|d| today > d) {
            Phase::Overdue
        } else {
            Phase::Active
        }
    }

    /// Teams with something to do in the campaign and nothing failing.
    pub fn finished_teams(&self) -> Vec<String> {
        self.teams
            .iter()
            .filter(|t| t.total > 0 && t.passing == t.total)
            .filter_map(|t| t.owner.clone())
            .collect()
    }
}

/// Every Campaign entity of the snapshot.
pub(crate) fn campaigns(snapshot: &Snapshot) -> Vec<Arc<Campaign>> {
    let kind = Filter::Eq {
        key: "kind".into(),
        values: vec!["campaign".into()],
    };
    snapshot
        .entities(Some(&kind))
        .map(|e| Arc::new(Campaign::from_entity(&e)))
        .collect()
}

/// Evaluates `campaign`. A check's result is taken from the scorecard's own evaluation when the
/// entity is in that scorecard's scope, and computed here otherwise (a campaign may cover more).
pub(crate) fn evaluate(
    campaign: Arc<Campaign>,
    scorecards: &[Arc<Scorecard>],
    scores: &[Vec<Arc<EntityScore>>],
    inputs: &evaluate::Inputs,
    previous: Option<&CampaignStatus>,
) -> CampaignStatus {
    // The previous status of this very campaign version, whose entries can be kept.
    let previous =
        previous.filter(|p| p.campaign.key == campaign.key && p.campaign.etag == campaign.etag);
    let (snapshot, now) = (inputs.snapshot, inputs.now);
    // Each reference resolved to (scorecard index, check index), or why not.
    let resolved: Vec<Result<(usize, usize), String>> = campaign
        .checks
        .iter()
        .map(|r| resolve(r, &campaign.namespace, scorecards))
        .collect();
    let checks = campaign
        .checks
        .iter()
        .zip(&resolved)
        .map(|(reference, r)| {
            let def = r.as_ref().ok().map(|&(c, i)| &scorecards[c].checks[i]);
            CampaignCheck {
                reference: reference.clone(),
                title: def.map_or_else(|| reference.clone(), |d| d.title.clone()),
                fix: def.and_then(|d| d.fix.clone()),
                error: r.as_ref().err().cloned(),
            }
        })
        .collect();
    let mut entities = Vec::new();
    if let Some(filter) = &campaign.filter {
        let ids = snapshot.matching(Some(filter));
        let records = snapshot
            .iter()
            .enumerate()
            .filter(|(id, _)| ids.contains(*id as u32));
        // Scores, the previous entries and the records are all in key order: walk them together
        // instead of searching each (this loop runs over every entity the campaign covers).
        let mut at = vec![0usize; scores.len()];
        let mut prev_at = 0;
        for (_, record) in records {
            let key = record.key();
            let mut known = |c: usize| {
                let list = &scores[c];
                while at[c] < list.len() && list[at[c]].entity_key.as_str() < key {
                    at[c] += 1;
                }
                list.get(at[c]).filter(|s| s.entity_key == key)
            };
            let from: Vec<Option<&Arc<EntityScore>>> = resolved
                .iter()
                .map(|r| r.as_ref().ok().and_then(|&(c, _)| known(c)))
                .collect();
            // Kept when built from the very same scores (an edit elsewhere changes nothing here).
            if let Some(p) = previous {
                while prev_at < p.entities.len() && p.entities[prev_at].entity_ref.as_str() < key {
                    prev_at += 1;
                }
                if let Some(kept) = p.entities.get(prev_at).filter(|e| {
                    e.entity_ref == key
                        && e.from.len() == from.len()
                        && e.from.iter().zip(&from).all(|(a, b)| match (a, b) {
                            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                            _ => false,
                        })
                }) {
                    entities.push(Arc::clone(kept));
                    continue;
                }
            }
            let from: Vec<Option<Arc<EntityScore>>> =
                from.into_iter().map(|s| s.cloned()).collect();
            // Parsed only when a check must run here or the owner is not known from a score:
            // most entities of a campaign are in its scorecards' scope already.
            let mut parsed: Option<(Entity, evaluate::CheckContext)> = None;
            let results = resolved
                .iter()
                .zip(&from)
                .map(|(r, score)| match (r, score) {
                    (Err(why), _) => CheckResult {
                        passed: false,
                        error: Some(why.clone()),
                        exempt: None,
                    },
                    (Ok((_, i)), Some(score)) => score.checks[*i].clone(),
                    (Ok((c, i)), None) => {
                        let (e, ctx) = parsed.get_or_insert_with(|| {
                            let e = Entity::new(record);
                            let ctx = evaluate::context(&e, inputs).0;
                            (e, ctx)
                        });
                        let card = &scorecards[*c];
                        let result = evaluate::check(&card.checks[*i], ctx);
                        evaluate::exempted(card, e.key(), *i, result, evaluate::today(now))
                    }
                })
                .collect();
            let owner = match (from.iter().flatten().next(), &parsed) {
                (Some(score), _) => score.owner.clone(),
                (None, Some((e, _))) => e.owner().map(str::to_owned),
                (None, None) => Entity::new(record).owner().map(str::to_owned),
            };
            entities.push(Arc::new(CampaignEntity {
                entity_ref: record.key().to_owned(),
                owner,
                checks: results,
                from,
            }));
        }
    }
    // Entities are in key order already (the snapshot's). Teams are counted by borrowed owner
    // (owners are few, entities many), then put in ref order with "no owner" last.
    let mut counts: std::collections::HashMap<Option<&str>, (usize, usize)> =
        std::collections::HashMap::new();
    for e in &entities {
        let t = counts.entry(e.owner.as_deref()).or_default();
        t.0 += 1;
        t.1 += usize::from(e.passing());
    }
    let mut teams: Vec<CampaignTeam> = counts
        .into_iter()
        .map(|(owner, (total, passing))| CampaignTeam {
            owner: owner.map(str::to_owned),
            total,
            passing,
        })
        .collect();
    teams.sort_by(|a, b| (a.owner.is_none(), &a.owner).cmp(&(b.owner.is_none(), &b.owner)));
    let passing = entities.iter().filter(|e| e.passing()).count();
    CampaignStatus {
        campaign,
        checks,
        entities,
        teams,
        passing,
    }
}

/// `scorecard/check` in the campaign's namespace → (scorecard index, check index).
fn resolve(
    reference: &str,
    namespace: &str,
    scorecards: &[Arc<Scorecard>],
) -> Result<(usize, usize), String> {
    let Some((card, id)) = reference.split_once('/') else {
        return Err(format!(
            "{reference:?} is not a check reference (<scorecard>/<check id>)"
        ));
    };
    let c = scorecards
        .iter()
        .position(|s| {
            s.namespace.eq_ignore_ascii_case(namespace) && s.name.eq_ignore_ascii_case(card)
        })
        .ok_or_else(|| format!("no scorecard named {card:?} in namespace {namespace:?}"))?;
    let i = scorecards[c]
        .checks
        .iter()
        .position(|d: &CheckDef| d.id == id)
        .ok_or_else(|| format!("scorecard {card:?} has no check {id:?}"))?;
    Ok((c, i))
}
