//! The scaffolder API under `/api/scaffolder/v2` (docs/api.md), in Backstage's shapes and
//! status codes: parameter schemas, actions, dry-run, and tasks with their events (polled or as
//! server-sent events). Errors use Backstage's envelope, except bad values, which answer
//! `400 {errors: [...]}` as Backstage does.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaffolder::runner::RunUser;
use scaffolder::{Scaffolder, ScaffolderError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Identity;
use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// Bodies a dry-run may send (its files as base64); the engine bounds them again, decoded.
pub const MAX_BODY: usize = 48 * 1024 * 1024;

/// A scaffolder error as Backstage answers it.
fn answer(e: ScaffolderError) -> ApiResult {
    match e {
        ScaffolderError::Values(errors) => {
            Ok((StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response())
        }
        ScaffolderError::Internal(m) => {
            tracing::error!(error = %m, "scaffolder error");
            Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error", m))
        }
        other => Err(ApiError::new(
            StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            other.name(),
            other.to_string(),
        )),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::input(format!("Malformed request body: {e}")))
}

/// The signed-in user as templates see it (`user.ref`, `user.entity`).
pub(crate) fn run_user(s: &AppState, who: &Identity) -> RunUser {
    let entity_ref = who.user.as_ref().map(|u| u.key());
    let entity = entity_ref
        .as_deref()
        .and_then(|r| s.catalog.snapshot().entity(r))
        .map(|e| e.json().clone());
    RunUser { entity_ref, entity }
}

/// Records a template run as a usage event (`create`, the template's ref), which the adoption
/// dashboard counts as use of templates and for template reach.
pub(crate) fn record_run(s: &AppState, who: &Identity, template_ref: &str) {
    if let Some(user) = &who.user {
        analytics::Recorder::of(&s.catalog).record(
            analytics::Event::server(&user.key(), "create", template_ref, "scaffolder")
                .with_entity(template_ref),
        );
    }
}

/// `GET /templates/{namespace}/{kind}/{name}/parameter-schema`.
pub async fn parameter_schema(
    State(s): State<AppState>,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> ApiResult {
    match Scaffolder::template(&s.catalog, &namespace, &kind, &name) {
        Ok((_, t)) => Ok(Json(t.parameter_schema()).into_response()),
        Err(e) => answer(e),
    }
}

/// `GET /actions`: every built-in action with its schemas.
pub async fn actions() -> Response {
    Json(
        scaffolder::actions::ACTIONS
            .iter()
            .map(|a| a.to_json())
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// `POST /dry-run`.
pub async fn dry_run(State(s): State<AppState>, who: Identity, body: Bytes) -> ApiResult {
    let request: scaffolder::dryrun::DryRunRequest = parse_body(&body)?;
    let user = run_user(&s, &who);
    let work = Scaffolder::of(&s.catalog).settings().work_dir;
    let services = scaffolder::actions::Services {
        catalog: Some(s.catalog.clone()),
        publish_root: None,
        http_allow: Vec::new(),
    };
    match scaffolder::dryrun::dry_run(scaffolder::engine(), request, &user, &work, &services).await
    {
        Ok(v) => Ok(Json(v).into_response()),
        Err(e) => answer(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTask {
    template_ref: String,
    #[serde(default)]
    values: Value,
    #[serde(default)]
    secrets: Value,
}

/// `POST /tasks`: 201 `{id}`.
pub async fn create_task(State(s): State<AppState>, who: Identity, body: Bytes) -> ApiResult {
    let req: CreateTask = parse_body(&body)?;
    let user = run_user(&s, &who);
    let scaffolder = Scaffolder::of(&s.catalog);
    let secrets = if req.secrets.is_null() {
        json!({})
    } else {
        req.secrets
    };
    match scaffolder
        .create_task(&s.catalog, &req.template_ref, req.values, secrets, user)
        .await
    {
        Ok(id) => {
            record_run(&s, &who, &req.template_ref);
            Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
        }
        Err(e) => answer(e),
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(rename = "createdBy")]
    created_by: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /tasks?createdBy=&status=&limit=&offset=`: `{tasks, totalTasks}`, newest first.
pub async fn list_tasks(State(s): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let offset = q.offset.unwrap_or(0).max(0);
    let created_by = q.created_by.map(|c| c.to_lowercase());
    let (rows, total) = s
        .catalog
        .database()
        .list_tasks(created_by.as_deref(), q.status.as_deref(), limit, offset)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error", e.to_string()))?;
    Ok(Json(json!({
        "tasks": rows.iter().map(scaffolder::tasks::task_json).collect::<Vec<_>>(),
        "totalTasks": total,
    }))
    .into_response())
}

/// `GET /tasks/{id}`.
pub async fn task(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    match Scaffolder::task(&s.catalog, &id).await {
        Ok(t) => Ok(Json(scaffolder::tasks::task_json(&t)).into_response()),
        Err(e) => answer(e),
    }
}

/// `POST /tasks/{id}/cancel`: `{status}`.
pub async fn cancel_task(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    match Scaffolder::of(&s.catalog).cancel(&s.catalog, &id).await {
        Ok(status) => Ok(Json(json!({"status": status})).into_response()),
        Err(e) => answer(e),
    }
}

/// `POST /tasks/{id}/retry`: 201 `{id}`.
pub async fn retry_task(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    match Scaffolder::of(&s.catalog).retry(&s.catalog, &id).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response()),
        Err(e) => answer(e),
    }
}

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<String>,
}

fn after(q: &EventsQuery) -> Result<Option<i64>, ApiError> {
    q.after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<i64>()
                .map_err(|_| ApiError::input(format!("after must be an event id, got {a:?}")))
        })
        .transpose()
}

/// `GET /tasks/{id}/events?after=`: the stored events after `after`.
pub async fn events(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult {
    let after = after(&q)?;
    match Scaffolder::of(&s.catalog)
        .events(&s.catalog, &id, after)
        .await
    {
        Ok((events, _)) => Ok(Json(events).into_response()),
        Err(e) => answer(e),
    }
}

/// `GET /tasks/{id}/eventstream?after=`: server-sent events (`event: log|completion`), the
/// stored ones first, then live ones until the completion. A comment every 15 s keeps proxies
/// from closing a quiet stream.
pub async fn event_stream(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult {
    let after = after(&q)?;
    let (stored, live) = match Scaffolder::of(&s.catalog)
        .events(&s.catalog, &id, after)
        .await
    {
        Ok(x) => x,
        Err(e) => return answer(e),
    };
    let done = stored.iter().any(|e| e["type"] == "completion");
    let last_seen = stored
        .last()
        .and_then(|e| e["id"].as_i64())
        .or(after)
        .unwrap_or(0);
    let live = if done { None } else { live };
    let state = (stored.into_iter(), live, last_seen, false);
    let stream = futures_util::stream::unfold(
        state,
        |(mut stored, mut live, mut seen, finished)| async move {
            if finished {
                return None;
            }
            if let Some(e) = stored.next() {
                let end = e["type"] == "completion";
                return Some((Ok::<_, Infallible>(sse(&e)), (stored, live, seen, end)));
            }
            let rx = live.as_mut()?;
            loop {
                match tokio::time::timeout(Duration::from_secs(15), rx.recv()).await {
                    Err(_) => {
                        return Some((
                            Ok(Bytes::from_static(b": keep-alive\n\n")),
                            (stored, live, seen, false),
                        ));
                    }
                    Ok(Ok(e)) => {
                        let id = e["id"].as_i64().unwrap_or(0);
                        if id <= seen {
                            continue;
                        }
                        seen = id;
                        let end = e["type"] == "completion";
                        return Some((Ok(sse(&e)), (stored, live, seen, end)));
                    }
                    // Lagged: the client reconnects with `after` and reads what it missed.
                    Ok(Err(_)) => return None,
                }
            }
        },
    );
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("static response parts"))
}

fn sse(event: &Value) -> Bytes {
    let kind = event["type"].as_str().unwrap_or("log");
    Bytes::from(format!("event: {kind}\ndata: {event}\n\n"))
}
