//! Test support (cargo feature `testing`): a loopback HTTP/1.1 server that answers recorded API
//! responses and remembers every request it received, so the real clients can be tested
//! against GitHub's and GitLab's response shapes (pagination, ETags, rate-limit headers, errors)
//! and the tests can assert what was sent.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A fixture file's text, answered as JSON with status 200.
    pub fn fixture(dir: &Path, name: &str) -> Reply {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
        Reply::json(200, &text)
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request, &str) -> Reply + Send + Sync;

/// The server; it stops when dropped (its task ends with the test's runtime).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves `handler(request, base)` on a free loopback port.
    pub async fn start(
        handler: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen, b) = (requests.clone(), base.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (seen, handler, b) = (seen.clone(), handler.clone(), b.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut stream).await else {
                        return;
                    };
                    let reply = handler(&req, &b);
                    seen.lock().expect("requests lock").push(req);
                    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
                    for (n, v) in &reply.headers {
                        head.push_str(&format!("{n}: {v}\r\n"));
                    }
                    head.push_str(&format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n",
                        reply.body.len()
                    ));
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&reply.body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Server { base, requests }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests lock").clone()
    }

    pub fn clear(&self) {
        self.requests.lock().expect("requests lock").clear();
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Where the recorded GitHub and GitLab responses are (`tests/fixtures/{github,gitlab}`).
pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

type Routes = std::collections::HashMap<(String, String), Reply>;

/// A recorded API: replies by method and target (`/path?query` exactly, else `/path` alone),
/// with an `ETag` on every `GET` answered 200 (a hash of its body) and `304 Not Modified` when
/// a request's `If-None-Match` names it, as GitHub and GitLab do. Unrouted requests get 404.
/// Routes can be changed while it runs (a repository deleted, a push, a token losing access).
pub struct Fake {
    pub base: String,
    server: Server,
    routes: Arc<Mutex<Routes>>,
}

fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("W/\"{h:016x}\"")
}

impl Fake {
    pub async fn start() -> Fake {
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let r = routes.clone();
        let server = Server::start(move |req, _| {
            let routes = r.lock().expect("routes lock");
            let reply = routes
                .get(&(req.method.clone(), req.target.clone()))
                .or_else(|| routes.get(&(req.method.clone(), req.path().to_owned())))
                .cloned()
                .unwrap_or_else(|| Reply::json(404, r#"{"message":"Not Found"}"#));
            if req.method != "GET" || reply.status != 200 {
                return reply;
            }
            let etag = etag_of(&reply.body);
            if req.header("if-none-match") == Some(etag.as_str()) {
                let mut not_modified = Reply::status(304).header("etag", etag);
                not_modified.headers.extend(
                    reply
                        .headers
                        .iter()
                        .filter(|(n, _)| n.starts_with("x-ratelimit") || n == "link")
                        .cloned(),
                );
                return not_modified;
            }
            reply.header("etag", etag)
        })
        .await;
        Fake {
            base: server.base.clone(),
            server,
            routes,
        }
    }

    /// Answers `method target` with `reply` from now on.
    pub fn route(&self, method: &str, target: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes lock")
            .insert((method.to_owned(), target.to_owned()), reply);
    }

    /// Answers `GET target` with a fixture file (under [`fixtures`]).
    pub fn fixture(&self, target: &str, file: &str) {
        self.route("GET", target, Reply::fixture(&fixtures(), file));
    }

    /// Stops answering `method target` (it is a 404 from now on).
    pub fn remove(&self, method: &str, target: &str) {
        self.routes
            .lock()
            .expect("routes lock")
            .remove(&(method.to_owned(), target.to_owned()));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    pub fn clear_requests(&self) {
        self.server.clear();
    }

    /// The GitHub organisation `acme` as recorded: two pages of repositories (`payments-api`
    /// with a catalog file, CI and CODEOWNERS; `storefront` without a catalog file;
    /// `legacy-billing`, archived; `locked-repo`, whose reads the token may not make: 403),
    /// their languages, trees, files and commits, and the writes a pull request needs.
    pub fn github_acme(&self) {
        let b = &self.base;
        self.route(
            "GET",
            "/orgs/acme/repos?type=all&per_page=100",
            Reply::fixture(&fixtures(), "github/orgs-acme-repos-1.json").header(
                "link",
                format!("<{b}/organizations/9919/repos?type=all&per_page=100&page=2>; rel=\"next\", <{b}/organizations/9919/repos?type=all&per_page=100&page=2>; rel=\"last\""),
            ),
        );
        self.route(
            "GET",
            "/organizations/9919/repos?type=all&per_page=100&page=2",
            Reply::fixture(&fixtures(), "github/orgs-acme-repos-2.json").header(
                "link",
                format!("<{b}/organizations/9919/repos?type=all&per_page=100&page=1>; rel=\"prev\", <{b}/organizations/9919/repos?type=all&per_page=100&page=1>; rel=\"first\""),
            ),
        );
        for repo in ["payments-api", "storefront", "legacy-billing"] {
            self.fixture(
                &format!("/repos/acme/{repo}/languages"),
                &format!("github/{repo}-languages.json"),
            );
            self.fixture(
                &format!("/repos/acme/{repo}/git/trees/main?recursive=1"),
                &format!("github/{repo}-tree.json"),
            );
        }
        self.fixture(
            "/repos/acme/payments-api/commits",
            "github/payments-api-commits.json",
        );
        self.fixture(
            "/repos/acme/storefront/commits",
            "github/storefront-commits.json",
        );
        self.route(
            "GET",
            "/repos/acme/legacy-billing/commits",
            Reply::json(200, "[]"),
        );
        self.fixture(
            "/repos/acme/payments-api/contents/catalog-info.yaml?ref=main",
            "github/payments-api-catalog-info.json",
        );
        self.fixture(
            "/repos/acme/payments-api/contents/.github/CODEOWNERS?ref=main",
            "github/payments-api-codeowners.json",
        );
        self.fixture(
            "/repos/acme/storefront/contents/CODEOWNERS?ref=main",
            "github/storefront-codeowners.json",
        );
        self.route(
            "GET",
            "/repos/acme/locked-repo/languages",
            Reply::json(
                403,
                r#"{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/repos/repos#list-repository-languages","status":"403"}"#,
            )
            .header("x-ratelimit-remaining", "4990"),
        );
        for repo in ["payments-api", "storefront", "legacy-billing"] {
            self.fixture(
                &format!("/repos/acme/{repo}/git/ref/heads/main"),
                "github/ref-main.json",
            );
            let created = |file: &str| {
                let mut r = Reply::fixture(&fixtures(), file);
                r.status = 201;
                r
            };
            self.route(
                "POST",
                &format!("/repos/acme/{repo}/git/refs"),
                created("github/ref-created.json"),
            );
            self.route(
                "PUT",
                &format!("/repos/acme/{repo}/contents/catalog-info.yaml"),
                created("github/contents-created.json"),
            );
            self.route(
                "POST",
                &format!("/repos/acme/{repo}/pulls"),
                created("github/pull-created.json"),
            );
        }
    }

    /// The GitLab group `acme` as recorded: two pages of projects (`acme/platform/inventory-service`
    /// from a subgroup, with a nested catalog file, CI and CODEOWNERS; `acme/docs-site` without a
    /// catalog file), a tree over two pages, files, commits, and the writes a merge request needs.
    pub fn gitlab_acme(&self) {
        let b = &self.base;
        let list = "/groups/acme/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&per_page=100";
        self.route(
            "GET",
            list,
            Reply::fixture(&fixtures(), "gitlab/groups-acme-projects-1.json")
                .header("link", format!("<{b}{list}&page=2>; rel=\"next\", <{b}{list}&page=1>; rel=\"first\", <{b}{list}&page=2>; rel=\"last\""))
                .header("x-next-page", "2")
                .header("ratelimit-remaining", "1999"),
        );
        self.fixture(
            &format!("{list}&page=2"),
            "gitlab/groups-acme-projects-2.json",
        );
        let tree = "/projects/101/repository/tree?recursive=true&ref=main&per_page=100";
        self.route(
            "GET",
            tree,
            Reply::fixture(&fixtures(), "gitlab/101-tree-1.json")
                .header("link", format!("<{b}{tree}&page=2>; rel=\"next\"")),
        );
        self.fixture(&format!("{tree}&page=2"), "gitlab/101-tree-2.json");
        self.fixture(
            "/projects/102/repository/tree?recursive=true&ref=main&per_page=100",
            "gitlab/102-tree.json",
        );
        for id in ["101", "102"] {
            self.fixture(
                &format!("/projects/{id}/languages"),
                &format!("gitlab/{id}-languages.json"),
            );
            self.fixture(
                &format!("/projects/{id}/repository/commits"),
                &format!("gitlab/{id}-commits.json"),
            );
        }
        let raw = |file: &str| {
            let mut r = Reply::fixture(&fixtures(), file);
            r.headers = vec![("content-type".into(), "text/plain".into())];
            r
        };
        self.route(
            "GET",
            "/projects/101/repository/files/deploy%2Fcatalog-info.yaml/raw?ref=main",
            raw("gitlab/101-catalog-info.yaml"),
        );
        self.route(
            "GET",
            "/projects/101/repository/files/CODEOWNERS/raw?ref=main",
            raw("gitlab/101-codeowners"),
        );
        let created = |file: &str| {
            let mut r = Reply::fixture(&fixtures(), file);
            r.status = 201;
            r
        };
        for id in ["101", "102"] {
            self.route(
                "POST",
                &format!("/projects/{id}/repository/branches"),
                created("gitlab/branch-created.json"),
            );
            self.route(
                "POST",
                &format!("/projects/{id}/repository/commits"),
                created("gitlab/commit-created.json"),
            );
            self.route(
                "POST",
                &format!("/projects/{id}/merge_requests"),
                created("gitlab/merge-request-created.json"),
            );
        }
    }
}
