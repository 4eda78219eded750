//! No client, request or load stalls the server: silent sockets, connection floods, oversized
//! heads and costly projections, over real TCP.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use catalog::settings::CatalogSettings;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start_with(settings: CatalogSettings, limits: web::ServeLimits) -> SocketAddr {
    let db = store::Db::connect("sqlite::memory:").await.unwrap();
    let catalog = catalog::Catalog::open(settings, db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = web::AppState { catalog };
    tokio::spawn(web::serve_with(
        listener,
        state,
        std::future::pending(),
        limits,
    ));
    addr
}

async fn start(limits: web::ServeLimits) -> SocketAddr {
    start_with(CatalogSettings::default(), limits).await
}

/// Sends `request` on a fresh connection and reads the answer until the server closes it.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the server closes `s` within `within` (end of stream or reset), reading any answer.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn healthz_within(addr: SocketAddr, within: Duration) {
    let started = Instant::now();
    let r = tokio::time::timeout(within, reqwest::get(format!("http://{addr}/healthz")))
        .await
        .unwrap_or_else(|_| panic!("/healthz did not answer within {within:?}"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(started.elapsed() < within);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_send_headers_are_closed_after_the_timeout() {
    let addr = start(web::ServeLimits {
        header_read_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
    assert!(closed_within(&mut partial, Duration::from_secs(3)).await);
    // An idle keep-alive connection gets the same deadline for its next request.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut kept, Duration::from_secs(3)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_beyond_the_cap_make_room_and_healthz_answers() {
    let cap = 100;
    let addr = start(web::ServeLimits {
        max_connections: cap,
        header_read_timeout: Duration::from_secs(60),
        ..Default::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..2_000 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    healthz_within(addr, Duration::from_secs(1)).await;
    // The oldest unused connections were closed to make room: no more than the cap stay open.
    let closed = futures_util::future::join_all(
        idle.iter_mut()
            .map(|s| closed_within(s, Duration::from_secs(2))),
    )
    .await;
    let open = closed.iter().filter(|c| !**c).count();
    assert!(open <= cap, "{open} idle connections still open, cap {cap}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_connection_is_busy_new_ones_are_closed_at_once() {
    let cap = 5;
    let addr = start(web::ServeLimits {
        max_connections: cap,
        ..Default::default()
    })
    .await;
    // Each of these has sent a request whose body never comes: busy, not sheddable.
    let mut busy = Vec::new();
    for _ in 0..cap {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /api/catalog/refresh HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n")
            .await
            .unwrap();
        busy.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(1)).await);
    drop(busy);
    tokio::time::sleep(Duration::from_millis(200)).await;
    healthz_within(addr, Duration::from_secs(1)).await;
}

fn envelope_of(response: &str, status: u16) -> Value {
    assert!(
        response.starts_with(&format!("HTTP/1.1 {status} ")),
        "{}",
        &response[..response.len().min(200)]
    );
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{response}"
    );
    let body = &response[response.find("\r\n\r\n").expect("a head") + 4..];
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert_eq!(v["error"]["name"], "InputError", "{v}");
    assert_eq!(v["response"]["statusCode"], status, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_long_uris_and_too_large_heads_answer_in_the_envelope() {
    let addr = start(web::ServeLimits::default()).await;
    let long = format!(
        "GET /api/catalog/entities?{} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    envelope_of(&raw(addr, long.as_bytes()).await, 414);
    let mut many = String::from("GET /api/catalog/entities HTTP/1.1\r\nhost: x\r\n");
    for i in 0..150 {
        many.push_str(&format!("x-h{i}: v\r\n"));
    }
    many.push_str("\r\n");
    envelope_of(&raw(addr, many.as_bytes()).await, 431);
    let big = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    envelope_of(&raw(addr, big.as_bytes()).await, 431);
    // Just over our limit, under hyper's nominal one: refused every time (by hyper, or by us
    // when the head arrived in one read larger than hyper's buffer limit), never served.
    for _ in 0..5 {
        let over = format!(
            "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
            "b".repeat(web::MAX_HEAD_BYTES + 1)
        );
        envelope_of(&raw(addr, over.as_bytes()).await, 431);
    }
    // The server goes on answering.
    healthz_within(addr, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_connections_stay_open_for_the_next_request() {
    let addr = start(web::ServeLimits::default()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    for _ in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 "));
    }
}

/// A catalog of `n` components in one file, ingested.
async fn start_with_components(n: usize) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.yaml");
    let docs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{i}\n  annotations:\n    a{i}: x\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
            )
        })
        .collect();
    std::fs::write(&file, docs.join("---\n")).unwrap();
    let settings = CatalogSettings {
        locations: vec![(
            catalog::LocationSpec::new("file", file.to_str().unwrap()),
            vec![],
        )],
        ..Default::default()
    };
    let db = store::Db::connect("sqlite::memory:").await.unwrap();
    let catalog = catalog::Catalog::open(settings, db).await.unwrap();
    catalog.settle().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(
        listener,
        web::AppState { catalog },
        std::future::pending(),
    ));
    (addr, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_fields_are_refused_fast_while_healthz_answers() {
    let (addr, _dir) = start_with_components(100).await;
    let fields: Vec<String> = (0..10_900).map(|i| format!("f{i}")).collect();
    let url = format!(
        "http://{addr}/api/catalog/entities/by-query?limit=100&fields={}",
        fields.join(",")
    );
    assert!(url.len() > 65_000);
    let started = Instant::now();
    let big = tokio::spawn(async move { reqwest::get(url).await.unwrap() });
    healthz_within(addr, Duration::from_secs(1)).await;
    let r = tokio::time::timeout(Duration::from_secs(2), big)
        .await
        .expect("answered within 2 s")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["name"], "InputError", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("fields"),
        "{v}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // As many fields as allowed, every one of them real: answered, and fast.
    let mut allowed: Vec<String> = vec!["metadata.name".into(), "kind".into()];
    allowed.extend((0..500).map(|i| format!("metadata.annotations.a{i}")));
    allowed.extend((0..400).map(|i| format!("metadata.annotations.a{i}"))); // repeats
    let started = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/api/catalog/entities/by-query"))
        .json(&serde_json::json!({"limit": 100, "fields": allowed}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 100);
    let c7 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["metadata"]["name"] == "c7")
        .unwrap();
    assert_eq!(c7["metadata"]["annotations"]["a7"], "x", "{c7}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A loopback HTTP server that reads each request, tells `hits`, then answers after `delay`
/// with `body` (`None`: never answers, holding the connection open).
async fn slow_server(
    delay: Option<Duration>,
    body: String,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (tx, body) = (tx.clone(), body.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]);
                let _ = tx.send(line.lines().next().unwrap_or("").to_owned());
                let Some(delay) = delay else {
                    std::future::pending::<()>().await;
                    return;
                };
                tokio::time::sleep(delay).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), rx)
}

fn loopback_allowed() -> Vec<catalog::settings::AllowedHost> {
    vec![catalog::settings::AllowedHost {
        host: "127.0.0.1".into(),
        port: None,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_answer_while_a_round_waits_for_a_slow_url() {
    let (base, mut hits) = slow_server(None, String::new()).await;
    let settings = CatalogSettings {
        locations: vec![(
            catalog::LocationSpec::new("url", &format!("{base}/catalog-info.yaml")),
            vec![],
        )],
        allowed_hosts: loopback_allowed(),
        http_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let db = store::Db::connect("sqlite::memory:").await.unwrap();
    let catalog = catalog::Catalog::open(settings, db).await.unwrap();
    tokio::spawn(catalog.clone().run());
    tokio::time::timeout(Duration::from_secs(5), hits.recv())
        .await
        .expect("the round reads the URL");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(
        listener,
        web::AppState { catalog },
        std::future::pending(),
    ));
    let r = tokio::time::timeout(
        Duration::from_secs(1),
        reqwest::get(format!("http://{addr}/api/catalog/locations")),
    )
    .await
    .expect("GET /locations does not wait for the round")
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = tokio::time::timeout(
        Duration::from_secs(1),
        reqwest::get(format!("http://{addr}/api/catalog/locations/nope")),
    )
    .await
    .expect("GET /locations/{id} does not wait for the round")
    .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

fn component(name: &str, description: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  description: {description}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
    )
}

fn description(catalog: &catalog::Catalog, key: &str) -> Option<String> {
    let snap = catalog.snapshot();
    let body: Value = serde_json::from_str(&snap.get(key)?.body()).ok()?;
    body["metadata"]["description"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_urls_are_read_together_and_never_delay_file_edits() {
    let delay = Duration::from_secs(3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("local.yaml");
    std::fs::write(&file, component("local", "v1")).unwrap();
    let mut locations = vec![(
        catalog::LocationSpec::new("file", file.to_str().unwrap()),
        vec![],
    )];
    for i in 0..3 {
        let (base, _hits) = slow_server(Some(delay), component(&format!("remote{i}"), "r")).await;
        locations.push((
            catalog::LocationSpec::new("url", &format!("{base}/catalog-info.yaml")),
            vec![],
        ));
    }
    let settings = CatalogSettings {
        locations,
        allowed_hosts: loopback_allowed(),
        url_refresh_interval: Duration::from_secs(1),
        ..Default::default()
    };
    let db = store::Db::connect("sqlite::memory:").await.unwrap();
    let catalog = catalog::Catalog::open(settings, db).await.unwrap();
    let started = Instant::now();
    tokio::spawn(catalog.clone().run());
    while !catalog.is_ready() {
        assert!(
            started.elapsed() < delay * 2,
            "three URLs of {delay:?} each are read together"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..3 {
        let key = format!("component:default/remote{i}");
        assert_eq!(description(&catalog, &key).as_deref(), Some("r"), "{key}");
    }
    // Past the URLs' refresh interval, every round finds them due again; a file edit still
    // shows within a watch interval or two.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for round in 0..3 {
        let text = format!("edited-{round}");
        std::fs::write(&file, component("local", &text)).unwrap();
        let edited = Instant::now();
        while description(&catalog, "component:default/local").as_deref() != Some(&text) {
            assert!(
                edited.elapsed() < Duration::from_secs(2),
                "edit {round} not visible after {:?}",
                edited.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A refresh (POST /refresh) of a file's entity does not wait for the URLs either.
        let refreshing = Instant::now();
        catalog.refresh("component:default/local").await.unwrap();
        assert!(
            refreshing.elapsed() < Duration::from_secs(1),
            "refresh took {:?}",
            refreshing.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    // The URLs were read again meanwhile, in the background, and their entities stayed.
    assert_eq!(
        description(&catalog, "component:default/remote0").as_deref(),
        Some("r")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_answered_and_its_connection_closed() {
    let addr = start(web::ServeLimits {
        body_read_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /api/catalog/refresh HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"entityRef\":")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out))
        .await
        .expect("answered and closed after the body deadline")
        .unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    assert!(text.contains("\"InputError\""), "{text}");
}
