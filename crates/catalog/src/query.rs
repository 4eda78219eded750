//! Request-level catalog reads over a [`Snapshot`]: `GET /entities` paging, `by-query` cursors
//! and totals, full-text filtering, facets and field projection, with Backstage's semantics.
//!
//! Where Backstage breaks ties (and orders by-query results without an order field) by the
//! entity's database id, a random uuid, we use the lower-cased entity ref instead: a total,
//! stable order that also survives snapshot swaps, so cursors carry `(value, ref)`.

use std::sync::Arc;

use base64::Engine as _;
use model::filter::Filter;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::index::{Bits, KeyId, Snapshot, Stitched};
use crate::search;

/// Page size of `by-query` when the request names none.
pub const DEFAULT_QUERY_LIMIT: usize = 200;

/// One sort criterion: `order=asc:metadata.name` or `orderField=metadata.name,asc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub field: String,
    pub descending: bool,
}

/// `fullTextFilterTerm` and `fullTextFilterFields`; empty `fields` means "not given", which
/// searches the order field (or `metadata.uid` when there is none), as Backstage does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FullText {
    pub term: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    pub filter: Option<Filter>,
    pub order: Vec<Order>,
    pub full_text: Option<FullText>,
    pub limit: usize,
    /// Honoured on a first-page request only, like Backstage.
    pub offset: Option<usize>,
    /// When set (and non-empty) everything but `limit` comes from the cursor.
    pub cursor: Option<String>,
}

impl Default for QueryRequest {
    fn default() -> Self {
        QueryRequest {
            filter: None,
            order: Vec::new(),
            full_text: None,
            limit: DEFAULT_QUERY_LIMIT,
            offset: None,
            cursor: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryPage {
    pub items: Vec<Arc<Stitched>>,
    pub total_items: usize,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// Bad client input; the web layer answers these with 400 and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("Malformed cursor: {0}")]
    BadCursor(String),
    #[error("Malformed after cursor, {0}")]
    BadAfter(String),
}

// ---- GET /entities ----

/// `GET /entities` with any of `limit`/`offset`/`after`: the page at `offset` in the requested
/// order, and whether more follow (the router then links to `after` = [`encode_after`] of
/// `limit` and `offset + limit`).
///
/// Ordering follows Backstage's two plans. No order: by ref. One field: entities with a value
/// in value order (an entity appears once per value of an array field, as Backstage's join
/// gives), ties and then entities without the field in ref order. Several fields: every
/// combination of values, null last per field, then ref. Order fields are matched exactly as
/// given, without lower-casing, as Backstage does here.
pub fn list(
    s: &Snapshot,
    filter: Option<&Filter>,
    order: &[Order],
    offset: usize,
    limit: Option<usize>,
) -> (Vec<Arc<Stitched>>, bool) {
    let cand = s.matching(filter);
    let wanted = limit.map_or(usize::MAX, |l| offset.saturating_add(l).saturating_add(1));
    let mut ids: Vec<u32> = Vec::new();
    match order {
        [] => ids.extend(cand.iter_from(0).take(wanted)),
        [only] => match s.key_id(&only.field) {
            Some(k) => {
                walk_field(
                    s,
                    k,
                    only.descending,
                    false,
                    None,
                    &cand,
                    &|_| true,
                    &mut |_, id| {
                        ids.push(id);
                        ids.len() < wanted
                    },
                );
                if ids.len() < wanted {
                    let mut rest = cand;
                    rest.and_not(&s.with_value(k));
                    ids.extend(rest.iter_from(0).take(wanted - ids.len()));
                }
            }
            None => ids.extend(cand.iter_from(0).take(wanted)),
        },
        many => ids = multi_order(s, &cand, many, wanted),
    }
    let mut page: Vec<Arc<Stitched>> = ids
        .iter()
        .skip(offset)
        .map(|&id| s.entity(id).clone())
        .collect();
    let more = limit.is_some_and(|l| page.len() > l);
    if let Some(l) = limit {
        page.truncate(l);
    }
    (page, more)
}

/// `GET /entities` without paging parameters. Backstage streams this through its by-query
/// machinery, so the first order field alone applies, is lower-cased, and entities without a
/// value for it are left out.
pub fn list_all(s: &Snapshot, filter: Option<&Filter>, order: &[Order]) -> Vec<Arc<Stitched>> {
    let cand = s.matching(filter);
    let mut out = Vec::new();
    match order.first() {
        None => out.extend(cand.iter_from(0).map(|id| s.entity(id).clone())),
        Some(o) => {
            if let Some(k) = s.key_id(&o.field.to_lowercase()) {
                walk_field(
                    s,
                    k,
                    o.descending,
                    o.descending,
                    None,
                    &cand,
                    &|_| true,
                    &mut |_, id| {
                        out.push(s.entity(id).clone());
                        true
                    },
                );
            }
        }
    }
    out
}

/// The `after` cursor of `GET /entities` paging, in Backstage's own format so clients that
/// build or read it keep working.
pub fn encode_after(limit: usize, offset: usize) -> String {
    let json = serde_json::json!({ "limit": limit, "offset": offset });
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

/// Decodes an `after` cursor into the (limit, offset) it overrides.
pub fn decode_after(after: &str) -> Result<(Option<usize>, Option<usize>), QueryError> {
    let parsed = decode_base64(after)
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter(Value::is_object)
        .ok_or_else(|| QueryError::BadAfter("could not be parsed".into()))?;
    let field = |name: &str| -> Result<Option<usize>, QueryError> {
        match parsed.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| QueryError::BadAfter(format!("{name} was not a number"))),
        }
    };
    Ok((field("limit")?, field("offset")?))
}

/// The slow plan: every field joined, so an entity yields one row per combination of values
/// and a null where it has none.
fn multi_order(s: &Snapshot, cand: &Bits, order: &[Order], wanted: usize) -> Vec<u32> {
    // Per field, (id, rank of value) sorted by id; rank order is value order.
    let ranks: Vec<Vec<(u32, u32)>> = order
        .iter()
        .map(|o| {
            let mut v = Vec::new();
            if let Some(k) = s.key_id(&o.field) {
                for (rank, e) in s.entry_range(k).enumerate() {
                    v.extend(
                        s.entry_ids(e)
                            .iter()
                            .filter(|&&id| cand.contains(id))
                            .map(|&id| (id, rank as u32)),
                    );
                }
            }
            v.sort_unstable();
            v
        })
        .collect();
    let mut rows: Vec<(Vec<Option<u32>>, u32)> = Vec::new();
    for id in cand.iter_from(0) {
        let mut combos: Vec<Vec<Option<u32>>> = vec![Vec::with_capacity(order.len())];
        for field in &ranks {
            let from = field.partition_point(|&(i, _)| i < id);
            let to = from + field[from..].partition_point(|&(i, _)| i == id);
            let values: Vec<Option<u32>> = if from == to {
                vec![None]
            } else {
                field[from..to].iter().map(|&(_, r)| Some(r)).collect()
            };
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |&v| {
                        let mut c = c.clone();
                        c.push(v);
                        c
                    })
                })
                .collect();
        }
        rows.extend(combos.into_iter().map(|c| (c, id)));
    }
    rows.sort_by(|(a, ia), (b, ib)| {
        for (i, o) in order.iter().enumerate() {
            let ord = match (a[i], b[i]) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(_), None) => std::cmp::Ordering::Less,
                (Some(x), Some(y)) if o.descending => y.cmp(&x),
                (Some(x), Some(y)) => x.cmp(&y),
            };
            if ord.is_ne() {
                return ord;
            }
        }
        ia.cmp(ib)
    });
    rows.into_iter().take(wanted).map(|(_, id)| id).collect()
}

// ---- by-query ----

/// Everything a later page needs; base64 of this JSON is the opaque cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<Value>,
    #[serde(default)]
    order: Vec<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<FullText>,
    /// Sort values of the row the page continues from: `[value, ref]`, or `[ref]` unsorted.
    values: Vec<Option<String>>,
    /// Sort values of the very first row, where going back stops.
    first: Vec<Option<String>>,
    prev: bool,
    total: usize,
}

struct State {
    filter: Option<Filter>,
    order: Vec<Order>,
    text: Option<FullText>,
    values: Option<Vec<Option<String>>>,
    first: Option<Vec<Option<String>>>,
    prev: bool,
    total: Option<usize>,
}

/// `GET`/`POST /entities/by-query`.
///
/// Semantics kept from Backstage: only the first order field is used (lower-cased), and when
/// there is one, entities without a value for it are not returned or counted; an entity with
/// several values (an array) is a row per value. `totalItems` is computed on the first page and
/// carried by the cursors. A page fetched backwards always offers a next cursor; a previous
/// cursor is offered on later pages until the first row of the first page is reached.
pub fn query(s: &Snapshot, req: QueryRequest) -> Result<QueryPage, QueryError> {
    let limit = req.limit;
    let (state, offset) = match req.cursor.as_deref() {
        Some(c) if !c.is_empty() => (decode_cursor(c)?, 0),
        _ => (
            State {
                filter: req.filter,
                order: req.order,
                text: req.full_text,
                values: None,
                first: None,
                prev: false,
                total: None,
            },
            req.offset.unwrap_or(0),
        ),
    };

    let sort = state.order.first();
    let sort_key = sort.map(|o| o.field.to_lowercase());
    let term = state
        .text
        .as_ref()
        .map(|t| t.term.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let text_fields: Vec<String> = match &state.text {
        Some(t) if !t.fields.is_empty() => t.fields.clone(),
        _ => vec![
            sort_key
                .clone()
                .unwrap_or_else(|| "metadata.uid".to_owned()),
        ],
    };
    // Backstage narrows the sort rows themselves, not whole entities, when the only searched
    // field is the sort field; that matters for array fields.
    let in_scope =
        sort_key.is_some() && text_fields.len() == 1 && Some(&text_fields[0]) == sort_key.as_ref();
    let sort_kid = sort_key.as_deref().and_then(|k| s.key_id(k));

    let base = s.matching(state.filter.as_ref());
    let text_bits = term.as_deref().map(|t| text_matches(s, &text_fields, t));

    let total = match state.total {
        Some(t) => t,
        None => {
            let mut counted = base.clone();
            if let Some(t) = &text_bits {
                counted.and_with(t);
            }
            match (sort_key.is_some(), sort_kid) {
                (false, _) => counted.count(),
                (true, Some(k)) => {
                    counted.and_with(&s.with_value(k));
                    counted.count()
                }
                (true, None) => 0,
            }
        }
    };

    let mut cand = base;
    if !in_scope && let Some(t) = &text_bits {
        cand.and_with(t);
    }

    let descending = sort.is_some_and(|o| o.descending);
    let walk_desc = descending != state.prev;
    let take = if state.prev {
        limit
    } else {
        limit.saturating_add(1)
    };
    let after = match &state.values {
        None => None,
        Some(v) => Some(parse_after(v, sort.is_some())?),
    };

    let mut rows: Vec<(Option<u32>, u32)> = Vec::new();
    if limit > 0 {
        let mut skipped = 0usize;
        let mut emit = |entry: Option<u32>, id: u32| {
            if skipped < offset {
                skipped += 1;
                return true;
            }
            rows.push((entry, id));
            rows.len() < take
        };
        match (sort.is_some(), sort_kid, after) {
            (true, None, _) => {}
            (true, Some(k), after) => {
                let after = match after {
                    None => None,
                    Some((Some(v), key)) => Some((v, key)),
                    // A null sort value compares as unknown in SQL, so nothing follows it.
                    Some((None, _)) => return Ok(empty_page(total)),
                };
                let term = term.as_deref();
                let entry_ok =
                    |e: u32| !in_scope || term.is_none_or(|t| like_contains(s.entry_value(e), t));
                walk_field(
                    s,
                    k,
                    walk_desc,
                    walk_desc,
                    after,
                    &cand,
                    &entry_ok,
                    &mut |e, id| emit(Some(e), id),
                );
            }
            (false, _, after) => {
                let key = after.map(|(_, key)| key);
                if walk_desc {
                    let below = key.map_or(s.len() as u32, |k| s.ids_below_key(k));
                    for id in cand.iter_rev_below(below) {
                        if !emit(None, id) {
                            break;
                        }
                    }
                } else {
                    let from = key.map_or(0, |k| s.ids_up_to_key(k));
                    for id in cand.iter_from(from) {
                        if !emit(None, id) {
                            break;
                        }
                    }
                }
            }
        }
    }
    if state.prev {
        rows.reverse();
    }
    let has_more = limit > 0 && (state.prev || rows.len() > limit);
    rows.truncate(limit);

    let values_of = |row: Option<&(Option<u32>, u32)>| -> Vec<Option<String>> {
        let key = row.map(|&(_, id)| s.entity(id).key.clone());
        if sort.is_some() {
            vec![
                row.and_then(|&(e, _)| e.map(|e| s.entry_value(e).to_owned())),
                key,
            ]
        } else {
            vec![key]
        }
    };
    let is_initial = state.first.is_none();
    let first_values = state
        .first
        .clone()
        .unwrap_or_else(|| values_of(rows.first()));
    let filter_json = state.filter.as_ref().map(filter_to_json);
    let make = |values: Vec<Option<String>>, first: Vec<Option<String>>, prev: bool| {
        encode_cursor(&Cursor {
            filter: filter_json.clone(),
            order: state.order.clone(),
            text: state.text.clone(),
            values,
            first,
            prev,
            total,
        })
    };
    let next_cursor = has_more.then(|| make(values_of(rows.last()), first_values.clone(), false));
    let first_row = values_of(rows.first());
    let prev_cursor = (!is_initial && !rows.is_empty() && Some(&first_row) != state.first.as_ref())
        .then(|| make(first_row.clone(), first_values.clone(), true));

    Ok(QueryPage {
        items: rows.iter().map(|&(_, id)| s.entity(id).clone()).collect(),
        total_items: total,
        next_cursor,
        prev_cursor,
    })
}

fn empty_page(total: usize) -> QueryPage {
    QueryPage {
        items: Vec::new(),
        total_items: total,
        next_cursor: None,
        prev_cursor: None,
    }
}

type After<'a> = (Option<&'a str>, &'a str);

fn parse_after(values: &[Option<String>], sorted: bool) -> Result<After<'_>, QueryError> {
    match (sorted, values) {
        (true, [value, Some(key)]) => Ok((value.as_deref(), key)),
        (false, [Some(key)]) => Ok((None, key)),
        _ => Err(QueryError::BadCursor(
            "cursor position does not match its order".into(),
        )),
    }
}

fn encode_cursor(cursor: &Cursor) -> String {
    let json = serde_json::to_vec(cursor).expect("cursor serialises");
    base64::engine::general_purpose::STANDARD.encode(json)
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = s.trim();
    // Query strings often turn '+' into ' ' or get re-encoded URL-safe; accept all spellings.
    let repaired = s.replace(' ', "+");
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&repaired).ok())
}

fn decode_cursor(s: &str) -> Result<State, QueryError> {
    let bytes = decode_base64(s).ok_or_else(|| QueryError::BadCursor("not base64".into()))?;
    let c: Cursor =
        serde_json::from_slice(&bytes).map_err(|e| QueryError::BadCursor(e.to_string()))?;
    let filter = c.filter.as_ref().map(filter_from_json).transpose()?;
    Ok(State {
        filter,
        order: c.order,
        text: c.text,
        values: Some(c.values),
        first: Some(c.first),
        prev: c.prev,
        total: Some(c.total),
    })
}

/// Filters travel inside cursors in the shape of Backstage's own entity filter JSON.
fn filter_to_json(f: &Filter) -> Value {
    match f {
        Filter::Any(parts) => {
            serde_json::json!({ "anyOf": parts.iter().map(filter_to_json).collect::<Vec<_>>() })
        }
        Filter::All(parts) => {
            serde_json::json!({ "allOf": parts.iter().map(filter_to_json).collect::<Vec<_>>() })
        }
        Filter::Not(inner) => serde_json::json!({ "not": filter_to_json(inner) }),
        Filter::Eq { key, values } => serde_json::json!({ "key": key, "values": values }),
        Filter::Exists { key } => serde_json::json!({ "key": key }),
        Filter::HasPrefix { key, prefix } => serde_json::json!({ "key": key, "prefix": prefix }),
    }
}

fn filter_from_json(v: &Value) -> Result<Filter, QueryError> {
    let bad = || QueryError::BadCursor("invalid filter".into());
    let list = |v: &Value| -> Result<Vec<Filter>, QueryError> {
        v.as_array()
            .ok_or_else(bad)?
            .iter()
            .map(filter_from_json)
            .collect()
    };
    let obj = v.as_object().ok_or_else(bad)?;
    if let Some(parts) = obj.get("anyOf") {
        return Ok(Filter::Any(list(parts)?));
    }
    if let Some(parts) = obj.get("allOf") {
        return Ok(Filter::All(list(parts)?));
    }
    if let Some(inner) = obj.get("not") {
        return Ok(Filter::Not(Box::new(filter_from_json(inner)?)));
    }
    let key = obj
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_owned();
    if let Some(prefix) = obj.get("prefix") {
        let prefix = prefix.as_str().ok_or_else(bad)?.to_owned();
        return Ok(Filter::HasPrefix { key, prefix });
    }
    match obj.get("values") {
        None => Ok(Filter::Exists { key }),
        Some(values) => {
            let values = values
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                .collect::<Result<_, _>>()?;
            Ok(Filter::Eq { key, values })
        }
    }
}

/// Entities with a value under any of `fields` that contains `term` (already lower-cased).
fn text_matches(s: &Snapshot, fields: &[String], term: &str) -> Bits {
    let mut bits = Bits::empty(s.len());
    let mut seen: Vec<KeyId> = Vec::new();
    for field in fields {
        let Some(k) = s.key_id(&field.to_lowercase()) else {
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        for e in s.entry_range(k) {
            if like_contains(s.entry_value(e), term) {
                bits.set_all(s.entry_ids(e));
            }
        }
    }
    bits
}

/// SQL `value LIKE '%term%'`: Backstage does not escape the term, so `%` and `_` in it stay
/// wildcards (any run, any one character).
pub fn like_contains(value: &str, term: &str) -> bool {
    if !term.contains(['%', '_']) {
        return value.contains(term);
    }
    let mut at = 0;
    for part in term.split('%') {
        if part.is_empty() {
            continue;
        }
        match find_with_wildcards(value, at, part) {
            Some(end) => at = end,
            None => return false,
        }
    }
    true
}

/// The end of the first match of `part` (where `_` is any one character) at or after `from`.
fn find_with_wildcards(value: &str, from: usize, part: &str) -> Option<usize> {
    let pattern: Vec<char> = part.chars().collect();
    let mut start = from;
    while start <= value.len() {
        let mut chars = value[start..].char_indices();
        let mut ok = true;
        let mut end = start;
        for &p in &pattern {
            match chars.next() {
                Some((i, c)) if p == '_' || p == c => end = start + i + c.len_utf8(),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Some(end);
        }
        start += value[start..].chars().next()?.len_utf8();
    }
    None
}

/// Walks the rows of one field in order: entries by value (descending if `value_desc`), and
/// within an entry ids ascending or descending. `after` resumes strictly past a (value, ref)
/// position in that same order. Stops when `emit` returns false.
#[allow(clippy::too_many_arguments)]
fn walk_field(
    s: &Snapshot,
    k: KeyId,
    value_desc: bool,
    id_desc: bool,
    after: Option<(&str, &str)>,
    cand: &Bits,
    entry_ok: &dyn Fn(u32) -> bool,
    emit: &mut dyn FnMut(u32, u32) -> bool,
) {
    let range = s.entry_range(k);
    let mut visit = |e: u32, ids: &[u32]| -> bool {
        if !entry_ok(e) {
            return true;
        }
        if id_desc {
            for &id in ids.iter().rev() {
                if cand.contains(id) && !emit(e, id) {
                    return false;
                }
            }
        } else {
            for &id in ids {
                if cand.contains(id) && !emit(e, id) {
                    return false;
                }
            }
        }
        true
    };
    let rest = match after {
        None => range,
        Some((value, key)) => {
            let lb = s.lower_bound(k, value);
            let equal = lb < range.end && s.entry_value(lb) == value;
            if equal {
                let ids = s.entry_ids(lb);
                let ids = if id_desc {
                    let t = s.ids_below_key(key);
                    &ids[..ids.partition_point(|&i| i < t)]
                } else {
                    let t = s.ids_up_to_key(key);
                    &ids[ids.partition_point(|&i| i < t)..]
                };
                if !visit(lb, ids) {
                    return;
                }
            }
            if value_desc {
                range.start..lb
            } else {
                lb + equal as u32..range.end
            }
        }
    };
    if value_desc {
        for e in rest.rev() {
            if !visit(e, s.entry_ids(e)) {
                return;
            }
        }
    } else {
        for e in rest {
            if !visit(e, s.entry_ids(e)) {
                return;
            }
        }
    }
}

// ---- facets ----

/// `GET /entity-facets`: per requested facet (keyed as requested, matched lower-cased), each
/// value as entities spelled it with the number of matching entities having it, sorted by
/// that spelling. Values too long to index are not counted, as in Backstage.
pub fn facets(
    s: &Snapshot,
    facets: &[String],
    filter: Option<&Filter>,
) -> Vec<(String, Vec<(String, usize)>)> {
    let cand = filter.map(|f| s.matching(Some(f)));
    let inside = |id: u32| cand.as_ref().is_none_or(|c| c.contains(id));
    facets
        .iter()
        .map(|facet| {
            let mut values: Vec<(String, usize)> = Vec::new();
            if let Some(k) = s.key_id(&search::lower(facet)) {
                for e in s.entry_range(k) {
                    let ids = s.entry_ids(e);
                    let count = match &cand {
                        None => ids.len(),
                        Some(c) => ids.iter().filter(|&&id| c.contains(id)).count(),
                    };
                    if count == 0 {
                        continue;
                    }
                    let mut first_count = count;
                    let start = values.len();
                    for (id, spelling) in s.entry_variants(e) {
                        if !inside(id) {
                            continue;
                        }
                        first_count -= 1;
                        match values[start..].iter_mut().find(|(v, _)| v == spelling) {
                            Some((_, n)) => *n += 1,
                            None => values.push((spelling.to_owned(), 1)),
                        }
                    }
                    if first_count > 0 {
                        values.push((s.entry_spelling(e).into_owned(), first_count));
                    }
                }
            }
            values.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            (facet.clone(), values)
        })
        .collect()
}

// ---- projection ----

/// `fields=` projection of a final entity JSON; no fields means the whole entity.
pub fn project(body: &str, fields: &[String]) -> Value {
    match serde_json::from_str::<Value>(body) {
        Ok(entity) => project_value(&entity, fields),
        Err(_) => Value::Null,
    }
}

/// As [`project`], for an entity already parsed. Each field is a dotted path; a segment that
/// is not a key is joined with the next one, so `metadata.annotations.backstage.io/x` reaches
/// an annotation whose name contains dots. Fields may also be given comma-separated.
pub fn project_value(entity: &Value, fields: &[String]) -> Value {
    // A set beside the list keeps de-duplication linear: with a `Vec::contains` per field,
    // 10,900 fields took 29 s per page.
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<&str> = fields
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty() && seen.insert(*f))
        .collect();
    if wanted.is_empty() {
        return entity.clone();
    }
    let mut out = Value::Object(Map::new());
    for field in wanted {
        let mut parts: Vec<String> = field.split('.').map(str::to_owned).collect();
        let mut path: Vec<String> = Vec::new();
        let mut current = Some(entity);
        for i in 0..parts.len() {
            let part = parts[i].clone();
            match current.and_then(|c| child(c, &part)) {
                Some(next) => {
                    path.push(part);
                    current = Some(next);
                }
                None if i + 1 < parts.len() => parts[i + 1] = format!("{part}.{}", parts[i + 1]),
                None => current = None,
            }
        }
        if let Some(value) = current
            && !path.is_empty()
        {
            set_path(&mut out, &path, value.clone());
        }
    }
    out
}

fn child<'a>(v: &'a Value, part: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(part),
        Value::Array(a) => index_of(part).and_then(|i| a.get(i)),
        _ => None,
    }
}

fn index_of(part: &str) -> Option<usize> {
    let canonical =
        part == "0" || (!part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()));
    if canonical { part.parse().ok() } else { None }
}

/// Sets `value` at `path`, creating arrays for numeric segments and objects otherwise, and
/// replacing anything in the way that is not a container.
fn set_path(container: &mut Value, path: &[String], value: Value) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    let slot = match container {
        Value::Object(m) => m.entry(head.clone()).or_insert(Value::Null),
        Value::Array(a) => {
            // A named property on an array does not survive JSON serialisation.
            let Some(i) = index_of(head) else { return };
            if a.len() <= i {
                a.resize(i + 1, Value::Null);
            }
            &mut a[i]
        }
        _ => return,
    };
    if rest.is_empty() {
        *slot = value;
        return;
    }
    if !slot.is_object() && !slot.is_array() {
        *slot = if index_of(&rest[0]).is_some() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
    }
    set_path(slot, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::stitched_from;
    use serde_json::json;

    fn snap(values: &[Value]) -> Snapshot {
        Snapshot::build(values.iter().map(|v| (stitched_from(v), Some(v))).collect())
    }

    fn eq(key: &str, values: &[&str]) -> Filter {
        Filter::Eq {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn order(field: &str, descending: bool) -> Order {
        Order {
            field: field.into(),
            descending,
        }
    }

    fn names(items: &[Arc<Stitched>]) -> Vec<String> {
        items
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(&e.body).unwrap()["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    /// 40 entities: every 4th has no spec.type; types cycle; every 5th has two tags.
    fn catalog() -> Snapshot {
        let types = ["service", "website", "library"];
        let values: Vec<Value> = (0..40)
            .map(|i| {
                let mut spec = json!({"owner": format!("team-{}", i % 3)});
                if i % 4 != 0 {
                    spec["type"] = json!(types[i % 3]);
                }
                let tags = if i % 5 == 0 { json!(["alpha", "beta"]) } else { json!(["gamma"]) };
                json!({
                    "kind": if i % 2 == 0 { "Component" } else { "API" },
                    "metadata": {"name": format!("e{:02}", 39 - i), "uid": format!("uid-{i}"), "tags": tags,
                                 "title": if i % 7 == 0 { format!("Payments {i}") } else { format!("Other {i}") }},
                    "spec": spec,
                })
            })
            .collect();
        snap(&values)
    }

    #[test]
    fn list_default_order_is_by_ref_with_paging() {
        let s = catalog();
        let comp = eq("kind", &["component"]);
        let (all, more) = list(&s, Some(&comp), &[], 0, None);
        assert_eq!(all.len(), 20);
        assert!(!more);
        assert!(all.windows(2).all(|w| w[0].key < w[1].key));
        let (page, more) = list(&s, Some(&comp), &[], 15, Some(5));
        assert_eq!(names(&page), names(&all[15..]));
        assert!(!more);
        let (page, more) = list(&s, Some(&comp), &[], 14, Some(5));
        assert_eq!(page.len(), 5);
        assert!(more);
    }

    #[test]
    fn list_single_order_puts_missing_last_and_repeats_array_rows() {
        let s = catalog();
        let (asc, _) = list(&s, None, &[order("spec.type", false)], 0, None);
        assert_eq!(asc.len(), 40);
        let types: Vec<Option<String>> = asc
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(&e.body).unwrap()["spec"]["type"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        // Values ascending, then the ten without a type, those in ref order.
        assert!(
            types[..30]
                .windows(2)
                .all(|w| w[0] <= w[1] && w[0].is_some())
        );
        assert!(types[30..].iter().all(Option::is_none));
        assert!(asc[30..].windows(2).all(|w| w[0].key < w[1].key));
        // Within equal values, ref order in both directions.
        let (desc, _) = list(&s, None, &[order("spec.type", true)], 0, None);
        assert!(desc[0].body.contains("website"));
        let websites: Vec<&str> = desc
            .iter()
            .take_while(|e| e.body.contains("website"))
            .map(|e| e.key.as_str())
            .collect();
        assert!(websites.windows(2).all(|w| w[0] < w[1]));
        assert!(desc[30..].iter().all(|e| !e.body.contains("\"type\"")));
        // An entity with two tags is listed once per tag.
        let (by_tag, _) = list(&s, None, &[order("metadata.tags", false)], 0, None);
        assert_eq!(by_tag.len(), 48);
        assert_eq!(names(&by_tag[..8]), names(&by_tag[8..16]));
        // Backstage does not lower-case the field here: nothing matches, all are "missing".
        let (upper, _) = list(&s, None, &[order("Spec.Type", true)], 0, Some(3));
        assert!(upper.windows(2).all(|w| w[0].key < w[1].key));
    }

    #[test]
    fn list_multi_order() {
        let s = catalog();
        let (rows, more) = list(
            &s,
            None,
            &[order("spec.type", false), order("metadata.name", true)],
            0,
            Some(12),
        );
        assert!(more);
        let (all, _) = list(
            &s,
            None,
            &[order("spec.type", false), order("metadata.name", true)],
            0,
            None,
        );
        assert_eq!(all.len(), 40);
        assert_eq!(names(&rows), names(&all[..12]));
        // First group: libraries, names descending.
        let libs: Vec<String> = names(&all).into_iter().take(10).collect();
        let mut sorted = libs.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(libs, sorted);
        assert!(all[..10].iter().all(|e| e.body.contains("library")));
        // Missing type last, still by name descending.
        let tail = names(&all[30..]);
        let mut sorted = tail.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(tail, sorted);
    }

    #[test]
    fn after_cursor_round_trips_in_backstage_format() {
        let after = encode_after(50, 100);
        assert_eq!(decode_after(&after).unwrap(), (Some(50), Some(100)));
        let raw = base64::engine::general_purpose::STANDARD.encode(r#"{"limit":2}"#);
        assert_eq!(decode_after(&raw).unwrap(), (Some(2), None));
        assert!(decode_after("!!!").is_err());
        let bad = base64::engine::general_purpose::STANDARD.encode(r#"{"offset":"x"}"#);
        assert!(matches!(decode_after(&bad), Err(QueryError::BadAfter(_))));
    }

    /// Follows next cursors to the end, then prev cursors back to the start, checking that
    /// the pages line up exactly both ways.
    fn page_through(s: &Snapshot, first: QueryRequest) -> (Vec<Arc<Stitched>>, usize) {
        let limit = first.limit;
        let mut pages: Vec<QueryPage> = vec![query(s, first).unwrap()];
        assert!(pages[0].prev_cursor.is_none(), "first page has no previous");
        while let Some(next) = pages.last().unwrap().next_cursor.clone() {
            let page = query(
                s,
                QueryRequest {
                    cursor: Some(next),
                    limit,
                    ..QueryRequest::default()
                },
            )
            .unwrap();
            assert_eq!(page.total_items, pages[0].total_items, "total is carried");
            assert!(page.prev_cursor.is_some(), "later pages go back");
            pages.push(page);
            assert!(pages.len() < 100);
        }
        let mut index = pages.len() - 1;
        let mut prev = pages[index].prev_cursor.clone();
        while let Some(cursor) = prev {
            let page = query(
                s,
                QueryRequest {
                    cursor: Some(cursor),
                    limit,
                    ..QueryRequest::default()
                },
            )
            .unwrap();
            index -= 1;
            assert_eq!(
                names(&page.items),
                names(&pages[index].items),
                "page {index} backwards"
            );
            assert!(page.next_cursor.is_some());
            prev = page.prev_cursor;
        }
        assert_eq!(index, 0, "walked back to the first page");
        let all: Vec<Arc<Stitched>> = pages.iter().flat_map(|p| p.items.iter().cloned()).collect();
        (all, pages[0].total_items)
    }

    #[test]
    fn cursor_paging_sorted_ascending_and_descending() {
        let s = catalog();
        for descending in [false, true] {
            let (rows, total) = page_through(
                &s,
                QueryRequest {
                    order: vec![order("metadata.name", descending)],
                    limit: 7,
                    ..QueryRequest::default()
                },
            );
            assert_eq!(total, 40);
            let got = names(&rows);
            let mut want: Vec<String> = (0..40).map(|i| format!("e{i:02}")).collect();
            if descending {
                want.reverse();
            }
            assert_eq!(got, want);
        }
    }

    #[test]
    fn cursor_paging_excludes_entities_without_sort_value_and_handles_ties() {
        let s = catalog();
        let (rows, total) = page_through(
            &s,
            QueryRequest {
                filter: Some(eq("kind", &["component"])),
                order: vec![order("Spec.Type", true)],
                limit: 4,
                ..QueryRequest::default()
            },
        );
        // 20 components, 10 of them (i % 4 == 0) without a type.
        assert_eq!(total, 10);
        assert_eq!(rows.len(), 10);
        let mut seen = std::collections::HashSet::new();
        assert!(
            rows.iter().all(|e| seen.insert(e.key.clone())),
            "no duplicates"
        );
        // Ties (same type) are broken by ref in the sort direction.
        let keyed: Vec<(String, String)> = rows
            .iter()
            .map(|e| {
                let v: Value = serde_json::from_str(&e.body).unwrap();
                (
                    v["spec"]["type"].as_str().unwrap().to_owned(),
                    e.key.clone(),
                )
            })
            .collect();
        assert!(keyed.windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn cursor_paging_unsorted_is_ref_order_with_offset() {
        let s = catalog();
        let (rows, total) = page_through(
            &s,
            QueryRequest {
                limit: 6,
                ..QueryRequest::default()
            },
        );
        assert_eq!(total, 40);
        assert_eq!(rows.len(), 40);
        assert!(rows.windows(2).all(|w| w[0].key < w[1].key));
        let page = query(
            &s,
            QueryRequest {
                limit: 6,
                offset: Some(37),
                ..QueryRequest::default()
            },
        )
        .unwrap();
        assert_eq!(page.items.len(), 3);
        assert!(page.next_cursor.is_none());
        assert_eq!(page.items[0].key, rows[37].key);
    }

    #[test]
    fn array_sort_field_pages_rows_not_entities() {
        let s = catalog();
        let (rows, total) = page_through(
            &s,
            QueryRequest {
                order: vec![order("metadata.tags", false)],
                limit: 5,
                ..QueryRequest::default()
            },
        );
        assert_eq!(total, 40, "totalItems counts entities");
        assert_eq!(rows.len(), 48, "rows repeat per array value");
    }

    #[test]
    fn full_text_filters_and_counts() {
        let s = catalog();
        let req = |fields: Vec<&str>, term: &str| QueryRequest {
            order: vec![order("metadata.name", false)],
            full_text: Some(FullText {
                term: term.into(),
                fields: fields.into_iter().map(str::to_owned).collect(),
            }),
            limit: 3,
            ..QueryRequest::default()
        };
        // Titles "Payments 0/7/14/21/28/35"; the term is trimmed and case-insensitive.
        let (rows, total) = page_through(
            &s,
            req(vec!["metadata.name", "metadata.title"], "  PAYMENTS "),
        );
        assert_eq!(total, 6);
        assert_eq!(names(&rows), ["e04", "e11", "e18", "e25", "e32", "e39"]);
        // Without fields, the sort field is searched.
        let page = query(&s, req(vec![], "e3")).unwrap();
        assert_eq!(page.total_items, 10);
        assert_eq!(names(&page.items), ["e30", "e31", "e32"]);
        // `_` is a single-character wildcard, as in SQL LIKE.
        let page = query(&s, req(vec!["metadata.name"], "e_9")).unwrap();
        assert_eq!(page.total_items, 4);
        let page = query(&s, req(vec!["metadata.title"], "nothing-like-this")).unwrap();
        assert_eq!(page.total_items, 0);
        assert!(page.items.is_empty() && page.next_cursor.is_none());
        // Unsorted full text defaults to metadata.uid.
        let page = query(
            &s,
            QueryRequest {
                full_text: Some(FullText {
                    term: "UID-3".into(),
                    fields: vec![],
                }),
                ..QueryRequest::default()
            },
        )
        .unwrap();
        assert_eq!(page.total_items, 11);
    }

    #[test]
    fn like_matching() {
        assert!(like_contains("payments-api", "ments"));
        assert!(!like_contains("payments-api", "mentz"));
        assert!(like_contains("payments-api", "pay%api"));
        assert!(!like_contains("payments-api", "api%pay"));
        assert!(like_contains("payments_api", "s_a"));
        assert!(like_contains("paymentsxapi", "s_a"));
        assert!(like_contains("é-x", "_-x"));
        assert!(!like_contains("ab", "a__"));
        assert!(like_contains("anything", "%"));
    }

    #[test]
    fn cursor_carries_filter_and_rejects_garbage() {
        let s = catalog();
        let filter = Filter::Any(vec![
            Filter::All(vec![
                eq("kind", &["component"]),
                Filter::Not(Box::new(Filter::Exists {
                    key: "spec.type".into(),
                })),
            ]),
            Filter::HasPrefix {
                key: "metadata.name".into(),
                prefix: "e3".into(),
            },
        ]);
        let first = query(
            &s,
            QueryRequest {
                filter: Some(filter.clone()),
                limit: 2,
                ..QueryRequest::default()
            },
        )
        .unwrap();
        let expected = s.matching(Some(&filter)).count();
        assert_eq!(first.total_items, expected);
        let (rows, _) = page_through(
            &s,
            QueryRequest {
                filter: Some(filter),
                limit: 2,
                ..QueryRequest::default()
            },
        );
        assert_eq!(rows.len(), expected);
        for bad in [
            "%%%",
            "e30=",
            &base64::engine::general_purpose::STANDARD.encode("{\"values\":1}"),
        ] {
            let err = query(
                &s,
                QueryRequest {
                    cursor: Some(bad.to_owned()),
                    ..QueryRequest::default()
                },
            )
            .unwrap_err();
            assert!(matches!(err, QueryError::BadCursor(_)), "{bad}: {err:?}");
        }
        // A cursor is URL-safe-tolerant: '+' mangled into ' ' still decodes.
        let next = first.next_cursor.unwrap();
        let page = query(
            &s,
            QueryRequest {
                cursor: Some(next.replace('+', " ")),
                limit: 2,
                ..QueryRequest::default()
            },
        );
        assert!(page.is_ok());
    }

    #[test]
    fn limit_zero_counts_only() {
        let s = catalog();
        let page = query(
            &s,
            QueryRequest {
                limit: 0,
                ..QueryRequest::default()
            },
        )
        .unwrap();
        assert!(page.items.is_empty());
        assert_eq!(page.total_items, 40);
        assert!(page.next_cursor.is_none() && page.prev_cursor.is_none());
    }

    #[test]
    fn list_all_follows_by_query_rules() {
        let s = catalog();
        assert_eq!(list_all(&s, None, &[]).len(), 40);
        let by_type = list_all(
            &s,
            None,
            &[order("SPEC.TYPE", false), order("metadata.name", false)],
        );
        assert_eq!(by_type.len(), 30);
        assert!(by_type[..10].iter().all(|e| e.body.contains("library")));
    }

    #[test]
    fn facets_count_matching_entities_by_spelling() {
        let s = snap(&[
            json!({"kind": "Component", "metadata": {"name": "a", "tags": ["Java", "go"]}, "spec": {"type": "Service"}}),
            json!({"kind": "Component", "metadata": {"name": "b", "tags": ["java"]}, "spec": {"type": "service"}}),
            json!({"kind": "Component", "metadata": {"name": "c"}, "spec": {"type": "service"}}),
            json!({"kind": "API", "metadata": {"name": "d"}, "spec": {"type": "openapi"}}),
            json!({"kind": "Component", "metadata": {"name": "e"}, "spec": {"type": "x".repeat(201)}}),
            json!({"kind": "Component", "metadata": {"name": "f"}, "spec": {"type": "Ärger"}}),
            json!({"kind": "Component", "metadata": {"name": "g"}, "spec": {"type": "ärger"}}),
        ]);
        let f = facets(
            &s,
            &[
                "spec.type".into(),
                "Kind".into(),
                "metadata.tags".into(),
                "nope".into(),
            ],
            None,
        );
        assert_eq!(f[0].0, "spec.type");
        assert_eq!(
            f[0].1,
            [
                ("Service".to_owned(), 1),
                ("openapi".to_owned(), 1),
                ("service".to_owned(), 2),
                ("Ärger".to_owned(), 1),
                ("ärger".to_owned(), 1)
            ]
        );
        assert_eq!(f[1].0, "Kind");
        assert_eq!(f[1].1, [("API".to_owned(), 1), ("Component".to_owned(), 6)]);
        assert_eq!(
            f[2].1,
            [
                ("Java".to_owned(), 1),
                ("go".to_owned(), 1),
                ("java".to_owned(), 1)
            ]
        );
        assert!(f[3].1.is_empty());
        let comp = eq("kind", &["component"]);
        let f = facets(
            &s,
            &["spec.type".into()],
            Some(&Filter::All(vec![comp, eq("metadata.name", &["b", "c"])])),
        );
        assert_eq!(f[0].1, [("service".to_owned(), 2)]);
        let f = facets(
            &s,
            &["spec.type".into()],
            Some(&eq("metadata.name", &["a"])),
        );
        assert_eq!(f[0].1, [("Service".to_owned(), 1)]);
    }

    #[test]
    fn projection() {
        let body = json!({
            "apiVersion": "v1", "kind": "Component",
            "metadata": {"name": "a", "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "y"}, "tags": ["t0", "t1"]},
            "spec": {"type": "service", "none": null, "deep": {"er": {"est": 1}}},
        })
        .to_string();
        let f = |fields: &[&str]| {
            project(
                &body,
                &fields.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            f(&["kind", "metadata.name"]),
            json!({"kind": "Component", "metadata": {"name": "a"}})
        );
        assert_eq!(
            f(&["kind,metadata.name"]),
            json!({"kind": "Component", "metadata": {"name": "a"}})
        );
        assert_eq!(
            f(&["metadata.annotations.backstage.io/techdocs-ref"]),
            json!({"metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}})
        );
        assert_eq!(
            f(&["spec.deep.er.est", "spec.none", "spec.missing", "nope.x"]),
            json!({"spec": {"deep": {"er": {"est": 1}}, "none": null}})
        );
        assert_eq!(
            f(&["metadata.tags.1"]),
            json!({"metadata": {"tags": [null, "t1"]}})
        );
        assert_eq!(
            f(&["metadata.name", "metadata"])["metadata"]["tags"],
            json!(["t0", "t1"])
        );
        assert_eq!(f(&[]), serde_json::from_str::<Value>(&body).unwrap());
        // Key order follows the requested fields.
        let keys: Vec<String> = f(&["spec.type", "kind"])
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["spec", "kind"]);
    }

    #[test]
    fn projection_deduplicates_many_fields_in_linear_time() {
        let entity = json!({"kind": "Component", "metadata": {"name": "a"}});
        let mut fields: Vec<String> = (0..40_000).map(|i| format!("f{i}")).collect();
        fields.push("kind".into());
        fields.push("kind".into());
        let started = std::time::Instant::now();
        assert_eq!(
            project_value(&entity, &fields),
            json!({"kind": "Component"})
        );
        // Quadratic de-duplication took 4 s here in a debug build.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
}
