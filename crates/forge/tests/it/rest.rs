//! The REST core against a loopback server: pagination, ETags and 304s, rate-limit waits and
//! errors, 401/403/404, bounded bodies, and a token that stays out of errors and other hosts.

use std::time::{Duration, Instant};

use forge::testing::{Reply, Server};
use forge::{Client, Error, Limits, Secret};

fn client(server: &Server, limits: Limits) -> Client {
    Client::with_options(
        &server.base,
        Some(Secret::new("tok-123")),
        vec![("accept", "application/json".into())],
        limits,
    )
    .unwrap()
}

fn epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn pages_follow_next_links_and_unchanged_pages_are_304s() {
    let server = Server::start(|req, base| {
        let etag = format!("\"{}\"", req.target);
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Reply::status(304).header("etag", etag);
        }
        match req.target.as_str() {
            "/items?per_page=2" => Reply::json(200, "[1,2]")
                .header("etag", etag)
                .header("link", format!("<{base}/items?per_page=2&page=2>; rel=\"next\", <{base}/items?per_page=2&page=3>; rel=\"last\"")),
            "/items?per_page=2&page=2" => Reply::json(200, "[3,4]")
                .header("etag", etag)
                .header("link", format!("<{base}/items?per_page=2&page=3>; rel=\"next\"")),
            "/items?per_page=2&page=3" => Reply::json(200, "[5]").header("etag", etag),
            _ => Reply::status(404),
        }
    })
    .await;
    let c = client(&server, Limits::default());
    let first = c.get_all::<u32>("/items?per_page=2").await.unwrap();
    assert_eq!(first.items, vec![1, 2, 3, 4, 5]);
    assert!(!first.unchanged);
    let again = c.get_all::<u32>("/items?per_page=2").await.unwrap();
    assert_eq!(
        again.items,
        vec![1, 2, 3, 4, 5],
        "304s answer the remembered pages"
    );
    assert!(again.unchanged);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 6);
    assert!(
        reqs[..3]
            .iter()
            .all(|r| r.header("if-none-match").is_none())
    );
    assert!(
        reqs[3..]
            .iter()
            .all(|r| r.header("if-none-match").is_some())
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some("Bearer tok-123"))
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("accept") == Some("application/json"))
    );
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = Server::start(|_, _| {
        Reply::json(200, "[]").header("link", "<https://evil.example/x>; rel=\"next\"")
    })
    .await;
    let e = client(&server, Limits::default())
        .get_all::<u32>("/items")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not sent to another host"), "{e}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_exhausted_rate_limit_is_waited_for_when_short() {
    let server = Server::start(|req, _| {
        if req.target == "/first" {
            // The last request allowed: the next one waits for the reset.
            return Reply::json(200, "1")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", (epoch() + 1).to_string());
        }
        Reply::json(200, "2").header("x-ratelimit-remaining", "4999")
    })
    .await;
    let c = client(&server, Limits::default());
    assert_eq!(c.get_json::<u32>("/first").await.unwrap(), 1);
    let t = Instant::now();
    assert_eq!(c.get_json::<u32>("/second").await.unwrap(), 2);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_refusal_for_the_rate_limit_is_retried_after_its_wait() {
    let server = Server::start(|req, _| {
        let _ = req;
        Reply::json(403, r#"{"message":"API rate limit exceeded"}"#).header("retry-after", "1")
    })
    .await;
    let c = client(
        &server,
        Limits {
            max_wait: Duration::from_secs(5),
            ..Limits::default()
        },
    );
    let t = Instant::now();
    let e = c.get("/x").await.unwrap_err();
    // Two waits of a second, then a clear error rather than waiting forever.
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    assert_eq!(server.requests().len(), 3);
    assert!(t.elapsed() >= Duration::from_millis(1900));
}

#[tokio::test]
async fn a_long_rate_limit_wait_is_a_clear_error() {
    let reset = epoch() + 3600;
    let server = Server::start(move |_, _| {
        Reply::json(
            403,
            r#"{"message":"API rate limit exceeded for installation"}"#,
        )
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", reset.to_string())
    })
    .await;
    let c = client(&server, Limits::default());
    let t = Instant::now();
    let e = c.get("/orgs/acme/repos").await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    let msg = e.to_string();
    assert!(
        msg.contains("rate limit exhausted") && msg.contains("/orgs/acme/repos"),
        "{msg}"
    );
    match e {
        Error::RateLimited {
            wait_secs,
            max_secs,
            ..
        } => {
            assert!(wait_secs > 3500, "{wait_secs}");
            assert_eq!(max_secs, 60);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn permission_errors_are_clear_and_never_show_the_token() {
    let server = Server::start(|req, _| match req.target.as_str() {
        "/401" => Reply::json(401, r#"{"message":"Bad credentials"}"#),
        "/403" => Reply::json(
            403,
            r#"{"message":"Resource not accessible by personal access token"}"#,
        )
        .header("x-ratelimit-remaining", "4000"),
        "/404" => Reply::json(404, r#"{"message":"Not Found"}"#),
        _ => Reply::json(500, "oops"),
    })
    .await;
    let c = client(&server, Limits::default());
    let e401 = c.get("/401").await.unwrap_err();
    assert!(matches!(e401, Error::Unauthorized { .. }));
    let e403 = c.get("/403").await.unwrap_err();
    assert_eq!(e403.status(), Some(403));
    assert!(
        e403.to_string().contains("no permission") && e403.to_string().contains("not accessible")
    );
    assert!(c.get("/404").await.unwrap_err().is_not_found());
    let e500 = c.get("/500").await.unwrap_err();
    assert_eq!(e500.status(), Some(500));
    for e in [e401, e403, e500] {
        assert!(!e.to_string().contains("tok-123") && !format!("{e:?}").contains("tok-123"));
    }
    assert!(!format!("{c:?}").contains("tok-123"));
}

#[tokio::test]
async fn large_bodies_are_refused() {
    let server = Server::start(|_, _| Reply::json(200, &format!("\"{}\"", "x".repeat(5000)))).await;
    let c = client(
        &server,
        Limits {
            max_body: 1000,
            ..Limits::default()
        },
    );
    let e = c.get("/big").await.unwrap_err();
    assert!(matches!(e, Error::TooLarge { limit: 1000, .. }), "{e}");
}

#[tokio::test]
async fn writes_send_json_and_answer_json() {
    let server = Server::start(|req, _| {
        assert_eq!(req.method, "POST");
        Reply::json(201, r#"{"created":true}"#)
    })
    .await;
    let c = client(&server, Limits::default());
    let v = c
        .send_json(
            forge::rest::Method::POST,
            "/things",
            &serde_json::json!({"a": 1}),
        )
        .await
        .unwrap();
    assert_eq!(v["created"], true);
    assert_eq!(server.requests()[0].json()["a"], 1);
}
