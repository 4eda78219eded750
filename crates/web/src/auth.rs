//! Who is signed in: the [`Identity`] every handler can ask for, and the guest sign-in that
//! sets it (demo and evaluation mode), kept in a cookie.
//!
//! Guest mode trusts the person to say which catalog User they are; it proves nothing and is
//! meant for demos and evaluation only. Pages only ever see an [`Identity`] from the request
//! extractor, so a real sign-in (OIDC, with a server-side session) lands here without touching
//! them. Every form post that changes who is signed in is checked for a same-site origin.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use model::EntityRef;

use crate::AppState;

const GUEST_COOKIE: &str = "stagedoor_guest";

/// The signed-in person, if any: a catalog User reference. Built only by the extractor.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub user: Option<EntityRef>,
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let user = cookie(&parts.headers, GUEST_COOKIE)
            .and_then(|v| EntityRef::parse(&v, None, "default").ok())
            .filter(|r| r.kind.eq_ignore_ascii_case("user"));
        Ok(Identity { user })
    }
}

/// A cookie's value, percent-decoded.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
}

/// True unless the browser says the form was posted from another site. Browsers send `Origin`
/// on every form POST (and `Sec-Fetch-Site`); a client that sends neither (curl, a script) is
/// not a browser a third-party page could drive, so it is let through.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let h = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = h(header::ORIGIN) {
        let host = headers
            .get("x-forwarded-host")
            .and_then(|v| v.to_str().ok())
            .or(h(header::HOST));
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        return origin_host.is_some() && origin_host == host;
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| site != "cross-site" && site != "same-site")
}

/// Cookie attributes: `Secure` when the portal is served over HTTPS (behind a proxy that says
/// so), so the session never travels over plain HTTP; always HttpOnly and SameSite=Lax.
fn cookie_attributes(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| {
            p.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        });
    if https {
        "Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    }
}

pub(crate) fn cross_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        "cross-site form posts are refused; sign in from the portal itself",
    )
        .into_response()
}

/// `POST /sign-in` with `user=<ref>`: remembers the choice and goes home.
pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    let chosen = form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let snap = state.catalog.snapshot();
    let user = EntityRef::parse(&chosen, Some("user"), "default")
        .ok()
        .filter(|r| r.kind.eq_ignore_ascii_case("user") && snap.get(&r.key()).is_some());
    let Some(user) = user else {
        return (StatusCode::BAD_REQUEST, "no such user in the catalog").into_response();
    };
    let cookie = format!(
        "{GUEST_COOKIE}={}; Max-Age=2592000; {}",
        form_urlencoded::byte_serialize(user.key().as_bytes()).collect::<String>(),
        cookie_attributes(&headers)
    );
    analytics::Recorder::of(&state.catalog).record(analytics::Event::server(
        &user.key(),
        "sign-in",
        "guest",
        "app",
    ));
    let mut res = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `POST /sign-out`.
pub async fn sign_out(headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    let mut res = Redirect::to("/").into_response();
    let cookie = format!(
        "{GUEST_COOKIE}=; Max-Age=0; {}",
        cookie_attributes(&headers)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_found_and_decoded() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; stagedoor_guest=user%3Adefault%2Fpriya.raman; b=2"),
        );
        assert_eq!(
            cookie(&h, GUEST_COOKIE).as_deref(),
            Some("user:default/priya.raman")
        );
        assert_eq!(cookie(&h, "missing"), None);
    }
}
