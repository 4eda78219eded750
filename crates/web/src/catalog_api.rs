//! Backstage's catalog REST API (`/api/catalog/...`): same paths, parameters, JSON shapes and
//! status codes as the catalog backend, answered from the in-memory snapshot.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use catalog::LocationSpec;
use catalog::off_async_workers;
use catalog::read::Stitched;
use catalog::read::{self, FullText, Order, QueryRequest};
use model::filter::{self, Filter};
use serde_json::{Value, json};

use crate::params;
use crate::{ApiError, AppState};

type ApiResult = Result<Response, ApiError>;

/// Largest request body accepted (by-refs, by-query, locations, validate-entity).
const MAX_BODY: usize = 1024 * 1024;
/// Largest page a client may ask for, so one request cannot serialise the whole catalog twice.
const MAX_LIMIT: usize = 10_000;

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Serialises entities as a JSON array, splicing stored JSON text (no re-encoding) unless
/// `fields` asks for a projection.
fn entities_json(items: &[Arc<Stitched>], fields: &[String]) -> String {
    let mut out = String::with_capacity(items.iter().map(|s| s.body_len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if fields.is_empty() {
            out.push_str(&s.body());
        } else {
            out.push_str(&read::project(&s.body(), fields).to_string());
        }
    }
    out.push(']');
    out
}

/// The whole (filtered) catalog as a JSON array, written in chunks as the client reads, so a
/// request for 100,000 entities never holds a second copy of the catalog in memory.
fn streamed_entities(items: Vec<Arc<Stitched>>, fields: Vec<String>) -> Response {
    const CHUNK: usize = 256;
    let n = items.len();
    let chunks = (0..n.div_ceil(CHUNK).max(1)).map(move |c| {
        let slice = &items[(c * CHUNK).min(n)..((c + 1) * CHUNK).min(n)];
        let mut json = entities_json(slice, &fields);
        // Each chunk is a bracketed array; trim brackets so the chunks join into one array.
        if c > 0 {
            json.replace_range(..1, if slice.is_empty() { "" } else { "," });
        }
        if (c + 1) * CHUNK < n {
            json.pop();
        }
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(json))
    });
    let mut response =
        axum::body::Body::from_stream(futures_util::stream::iter(chunks)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn parse_filter(pairs: &[(String, String)]) -> Result<Option<Filter>, ApiError> {
    if pairs.iter().any(|(k, v)| k == "filter" && v.is_empty()) {
        return Err(ApiError::input(
            "Empty value found for query parameter 'filter'",
        ));
    }
    filter::parse_query(&params::all(pairs, "filter")).map_err(|e| ApiError::input(e.to_string()))
}

/// `order=asc:metadata.name` (GET /entities).
fn parse_order(pairs: &[(String, String)]) -> Result<Vec<Order>, ApiError> {
    params::all(pairs, "order")
        .iter()
        .map(|o| {
            // Backstage requires the direction: `order=metadata.name` is an InputError there.
            let Some((dir, field)) = o.split_once(':') else {
                return Err(ApiError::input(format!(
                    "Invalid order parameter {o:?}, expected \"<asc or desc>:<field name>\""
                )));
            };
            let descending = match dir {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(ApiError::input(format!(
                        "Invalid order parameter {o:?}, expected \"<asc or desc>:<field name>\""
                    )));
                }
            };
            if field.trim().is_empty() {
                return Err(ApiError::input("Invalid order parameter, missing field"));
            }
            Ok(Order {
                field: field.trim().to_owned(),
                descending,
            })
        })
        .collect()
}

/// `orderField=metadata.name,asc` (by-query).
fn parse_order_field(pairs: &[(String, String)]) -> Result<Vec<Order>, ApiError> {
    params::all(pairs, "orderField")
        .iter()
        .map(|o| {
            let (field, dir) = o.split_once(',').unwrap_or((o.as_str(), "asc"));
            let descending = match dir.trim() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(ApiError::input(
                        "Invalid order field order, must be asc or desc",
                    ));
                }
            };
            Ok(Order {
                field: field.trim().to_owned(),
                descending,
            })
        })
        .collect()
}

/// `limit=0` on by-query asks only for `totalItems` (Backstage's web app counts this way).
fn query_limit_of(v: Option<usize>) -> Option<usize> {
    v.map(|n| n.min(MAX_LIMIT))
}

/// Most fields a projection or full-text search may name: each costs a lookup per entity
/// answered, so one request cannot buy seconds of CPU with a long query string.
const MAX_FIELDS: usize = 1000;

fn check_field_count(fields: &[String]) -> Result<(), ApiError> {
    if fields.len() > MAX_FIELDS {
        return Err(ApiError::input(format!(
            "Too many fields ({}), at most {MAX_FIELDS} may be given",
            fields.len()
        )));
    }
    Ok(())
}

/// Field paths are dotted keys; Backstage refuses anything else (`metadata.tags[0]`).
fn check_fields(fields: &[String]) -> Result<(), ApiError> {
    check_field_count(fields)?;
    match fields
        .iter()
        .find(|f| !f.chars().all(|c| c.is_alphanumeric() || "._-/".contains(c)))
    {
        Some(f) => Err(ApiError::input(format!(
            "Invalid field {f:?}, array type fields are not supported"
        ))),
        None => Ok(()),
    }
}

/// Whether the caller asked to skip the count (`totalItems=exclude`; `include` is the default),
/// as Backstage's API has it; any other value is an InputError there.
fn exclude_total(value: Option<&str>, what: &str) -> Result<bool, ApiError> {
    match value {
        None | Some("include") => Ok(false),
        Some("exclude") => Ok(true),
        Some(_) => Err(ApiError::input(format!(
            "request/{what}/totalItems must be equal to one of the allowed values: include, exclude"
        ))),
    }
}

fn limit_of(v: Option<usize>) -> Result<Option<usize>, ApiError> {
    match v {
        Some(0) => Err(ApiError::input("Invalid limit, must be greater than zero")),
        Some(n) => Ok(Some(n.min(MAX_LIMIT))),
        None => Ok(None),
    }
}

pub async fn list_entities(State(s): State<AppState>, uri: Uri) -> ApiResult {
    let input = |m: String| ApiError::input(m);
    let pairs = params::pairs(uri.query());
    let filter = parse_filter(&pairs)?;
    let fields = params::comma_list(&pairs, "fields");
    check_fields(&fields)?;
    let order = parse_order(&pairs)?;
    let mut limit = limit_of(params::number(&pairs, "limit").map_err(input)?)?;
    let mut offset = params::number(&pairs, "offset").map_err(input)?;
    let after = params::one(&pairs, "after");
    if after == Some("") {
        return Err(input("Invalid after, must not be empty".into()));
    }
    let snap = s.catalog.snapshot();
    if limit.is_none() && offset.is_none() && after.is_none() {
        let items = read::list_all(&snap, filter.as_ref(), &order);
        return Ok(streamed_entities(items, fields));
    }
    if let Some(after) = after {
        let (l, o) = read::decode_after(after).map_err(|e| input(e.to_string()))?;
        limit = l.or(limit);
        offset = o.or(offset);
    }
    let offset = offset.unwrap_or(0);
    let (more, body) = off_async_workers(|| {
        let (items, more) = read::list(&snap, filter.as_ref(), &order, offset, limit);
        (more, entities_json(&items, &fields))
    });
    let mut response = json_response(StatusCode::OK, body);
    if more && let Some(limit) = limit {
        let next: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "offset" && k != "after")
            .cloned()
            .chain([(
                "after".to_owned(),
                read::encode_after(limit, offset + limit),
            )])
            .collect();
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next)
            .finish();
        if let Ok(v) = HeaderValue::from_str(&format!("<{}?{qs}>; rel=\"next\"", uri.path())) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

fn page_response(page: read::QueryPage, fields: &[String]) -> Response {
    let mut page_info = serde_json::Map::new();
    if let Some(c) = page.next_cursor {
        page_info.insert("nextCursor".into(), json!(c));
    }
    if let Some(c) = page.prev_cursor {
        page_info.insert("prevCursor".into(), json!(c));
    }
    let body = format!(
        "{{\"items\":{},\"totalItems\":{},\"pageInfo\":{}}}",
        entities_json(&page.items, fields),
        page.total_items,
        Value::Object(page_info)
    );
    json_response(StatusCode::OK, body)
}

pub async fn query_entities_get(State(s): State<AppState>, uri: Uri) -> ApiResult {
    let pairs = params::pairs(uri.query());
    let fields = params::comma_list(&pairs, "fields");
    check_fields(&fields)?;
    let exclude = exclude_total(params::one(&pairs, "totalItems"), "query")?;
    let limit = query_limit_of(params::number(&pairs, "limit").map_err(ApiError::input)?);
    let term = params::one(&pairs, "fullTextFilterTerm").map(str::to_owned);
    let req = QueryRequest {
        filter: parse_filter(&pairs)?,
        order: parse_order_field(&pairs)?,
        full_text: term.filter(|t| !t.trim().is_empty()).map(|term| FullText {
            term,
            fields: params::comma_list(&pairs, "fullTextFilterFields"),
        }),
        limit: limit.unwrap_or(read::DEFAULT_QUERY_LIMIT),
        offset: params::number(&pairs, "offset").map_err(ApiError::input)?,
        cursor: params::one(&pairs, "cursor").map(str::to_owned),
    };
    if req.cursor.as_deref() == Some("") {
        return Err(ApiError::input("Cursor cannot be empty"));
    }
    answer_query(&s, req, exclude, &fields)
}

pub async fn query_entities_post(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_body(&body)?;
    let fields: Vec<String> = string_list(&body["fields"]);
    check_fields(&fields)?;
    let exclude = match body.get("totalItems") {
        None | Some(Value::Null) => false,
        Some(Value::String(v)) => exclude_total(Some(v), "body")?,
        Some(v) => exclude_total(Some(&v.to_string()), "body")?,
    };
    let limit = query_limit_of(
        body.get("limit")
            .and_then(Value::as_u64)
            .map(|n| n as usize),
    );
    let cursor = body
        .get("cursor")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if cursor.as_deref() == Some("") {
        return Err(ApiError::input("Cursor cannot be empty"));
    }
    let filter = match body.get("query") {
        None | Some(Value::Null) => None,
        Some(q @ Value::Object(_)) => Some(
            filter::parse_predicate(q)
                .map_err(|e| ApiError::input(format!("Invalid query: {e}")))?,
        ),
        Some(_) => return Err(ApiError::input("Query must be an object")),
    };
    let mut order = Vec::new();
    for o in body
        .get("orderBy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = o
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let descending = match o.get("order").and_then(Value::as_str) {
            Some("asc") => false,
            Some("desc") => true,
            _ => {
                return Err(ApiError::input(
                    "Invalid order field order, must be asc or desc",
                ));
            }
        };
        order.push(Order { field, descending });
    }
    let full_text = body
        .get("fullTextFilter")
        .filter(|v| v.is_object())
        .and_then(|ft| {
            let term = ft
                .get("term")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            (!term.trim().is_empty()).then(|| FullText {
                term,
                fields: string_list(&ft["fields"]),
            })
        });
    let req = QueryRequest {
        filter,
        order,
        full_text,
        limit: limit.unwrap_or(read::DEFAULT_QUERY_LIMIT),
        offset: body
            .get("offset")
            .and_then(Value::as_u64)
            .map(|n| n as usize),
        cursor,
    };
    answer_query(&s, req, exclude, &fields)
}

/// Runs a by-query request; a first page asked with `totalItems: exclude` reports 0, as
/// Backstage does (later pages carry the count their cursor holds).
fn answer_query(
    s: &AppState,
    req: QueryRequest,
    exclude_total: bool,
    fields: &[String],
) -> ApiResult {
    if let Some(t) = &req.full_text {
        check_field_count(&t.fields)?;
    }
    let first_page = req.cursor.is_none();
    let snap = s.catalog.snapshot();
    off_async_workers(|| {
        let mut page = read::query(&snap, req).map_err(|e| ApiError::input(e.to_string()))?;
        if exclude_total && first_page {
            page.total_items = 0;
        }
        Ok(page_response(page, fields))
    })
}

fn string_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            format!("request body is larger than {MAX_BODY} bytes"),
        ));
    }
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::input(format!("request body is not valid JSON: {e}")))
}

fn one_entity(s: Option<&Arc<Stitched>>, what: String) -> ApiResult {
    match s {
        Some(s) => Ok(json_response(StatusCode::OK, s.body().into_owned())),
        None => Err(ApiError::not_found(what)),
    }
}

pub async fn entity_by_name(
    State(s): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> ApiResult {
    let key = format!("{kind}:{namespace}/{name}");
    let snap = s.catalog.snapshot();
    one_entity(
        snap.get(&key),
        format!("No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"),
    )
}

pub async fn entity_by_uid(State(s): State<AppState>, Path(uid): Path<String>) -> ApiResult {
    let snap = s.catalog.snapshot();
    one_entity(snap.get_by_uid(&uid), format!("No entity with uid {uid}"))
}

pub async fn delete_entity_by_uid(State(s): State<AppState>, Path(uid): Path<String>) -> ApiResult {
    s.catalog
        .delete_by_uid(&uid)
        .await
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn entity_ancestry(
    State(s): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> ApiResult {
    let key = format!("{kind}:{namespace}/{name}");
    let chain = s.catalog.ancestry(&key).map_err(ApiError::from)?;
    let root = chain
        .first()
        .map(|(s, _)| s.key().to_owned())
        .unwrap_or_default();
    let items: Vec<Value> = chain
        .iter()
        .map(|(s, parents)| {
            json!({"entity": serde_json::from_str::<Value>(&s.body()).unwrap_or_default(), "parentEntityRefs": parents})
        })
        .collect();
    Ok(Json(json!({"rootEntityRef": root, "items": items})).into_response())
}

pub async fn entities_by_refs(State(s): State<AppState>, uri: Uri, body: Bytes) -> ApiResult {
    let body = json_body(&body)?;
    let Some(refs) = body.get("entityRefs").and_then(Value::as_array) else {
        return Err(ApiError::input("request/body/entityRefs must be array"));
    };
    let pairs = params::pairs(uri.query());
    // Backstage takes `fields` only in the body here; a query parameter is an InputError.
    if pairs.iter().any(|(k, _)| k == "fields") {
        return Err(ApiError::input("Unknown query parameter 'fields'"));
    }
    let fields = string_list(&body["fields"]);
    check_fields(&fields)?;
    let filter = match body.get("filter") {
        Some(q @ Value::Object(_)) => {
            Some(filter::parse_predicate(q).map_err(|e| ApiError::input(e.to_string()))?)
        }
        _ => parse_filter(&pairs)?,
    };
    let snap = s.catalog.snapshot();
    let out = off_async_workers(|| refs_json(&snap, refs, filter.as_ref(), &fields));
    Ok(json_response(StatusCode::OK, out))
}

/// `{"items": [...]}` with each ref's entity (or `null`), in the order asked.
fn refs_json(
    snap: &read::Snapshot,
    refs: &[Value],
    filter: Option<&Filter>,
    fields: &[String],
) -> String {
    let allowed: Option<std::collections::HashSet<String>> = filter.map(|f| {
        read::list_all(snap, Some(f), &[])
            .iter()
            .map(|s| s.key().to_owned())
            .collect()
    });
    let mut out = String::from("{\"items\":[");
    for (i, r) in refs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let found = r
            .as_str()
            .and_then(|r| snap.get(r))
            .filter(|s| allowed.as_ref().is_none_or(|a| a.contains(s.key())));
        match found {
            Some(s) if fields.is_empty() => out.push_str(&s.body()),
            Some(s) => out.push_str(&read::project(&s.body(), fields).to_string()),
            None => out.push_str("null"),
        }
    }
    out.push_str("]}");
    out
}

pub async fn entity_facets(State(s): State<AppState>, uri: Uri) -> ApiResult {
    let pairs = params::pairs(uri.query());
    let facets = params::all(&pairs, "facet");
    if facets.is_empty() {
        return Err(ApiError::input(
            "request/query must have required property 'facet'",
        ));
    }
    let filter = parse_filter(&pairs)?;
    let result = read::facets(&s.catalog.snapshot(), &facets, filter.as_ref());
    let mut map = serde_json::Map::new();
    for (facet, values) in result {
        map.insert(
            facet,
            Value::Array(
                values
                    .into_iter()
                    .map(|(value, count)| json!({"value": value, "count": count}))
                    .collect(),
            ),
        );
    }
    Ok(Json(json!({"facets": map})).into_response())
}

fn location_json(l: &catalog::Location) -> Value {
    let entity_ref = l.entity_ref();
    // Credentials in a URL target (userinfo, `?token=`) are masked: the list is readable by
    // every API client (a deliberate difference from Backstage, see docs/compatibility.md).
    json!({"id": l.id, "type": l.kind, "target": model::redact::url(&l.target), "entityRef": entity_ref})
}

pub async fn list_locations(State(s): State<AppState>) -> ApiResult {
    let list: Vec<Value> = s
        .catalog
        .locations()
        .await
        .iter()
        .map(|l| json!({"data": location_json(l)}))
        .collect();
    Ok(Json(list).into_response())
}

pub async fn get_location(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    match s.catalog.location(&id).await {
        Some(l) => Ok(Json(location_json(&l)).into_response()),
        None => Err(ApiError::not_found(format!(
            "Found no location with ID {id}"
        ))),
    }
}

pub async fn delete_location(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    s.catalog
        .delete_location(&id)
        .await
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn location_by_entity(
    State(s): State<AppState>,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> ApiResult {
    let key = format!("{kind}:{namespace}/{name}");
    let l = s
        .catalog
        .location_by_entity(&key.to_lowercase())
        .await
        .map_err(ApiError::from)?;
    Ok(Json(location_json(&l)).into_response())
}

fn location_spec(body: &Value) -> Result<LocationSpec, ApiError> {
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("url");
    let target = match body.get("target") {
        Some(Value::String(t)) => t,
        Some(_) => return Err(ApiError::input("request/body/target must be string")),
        None => {
            return Err(ApiError::input(
                "request/body must have required property 'target'",
            ));
        }
    };
    Ok(LocationSpec::new(kind, target))
}

pub async fn add_location(State(s): State<AppState>, uri: Uri, body: Bytes) -> ApiResult {
    let pairs = params::pairs(uri.query());
    let dry_run = params::one(&pairs, "dryRun").is_some_and(|v| v == "true");
    let body = json_body(&body)?;
    let spec = location_spec(&body)?;
    if spec.kind != "url" {
        // A client must not be able to make the server read its own files: file locations
        // belong in configuration (Backstage's default rules refuse them here too).
        return Err(ApiError::input(
            r#"Registered locations must be of an allowed type ["url"]"#,
        ));
    }
    check_url_target(&spec.target)?;
    let (row, entities, _) = s
        .catalog
        .add_location(spec.clone(), dry_run)
        .await
        .map_err(ApiError::from)?;
    let location = row.as_ref().map(location_json).unwrap_or_else(
        || json!({"id": "", "type": spec.kind, "target": model::redact::url(&spec.target)}),
    );
    let mut out = json!({"location": location, "entities": entities});
    if dry_run {
        out["exists"] = json!(row.is_some());
    }
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// A `url` location must be an absolute http(s) URL with a host: anything else (`not a url`,
/// `file://`, `gopher://`, a NUL byte that PostgreSQL cannot store) is refused before it is
/// stored, instead of being registered and failing on every round.
fn check_url_target(target: &str) -> Result<(), ApiError> {
    let bad = |why: &str| {
        Err(ApiError::input(format!(
            "Invalid location target {:?}: {why}",
            model::redact::url(target)
        )))
    };
    if target.chars().any(char::is_control) || target.contains(char::is_whitespace) {
        return bad("control characters and spaces are not allowed");
    }
    let Some((scheme, rest)) = target.split_once("://") else {
        return bad("not an absolute URL");
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return bad("only http and https URLs can be read");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return bad("the URL has no host");
    }
    Ok(())
}

pub async fn refresh(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_body(&body)?;
    let Some(entity_ref) = body.get("entityRef").and_then(Value::as_str) else {
        return Err(ApiError::input(
            "Malformed request body: entityRef must be a string",
        ));
    };
    let key = model::EntityRef::parse(entity_ref, None, "default")
        .map_err(|e| ApiError::input(e.to_string()))?
        .key();
    s.catalog.refresh(&key).await.map_err(ApiError::from)?;
    Ok(StatusCode::OK.into_response())
}

/// A required body property of the given JSON type, or the error Backstage's request validator
/// gives for it (a missing property first, then a wrong type).
fn required<'a, T>(
    body: &'a serde_json::Map<String, Value>,
    key: &str,
    ty: &str,
    as_type: impl Fn(&'a Value) -> Option<T>,
) -> Result<T, ApiError> {
    let value = body.get(key).ok_or_else(|| {
        ApiError::input(format!("request/body must have required property '{key}'"))
    })?;
    as_type(value).ok_or_else(|| ApiError::input(format!("request/body/{key} must be {ty}")))
}

/// `POST /validate-entity`: the body's shape is checked as Backstage's OpenAPI schema does
/// (envelope errors), then the entity as processing would (`{errors: [...]}`).
pub async fn validate_entity(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = json_body(&body)?;
    let Value::Object(body) = body else {
        return Err(ApiError::input("request/body must be object"));
    };
    let location = required(&body, "location", "string", Value::as_str)?;
    let entity = required(&body, "entity", "object", Value::as_object)?;
    match s.catalog.validate(entity, location).await {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(errors) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|e| json!({"name": e.name, "message": e.message}))
                .collect();
            Ok((StatusCode::BAD_REQUEST, Json(json!({"errors": errors}))).into_response())
        }
    }
}

pub async fn not_found(method: Method, uri: Uri) -> ApiResult {
    Err(ApiError::not_found(format!(
        "No such endpoint: {method} {}",
        uri.path()
    )))
}
