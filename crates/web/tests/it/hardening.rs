//! Cross-site writes, error envelopes, `nosniff` and credential masking, over real HTTP.

use catalog::settings::CatalogSettings;
use serde_json::Value;
use store::testing::TestDb;

use crate::common;

async fn start(db: &TestDb) -> String {
    common::serve(CatalogSettings::default(), db).await.0
}

async fn envelope(resp: reqwest::Response, status: u16, name: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["name"], name, "{body}");
    assert_eq!(body["response"]["statusCode"], status);
    body
}

async fn json_bodies_must_be_declared_json(db: TestDb) {
    let base = start(&db).await;
    let http = reqwest::Client::new();
    let post = |ct: &'static str| {
        http.post(format!("{base}/api/catalog/locations?dryRun=true"))
            .header("content-type", ct)
            .body(r#"{"type":"url","target":"https://example.com/a.yaml"}"#)
            .send()
    };
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        // Backstage's answer: 400 InputError "unsupported media type <type>".
        let body = envelope(post(ct).await.unwrap(), 400, "InputError").await;
        assert_eq!(
            body["error"]["message"],
            format!("unsupported media type {ct}")
        );
    }
    // Declared JSON passes the check (and is then refused for its host, not its type).
    let r = post("application/json; charset=utf-8").await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("media type"),
        "{body}"
    );
}

async fn bad_location_targets_are_input_errors(db: TestDb) {
    let base = start(&db).await;
    let http = reqwest::Client::new();
    for target in [
        "not a url",
        "file:///etc/passwd",
        "gopher://h/x",
        "https://h/a\u{0}.yaml",
    ] {
        let r = http
            .post(format!("{base}/api/catalog/locations"))
            .json(&serde_json::json!({"type": "url", "target": target}))
            .send()
            .await
            .unwrap();
        envelope(r, 400, "InputError").await;
    }
}

async fn framework_errors_use_the_envelope(db: TestDb) {
    let base = start(&db).await;
    // No pooled connections: the server closes the one whose oversized body it refused unread,
    // and a reused connection would fail the next request for a reason unrelated to the server.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = http
        .put(format!("{base}/api/catalog/entities"))
        .send()
        .await
        .unwrap();
    envelope(r, 405, "NotFoundError").await;
    let r = http
        .post(format!("{base}/api/catalog/entities/by-refs"))
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    envelope(r, 413, "PayloadTooLargeError").await;
    let r = http
        .get(format!("{base}/nothing-here"))
        .send()
        .await
        .unwrap();
    envelope(r, 404, "NotFoundError").await;
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

async fn cross_site_sign_in_is_refused_and_https_cookies_are_secure(db: TestDb) {
    let base = start(&db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}/sign-in"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=user:default/anyone")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let host = base.trim_start_matches("http://");
    let r = http
        .post(format!("{base}/sign-out"))
        .header("origin", format!("http://{host}"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

// Every test runs on SQLite and on PostgreSQL.
store::on_each_database!(
    json_bodies_must_be_declared_json,
    bad_location_targets_are_input_errors,
    framework_errors_use_the_envelope,
    cross_site_sign_in_is_refused_and_https_cookies_are_secure,
);
