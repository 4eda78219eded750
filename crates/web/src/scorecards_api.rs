//! The scorecards JSON API under `/api/scorecards/v1` (docs/api.md): one entity's scores under
//! every scorecard that applies to it, and one scorecard's counts per owning team. Errors use
//! the catalog API's envelope.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use catalog::read::Snapshot;
use model::EntityRef;
use scorecards::{CheckDef, Counts, EntityScore, Evaluation, Scorecard, Summary};
use serde_json::{Map, Value, json};

use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// The evaluation of the current snapshot. The first request after a change may have to build
/// it (seconds at 50,000 entities), so that runs off the async workers.
fn evaluation(snap: &Snapshot) -> Arc<Evaluation> {
    catalog::off_async_workers(|| scorecards::evaluation(snap))
}

/// `GET /entities/{kind}/{namespace}/{name}`: every scorecard that applies, with the level the
/// entity reached (or null) and each check's result.
pub async fn entity(
    State(s): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> ApiResult {
    let snap = s.catalog.snapshot();
    let key = EntityRef::new(&kind, &namespace, &name).key();
    let Some(st) = snap.get(&key).cloned() else {
        return Err(ApiError::not_found(format!(
            "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        )));
    };
    let eval = evaluation(&snap);
    let cards: Vec<Value> = eval
        .for_entity(&st.key)
        .into_iter()
        .map(|(card, score)| entity_score(card, score))
        .collect();
    Ok(Json(json!({
        "entityRef": st.key,
        "evaluatedAt": eval.now.to_rfc3339(),
        "scorecards": cards,
    }))
    .into_response())
}

/// `GET /scorecards/{name}` (namespace `default`): the definition, counts over everything it
/// applies to, and the same counts per owning team.
pub async fn scorecard(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let eval = evaluation(&s.catalog.snapshot());
    let Some((card, scores)) = eval.scorecard(model::entity_ref::DEFAULT_NAMESPACE, &name) else {
        return Err(ApiError::not_found(format!(
            "No scorecard named '{name}' found in namespace 'default'"
        )));
    };
    let summary = Summary::of(card, scores);
    let teams: Vec<Value> = summary
        .teams
        .iter()
        .map(|t| {
            let mut v = counts(card, &t.counts);
            v.insert("ref".into(), json!(t.owner));
            v.into()
        })
        .collect();
    Ok(Json(json!({
        "scorecard": definition(card),
        "evaluatedAt": eval.now.to_rfc3339(),
        "summary": counts(card, &summary.all),
        "teams": teams,
    }))
    .into_response())
}

/// One scorecard as it applies to one entity.
pub(crate) fn entity_score(card: &Scorecard, score: &EntityScore) -> Value {
    let checks: Vec<Value> = card
        .checks
        .iter()
        .zip(&score.checks)
        .map(|(c, r)| {
            let mut v = Map::new();
            v.insert("id".into(), json!(c.id));
            v.insert("title".into(), json!(c.title));
            v.insert("level".into(), json!(c.level));
            v.insert("passed".into(), json!(r.passed));
            if let Some(e) = &r.error {
                v.insert("error".into(), json!(e));
            }
            if let Some(f) = &c.fix {
                v.insert("fix".into(), json!(f));
            }
            v.into()
        })
        .collect();
    json!({
        "ref": card.key,
        "name": card.name,
        "title": card.display_name(),
        "levels": card.levels,
        "level": score.level.map(|l| &card.levels[l]),
        "checks": checks,
    })
}

fn definition(card: &Scorecard) -> Value {
    let checks: Vec<Value> = card.checks.iter().map(check_definition).collect();
    let mut v = json!({
        "ref": card.key,
        "name": card.name,
        "namespace": card.namespace,
        "title": card.display_name(),
        "owner": card.owner,
        "filter": card.filter_text,
        "levels": card.levels,
        "checks": checks,
    });
    if let Some(e) = &card.error {
        v["error"] = json!(e);
    }
    v
}

fn check_definition(c: &CheckDef) -> Value {
    let mut v = json!({
        "id": c.id, "title": c.title, "level": c.level, "expression": c.expression, "fix": c.fix,
    });
    if let Err(e) = &c.program {
        v["error"] = json!(e);
    }
    v
}

/// `{total, none, levels: {level: n}, checks: {id: {passing, failing}}}`, in the scorecard's order.
fn counts(card: &Scorecard, c: &Counts) -> Map<String, Value> {
    let levels: Map<String, Value> = card
        .levels
        .iter()
        .zip(&c.levels)
        .map(|(l, n)| (l.clone(), json!(n)))
        .collect();
    let checks: Map<String, Value> = card
        .checks
        .iter()
        .zip(&c.checks)
        .map(|(d, pf)| {
            (
                d.id.clone(),
                json!({"passing": pf.passing, "failing": pf.failing}),
            )
        })
        .collect();
    let mut m = Map::new();
    m.insert("total".into(), json!(c.total));
    m.insert("none".into(), json!(c.none));
    m.insert("levels".into(), levels.into());
    m.insert("checks".into(), checks.into());
    m
}
