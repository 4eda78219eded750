//! The org import API under `/api/discovery/v1/org-import` (docs/api.md): the latest import
//! and dry run, a dry run now (what would be added, changed and removed, per field) and an
//! import now. Errors use the catalog API's envelope.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use org::{ImportError, OrgImport};
use serde_json::json;

use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

fn error(e: ImportError) -> ApiError {
    match e {
        ImportError::NotConfigured => {
            ApiError::new(StatusCode::NOT_FOUND, "NotFoundError", e.to_string())
        }
    }
}

/// `GET /org-import`: the configured sources and the latest import and dry run (or `null`).
pub async fn status(State(s): State<AppState>) -> ApiResult {
    let state = OrgImport::of(&s.catalog);
    let sources: Vec<_> = state
        .settings()
        .map(|(settings, _)| {
            settings
                .sources
                .iter()
                .map(|src| json!({"id": src.id, "kind": src.kind.name()}))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "sources": sources,
        "lastImport": state.last_import().as_deref(),
        "lastPreview": state.last_preview().as_deref(),
    }))
    .into_response())
}

/// `GET /org-import/preview`: reads every source now and answers what an import would change,
/// writing nothing.
pub async fn preview(State(s): State<AppState>) -> ApiResult {
    let report = OrgImport::of(&s.catalog)
        .run_now(&s.catalog, true)
        .await
        .map_err(error)?;
    Ok(Json(report.as_ref()).into_response())
}

/// `POST /org-import/apply`: imports every source now; answers after the catalog has read the
/// files.
pub async fn apply(State(s): State<AppState>) -> ApiResult {
    let report = OrgImport::of(&s.catalog)
        .run_now(&s.catalog, false)
        .await
        .map_err(error)?;
    Ok(Json(report.as_ref()).into_response())
}
