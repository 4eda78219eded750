//! The scorecards JSON API under `/api/scorecards/v1` (docs/api.md): one entity's scores under
//! every scorecard that applies to it, one scorecard's counts per owning team, and campaigns
//! with their teams and history. Errors use the catalog API's envelope.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use catalog::read::Snapshot;
use model::EntityRef;
use scorecards::{
    CampaignStatus, CheckDef, Counts, EntityScore, Evaluation, Progress, Scorecard, Summary,
};
use serde_json::{Map, Value, json};

use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// The evaluation of the current snapshot. The first request after a change may have to build
/// it (seconds at 50,000 entities), so that runs off the async workers.
fn evaluation(s: &AppState, snap: &Arc<Snapshot>) -> Arc<Evaluation> {
    catalog::off_async_workers(|| scorecards::evaluation(&s.catalog, snap))
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
    let eval = evaluation(&s, &snap);
    let cards: Vec<Value> = eval
        .for_entity(st.key())
        .into_iter()
        .map(|(card, score)| entity_score(card, score))
        .collect();
    Ok(Json(json!({
        "entityRef": st.key(),
        "evaluatedAt": eval.now.to_rfc3339(),
        "scorecards": cards,
    }))
    .into_response())
}

/// `GET /scorecards/{name}` (namespace `default`): the definition, counts over everything it
/// applies to, the same counts per owning team, and per group with everything its sub-groups
/// own (a tree in preorder: `parent` and `depth` place each node).
pub async fn scorecard(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let snap = s.catalog.snapshot();
    let eval = evaluation(&s, &snap);
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
    let rollup = eval
        .rollup(card, &snap)
        .unwrap_or_else(|| Arc::new(scorecards::RollUp::of(card, scores, &snap)));
    let groups: Vec<Value> = rollup
        .groups
        .iter()
        .map(|g| {
            let mut v = Map::new();
            v.insert("ref".into(), json!(g.owner));
            v.insert("parent".into(), json!(g.parent));
            v.insert("depth".into(), json!(g.depth));
            v.extend(counts(card, &g.counts));
            v.into()
        })
        .collect();
    // Recorded days whose checks match the scorecard's, then today's live totals.
    let today = eval.now.date_naive();
    let history: Vec<Value> = Progress::of(&s.catalog)
        .scorecard_history(card, &summary.all, today)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "reading scorecard history");
            vec![scorecards::DayTotals::live(today, &summary.all)]
        })
        .iter()
        .filter_map(|d| Some(day_totals(card, d, d.passing.as_deref()?)))
        .collect();
    Ok(Json(json!({
        "scorecard": definition(card),
        "evaluatedAt": eval.now.to_rfc3339(),
        "summary": counts(card, &summary.all),
        "teams": teams,
        "groups": groups,
        "history": history,
    }))
    .into_response())
}

/// One day of a scorecard: `{date, total, levels: {level: n, none: n}, checks: {id: passing}}`.
fn day_totals(card: &Scorecard, d: &scorecards::DayTotals, passing: &[usize]) -> Value {
    let mut l: Map<String, Value> = card
        .levels
        .iter()
        .zip(&d.levels)
        .map(|(name, n)| (name.clone(), json!(n)))
        .collect();
    l.insert("none".into(), json!(d.levels.last()));
    let c: Map<String, Value> = card
        .checks
        .iter()
        .zip(passing)
        .map(|(check, n)| (check.id.clone(), json!(n)))
        .collect();
    json!({"date": d.day.to_string(), "total": d.total, "levels": l, "checks": c})
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
            if let Some(x) = &r.exempt {
                v.insert(
                    "exempt".into(),
                    json!({"reason": x.reason, "until": x.until.to_string()}),
                );
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

/// `GET /scorecards`: every scorecard with its counts over everything it applies to.
pub async fn scorecards(State(s): State<AppState>) -> ApiResult {
    let eval = evaluation(&s, &s.catalog.snapshot());
    let items: Vec<Value> = eval
        .all_scorecards()
        .map(|(card, scores)| {
            json!({
                "scorecard": definition(card),
                "summary": counts(card, &Summary::of(card, scores).all),
            })
        })
        .collect();
    Ok(Json(json!({"evaluatedAt": eval.now.to_rfc3339(), "items": items})).into_response())
}

/// `GET /campaigns`: every campaign with its totals.
pub async fn campaigns(State(s): State<AppState>) -> ApiResult {
    let eval = evaluation(&s, &s.catalog.snapshot());
    let today = eval.now.date_naive();
    let items: Vec<Value> = eval
        .campaigns
        .iter()
        .map(|c| {
            let mut v = campaign_head(c, today);
            v.insert("total".into(), json!(c.total()));
            v.insert("passing".into(), json!(c.passing));
            v.insert("failing".into(), json!(c.failing()));
            v.into()
        })
        .collect();
    Ok(Json(json!({"evaluatedAt": eval.now.to_rfc3339(), "items": items})).into_response())
}

/// `GET /campaigns/{name}` (namespace `default`): totals, each team's standing, each entity's
/// checks and the daily history of failing entities.
pub async fn campaign(
    State(s): State<AppState>,
    Path(name): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    // `entities=all` (the default), `failing` or `none`: at 50,000 entities the full list is
    // megabytes, which a dashboard polling for its counts does not want.
    let which = q.get("entities").map_or("all", String::as_str);
    if !matches!(which, "all" | "failing" | "none") {
        return Err(ApiError::input(format!(
            "entities must be all, failing or none, not {which:?}"
        )));
    }
    let eval = evaluation(&s, &s.catalog.snapshot());
    let Some(c) = eval.campaign(model::entity_ref::DEFAULT_NAMESPACE, &name) else {
        return Err(ApiError::not_found(format!(
            "No campaign named '{name}' found in namespace 'default'"
        )));
    };
    let today = eval.now.date_naive();
    let report = Progress::of(&s.catalog)
        .report(c, today, eval.now.timestamp_millis())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading campaign history");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "internal storage error",
            )
        })?;
    let teams: Vec<Value> = c
        .teams
        .iter()
        .map(|t| {
            let mut v = json!({
                "ref": t.owner, "total": t.total, "passing": t.passing,
                "failing": t.total - t.passing,
            });
            if let Some((_, at)) = report
                .finished
                .iter()
                .find(|(f, _)| Some(f) == t.owner.as_ref())
            {
                v["finishedAt"] = json!(rfc3339(*at));
            }
            v
        })
        .collect();
    let entities: Vec<Value> = c
        .entities
        .iter()
        .filter(|e| which == "all" || (which == "failing" && !e.passing()))
        .map(|e| {
            let failing: Vec<&str> = c
                .checks
                .iter()
                .zip(&e.checks)
                .filter(|(_, r)| !r.passed)
                .map(|(d, _)| d.reference.as_str())
                .collect();
            json!({"entityRef": e.entity_ref, "owner": e.owner, "passing": e.passing(), "failingChecks": failing})
        })
        .collect();
    let history: Vec<Value> = report
        .history
        .iter()
        .map(|d| json!({"date": d.day, "failing": d.failing, "total": d.total, "source": d.source}))
        .collect();
    let mut v = campaign_head(c, today);
    v.insert("total".into(), json!(c.total()));
    v.insert("passing".into(), json!(c.passing));
    v.insert("failing".into(), json!(c.failing()));
    v.insert("teams".into(), teams.into());
    v.insert("entities".into(), entities.into());
    v.insert("history".into(), history.into());
    if let Some((team, drop)) = &report.most_improved {
        v.insert(
            "mostImprovedThisWeek".into(),
            json!({"ref": team, "fixed": drop}),
        );
    }
    v.insert("evaluatedAt".into(), json!(eval.now.to_rfc3339()));
    Ok(Json(Value::Object(v)).into_response())
}

/// What a campaign is: its definition, dates and phase today.
fn campaign_head(c: &CampaignStatus, today: chrono::NaiveDate) -> Map<String, Value> {
    let d = &c.campaign;
    let checks: Vec<Value> = c
        .checks
        .iter()
        .map(|k| {
            let mut v = json!({"ref": k.reference, "title": k.title, "fix": k.fix});
            if let Some(e) = &k.error {
                v["error"] = json!(e);
            }
            v
        })
        .collect();
    let mut m = Map::new();
    m.insert("ref".into(), json!(d.key));
    m.insert("name".into(), json!(d.name));
    m.insert("title".into(), json!(d.display_name()));
    m.insert("owner".into(), json!(d.owner));
    m.insert("filter".into(), json!(d.filter_text));
    m.insert("checks".into(), checks.into());
    m.insert("start".into(), json!(d.start.map(|s| s.to_string())));
    m.insert("deadline".into(), json!(d.deadline.map(|s| s.to_string())));
    m.insert("status".into(), json!(c.phase(today).as_str()));
    m
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `POST /facts`: facts pushed by another system, one item or a list of up to
/// `scorecards::MAX_BATCH`: `{entityRef, source, facts, ttlSeconds?}`. Each invalid item is
/// rejected with its index and reason; the valid ones in the same batch are kept. 200 with
/// `{accepted, rejected: [{index, error}]}` when any item was kept, 400 when none was.
pub async fn push_facts(State(s): State<AppState>, body: axum::body::Bytes) -> ApiResult {
    let body = crate::catalog_api::json_body(&body)?;
    let items = match body {
        Value::Array(items) => items,
        Value::Object(_) => vec![body],
        _ => {
            return Err(ApiError::input(
                "the body must be one fact item or a list of them",
            ));
        }
    };
    let outcome = match scorecards::push(&s.catalog, &items).await {
        Ok(o) => o,
        Err(scorecards::PushError::TooMany(n)) => {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeError",
                scorecards::PushError::TooMany(n).to_string(),
            ));
        }
        Err(scorecards::PushError::Store(e)) => {
            tracing::error!(error = %e, "storing pushed facts");
            return Err(ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "internal storage error",
            ));
        }
    };
    let status = if outcome.accepted == 0 && !outcome.rejected.is_empty() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(json!(outcome))).into_response())
}
