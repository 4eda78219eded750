//! The ownership report: entities nobody owns, entities whose owner is not in the catalog,
//! entities with processing errors and, when discovery is configured, repositories not in the
//! catalog, grouped by owning team so each team sees its own list.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use catalog::read;
use catalog::read::{Bits, Snapshot};
use model::filter::Filter;

use crate::AppState;
use crate::auth::Identity;
use crate::pages::derived::{self, Derived};
use crate::pages::discovery::Share;
use crate::pages::layout::Layout;
use crate::pages::view::{self, ProblemView, RefLink, Row};

/// Kinds that must name an owner (Backstage requires `spec.owner` for these).
const OWNED_KINDS: [&str; 5] = ["component", "api", "resource", "system", "domain"];
/// Entities listed per team and list; a report is for reading, not for exporting.
const PER_LIST: usize = 100;

pub struct Broken {
    pub row: Row,
    pub problems: Vec<ProblemView>,
}

pub struct TeamReport {
    /// `None`: the entities in this section name no owner at all.
    pub owner: Option<RefLink>,
    pub title: String,
    pub anchor: String,
    pub mine: bool,
    /// Entities pointing at this owner, when the owner does not exist.
    pub dangling: Vec<Row>,
    pub dangling_total: usize,
    pub unowned: Vec<Row>,
    pub unowned_total: usize,
    pub errors: Vec<Broken>,
    /// The team's own repositories found by discovery, when some are not cataloged.
    pub repositories: Option<Share>,
}

#[derive(askama::Template)]
#[template(path = "ownership.html")]
struct OwnershipPage {
    layout: Layout,
    teams: Vec<TeamReport>,
    no_owner: usize,
    unknown_owner: usize,
    with_errors: usize,
    /// The whole organisation's repositories (`None`: discovery is not configured).
    completeness: Option<Share>,
}

fn rows(snap: &Snapshot, d: &Derived, bits: &Bits) -> Vec<Row> {
    d.entities(bits)
        .take(PER_LIST)
        .map(|st| Row::of(snap, st))
        .collect()
}

/// The section of `owner` (`None`: no owner), created on first use.
fn entry<'a>(
    teams: &'a mut BTreeMap<Option<String>, TeamReport>,
    snap: &Snapshot,
    mine: &[String],
    owner: Option<&str>,
) -> &'a mut TeamReport {
    teams.entry(owner.map(str::to_owned)).or_insert_with(|| {
        let link = owner.and_then(|o| RefLink::parse(snap, o, None));
        let title = match (&link, owner) {
            (Some(l), _) => view::display_name(snap, &l.full).unwrap_or_else(|| l.label.clone()),
            (None, Some(o)) => o.to_owned(),
            (None, None) => "No owner".to_owned(),
        };
        TeamReport {
            anchor: format!("team-{}", view::segment(owner.unwrap_or("none"))).replace('%', "_"),
            mine: owner.is_some_and(|o| mine.iter().any(|m| m == o)),
            owner: link,
            title,
            dangling: Vec::new(),
            dangling_total: 0,
            unowned: Vec::new(),
            unowned_total: 0,
            errors: Vec::new(),
            repositories: None,
        }
    })
}

pub async fn page(State(state): State<AppState>, me: Identity) -> Response {
    let snap = state.catalog.snapshot();
    let d = derived::of(&snap);
    let layout = Layout::new("Ownership", "ownership", &snap, &me);

    // My teams come first.
    let mine: Vec<String> = me
        .user
        .as_ref()
        .and_then(|u| snap.get(&u.key()))
        .map(|st| {
            let mut v: Vec<String> = view::targets(&view::parse(st), model::relations::MEMBER_OF)
                .map(str::to_owned)
                .collect();
            v.push(st.key().to_owned());
            v
        })
        .unwrap_or_default();

    let mut teams: BTreeMap<Option<String>, TeamReport> = BTreeMap::new();

    // No owner: an owned kind without an ownedBy relation.
    let no_owner_bits = snap.matching(Some(&Filter::All(vec![
        Filter::Eq {
            key: "kind".into(),
            values: OWNED_KINDS.iter().map(|k| (*k).to_owned()).collect(),
        },
        Filter::Not(Box::new(Filter::Exists {
            key: "relations.ownedby".into(),
        })),
    ])));
    let no_owner = no_owner_bits.count();
    if no_owner > 0 {
        let t = entry(&mut teams, &snap, &mine, None);
        t.unowned = rows(&snap, &d, &no_owner_bits);
        t.unowned_total = no_owner;
    }

    // Unknown owner: every distinct owner value that is not an entity.
    let mut unknown_owner = 0;
    for (value, _) in read::facets(&snap, &["relations.ownedby".to_owned()], None)
        .into_iter()
        .flat_map(|(_, v)| v)
    {
        if snap.get(&value).is_some() {
            continue;
        }
        let bits = snap.matching(Some(&Filter::Eq {
            key: "relations.ownedby".into(),
            values: vec![value.to_lowercase()],
        }));
        let n = bits.count();
        unknown_owner += n;
        let t = entry(&mut teams, &snap, &mine, Some(&value.to_lowercase()));
        t.dangling = rows(&snap, &d, &bits);
        t.dangling_total = n;
    }

    // Processing errors, under the entity's (first) owner.
    let with_errors = d.errors.count();
    for st in d.entities(&d.errors) {
        let e = view::parse(st);
        let owner = view::targets(&e, model::relations::OWNED_BY)
            .next()
            .map(str::to_owned);
        let t = entry(&mut teams, &snap, &mine, owner.as_deref());
        if t.errors.len() < PER_LIST {
            t.errors.push(Broken {
                row: Row::from_value(&snap, st, &e),
                problems: view::problems(&e),
            });
        }
    }

    // Repositories not in the catalog, under the team that owns them (discovery's guess when the
    // repository has no catalog file); each team's own, not its sub-teams', so none counts twice.
    let found = crate::discovery_api::completeness(&state).map(|(_, c)| c);
    for g in found.iter().flat_map(|c| &c.groups) {
        if g.own.cataloged < g.own.found {
            entry(&mut teams, &snap, &mine, Some(&g.group)).repositories =
                Some(Share::from(&g.own));
        }
    }
    let completeness = found.map(|c| Share::from(&c.org));

    let mut teams: Vec<TeamReport> = teams.into_values().collect();
    teams.sort_by(|a, b| {
        b.mine
            .cmp(&a.mine)
            .then(a.owner.is_none().cmp(&b.owner.is_none()))
            .then(a.title.to_lowercase().cmp(&b.title.to_lowercase()))
    });
    crate::pages::render(&OwnershipPage {
        layout,
        teams,
        no_owner,
        unknown_owner,
        with_errors,
        completeness,
    })
}
