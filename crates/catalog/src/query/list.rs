//! GET /entities: filtered, ordered, offset/limit paging and the after cursor.

use super::*;

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
pub(super) fn multi_order(s: &Snapshot, cand: &Bits, order: &[Order], wanted: usize) -> Vec<u32> {
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
