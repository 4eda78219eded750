//! What the pages need beyond the catalog's own index, derived once per snapshot: entities by
//! id, which entities carry processing errors, facet value sets as bitmaps and sort orders.
//!
//! The catalog index answers filters with bitmaps but keeps its ids private, and it does not
//! index `status`. The catalog table needs both (a has-errors facet; facet counts that leave a
//! facet's own selection out, computed for every value). Rather than re-run the filter
//! machinery per facet value per request, the bitmaps for each facet value are built once per
//! snapshot from `Snapshot::matching` and combined with cheap word-wise AND and popcount.
//!
//! Ids here are positions in `Snapshot::iter()`, the same ids the index uses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use catalog::read::{self, Order};
use catalog::read::{Bits, Snapshot, Stitched};
use model::filter::Filter;

use super::view;

/// At most this many values per facet get a bitmap; the rest are rare and not offered.
const MAX_FACET_VALUES: usize = 500;

/// One facet value: as entities spelled it, lower-cased for filtering, and who has it.
pub struct FacetValue {
    pub label: String,
    pub key: String,
    pub bits: Bits,
}

/// Kept in the snapshot's own cache, so it holds no reference back to the snapshot: methods
/// that need the index take it as an argument.
pub struct Derived {
    pub ents: Vec<Arc<Stitched>>,
    /// Entities with at least one processing error.
    pub errors: Bits,
    facets: Mutex<HashMap<&'static str, Arc<Vec<FacetValue>>>>,
    orders: Mutex<HashMap<&'static str, Arc<Vec<u32>>>>,
}

/// The derived data of a snapshot, built on first use and kept with that snapshot.
pub fn of(snap: &Snapshot) -> Arc<Derived> {
    snap.derived(Derived::build)
}

impl Derived {
    pub fn build(snap: &Snapshot) -> Derived {
        let ents: Vec<Arc<Stitched>> = snap.iter().cloned().collect();
        let mut errors = Bits::empty(ents.len());
        for (id, e) in ents.iter().enumerate() {
            // Cheap text test first; parse only the few that may have errors, so a description
            // mentioning the status type does not count.
            if e.body().contains(view::PROCESSING) && !view::problems(&view::parse(e)).is_empty() {
                errors.insert(id as u32);
            }
        }
        Derived {
            ents,
            errors,
            facets: Mutex::new(HashMap::new()),
            orders: Mutex::new(HashMap::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.ents.len()
    }

    /// The id of an entity, by its key.
    pub fn id_of(&self, key: &str) -> Option<u32> {
        self.ents
            .binary_search_by(|e| e.key().cmp(key))
            .ok()
            .map(|i| i as u32)
    }

    /// Ids of a set of entities.
    pub fn bits_of<'a>(&self, items: impl IntoIterator<Item = &'a Arc<Stitched>>) -> Bits {
        let mut bits = Bits::empty(self.len());
        for st in items {
            if let Some(id) = self.id_of(st.key()) {
                bits.insert(id);
            }
        }
        bits
    }

    pub fn entities<'a>(&'a self, bits: &'a Bits) -> impl Iterator<Item = &'a Arc<Stitched>> + 'a {
        bits.iter_from(0).map(|id| &self.ents[id as usize])
    }

    /// The values of a search key with their bitmaps, most common first beyond the cap.
    pub fn facet(&self, snap: &Snapshot, key: &'static str) -> Arc<Vec<FacetValue>> {
        if let Some(f) = self
            .facets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return f.clone();
        }
        let counted = read::facets(snap, &[key.to_owned()], None);
        let mut values: Vec<(String, usize)> = counted.into_iter().flat_map(|(_, v)| v).collect();
        // Spellings that differ only in case are one value to a filter.
        let mut merged: Vec<(String, String, usize)> = Vec::new();
        values.sort_by(|a, b| {
            a.0.to_lowercase()
                .cmp(&b.0.to_lowercase())
                .then(b.1.cmp(&a.1))
        });
        for (label, n) in values {
            let lower = label.to_lowercase();
            match merged.last_mut() {
                Some(last) if last.1 == lower => last.2 += n,
                _ => merged.push((label, lower, n)),
            }
        }
        if merged.len() > MAX_FACET_VALUES {
            merged.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
            merged.truncate(MAX_FACET_VALUES);
            merged.sort_by(|a, b| a.1.cmp(&b.1));
        }
        let out: Vec<FacetValue> = merged
            .into_iter()
            .map(|(label, lower, _)| {
                let bits = snap.matching(Some(&Filter::Eq {
                    key: key.to_owned(),
                    values: vec![lower.clone()],
                }));
                FacetValue {
                    label,
                    key: lower,
                    bits,
                }
            })
            .collect();
        let out = Arc::new(out);
        self.facets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, out.clone());
        out
    }

    /// Every id in ascending order of `field` (entities without it last, ties by ref), each once.
    pub fn order(&self, snap: &Snapshot, field: &'static str) -> Arc<Vec<u32>> {
        if let Some(o) = self
            .orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(field)
        {
            return o.clone();
        }
        let sorted = read::list(
            snap,
            None,
            &[Order {
                field: field.to_owned(),
                descending: false,
            }],
            0,
            None,
        )
        .0;
        let mut seen = Bits::empty(self.len());
        let mut ids = Vec::with_capacity(self.len());
        for st in &sorted {
            if let Some(id) = self.id_of(st.key())
                && !seen.contains(id)
            {
                seen.insert(id);
                ids.push(id);
            }
        }
        let ids = Arc::new(ids);
        self.orders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(field, ids.clone());
        ids
    }
}

/// `a AND b`, counted, without keeping the result.
pub fn and_count(a: &Bits, b: &Bits) -> usize {
    let mut x = a.clone();
    x.and_with(b);
    x.count()
}
