//! What a person looked at lately: the recently-viewed list on the home page, kept in a cookie.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::request::Parts;

use super::view;
use crate::auth::cookie;

const RECENT_COOKIE: &str = "stagedoor_recent";
/// Entities kept in the recently-viewed list.
pub const RECENT_MAX: usize = 8;

/// Recently viewed entity keys, newest first, as the browser sent them back.
#[derive(Debug, Clone, Default)]
pub struct Recent(pub Vec<String>);

impl<S: Send + Sync> FromRequestParts<S> for Recent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let list = cookie(&parts.headers, RECENT_COOKIE)
            .map(|v| {
                v.split('|')
                    .filter(|s| !s.is_empty() && s.len() < 300)
                    .take(RECENT_MAX)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Recent(list))
    }
}

impl Recent {
    /// The cookie that records `key` as viewed just now.
    pub fn set_cookie(&self, key: &str) -> HeaderValue {
        let mut list = vec![key.to_owned()];
        list.extend(
            self.0
                .iter()
                .filter(|k| *k != key)
                .take(RECENT_MAX - 1)
                .cloned(),
        );
        let value = view::query_value(&list.join("|"));
        HeaderValue::from_str(&format!(
            "{RECENT_COOKIE}={value}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_list_puts_the_newest_first_once_and_is_bounded() {
        let r = Recent(
            (0..RECENT_MAX)
                .map(|i| format!("component:default/c{i}"))
                .collect(),
        );
        let v = r.set_cookie("component:default/c3");
        let s = v.to_str().unwrap();
        let value = s.split(';').next().unwrap().split_once('=').unwrap().1;
        let decoded: String = form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let items: Vec<&str> = decoded.split('|').collect();
        assert_eq!(items[0], "component:default/c3");
        assert_eq!(items.len(), RECENT_MAX);
        assert_eq!(
            items
                .iter()
                .filter(|i| **i == "component:default/c3")
                .count(),
            1
        );
    }
}
