//! The user page: the person's teams and what they own, directly or through a team.

use std::sync::Arc;

use axum::response::Response;
use catalog::read::{Snapshot, Stitched};
use model::relations as rel;
use serde_json::Value;

use super::header::Header;
use crate::auth::Identity;
use crate::pages::derived;
use crate::pages::layout::Layout;
use crate::pages::owned;
use crate::pages::view::{self, ExtLink, ProblemView, RefLink, Row};

const OWNED_LIMIT: usize = 100;

pub struct Team {
    pub link: RefLink,
    pub title: String,
    pub type_: String,
}

#[derive(askama::Template)]
#[template(path = "user.html")]
struct UserPage {
    layout: Layout,
    header: Header,
    initials: String,
    email: Option<ExtLink>,
    teams: Vec<Team>,
    direct: Vec<Row>,
    via_teams: Vec<Row>,
    via_total: usize,
    problems: Vec<ProblemView>,
}

/// The groups a user belongs to, as links with titles.
pub fn teams(snap: &Snapshot, e: &Value) -> Vec<Team> {
    view::targets(e, rel::MEMBER_OF)
        .filter_map(|g| {
            let link = RefLink::parse(snap, g, None)?;
            let ge = snap.get(g).map(|s| view::parse(s));
            Some(Team {
                title: ge
                    .as_ref()
                    .and_then(|ge| {
                        view::str_at(ge, "/spec/profile/displayName")
                            .or_else(|| view::str_at(ge, "/metadata/title"))
                    })
                    .map(str::to_owned)
                    .unwrap_or_else(|| link.label.clone()),
                type_: ge
                    .as_ref()
                    .and_then(|ge| view::str_at(ge, "/spec/type"))
                    .unwrap_or_default()
                    .to_owned(),
                link,
            })
        })
        .collect()
}

pub fn render(snap: &Arc<Snapshot>, st: &Arc<Stitched>, e: &Value, me: &Identity) -> Response {
    let d = derived::of(snap);
    let header = Header::new(snap, st, e);
    let teams = teams(snap, e);
    let direct = owned::owned(snap, &[st.key().to_owned()]);
    let team_keys: Vec<String> = teams.iter().map(|t| t.link.full.clone()).collect();
    let mut via = owned::owned(snap, &team_keys).bits;
    via.and_not(&direct.bits);
    let email = view::str_at(e, "/spec/profile/email").map(|m| ExtLink {
        label: m.to_owned(),
        detail: m.to_owned(),
        href: view::safe_href(&format!("mailto:{m}")),
    });
    let page = UserPage {
        layout: Layout::new(&header.title, "catalog", snap, me),
        initials: view::initials(&header.title),
        email,
        teams,
        direct: owned::rows(snap, &d, &direct.bits, OWNED_LIMIT),
        via_total: via.count(),
        via_teams: owned::rows(snap, &d, &via, OWNED_LIMIT),
        problems: view::problems(e),
        header,
    };
    crate::pages::render(&page)
}
