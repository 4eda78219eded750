//! The personal home page: search, my teams, what I own, what of it has errors, and what I
//! looked at recently. Signed out, it offers the search, the catalog at a glance and sign-in.

use axum::extract::State;
use axum::response::Response;
use catalog::read;

use super::catalog::user::{self, Team};
use super::derived;
use super::layout::Layout;
use super::owned;
use super::recent::Recent;
use super::view::{self, Row};
use crate::AppState;
use crate::auth::Identity;

const OWNED_SHOWN: usize = 10;

pub struct KindCount {
    pub kind: String,
    pub count: usize,
    pub href: String,
}

#[derive(askama::Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    signed_in: bool,
    greeting: String,
    teams: Vec<Team>,
    owned: Vec<Row>,
    owned_total: usize,
    owned_href: String,
    errors: Vec<Row>,
    recent: Vec<Row>,
    kinds: Vec<KindCount>,
    total: usize,
    /// Docs for newcomers: (reader URL, title) of the docs of an entity tagged `onboarding`.
    onboarding: Option<(String, String)>,
    checklist: Option<analytics::checklist::Checklist>,
}

pub async fn page(State(state): State<AppState>, me: Identity, recent: Recent) -> Response {
    let snap = state.catalog.snapshot();
    let d = derived::of(&snap);
    let layout = Layout::new("Home", "home", &snap, &me);
    let user = me.user.as_ref().and_then(|u| snap.get(&u.key()).cloned());
    let (mut teams, mut owned, mut owned_total, mut errors) =
        (Vec::new(), Vec::new(), 0, Vec::new());
    let mut owned_href = String::from("/catalog");
    if let Some(st) = &user {
        let e = view::parse(st);
        teams = user::teams(&snap, &e);
        let mut owners = vec![st.key().to_owned()];
        owners.extend(teams.iter().map(|t| t.link.full.clone()));
        let o = owned::owned(&snap, &owners);
        owned_total = o.total;
        owned = owned::rows(&snap, &d, &o.bits, OWNED_SHOWN);
        let mut with_errors = o.bits.clone();
        with_errors.and_with(&d.errors);
        errors = owned::rows(&snap, &d, &with_errors, 50);
        let q: Vec<String> = owners
            .iter()
            .map(|o| format!("owner={}", view::query_value(o)))
            .collect();
        owned_href = format!("/catalog?{}", q.join("&"));
    }
    let recent = recent
        .0
        .iter()
        .filter_map(|k| snap.get(k))
        .map(|st| Row::of(&snap, st))
        .collect();
    let kinds = read::facets(&snap, &["kind".to_owned()], None)
        .into_iter()
        .flat_map(|(_, v)| v)
        .map(|(kind, count)| KindCount {
            href: format!("/catalog?kind={}", view::query_value(&kind.to_lowercase())),
            kind,
            count,
        })
        .collect();
    let greeting = match (&layout.me, user.is_some()) {
        (Some(m), true) => format!(
            "Welcome back, {}",
            m.name.split_whitespace().next().unwrap_or(&m.name)
        ),
        _ => "Find software, its owners and its APIs".to_owned(),
    };
    // The onboarding checklist: what this person has unlocked and the next step.
    let checklist = match &user {
        Some(st) => analytics::Recorder::of(&state.catalog)
            .checklist(&snap, st.key())
            .await
            .ok(),
        None => None,
    };
    super::render(&HomePage {
        checklist,
        signed_in: user.is_some(),
        greeting,
        teams,
        owned,
        owned_total,
        owned_href,
        errors,
        recent,
        kinds,
        total: snap.len(),
        onboarding: super::docs::onboarding(&state.catalog, &snap),
        layout,
    })
}
