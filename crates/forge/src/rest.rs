//! The JSON client core shared by every code host: one base URL, a bearer token, and the rules
//! a well-behaved API client follows.
//!
//! - The token goes in the `Authorization` header only; it is never logged, never in an error
//!   (errors name the URL, and URLs never carry it), and never sent to another host: a
//!   `Link: rel="next"` URL must have the base URL's origin.
//! - GETs are conditional: the `ETag` of every page is remembered per URL (with its body), so a
//!   page that did not change comes back as `304 Not Modified`, which GitHub does not count
//!   against the rate limit, and [`Page::not_modified`] says so.
//! - Rate limits: `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, or `retry-after`, make
//!   the client wait before its next request when the wait is at most [`Limits::max_wait`], and
//!   fail with [`Error::RateLimited`] (saying when it resets) when it is longer.
//! - Responses larger than [`Limits::max_body`] are refused while reading, lists longer than
//!   [`Limits::max_pages`] pages stop with an error, and every request has a timeout.
//! - 401, 403 and 404 are their own errors, so a caller can tell a bad token from a token
//!   without permission from a repository that is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::secret::Secret;

/// Bounds on what one client may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest response body read, in bytes.
    pub max_body: usize,
    /// Pages followed at most by [`Client::get_all`].
    pub max_pages: usize,
    /// Longest wait for a rate limit to reset; a longer one is an error instead.
    pub max_wait: Duration,
    /// Time allowed for one request, connect to last byte.
    pub timeout: Duration,
    /// URLs whose ETag and body are remembered at most.
    pub max_cached: usize,
    /// Bytes of remembered bodies at most; a body over a sixteenth of it is not remembered (its
    /// next request is unconditional), so a few large trees cannot crowd out the listings.
    pub max_cached_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 16 * 1024 * 1024,
            max_pages: 500,
            max_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            max_cached: 20_000,
            max_cached_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a request failed. Messages name the URL (path and query) and never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{url}: 401 Unauthorized: the token is missing, wrong or expired")]
    Unauthorized { url: String },
    #[error("{url}: 403 Forbidden: the token has no permission for this ({message})")]
    Forbidden { url: String, message: String },
    #[error("{url}: 404 Not Found (it does not exist, or this token cannot see it)")]
    NotFound { url: String },
    #[error(
        "{url}: rate limit exhausted; it resets in {wait_secs} s, longer than the {max_secs} s this client waits"
    )]
    RateLimited {
        url: String,
        wait_secs: u64,
        max_secs: u64,
    },
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: the response is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: the response is not the JSON expected: {message}")]
    Json { url: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The HTTP status the host answered, when it answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

/// One response body with what the client learned about it.
#[derive(Debug, Clone)]
pub struct Page {
    pub body: Arc<[u8]>,
    /// The host answered 304: `body` is the one remembered from the last 200.
    pub not_modified: bool,
    /// The `Link: rel="next"` URL, absolute.
    pub next: Option<String>,
    /// The URL requested, for errors.
    pub url: String,
}

impl Page {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Json {
            url: self.url.clone(),
            message: e.to_string(),
        })
    }
}

/// Every item of a paginated list, and whether every page was unchanged (all 304s).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub unchanged: bool,
}

struct Cached {
    etag: String,
    body: Arc<[u8]>,
    next: Option<String>,
}

/// Where a client's bearer token comes from when it is not fixed: a GitHub App's installation
/// token, minted and renewed on demand (see `github_app`).
pub trait TokenSource: Send + Sync {
    /// The token to send now.
    fn token(&self) -> std::pin::Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + '_>>;
}

enum Auth {
    None,
    Fixed(Secret),
    Source(Arc<dyn TokenSource>),
}

/// Remembered pages by URL, bounded in entries and bytes.
#[derive(Default)]
struct Cache {
    pages: HashMap<String, Cached>,
    bytes: usize,
}

impl Cache {
    fn get(&self, url: &str) -> Option<&Cached> {
        self.pages.get(url)
    }

    fn insert(&mut self, url: String, page: Cached, limits: &Limits) {
        if let Some(old) = self.pages.remove(&url) {
            self.bytes -= old.body.len();
        }
        if page.body.len() > limits.max_cached_bytes / 16 {
            return;
        }
        // Full: forget entries (any; each costs one unconditional request later).
        while !self.pages.is_empty()
            && (self.pages.len() >= limits.max_cached
                || self.bytes + page.body.len() > limits.max_cached_bytes)
        {
            let key = self.pages.keys().next().cloned().expect("not empty");
            let old = self.pages.remove(&key).expect("present");
            self.bytes -= old.body.len();
        }
        self.bytes += page.body.len();
        self.pages.insert(url, page);
    }

    fn clear(&mut self) {
        self.pages.clear();
        self.bytes = 0;
    }
}

struct Inner {
    http: reqwest::Client,
    /// Without a trailing slash; paths are appended.
    base: String,
    /// `scheme://host:port` of `base`: the only origin the token is sent to.
    origin: String,
    auth: Auth,
    headers: HeaderMap,
    limits: Limits,
    cache: Mutex<Cache>,
    /// Set while the host said no requests are left, until its reset time.
    blocked_until: Mutex<Option<SystemTime>>,
}

/// A client for one host's REST API. Cheap to clone; clones share the ETag cache.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field(
                "token",
                &match self.inner.auth {
                    Auth::None => "none",
                    Auth::Fixed(_) => "***",
                    Auth::Source(_) => "*** (renewed)",
                },
            )
            .finish()
    }
}

fn origin_of(url: &reqwest::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

impl Client {
    /// A client for the API at `base` (`https://api.github.com`, `https://gitlab.example/api/v4`).
    pub fn new(base: &str, token: Option<Secret>) -> Result<Client, Error> {
        Client::with_options(base, token, Vec::new(), Limits::default())
    }

    /// As [`Client::new`], with headers sent on every request (a host's `Accept` or API
    /// version) and limits.
    pub fn with_options(
        base: &str,
        token: Option<Secret>,
        headers: Vec<(&'static str, String)>,
        limits: Limits,
    ) -> Result<Client, Error> {
        let auth = match token {
            Some(t) => Auth::Fixed(t),
            None => Auth::None,
        };
        Client::build(base, auth, headers, limits)
    }

    /// As [`Client::with_options`], with the token asked of `source` before each request.
    pub fn with_token_source(
        base: &str,
        source: Arc<dyn TokenSource>,
        headers: Vec<(&'static str, String)>,
        limits: Limits,
    ) -> Result<Client, Error> {
        Client::build(base, Auth::Source(source), headers, limits)
    }

    fn build(
        base: &str,
        auth: Auth,
        headers: Vec<(&'static str, String)>,
        limits: Limits,
    ) -> Result<Client, Error> {
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| Error::Invalid(format!("API base URL {base:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Invalid(format!(
                "API base URL {base:?} must be http or https"
            )));
        }
        let mut map = HeaderMap::new();
        map.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_static("stagedoor"),
        );
        for (name, value) in headers {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| Error::Invalid(format!("header {name} has an invalid value")))?;
            map.insert(HeaderName::from_static(name), value);
        }
        let http = reqwest::Client::builder()
            .timeout(limits.timeout)
            // Redirects could carry the token elsewhere; a moved API answers with its own status.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build an HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: base.trim_end_matches('/').to_owned(),
                origin: origin_of(&parsed),
                auth,
                headers: map,
                limits,
                cache: Mutex::new(Cache::default()),
                blocked_until: Mutex::new(None),
            }),
        })
    }

    pub fn base(&self) -> &str {
        &self.inner.base
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// An absolute URL for `path` (`/orgs/acme/repos?per_page=100`), or `path` itself when it
    /// is already absolute and on this host.
    pub fn url(&self, path: &str) -> Result<String, Error> {
        if path.starts_with("http://") || path.starts_with("https://") {
            let parsed = reqwest::Url::parse(path)
                .map_err(|e| Error::Invalid(format!("{path:?} is not a URL: {e}")))?;
            if origin_of(&parsed) != self.inner.origin {
                return Err(Error::Invalid(format!(
                    "{path} is not on {}: the token is not sent to another host",
                    self.inner.base
                )));
            }
            return Ok(path.to_owned());
        }
        Ok(format!("{}{path}", self.inner.base))
    }

    /// A conditional GET: a remembered ETag is sent, and a 304 answers the remembered body.
    pub async fn get(&self, path: &str) -> Result<Page, Error> {
        self.send(Method::GET, path, None).await
    }

    /// A conditional GET of JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.get(path).await?.json()
    }

    /// Every page of a list, following `Link: rel="next"` up to [`Limits::max_pages`].
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Listing<T>, Error> {
        let mut items = Vec::new();
        let mut unchanged = true;
        let mut next = Some(path.to_owned());
        let mut pages = 0usize;
        while let Some(p) = next {
            pages += 1;
            if pages > self.inner.limits.max_pages {
                return Err(Error::Invalid(format!(
                    "{}: more than {} pages; not read further",
                    self.url(path)?,
                    self.inner.limits.max_pages
                )));
            }
            let page = self.get(&p).await?;
            unchanged &= page.not_modified;
            let mut list: Vec<T> = page.json()?;
            items.append(&mut list);
            next = page.next;
        }
        Ok(Listing { items, unchanged })
    }

    /// A write (`POST`, `PUT`, `PATCH`, `DELETE`) with a JSON body; answers the response's
    /// JSON (`null` for an empty body).
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, Error> {
        let page = self.send(method, path, Some(body)).await?;
        if page.body.is_empty() {
            return Ok(Value::Null);
        }
        page.json()
    }

    /// Forgets every remembered ETag (the next GETs are unconditional).
    pub fn forget_etags(&self) {
        self.inner.cache.lock().expect("cache lock").clear();
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Page, Error> {
        let url = self.url(path)?;
        // The URL as errors show it: no scheme and host noise, never a token (none is in URLs).
        let shown = url.clone();
        let conditional = method == Method::GET;
        let token = match &self.inner.auth {
            Auth::None => None,
            Auth::Fixed(t) => Some(t.clone()),
            Auth::Source(s) => Some(s.token().await?),
        };
        // A wait for the rate limit happens at most twice per request; then it is an error.
        for attempt in 0..3 {
            self.wait_for_reset(&shown).await?;
            let mut req = self
                .inner
                .http
                .request(method.clone(), &url)
                .headers(self.inner.headers.clone());
            if let Some(t) = &token {
                req = req.bearer_auth(t.expose());
            }
            if conditional && let Some(c) = self.inner.cache.lock().expect("cache lock").get(&url) {
                req = req.header(reqwest::header::IF_NONE_MATCH, c.etag.clone());
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| Error::Transport {
                url: shown.clone(),
                message: e.without_url().to_string(),
            })?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let wait = self.note_rate_limit(&headers, status);
            if status == 304 {
                let cache = self.inner.cache.lock().expect("cache lock");
                if let Some(c) = cache.get(&url) {
                    return Ok(Page {
                        body: c.body.clone(),
                        not_modified: true,
                        next: c.next.clone(),
                        url: shown,
                    });
                }
                drop(cache);
                return Err(Error::Status {
                    url: shown,
                    status,
                    message: "Not Modified for a request that was not conditional".into(),
                });
            }
            if let Some(wait) = wait {
                let max = self.inner.limits.max_wait;
                if wait > max || attempt == 2 {
                    return Err(Error::RateLimited {
                        url: shown,
                        wait_secs: wait.as_secs(),
                        max_secs: max.as_secs(),
                    });
                }
                tracing::info!(url = %shown, wait_secs = wait.as_secs(), "rate limited; waiting for the reset");
                tokio::time::sleep(wait).await;
                continue;
            }
            let bytes = self.read_body(resp, &shown).await?;
            if !(200..300).contains(&status) {
                return Err(status_error(status, &shown, &bytes));
            }
            let next = next_link(&headers).map(|n| self.url(&n)).transpose()?;
            let body: Arc<[u8]> = bytes.into();
            if conditional
                && let Some(etag) = headers
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
            {
                self.inner.cache.lock().expect("cache lock").insert(
                    url.clone(),
                    Cached {
                        etag: etag.to_owned(),
                        body: body.clone(),
                        next: next.clone(),
                    },
                    &self.inner.limits,
                );
            }
            return Ok(Page {
                body,
                not_modified: false,
                next,
                url: shown,
            });
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Waits while the host said no requests are left (bounded), or fails saying when it resets.
    async fn wait_for_reset(&self, url: &str) -> Result<(), Error> {
        let until = *self.inner.blocked_until.lock().expect("rate lock");
        let Some(until) = until else { return Ok(()) };
        let Ok(wait) = until.duration_since(SystemTime::now()) else {
            return Ok(());
        };
        let max = self.inner.limits.max_wait;
        if wait > max {
            return Err(Error::RateLimited {
                url: url.to_owned(),
                wait_secs: wait.as_secs(),
                max_secs: max.as_secs(),
            });
        }
        tracing::info!(
            url,
            wait_secs = wait.as_secs(),
            "rate limit exhausted; waiting for the reset"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Records the rate-limit headers; answers how long to wait when this response was a
    /// refusal for the rate limit (429, or 403 with nothing remaining or a `retry-after`).
    fn note_rate_limit(&self, headers: &HeaderMap, status: u16) -> Option<Duration> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let remaining = number("x-ratelimit-remaining").or_else(|| number("ratelimit-remaining"));
        let reset = number("x-ratelimit-reset").or_else(|| number("ratelimit-reset"));
        let retry_after = number("retry-after").map(Duration::from_secs);
        let now = SystemTime::now();
        let until_reset = reset.map(|r| {
            (UNIX_EPOCH + Duration::from_secs(r))
                .duration_since(now)
                .unwrap_or_default()
        });
        let mut blocked = self.inner.blocked_until.lock().expect("rate lock");
        *blocked = match (remaining, until_reset) {
            (Some(0), Some(w)) => Some(now + w.max(Duration::from_secs(1))),
            _ => None,
        };
        let refused =
            status == 429 || (status == 403 && (remaining == Some(0) || retry_after.is_some()));
        if !refused {
            return None;
        }
        // The wait is the blocking above or `retry-after`; the next attempt sleeps it.
        *blocked = None;
        Some(
            retry_after
                .or(until_reset)
                .unwrap_or(Duration::from_secs(60))
                .max(Duration::from_secs(1)),
        )
    }

    async fn read_body(&self, mut resp: reqwest::Response, url: &str) -> Result<Vec<u8>, Error> {
        let limit = self.inner.limits.max_body;
        if resp.content_length().is_some_and(|l| l > limit as u64) {
            return Err(Error::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Error::Transport {
            url: url.to_owned(),
            message: e.without_url().to_string(),
        })? {
            if out.len() + chunk.len() > limit {
                return Err(Error::TooLarge {
                    url: url.to_owned(),
                    limit,
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

/// The error for a non-2xx status, with the host's own `message` (bounded) when it sent one.
fn status_error(status: u16, url: &str, body: &[u8]) -> Error {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error"))
                .map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    let message: String = message.chars().take(300).collect();
    let url = url.to_owned();
    match status {
        401 => Error::Unauthorized { url },
        403 => Error::Forbidden { url, message },
        404 => Error::NotFound { url },
        _ => Error::Status {
            url,
            status,
            message,
        },
    }
}

/// The `rel="next"` target of a `Link` header (RFC 8288), as GitHub and GitLab send it.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next()?.trim();
            let Some(target) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
                continue;
            };
            let is_next = pieces.any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=").is_some_and(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == "next")
                })
            });
            if is_next {
                return Some(target.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, LINK};

    #[test]
    fn finds_the_next_link() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(
                "<https://api.github.com/orgs/a/repos?page=1>; rel=\"prev\", <https://api.github.com/orgs/a/repos?page=3>; rel=\"next\", <https://api.github.com/orgs/a/repos?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            super::next_link(&h).as_deref(),
            Some("https://api.github.com/orgs/a/repos?page=3")
        );
        h.insert(
            LINK,
            HeaderValue::from_static("<https://x/?page=1>; rel=\"first\""),
        );
        assert_eq!(super::next_link(&h), None);
    }

    #[test]
    fn next_links_stay_on_the_host() {
        let c = super::Client::new("https://api.github.com", None).unwrap();
        assert!(c.url("https://api.github.com/orgs/a/repos?page=2").is_ok());
        let e = c.url("https://evil.example/steal").unwrap_err().to_string();
        assert!(e.contains("not sent to another host"), "{e}");
        assert_eq!(c.url("/user").unwrap(), "https://api.github.com/user");
    }
}

#[cfg(test)]
mod cache_tests {
    use std::sync::Arc;

    use super::{Cache, Cached, Limits};

    fn page(bytes: usize) -> Cached {
        Cached {
            etag: "\"x\"".into(),
            body: Arc::from(vec![b'a'; bytes]),
            next: None,
        }
    }

    #[test]
    fn the_cache_is_bounded_in_entries_and_bytes() {
        let limits = Limits {
            max_cached: 3,
            max_cached_bytes: 1600,
            ..Limits::default()
        };
        let mut c = Cache::default();
        for i in 0..5 {
            c.insert(format!("/p{i}"), page(50), &limits);
        }
        assert_eq!((c.pages.len(), c.bytes), (3, 150));
        c.insert("/big".into(), page(101), &limits);
        assert!(c.get("/big").is_none(), "over a sixteenth of the budget");
        for i in 0..3 {
            c.insert(format!("/q{i}"), page(100), &limits);
        }
        c.insert("/q0".into(), page(100), &limits);
        assert!(c.bytes <= 1600 && c.pages.len() <= 3);
        assert_eq!(
            c.bytes,
            c.pages.values().map(|p| p.body.len()).sum::<usize>()
        );
        c.clear();
        assert_eq!((c.pages.len(), c.bytes), (0, 0));
    }
}
