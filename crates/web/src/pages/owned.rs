//! "What does this team (or person) own": entities whose `ownedBy` relation names one of the
//! given owners, found through the catalog's filter index rather than a scan.

use catalog::read::{Bits, Snapshot};
use model::filter::Filter;

use super::derived::Derived;
use super::view::Row;

/// Kinds in the order the group page lists them.
pub const KIND_ORDER: [&str; 9] = [
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Template",
    "Group",
    "User",
    "Location",
];

pub struct Owned {
    pub bits: Bits,
    pub total: usize,
}

/// Everything owned by any of `owners` (entity keys, lower-case).
pub fn owned(snap: &Snapshot, owners: &[String]) -> Owned {
    let bits = if owners.is_empty() {
        Bits::empty(snap.len())
    } else {
        snap.matching(Some(&Filter::Eq {
            key: "relations.ownedby".into(),
            values: owners.to_vec(),
        }))
    };
    Owned {
        total: bits.count(),
        bits,
    }
}

/// Rows of a set, at most `limit`, in ref order.
pub fn rows(snap: &Snapshot, d: &Derived, bits: &Bits, limit: usize) -> Vec<Row> {
    d.entities(bits)
        .take(limit)
        .map(|st| Row::of(snap, st))
        .collect()
}

/// The rows grouped by kind, each group capped at `per_kind`; (kind, rows, total of that kind).
pub fn by_kind(
    snap: &Snapshot,
    d: &Derived,
    bits: &Bits,
    per_kind: usize,
) -> Vec<(String, Vec<Row>, usize)> {
    let mut groups: Vec<(String, Vec<Row>, usize)> = Vec::new();
    for st in d.entities(bits) {
        // The kind is the ref's prefix; no need to parse bodies that will not be shown.
        let kind = st.key().split(':').next().unwrap_or("").to_owned();
        let idx = match groups.iter().position(|g| g.0.eq_ignore_ascii_case(&kind)) {
            Some(i) => i,
            None => {
                groups.push((kind, Vec::new(), 0));
                groups.len() - 1
            }
        };
        let g = &mut groups[idx];
        g.2 += 1;
        if g.1.len() < per_kind {
            let row = Row::of(snap, st);
            g.0 = row.kind.clone();
            g.1.push(row);
        }
    }
    groups.sort_by_key(|g| {
        KIND_ORDER
            .iter()
            .position(|k| k.eq_ignore_ascii_case(&g.0))
            .unwrap_or(KIND_ORDER.len())
    });
    groups
}
