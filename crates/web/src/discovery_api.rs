//! The discovery JSON API under `/api/discovery/v1` (docs/api.md): the repositories found with
//! their proposals, completeness per team with its trend, a scan on demand; and Backstage's
//! `POST /api/catalog/analyze-location` answered from a local repository. Errors use the catalog
//! API's envelope.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use discovery::{Completeness, Counts, Proposal, Repository, State as Discovery};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// Largest request body read (an analyze-location request is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFoundError",
        "discovery has no repository source configured (see discovery.sources in docs/configuration.md)",
    )
}

pub(crate) fn completeness(s: &AppState) -> Option<(Arc<Discovery>, Arc<Completeness>)> {
    let state = Discovery::of(&s.catalog);
    let snap = s.catalog.snapshot();
    let c = catalog::off_async_workers(|| state.completeness(&snap))?;
    Some((state, c))
}

fn counts(c: &Counts) -> Value {
    json!({"found": c.found, "cataloged": c.cataloged, "percent": c.percent()})
}

pub(crate) fn proposal_json(p: &Proposal) -> Value {
    json!({"entity": p.entity, "guesses": p.guesses, "yaml": p.to_yaml()})
}

fn repository_json(r: &Repository) -> Value {
    json!({
        "path": r.path,
        "name": r.name,
        "cataloged": r.is_cataloged(),
        "catalogFiles": r.catalog_files,
        "defaultBranch": r.default_branch,
        "head": r.head,
        "bare": r.bare,
        "archived": r.archived,
        "lastCommit": r.last_commit,
        "languages": r.languages.iter().map(|(l, b)| json!({"language": l, "bytes": b})).collect::<Vec<_>>(),
        "ci": r.ci,
        "codeowners": r.codeowners.as_ref().map(|c| &c.path),
        "contributors": r.contributors,
        "problems": r.problems,
        "topics": r.topics,
        "host": r.host.as_ref().map(|h| json!({"kind": h.kind, "project": h.project, "activity": h.activity})),
    })
}

/// `GET /repositories`: every repository of the latest scan with its owner and proposal, the
/// missing ones, and the unreadable ones.
pub async fn repositories(State(s): State<AppState>) -> ApiResult {
    let (state, c) = completeness(&s).ok_or_else(not_configured)?;
    let inventory = state.inventory().unwrap_or_default();
    let repos: Vec<Value> = c
        .repositories
        .iter()
        .map(|r| {
            let mut v = repository_json(&r.repository);
            v["owner"] = json!(r.owner);
            let path = r.repository.path.display().to_string();
            v["changeRequest"] = json!(state.change_request(&path));
            v["entities"] = json!(r.entities);
            match &r.proposal {
                Some(Ok(p)) => v["proposal"] = proposal_json(p),
                Some(Err(e)) => v["proposalError"] = json!(e.to_string()),
                None => v["proposal"] = Value::Null,
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "scannedAt": inventory.scanned_at,
        "repositories": repos,
        "missing": inventory.missing.iter().map(|(r, at)| json!({"path": r.path, "name": r.name, "missingSince": at})).collect::<Vec<_>>(),
        "errors": inventory.errors,
    }))
    .into_response())
}

/// `GET /completeness`: counts for the org, per group (with sub-groups) and for repositories
/// without an owning group; ownership gaps; orphans; and the org's daily trend.
pub async fn completeness_report(State(s): State<AppState>) -> ApiResult {
    let (_, c) = completeness(&s).ok_or_else(not_configured)?;
    let trend = trend(&s, "org").await?;
    Ok(Json(json!({
        "org": counts(&c.org),
        "unowned": counts(&c.unowned),
        "groups": c.groups.iter().map(|g| json!({
            "group": g.group, "name": g.name, "type": g.kind, "parent": g.parent, "depth": g.depth,
            "own": counts(&g.own), "total": counts(&g.total),
        })).collect::<Vec<_>>(),
        "ownerGaps": c.owner_gaps,
        "orphans": c.orphans,
        "missingRepositories": c.missing_repositories.iter().map(|(p, at)| json!({"path": p, "missingSince": at})).collect::<Vec<_>>(),
        "trend": trend.iter().map(|d| json!({"day": d.day, "found": d.found, "cataloged": d.cataloged})).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The last 90 days of one scope's recorded completeness.
pub(crate) async fn trend(
    s: &AppState,
    scope: &str,
) -> Result<Vec<discovery::CompletenessDay>, ApiError> {
    let since = (chrono::Utc::now() - chrono::Days::new(90))
        .format("%Y-%m-%d")
        .to_string();
    Discovery::trend(&s.catalog, scope, &since)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error", e.to_string()))
}

/// `POST /scan`: scans the sources now and answers what changed.
pub async fn scan(State(s): State<AppState>) -> ApiResult {
    let state = Discovery::of(&s.catalog);
    if state.settings().is_none() {
        return Err(not_configured());
    }
    let inv = state
        .sync_now(&s.catalog)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error", e.to_string()))?;
    Ok(Json(json!({
        "repositories": inv.repositories.len(),
        "read": inv.read,
        "reused": inv.reused,
        "registered": inv.registered,
        "missing": inv.missing.len(),
        "errors": inv.errors,
        "registerErrors": inv.register_errors,
    }))
    .into_response())
}

/// Backstage's `POST /api/catalog/analyze-location`: `{location: {type, target}}` naming a local
/// repository under a configured source, or a GitHub/GitLab repository of the latest scan (its
/// web page or a URL under it); answers `{existingEntityFiles: [{location,
/// isRegistered, entity}], generateEntities: [{entity, fields: [{field, state, value,
/// description}]}]}`.
pub async fn analyze_location(State(s): State<AppState>, body: Bytes) -> ApiResult {
    if body.len() > MAX_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "InputError",
            "request body too large",
        ));
    }
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::input(format!("request body is not JSON: {e}")))?;
    let target = body
        .pointer("/location/target")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::input("location.target must be a string"))?
        .to_owned();
    let state = Discovery::of(&s.catalog);
    let settings = state.settings().ok_or_else(not_configured)?;
    let snap = s.catalog.snapshot();
    let directory = discovery::Directory::of(&snap);
    let inventory = state.inventory().unwrap_or_default();
    let analysis =
        match discovery::analyze_hosted(&target, &inventory.repositories, &directory) {
            Some(found) => found.map_err(|e| ApiError::input(e.to_string()))?,
            None => tokio::task::spawn_blocking(move || {
                discovery::analyze(&target, &settings, &directory)
            })
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error", e.to_string()))?
            .map_err(|e| match e {
                discovery::AnalyzeError::NotAllowed(m) => {
                    ApiError::input(format!("{m} is not under a configured repository source"))
                }
                discovery::AnalyzeError::Unreadable(m) => ApiError::input(m),
            })?,
        };
    let existing: Vec<Value> = analysis
        .files
        .iter()
        .flat_map(|(file, entities)| {
            let (kind, target) = discovery::location_of(&analysis.repository, file);
            let snap = &snap;
            entities.iter().map(move |e| {
                let registered = entity_key(e).is_some_and(|k| snap.entity(&k).is_some());
                json!({"location": {"type": kind, "target": target}, "isRegistered": registered, "entity": e})
            })
        })
        .collect();
    let generate: Vec<Value> = match &analysis.proposal {
        Some(Ok(p)) => vec![json!({
            "entity": p.entity,
            "fields": p.guesses.iter().map(|g| json!({
                "field": g.field,
                "state": "analysisSuggestedValue",
                "value": match &g.value { Value::String(v) => json!(v), Value::Null => Value::Null, other => json!(other.to_string()) },
                "description": g.evidence.join("; "),
            })).collect::<Vec<_>>(),
        })],
        Some(Err(e)) => return Err(ApiError::input(e.to_string())),
        None => vec![],
    };
    Ok(
        Json(json!({"existingEntityFiles": existing, "generateEntities": generate}))
            .into_response(),
    )
}

fn entity_key(e: &Value) -> Option<String> {
    let kind = e.get("kind")?.as_str()?;
    let name = e.pointer("/metadata/name")?.as_str()?;
    let ns = e
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    Some(format!("{kind}:{ns}/{name}").to_lowercase())
}
