//! The adoption analytics API under `/api/analytics/v1` (docs/api.md): the ingest of Backstage
//! frontend analytics events, a group's (or the organisation's) measures on a day or as a time
//! series, every group's adoption, each as JSON or CSV; and `/metrics` for Prometheus. Errors
//! use the catalog API's envelope.

use std::fmt::Write;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde_json::json;

use crate::{ApiError, AppState, params};

type ApiResult = Result<Response, ApiError>;

/// `POST /events`: `{"events": [...]}` as Backstage's analytics API emits them. Answers
/// `{"accepted", "duplicates", "rejected": [{"index", "reason"}]}`: 200 when any event was
/// kept (or there were none), 400 when every one was rejected; a batch too large is 413, a
/// flood 429 with `Retry-After`.
pub async fn ingest(State(s): State<AppState>, body: axum::body::Bytes) -> ApiResult {
    let body = crate::catalog_api::json_body(&body)?;
    let recorder = analytics::Recorder::of(&s.catalog);
    match recorder.ingest(&body, Utc::now()).await {
        Ok(out) => {
            let status = if out.accepted + out.duplicates == 0 && !out.rejected.is_empty() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            Ok((status, Json(json!(out))).into_response())
        }
        Err(e @ analytics::BatchError::Shape(_)) => Err(ApiError::input(e.to_string())),
        Err(e @ analytics::BatchError::TooMany { .. }) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            e.to_string(),
        )),
        Err(e @ analytics::BatchError::RateLimited { retry_after, .. }) => {
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsError",
                e.to_string(),
            )
            .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(analytics::BatchError::Store(e)) => Err(store_error(e)),
    }
}

fn store_error(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "analytics storage error");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Error",
        "internal storage error",
    )
}

fn measure_error(e: analytics::MeasureError) -> ApiError {
    match e {
        analytics::MeasureError::UnknownGroup(_) => ApiError::not_found(e.to_string()),
        analytics::MeasureError::Range(m) => ApiError::input(m),
        analytics::MeasureError::Store(e) => store_error(e),
    }
}

fn date(pairs: &[(String, String)], key: &str) -> Result<Option<NaiveDate>, ApiError> {
    params::one(pairs, key)
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ApiError::input(format!("`{key}` must be a date YYYY-MM-DD, not {d:?}"))
            })
        })
        .transpose()
}

/// `group=checkout`, `group=group:default/checkout` → `group:default/checkout`.
fn group(pairs: &[(String, String)]) -> Result<Option<String>, ApiError> {
    params::one(pairs, "group")
        .filter(|g| !g.is_empty())
        .map(|g| {
            model::EntityRef::parse(g, Some("group"), "default")
                .map(|r| r.key())
                .map_err(|e| ApiError::input(format!("`group` {g:?}: {e}")))
        })
        .transpose()
}

fn csv_wanted(pairs: &[(String, String)]) -> Result<bool, ApiError> {
    match params::one(pairs, "format") {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::input(format!(
            "`format` must be json or csv, not {other:?}"
        ))),
    }
}

fn csv(name: &str, body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `GET /summary?group=<ref>&date=YYYY-MM-DD` (organisation when `group` is left out, today
/// when `date` is): one day's measures. With `from` and `to` instead: the time series.
/// `format=csv` for a spreadsheet.
pub async fn summary(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let pairs = params::pairs(q.as_deref());
    let group = group(&pairs)?;
    let csv_out = csv_wanted(&pairs)?;
    let recorder = analytics::Recorder::of(&s.catalog);
    let snap = s.catalog.snapshot();
    let today = Utc::now().date_naive();
    let (from, to) = (date(&pairs, "from")?, date(&pairs, "to")?);
    if from.is_some() || to.is_some() {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - chrono::Days::new(89));
        let series = recorder
            .series(&snap, group.as_deref(), from, to)
            .await
            .map_err(measure_error)?;
        if !csv_out {
            return Ok(Json(json!(series)).into_response());
        }
        let mut out = String::from("date,dau,wau,mau,mauShare,phase\n");
        for p in &series.points {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                p.date,
                p.dau,
                p.wau,
                p.mau,
                p.mau_share,
                p.phase.as_str()
            );
        }
        return Ok(csv("adoption-series", out));
    }
    let date = date(&pairs, "date")?.unwrap_or(today);
    let summary = recorder
        .summary(&snap, group.as_deref(), date)
        .await
        .map_err(measure_error)?;
    if !csv_out {
        return Ok(Json(json!(summary)).into_response());
    }
    let mut out = String::from("measure,value\n");
    let rows: Vec<(String, String)> = vec![
        ("group".into(), opt(summary.group.as_deref())),
        ("date".into(), summary.date.to_string()),
        ("engineers".into(), opt(summary.engineers)),
        ("dau".into(), opt(summary.dau)),
        ("wau".into(), opt(summary.wau)),
        ("mau".into(), opt(summary.mau)),
        ("mauShare".into(), opt(summary.mau_share)),
        ("phase".into(), opt(summary.phase.map(|p| p.as_str()))),
        ("chasm".into(), opt(summary.chasm)),
        (
            "searchSuccess".into(),
            opt(summary.search_success.as_ref().and_then(|s| s.share)),
        ),
        (
            "templateReach".into(),
            opt(summary.template_reach.as_ref().map(|t| t.share)),
        ),
        ("withheld".into(), opt(summary.withheld.as_deref())),
    ];
    for (k, v) in rows.into_iter().chain(
        summary
            .features
            .iter()
            .map(|(f, u)| (format!("feature:{f}"), u.users.to_string())),
    ) {
        let _ = writeln!(out, "{},{}", field(&k), field(&v));
    }
    Ok(csv("adoption-summary", out))
}

/// `GET /checklist?user=<ref>`: one person's onboarding checklist with the next step;
/// `?group=<ref>` (or neither, for the organisation): the share of engineers who have unlocked
/// each step.
pub async fn checklist(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let pairs = params::pairs(q.as_deref());
    let recorder = analytics::Recorder::of(&s.catalog);
    let snap = s.catalog.snapshot();
    if let Some(u) = params::one(&pairs, "user") {
        let user = model::EntityRef::parse(u, Some("user"), "default")
            .map_err(|e| ApiError::input(format!("`user` {u:?}: {e}")))?
            .key();
        if snap.entity(&user).is_none() {
            return Err(ApiError::not_found(format!("No user named '{user}' found")));
        }
        let c = recorder
            .checklist(&snap, &user)
            .await
            .map_err(measure_error)?;
        return Ok(Json(json!(c)).into_response());
    }
    let c = recorder
        .group_checklist(&snap, group(&pairs)?.as_deref())
        .await
        .map_err(measure_error)?;
    Ok(Json(json!(c)).into_response())
}

/// `GET /teams?date=YYYY-MM-DD`: every group with engineers, most adopted first.
pub async fn teams(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult {
    let pairs = params::pairs(q.as_deref());
    let csv_out = csv_wanted(&pairs)?;
    let date = date(&pairs, "date")?.unwrap_or_else(|| Utc::now().date_naive());
    let rows = analytics::Recorder::of(&s.catalog)
        .teams(&s.catalog.snapshot(), date)
        .await
        .map_err(measure_error)?;
    if !csv_out {
        return Ok(Json(json!({"date": date, "groups": rows})).into_response());
    }
    let mut out = String::from("group,name,type,engineers,mau,mauShare,phase,chasm,withheld\n");
    for r in &rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            field(&r.group),
            field(&r.name),
            field(&r.kind),
            opt(r.engineers),
            opt(r.mau),
            opt(r.mau_share),
            opt(r.phase.map(|p| p.as_str())),
            opt(r.chasm),
            field(&opt(r.withheld.as_deref()))
        );
    }
    Ok(csv("adoption-teams", out))
}

/// `GET /metrics`: Prometheus text exposition of the organisation's adoption today (withheld
/// under the k-threshold) and the event counters since start.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let recorder = analytics::Recorder::of(&s.catalog);
    let today = Utc::now().date_naive();
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str, v: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    match recorder.summary(&s.catalog.snapshot(), None, today).await {
        Ok(sum) if sum.withheld.is_none() => {
            let n = |v: Option<usize>| v.unwrap_or(0) as f64;
            gauge(
                &mut out,
                "stagedoor_adoption_engineers",
                "Engineers in the population (catalog Users, filtered).",
                n(sum.engineers),
            );
            gauge(
                &mut out,
                "stagedoor_adoption_dau",
                "Engineers active today (UTC).",
                n(sum.dau),
            );
            gauge(
                &mut out,
                "stagedoor_adoption_wau",
                "Engineers active in the last 7 days.",
                n(sum.wau),
            );
            gauge(
                &mut out,
                "stagedoor_adoption_mau",
                "Engineers active in the last 28 days.",
                n(sum.mau),
            );
            gauge(
                &mut out,
                "stagedoor_adoption_mau_ratio",
                "MAU as a share of engineers.",
                sum.mau_share.unwrap_or(0.0),
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "adoption metrics"),
    }
    let c = recorder.counters();
    let counter = |out: &mut String, name: &str, help: &str, v: &std::sync::atomic::AtomicU64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            v.load(std::sync::atomic::Ordering::Relaxed)
        );
    };
    counter(
        &mut out,
        "stagedoor_analytics_events_stored_total",
        "Usage events stored.",
        &c.stored,
    );
    counter(
        &mut out,
        "stagedoor_analytics_events_duplicate_total",
        "Usage events whose id was already stored.",
        &c.duplicates,
    );
    counter(
        &mut out,
        "stagedoor_analytics_events_rejected_total",
        "Ingested events rejected as invalid.",
        &c.rejected,
    );
    counter(
        &mut out,
        "stagedoor_analytics_events_dropped_total",
        "Recorded events dropped (queue full or storage failed).",
        &c.dropped,
    );
    counter(
        &mut out,
        "stagedoor_analytics_batches_rate_limited_total",
        "Ingest batches refused by the rate bound.",
        &c.rate_limited,
    );
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(super::field("a"), "a");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
