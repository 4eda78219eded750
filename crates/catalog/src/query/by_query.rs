//! by-query: cursors that carry the query, totals, and paging in both directions.

use super::*;

/// Everything a later page needs; base64 of this JSON is the opaque cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) filter: Option<Value>,
    #[serde(default)]
    pub(super) order: Vec<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) text: Option<FullText>,
    /// Sort values of the row the page continues from: `[value, ref]`, or `[ref]` unsorted.
    pub(super) values: Vec<Option<String>>,
    /// Sort values of the very first row, where going back stops.
    pub(super) first: Vec<Option<String>>,
    pub(super) prev: bool,
    pub(super) total: usize,
}

pub(super) struct State {
    pub(super) filter: Option<Filter>,
    pub(super) order: Vec<Order>,
    pub(super) text: Option<FullText>,
    pub(super) values: Option<Vec<Option<String>>>,
    pub(super) first: Option<Vec<Option<String>>>,
    pub(super) prev: bool,
    pub(super) total: Option<usize>,
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
        let key = row.map(|&(_, id)| s.entity(id).key().to_owned());
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

pub(super) fn empty_page(total: usize) -> QueryPage {
    QueryPage {
        items: Vec::new(),
        total_items: total,
        next_cursor: None,
        prev_cursor: None,
    }
}

pub(super) type After<'a> = (Option<&'a str>, &'a str);

pub(super) fn parse_after(
    values: &[Option<String>],
    sorted: bool,
) -> Result<After<'_>, QueryError> {
    match (sorted, values) {
        (true, [value, Some(key)]) => Ok((value.as_deref(), key)),
        (false, [Some(key)]) => Ok((None, key)),
        _ => Err(QueryError::BadCursor(
            "cursor position does not match its order".into(),
        )),
    }
}

pub(super) fn encode_cursor(cursor: &Cursor) -> String {
    let json = serde_json::to_vec(cursor).expect("cursor serialises");
    base64::engine::general_purpose::STANDARD.encode(json)
}

pub(super) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s = s.trim();
    // Query strings often turn '+' into ' ' or get re-encoded URL-safe; accept all spellings.
    let repaired = s.replace(' ', "+");
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&repaired).ok())
}

pub(super) fn decode_cursor(s: &str) -> Result<State, QueryError> {
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
pub(super) fn filter_to_json(f: &Filter) -> Value {
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

pub(super) fn filter_from_json(v: &Value) -> Result<Filter, QueryError> {
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
