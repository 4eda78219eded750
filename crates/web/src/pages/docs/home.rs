//! The docs home (`/docs`): every documented entity with its owner, page count, freshness (when
//! its source files last changed) and build state; and, per team, the software that has no docs
//! yet (`?owner=group:default/x` narrows both lists to one team).

use std::collections::BTreeMap;

use ::docs::Docs;
use axum::extract::{Query, State};
use axum::response::Response;
use catalog::read::Snapshot;

use super::ago;
use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view::RefLink;

/// Kinds that are expected to carry docs.
const DOCUMENTABLE: [&str; 3] = ["component", "api", "system"];

#[derive(serde::Deserialize, Default)]
pub struct HomeQuery {
    #[serde(default)]
    pub owner: Option<String>,
}

pub struct DocRow {
    pub title: String,
    pub href: Option<String>,
    pub entity: RefLink,
    pub owner: Option<RefLink>,
    /// The owner as people call it (its title), else its ref's label.
    pub owner_name: String,
    pub pages: usize,
    pub freshness: String,
    pub problems: usize,
    pub failed: bool,
}

pub struct TeamMissing {
    pub team: Option<RefLink>,
    pub name: String,
    pub entities: Vec<RefLink>,
}

#[derive(askama::Template)]
#[template(path = "docs/home.html")]
struct HomePage {
    layout: Layout,
    rows: Vec<DocRow>,
    missing: Vec<TeamMissing>,
    missing_total: usize,
    owner: Option<String>,
}

/// Entities expected to have docs and lacking a techdocs-ref, by owner: once per snapshot.
struct Missing(BTreeMap<String, Vec<String>>);

impl Missing {
    fn of(snap: &Snapshot) -> Self {
        let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in snap.entities(None) {
            if !DOCUMENTABLE.contains(&e.kind().to_ascii_lowercase().as_str())
                || e.annotation(::docs::source::TECHDOCS_REF).is_some()
            {
                continue;
            }
            by_owner
                .entry(e.owner().unwrap_or_default().to_lowercase())
                .or_default()
                .push(e.key().to_owned());
        }
        Missing(by_owner)
    }
}

pub async fn page(
    State(state): State<AppState>,
    me: Identity,
    Query(q): Query<HomeQuery>,
) -> Response {
    let snap = state.catalog.snapshot();
    let owner = q
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            model::EntityRef::parse(o, Some("group"), "default")
                .map(|r| r.key())
                .unwrap_or_else(|_| o.to_lowercase())
        });
    let team_link = |o: &str| RefLink::parse(&snap, o, Some("group"));
    let team_name = |l: &RefLink| {
        crate::pages::view::display_name(&snap, &l.full).unwrap_or_else(|| l.label.clone())
    };
    let mut rows = Vec::new();
    for entry in Docs::of(&state.catalog).entities() {
        let Some(entity) = snap.entity(entry.entity_ref()) else {
            continue;
        };
        let entity_owner = entity.owner().map(str::to_lowercase);
        if owner.is_some() && entity_owner != owner {
            continue;
        }
        let site = entry.site.as_ref();
        let Ok(r) = model::EntityRef::parse(entity.key(), None, "default") else {
            continue;
        };
        rows.push(DocRow {
            title: site
                .map(|s| s.site_name.clone())
                .unwrap_or_else(|| entity.title().unwrap_or(entity.name()).to_owned()),
            href: site.map(|s| s.urls.pages.clone()),
            entity: RefLink::with(&r, true),
            owner_name: entity
                .owner()
                .and_then(team_link)
                .map(|l| team_name(&l))
                .unwrap_or_default(),
            owner: entity.owner().and_then(team_link),
            pages: site.map_or(0, |s| s.pages.len()),
            freshness: entry.source_changed().map(ago).unwrap_or_default(),
            problems: site.map_or(0, |s| s.problems.len()),
            failed: entry.error.is_some(),
        });
    }
    rows.sort_by_key(|r| r.title.to_lowercase());

    let missing_all = snap.derived(Missing::of);
    let mut missing = Vec::new();
    let mut missing_total = 0;
    for (team, keys) in &missing_all.0 {
        if owner.as_ref().is_some_and(|o| o != team) {
            continue;
        }
        missing_total += keys.len();
        let link = (!team.is_empty()).then(|| team_link(team)).flatten();
        let name = match &link {
            Some(l) => {
                crate::pages::view::display_name(&snap, &l.full).unwrap_or_else(|| l.label.clone())
            }
            None if team.is_empty() => "No owner".to_owned(),
            None => team.clone(),
        };
        missing.push(TeamMissing {
            team: link,
            name,
            entities: keys
                .iter()
                .filter_map(|k| model::EntityRef::parse(k, None, "default").ok())
                .map(|r| RefLink::with(&r, true))
                .collect(),
        });
    }
    let layout = Layout::new("Docs", "docs", &snap, &me);
    crate::pages::render(&HomePage {
        layout,
        rows,
        missing,
        missing_total,
        owner,
    })
}
