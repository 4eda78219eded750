//! The portal's web pages: server-rendered HTML (askama) that works without JavaScript and
//! swaps fragments with htmx where it has it.
//!
//! Each page is a full-page template that wraps a partial; an htmx request that targets the
//! partial's element gets the partial alone ([`wants_partial`]). Every page answers with a
//! strict Content-Security-Policy, so even a mistake in escaping could not run inline script.
//!
//! Shared pieces sit here (layout, view models, the per-snapshot page cache); each capability's
//! pages live in a folder of their own (`catalog/`, `ownership/`, …). Routes are in the one
//! table in `lib.rs`.

pub mod analytics;
pub mod assets;
pub mod catalog;
mod derived;
pub mod discovery;
pub mod docs;
mod highlight;
pub mod home;
mod layout;
pub mod org;
mod owned;
pub mod ownership;
pub mod recent;
pub mod scaffolder;
pub mod scorecards;
pub mod search;
pub mod sign_in;
mod view;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Scripts only from our own origin (htmx); no inline script, no plugins, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A rendered page, or a plain 500 if the template failed (a bug, logged).
pub fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => {
            let mut res = (status, html).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            // The same URL answers a full page or a fragment, depending on these headers.
            h.insert(
                header::VARY,
                HeaderValue::from_static("HX-Request, HX-Target, Cookie"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed to render").into_response()
        }
    }
}

/// True when htmx asked for the element `target` alone. A history restore (back button with
/// htmx's cache empty) asks for the whole page even if it names a target.
pub fn wants_partial(headers: &HeaderMap, target: &str) -> bool {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    h("hx-request") == Some("true")
        && h("hx-history-restore-request") != Some("true")
        && h("hx-target") == Some(target)
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    layout: layout::Layout,
    what: String,
}

pub fn not_found(layout: layout::Layout, what: String) -> Response {
    render_status(StatusCode::NOT_FOUND, &NotFound { layout, what })
}

#[cfg(test)]
mod tests;
