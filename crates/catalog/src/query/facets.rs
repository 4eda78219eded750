//! Facets: counts of each value of a field over the filtered set.

use super::*;

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
