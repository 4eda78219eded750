//! Records the portal's own use: after a page is served, a page view by its route template
//! (axum's `MatchedPath`, never the raw URL), with the entity for entity pages, queued through
//! `analytics::Recorder` (never waits for the database). Only full pages count — a GET answered
//! 200 with HTML, not an htmx fragment — and only for a signed-in person: use is attributed to
//! catalog Users, and an anonymous view has no one to count.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::auth::Identity;

pub async fn page_views(
    State(s): State<AppState>,
    me: Identity,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let counted = request.method() == Method::GET && !is_fragment(&request);
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if let (true, true, true, Some(route), Some(user)) = (
        counted,
        html,
        response.status().is_success(),
        route,
        me.user,
    ) {
        analytics::Recorder::of(&s.catalog).record(view(&user.key(), &route, &path));
    }
    response
}

/// An htmx request that swaps part of a page; a boosted link (`HX-Boosted`) is a navigation.
fn is_fragment(r: &Request) -> bool {
    let h = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok());
    h("hx-request") == Some("true") && h("hx-boosted") != Some("true")
}

/// The event of one page view: the route template as subject, its parameters as attributes,
/// and the entity for `/catalog/{namespace}/{kind}/{name}`.
fn view(user: &str, route: &str, path: &str) -> analytics::Event {
    let plugin = analytics::event::plugin_of_route(route);
    let mut e = analytics::Event::server(user, "navigate", route, plugin);
    let mut params = std::collections::BTreeMap::new();
    for (t, v) in route.split('/').zip(path.split('/')) {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            let v: String = form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            params.insert(name.to_owned(), v);
        }
    }
    if let (Some(ns), Some(kind), Some(name)) = (
        params.get("namespace"),
        params.get("kind"),
        params.get("name"),
    ) && route.starts_with("/catalog/")
    {
        e = e.with_entity(&format!("{kind}:{ns}/{name}"));
    }
    for (k, v) in params {
        e = e.with_attribute(&k, v);
    }
    e
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_view_names_its_route_and_entity_not_the_url() {
        let e = super::view(
            "user:default/jane",
            "/catalog/{namespace}/{kind}/{name}",
            "/catalog/default/api/payments%20v2",
        );
        assert_eq!(e.subject, "/catalog/{namespace}/{kind}/{name}");
        assert_eq!(
            e.context.entity_ref.as_deref(),
            Some("api:default/payments v2")
        );
        // An API's page counts as API docs.
        assert_eq!(e.feature(), "api-docs");
        let s = super::view("user:default/jane", "/scorecards/{name}", "/scorecards/ops");
        assert_eq!(s.feature(), "scorecards");
        assert_eq!(s.attributes.unwrap()["name"], "ops");
    }
}
