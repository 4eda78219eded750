//! The group (team) page: where the team sits in the organisation, its members, everything it
//! owns by kind, the processing errors in what it owns, and its maturity under each scorecard.

use std::sync::Arc;

use axum::response::Response;
use catalog::read::{Snapshot, Stitched};
use model::relations as rel;
use serde_json::Value;

use super::graph::Graph;
use super::header::{self, Header};
use crate::auth::Identity;
use crate::pages::derived;
use crate::pages::layout::Layout;
use crate::pages::owned;
use crate::pages::scorecards::pages::{LevelShare, level_shares};
use crate::pages::view::{self, ExtLink, ProblemView, RefLink, Row};

/// Owned entities listed per kind before the rest are left to the catalog table.
const PER_KIND: usize = 20;
/// Depth of sub-teams shown under the group, and nodes in the tree at most.
const TREE_DEPTH: usize = 3;
const TREE_NODES: usize = 150;

pub struct TreeItem {
    pub depth: usize,
    pub link: RefLink,
    pub title: String,
    pub current: bool,
}

pub struct OwnedKind {
    pub kind: String,
    pub rows: Vec<Row>,
    pub total: usize,
    pub href: String,
}

pub struct Member {
    pub link: RefLink,
    pub name: String,
    pub initials: String,
    pub email: Option<String>,
}

/// One scorecard over what the group and its sub-groups own.
pub struct Maturity {
    pub name: String,
    pub title: String,
    pub total: usize,
    pub levels: Vec<LevelShare>,
}

#[derive(askama::Template)]
#[template(path = "group.html")]
struct GroupPage {
    layout: Layout,
    header: Header,
    email: Option<ExtLink>,
    tree: Vec<TreeItem>,
    members: Vec<Member>,
    owned: Vec<OwnedKind>,
    owned_total: usize,
    owned_href: String,
    errors: Vec<Row>,
    graph: Graph,
    problems: Vec<ProblemView>,
    maturity: Vec<Maturity>,
}

fn title_of(e: &Value) -> Option<String> {
    view::str_at(e, "/spec/profile/displayName")
        .or_else(|| view::str_at(e, "/metadata/title"))
        .map(str::to_owned)
}

fn tree_item(snap: &Snapshot, key: &str, depth: usize, current: bool) -> Option<(TreeItem, Value)> {
    let st = snap.get(key)?;
    let e = view::parse(st);
    let link = RefLink::parse(snap, st.entity_ref(), None)?;
    Some((
        TreeItem {
            depth,
            title: title_of(&e).unwrap_or_else(|| link.label.clone()),
            link,
            current,
        },
        e,
    ))
}

/// Ancestors from the root down, the group, then its sub-teams depth first.
fn tree(snap: &Snapshot, st: &Stitched, e: &Value) -> Vec<TreeItem> {
    let mut chain: Vec<String> = Vec::new();
    let mut cur = view::targets(e, rel::CHILD_OF).next().map(str::to_owned);
    while let Some(parent) = cur {
        if chain.contains(&parent) || chain.len() >= 8 || parent == st.key() {
            break;
        }
        cur = snap
            .get(&parent)
            .map(|p| view::parse(p))
            .and_then(|p| view::targets(&p, rel::CHILD_OF).next().map(str::to_owned));
        chain.push(parent);
    }
    chain.reverse();
    let mut out = Vec::new();
    for (depth, key) in chain.iter().enumerate() {
        if let Some((item, _)) = tree_item(snap, key, depth, false) {
            out.push(item);
        }
    }
    let base = out.len();
    if let Some((item, _)) = tree_item(snap, st.key(), base, true) {
        out.push(item);
    }
    fn children(
        snap: &Snapshot,
        e: &Value,
        depth: usize,
        max_depth: usize,
        out: &mut Vec<TreeItem>,
        seen: &mut Vec<String>,
    ) {
        let mut kids: Vec<(TreeItem, Value)> = view::targets(e, rel::PARENT_OF)
            .filter_map(|k| tree_item(snap, k, depth, false))
            .collect();
        kids.sort_by_key(|k| k.0.title.to_lowercase());
        for (item, ke) in kids {
            if out.len() >= TREE_NODES || seen.contains(&item.link.full) {
                continue;
            }
            seen.push(item.link.full.clone());
            out.push(item);
            if depth < max_depth {
                children(snap, &ke, depth + 1, max_depth, out, seen);
            }
        }
    }
    let mut seen = vec![st.key().to_owned()];
    children(snap, e, base + 1, base + TREE_DEPTH, &mut out, &mut seen);
    out
}

/// Every scorecard scoring something the group or one of its sub-groups owns: the levels reached,
/// rolled up along the group hierarchy.
fn maturity(snap: &Snapshot, key: &str, eval: &scorecards::Evaluation) -> Vec<Maturity> {
    eval.all_scorecards()
        .filter_map(|(card, scores)| {
            let rollup = eval
                .rollup(card, snap)
                .unwrap_or_else(|| std::sync::Arc::new(scorecards::RollUp::of(card, scores, snap)));
            let c = &rollup.group(key)?.counts;
            (c.total > 0).then(|| Maturity {
                name: card.name.clone(),
                title: card.display_name().to_owned(),
                total: c.total,
                levels: level_shares(card, c),
            })
        })
        .collect()
}

pub fn render(
    snap: &Arc<Snapshot>,
    st: &Arc<Stitched>,
    e: &Value,
    me: &Identity,
    eval: &scorecards::Evaluation,
) -> Response {
    let d = derived::of(snap);
    let header = Header::new(snap, st, e);
    let members: Vec<Member> = view::targets(e, rel::HAS_MEMBER)
        .filter_map(|m| {
            let link = RefLink::parse(snap, m, None)?;
            let ue = snap.get(m).map(|s| view::parse(s));
            let name = ue
                .as_ref()
                .and_then(title_of)
                .unwrap_or_else(|| link.label.clone());
            let email = ue
                .as_ref()
                .and_then(|u| view::str_at(u, "/spec/profile/email"))
                .map(str::to_owned);
            Some(Member {
                initials: view::initials(&name),
                link,
                name,
                email,
            })
        })
        .collect();
    let mut members = members;
    members.sort_by_key(|m| m.name.to_lowercase());

    let owned = owned::owned(snap, &[st.key().to_owned()]);
    let owner_q = view::query_value(st.key());
    let by_kind = owned::by_kind(snap, &d, &owned.bits, PER_KIND)
        .into_iter()
        .map(|(kind, rows, total)| OwnedKind {
            href: format!(
                "/catalog?owner={owner_q}&kind={}",
                view::query_value(&kind.to_lowercase())
            ),
            kind,
            rows,
            total,
        })
        .collect();
    let mut with_errors = owned.bits.clone();
    with_errors.and_with(&d.errors);
    let email = view::str_at(e, "/spec/profile/email").map(|m| ExtLink {
        label: m.to_owned(),
        detail: m.to_owned(),
        href: view::safe_href(&format!("mailto:{m}")),
    });
    let page = GroupPage {
        layout: Layout::new(&header.title, "catalog", snap, me),
        email,
        tree: tree(snap, st, e),
        members,
        owned: by_kind,
        owned_total: owned.total,
        owned_href: format!("/catalog?owner={owner_q}"),
        errors: owned::rows(snap, &d, &with_errors, 100),
        graph: header::graph_of(snap, &header, e),
        problems: view::problems(e),
        maturity: maturity(snap, st.key(), eval),
        header,
    };
    crate::pages::render(&page)
}
