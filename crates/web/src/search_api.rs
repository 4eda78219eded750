//! `GET /api/search/query` in the shape of Backstage's search backend: `term`, `types[]`,
//! `filters[field]=value` (or `filters[field][]=…` for any of several) and `pageCursor` (plus
//! `pageLimit`) in; `{results: [{type, document, highlight, rank}], nextPageCursor,
//! previousPageCursor, numberOfResults}` out. Bad parameters answer 400 in the catalog API's
//! error envelope. See docs/api.md, "Search".

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use search::{DocType, Hit, Query, Results};
use serde_json::{Map, Value, json};

use crate::auth::Identity;
use crate::pages::search::record;
use crate::{ApiError, AppState, params};

/// Reads Backstage's query string (as the `qs` package writes it) into a [`Query`].
pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
    let pairs = params::pairs(raw);
    let mut q = Query::new("");
    let mut filters: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &pairs {
        if k == "term" {
            q.term = v.clone();
        } else if k == "types" || k.starts_with("types[") {
            let t = DocType::parse(v).ok_or_else(|| {
                ApiError::input(format!(
                    "Invalid query string: {}",
                    search::QueryError::UnknownType(v.clone())
                ))
            })?;
            if !q.types.contains(&t) {
                q.types.push(t);
            }
        } else if let Some(rest) = k.strip_prefix("filters[") {
            // `filters[kind]`, `filters[kind][]`, `filters[kind][0]`.
            let Some((field, tail)) = rest.split_once(']') else {
                return Err(ApiError::input(format!(
                    "Invalid query string: bad filter '{k}'"
                )));
            };
            if field.is_empty() || !(tail.is_empty() || tail.starts_with('[')) {
                return Err(ApiError::input(format!(
                    "Invalid query string: bad filter '{k}'"
                )));
            }
            match filters.iter_mut().find(|(f, _)| f == field) {
                Some((_, values)) => values.push(v.clone()),
                None => filters.push((field.to_owned(), vec![v.clone()])),
            }
            if filters.len() > 20 || filters.iter().any(|(_, v)| v.len() > 50) {
                return Err(ApiError::input("Invalid query string: too many filters"));
            }
        } else if k == "pageCursor" && !v.is_empty() {
            q.page = search::decode_cursor(v)
                .map_err(|e| ApiError::input(format!("Invalid query string: {e}")))?;
        } else if k == "pageLimit" {
            q.limit = v.parse().map_err(|_| {
                ApiError::input(format!(
                    "Invalid query string: {}",
                    search::QueryError::BadLimit(v.clone())
                ))
            })?;
        }
    }
    q.filters = filters;
    q.check()
        .map_err(|e| ApiError::input(format!("Invalid query string: {e}")))?;
    Ok(q)
}

/// `GET /api/search/query`.
pub async fn query(
    State(s): State<AppState>,
    me: Identity,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = parse(raw.as_deref())?;
    let results = catalog::off_async_workers(|| search::index(&s.catalog).search(&q))
        .map_err(|e| ApiError::input(format!("Invalid query string: {e}")))?;
    let user = me.user.as_ref().map(|u| u.key());
    record::search_made(&s.catalog, &q, results.total, "api", user.as_deref());
    Ok(Json(result_set(&results)).into_response())
}

/// The whole answer, in Backstage's `SearchResultSet` shape.
pub fn result_set(r: &Results) -> Value {
    let mut out = Map::new();
    out.insert("results".into(), r.hits.iter().map(result).collect());
    if let Some(p) = r.next_page {
        out.insert("nextPageCursor".into(), json!(search::encode_cursor(p)));
    }
    if let Some(p) = r.previous_page {
        out.insert("previousPageCursor".into(), json!(search::encode_cursor(p)));
    }
    out.insert("numberOfResults".into(), json!(r.total));
    out.into()
}

fn result(h: &Hit) -> Value {
    let d = &h.document;
    let mut document = Map::new();
    document.insert("title".into(), json!(d.title));
    document.insert("text".into(), json!(d.text));
    document.insert("location".into(), json!(d.location));
    for (k, v) in &d.facets {
        document.entry(k.clone()).or_insert_with(|| json!(v));
    }
    let fields: Map<String, Value> = h
        .highlight
        .iter()
        .map(|(f, v)| ((*f).to_owned(), json!(v)))
        .collect();
    json!({
        "type": d.doc_type.as_str(),
        "document": document,
        "highlight": {"preTag": search::PRE_TAG, "postTag": search::POST_TAG, "fields": fields},
        "rank": h.rank,
    })
}
