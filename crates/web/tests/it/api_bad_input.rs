//! The catalog API against bad input, over real HTTP: every failure is a Backstage error
//! envelope with the right status, and nothing else is lost.

use std::sync::Arc;

use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::{Value, json};
use store::testing::TestDb;

use crate::common;

async fn start(dir: &std::path::Path, db: &TestDb) -> (String, Arc<catalog::Catalog>) {
    std::fs::write(
        dir.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: keeper\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    )
    .unwrap();
    let settings = CatalogSettings {
        locations: vec![(
            LocationSpec::new("file", &dir.join("catalog-info.yaml").to_string_lossy()),
            vec![],
        )],
        ..Default::default()
    };
    common::serve(settings, db).await
}

async fn status(http: &reqwest::Client, url: String) -> u16 {
    http.get(url).send().await.unwrap().status().as_u16()
}

async fn get_list(http: &reqwest::Client, url: String) -> Vec<Value> {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Checks a response is a Backstage error envelope with this status and error name.
async fn envelope(resp: reqwest::Response, status: u16, name: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["name"], name, "{body}");
    assert_eq!(body["response"]["statusCode"], status);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    body
}

async fn bad_requests_get_clear_errors_and_lose_nothing(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    let http = reqwest::Client::new();

    // Not ready until the first round; then ready.
    assert_eq!(status(&http, format!("{base}/readyz")).await, 503);
    catalog.round().await.unwrap();
    assert_eq!(status(&http, format!("{base}/readyz")).await, 200);
    assert_eq!(status(&http, format!("{base}/healthz")).await, 200);

    let body = envelope(
        http.get(format!("{base}/api/catalog/no-such-endpoint"))
            .send()
            .await
            .unwrap(),
        404,
        "NotFoundError",
    )
    .await;
    assert_eq!(body["request"]["url"], "/no-such-endpoint");

    // (method, path and query, JSON body, expected status, expected error name)
    let huge = format!("/entities?filter=kind={}", "x,".repeat(10_000));
    let many = format!(
        "/entities?{}",
        (0..500)
            .map(|i| format!("filter=kind=k{i}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    let cases: Vec<(&str, &str, &str, u16, &str)> = vec![
        ("GET", &huge, "", 400, "InputError"),
        ("GET", &many, "", 400, "InputError"),
        ("GET", "/entities?limit=0", "", 400, "InputError"),
        ("GET", "/entities?limit=abc", "", 400, "InputError"),
        (
            "GET",
            "/entities/by-query?cursor=not-a-cursor",
            "",
            400,
            "InputError",
        ),
        ("GET", "/entities?after=%25%25", "", 400, "InputError"),
        ("POST", "/entities/by-refs", "{not json", 400, "InputError"),
        (
            "POST",
            "/entities/by-refs",
            r#"{"entityRefs": 5}"#,
            400,
            "InputError",
        ),
        (
            "POST",
            "/entities/by-query",
            r#"{"query": [1]}"#,
            400,
            "InputError",
        ),
        (
            "POST",
            "/locations",
            r#"{"type": "file", "target": "/etc/passwd"}"#,
            400,
            "InputError",
        ),
        (
            "POST",
            "/refresh",
            r#"{"entityRef": "component:default/ghost"}"#,
            404,
            "NotFoundError",
        ),
        ("GET", "/entities/by-uid/nope", "", 404, "NotFoundError"),
        ("DELETE", "/locations/nope", "", 404, "NotFoundError"),
    ];
    for (method, path, body, status, name) in cases {
        let url = format!("{base}/api/catalog{path}");
        let req = match method {
            "GET" => http.get(url),
            "DELETE" => http.delete(url),
            _ => http
                .post(url)
                .header("content-type", "application/json")
                .body(body),
        };
        let resp = req.send().await.unwrap();
        assert_eq!(
            resp.status().as_u16(),
            status,
            "{method} {}",
            &path[..path.len().min(80)]
        );
        envelope(resp, status, name).await;
    }
    let big = "x".repeat(2 * 1024 * 1024);
    let resp = http
        .post(format!("{base}/api/catalog/entities/by-refs"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);

    let invalid = json!({"entity": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "bad name!"}, "spec": {}}, "location": "url:https://x"});
    let resp = http
        .post(format!("{base}/api/catalog/validate-entity"))
        .json(&invalid)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );

    // After all of that, the catalog still serves what it had.
    let keeper: Value = common::get_json(
        &http,
        format!("{base}/api/catalog/entities/by-name/component/default/keeper"),
    )
    .await;
    assert_eq!(keeper["metadata"]["name"], "keeper");
}

async fn a_file_edit_is_served_within_two_seconds(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    tokio::spawn(catalog.clone().run());
    let http = reqwest::Client::new();
    let url = format!("{base}/api/catalog/entities/by-name/component/default/keeper");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while http.get(&url).send().await.unwrap().status() != 200 {
        assert!(std::time::Instant::now() < deadline, "never ingested");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let path = dir.path().join("catalog-info.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("owner: team-a", "owner: team-b");
    std::fs::write(&path, text).unwrap();
    let edited = std::time::Instant::now();
    loop {
        let e: Value = common::get_json(&http, &url).await;
        if e["spec"]["owner"] == "team-b" {
            break;
        }
        assert!(
            edited.elapsed() < std::time::Duration::from_secs(2),
            "edit not visible after 2 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn the_unpaged_list_streams_one_valid_array(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    let many: String = (0..600)
        .map(|i| format!("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{i}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"))
        .collect();
    std::fs::write(dir.path().join("catalog-info.yaml"), many).unwrap();
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();
    let all = get_list(&http, format!("{base}/api/catalog/entities")).await;
    assert_eq!(all.len(), 601, "600 components and the generated Location");
    let some = get_list(
        &http,
        format!("{base}/api/catalog/entities?filter=kind=component&fields=metadata.name"),
    )
    .await;
    assert_eq!(some.len(), 600);
    assert_eq!(some[0], json!({"metadata": {"name": "c0"}}));
    let none = get_list(
        &http,
        format!("{base}/api/catalog/entities?filter=kind=nothing"),
    )
    .await;
    assert!(none.is_empty());
}

/// Answers that Backstage gives and Stagedoor did not (issue 13): counts with `limit=0`, and
/// InputError for parameters Backstage refuses.
async fn parameters_are_accepted_and_refused_as_backstage_does(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();
    let api = format!("{base}/api/catalog");

    let resp = http
        .get(format!(
            "{api}/entities/by-query?limit=0&filter=kind=component"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"items": [], "totalItems": 1, "pageInfo": {}}));

    // The real Backstage web app sends totalItems=exclude on its catalog table; the count is
    // then 0, and `include` is the default.
    for (mode, total) in [("exclude", 0), ("include", 1)] {
        let body: Value = common::get_json(
            &http,
            format!("{api}/entities/by-query?filter=kind=component&fields=kind&totalItems={mode}"),
        )
        .await;
        assert_eq!(body["totalItems"], total, "totalItems={mode}");
        assert_eq!(body["items"], json!([{"kind": "Component"}]));
    }
    let resp = http
        .post(format!("{api}/entities/by-query"))
        .json(&json!({"query": {"kind": "component"}, "totalItems": "exclude"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["totalItems"], 0);

    for (method, path) in [
        ("GET", "/entities/by-query?totalItems=sometimes"),
        ("GET", "/entities/by-query?totalItems=true"),
        ("POST", "/entities/by-refs?fields=kind"),
        ("GET", "/entity-facets"),
        ("GET", "/entities?fields=metadata.tags%5B0%5D"),
        ("GET", "/entities/by-query?fields=metadata.tags%5B0%5D"),
        ("GET", "/entities?order=metadata.name"),
    ] {
        let req = if method == "GET" {
            http.get(format!("{api}{path}"))
        } else {
            http.post(format!("{api}{path}"))
                .json(&json!({"entityRefs": ["component:default/keeper"]}))
        };
        envelope(req.send().await.unwrap(), 400, "InputError").await;
    }
}

// Every test runs on SQLite and on PostgreSQL.
store::on_each_database!(
    bad_requests_get_clear_errors_and_lose_nothing,
    a_file_edit_is_served_within_two_seconds,
    the_unpaged_list_streams_one_valid_array,
    parameters_are_accepted_and_refused_as_backstage_does,
);
