//! The guest sign-in page: pick which catalog User you are (demo and evaluation mode).

use axum::extract::State;
use axum::response::Response;
use model::filter::Filter;

use super::layout::Layout;
use super::view::Row;
use crate::AppState;
use crate::auth::Identity;

/// Users listed on the sign-in page at once; the filter narrows longer lists.
const SIGN_IN_LIMIT: usize = 60;

#[derive(askama::Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    filter: String,
    users: Vec<Row>,
    more: usize,
}

#[derive(serde::Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    q: String,
}

pub async fn page(
    State(state): State<AppState>,
    me: Identity,
    axum::extract::Query(params): axum::extract::Query<SignInQuery>,
) -> Response {
    let snap = state.catalog.snapshot();
    let users = Filter::Eq {
        key: "kind".into(),
        values: vec!["user".into()],
    };
    let term = params.q.trim().to_lowercase();
    let matching: Vec<Row> = catalog::read::list_all(&snap, Some(&users), &[])
        .iter()
        .map(|st| Row::of(&snap, st))
        .filter(|r| {
            term.is_empty()
                || r.title.to_lowercase().contains(&term)
                || r.link.label.to_lowercase().contains(&term)
        })
        .collect();
    let more = matching.len().saturating_sub(SIGN_IN_LIMIT);
    let page = SignInPage {
        layout: Layout::new("Sign in", "", &snap, &me),
        filter: params.q.clone(),
        users: matching.into_iter().take(SIGN_IN_LIMIT).collect(),
        more,
    };
    super::render(&page)
}
