//! What every entity-like page (entity, group, user) shows first: the header and the
//! relations graph.

use catalog::read::{Snapshot, Stitched};
use model::relations as rel;
use serde_json::Value;

use super::graph::{self, Graph, Neighbour};
use crate::pages::view::{self, RefLink, Row};

/// The top of every entity-like page.
pub struct Header {
    pub title: String,
    pub me: RefLink,
    pub kind: String,
    pub type_: String,
    pub lifecycle: String,
    pub namespace: String,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
    pub domain: Option<RefLink>,
    pub tags: Vec<String>,
    pub description: String,
    pub problems: usize,
}

impl Header {
    pub fn new(snap: &Snapshot, st: &Stitched, e: &Value) -> Header {
        let row = Row::from_value(snap, st, e);
        let domain = view::targets(e, rel::PART_OF)
            .find(|t| t.starts_with("domain:"))
            .and_then(|t| RefLink::parse(snap, t, None));
        Header {
            title: row.title,
            namespace: view::str_at(e, "/metadata/namespace")
                .unwrap_or("default")
                .to_owned(),
            me: row.link,
            kind: row.kind,
            type_: row.type_,
            lifecycle: row.lifecycle,
            owner: row.owner,
            system: row.system,
            domain,
            tags: row.tags,
            description: row.description,
            problems: row.errors,
        }
    }
}

/// The entity's relations as graph neighbours. Targets are chosen per side (in relation, then
/// ref order) before any is looked up, so an owner of thousands costs no more than a leaf.
pub fn graph_of(snap: &Snapshot, header: &Header, e: &Value) -> Graph {
    let mut by_target: Vec<(&str, &str)> = e
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("type")?.as_str()?, r.get("targetRef")?.as_str()?)))
        .collect();
    by_target.sort_unstable_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    // Each target once, with the first of its relations deciding its side and place.
    let mut targets: Vec<(&str, &str)> = Vec::new();
    for (relation, target) in &by_target {
        if targets.last().is_none_or(|(_, t)| t != target) {
            targets.push((relation, target));
        }
    }
    targets.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
    let mut shown: Vec<&str> = Vec::new();
    let mut counts = [0usize; 2];
    let mut hidden = [0usize; 2];
    for (relation, target) in &targets {
        let side = usize::from(!graph::on_left(relation));
        counts[side] += 1;
        if counts[side] > graph::MAX_PER_SIDE {
            hidden[side] += 1;
        } else {
            shown.push(target);
        }
    }
    let neighbours = by_target
        .iter()
        .filter(|(_, t)| shown.contains(t))
        .filter_map(|(relation, target)| {
            let link = RefLink::parse(snap, target, None)?;
            Some(Neighbour {
                relation: (*relation).to_owned(),
                label: link.label.clone(),
                kind: link.kind.clone(),
                href: link.exists.then(|| link.href.clone()),
                full: link.full,
            })
        })
        .collect();
    graph::layout_with_hidden(
        &header.title,
        &header.me.kind,
        &header.me.full,
        neighbours,
        hidden,
    )
}
