//! Full-text filtering: case-insensitive substring matching over chosen fields or all of them.

use super::*;

/// Entities with a value under any of `fields` that contains `term` (already lower-cased).
pub(super) fn text_matches(s: &Snapshot, fields: &[String], term: &str) -> Bits {
    let mut bits = Bits::empty(s.len());
    // A term without wildcards is a plain substring: one scan per field finds it.
    let finder = (!term.contains(['%', '_'])).then(|| memchr::memmem::Finder::new(term));
    let mut seen: Vec<KeyId> = Vec::new();
    for field in fields {
        let Some(k) = s.key_id(&field.to_lowercase()) else {
            continue;
        };
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        if let Some(finder) = &finder {
            s.entries_containing(k, finder, |e| bits.set_all(s.entry_ids(e)));
            continue;
        }
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
pub(super) fn find_with_wildcards(value: &str, from: usize, part: &str) -> Option<usize> {
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
pub(super) fn walk_field(
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
