//! The adoption analytics API and pages over real HTTP on both databases: a Backstage batch
//! with good, bad and duplicate events (each bad one named by index, the good kept), bodies
//! and batches past the bounds, the rate bound; the summary, its time series and the teams
//! list as JSON and CSV with errors in the catalog's envelope; the portal's own page views by
//! route template after a guest sign-in, seen on the summary and the dashboard; `/metrics`.
//! An ignored benchmark measures ingest over HTTP.

use std::time::Instant;

use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::{Value, json};
use store::testing::TestDb;

use crate::common;

store::on_each_database!(
    ingest_answers_per_event_and_keeps_the_good_ones,
    summary_series_and_teams_answer_json_and_csv,
    page_views_are_recorded_by_route_and_shown,
);

const ORG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: eng }
spec: { type: department, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: web-team }
spec: { type: team, parent: eng, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: shop }
spec: { type: service, lifecycle: production, owner: web-team }
";

fn users() -> String {
    (0..6)
        .map(|i| {
            format!(
                "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {{ name: u{i} }}\nspec: {{ memberOf: [web-team] }}\n"
            )
        })
        .collect()
}

async fn serve(db: &TestDb) -> (String, std::sync::Arc<catalog::Catalog>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.yaml");
    std::fs::write(&file, format!("{ORG}{}", users())).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, db).await;
    catalog.settle().await.unwrap();
    (base, catalog, dir)
}

fn event(id: Option<&str>, user: &str, at: &str) -> Value {
    let mut v = json!({"timestamp": at, "user": user, "action": "navigate", "subject": "/catalog",
        "context": {"pluginId": "catalog", "extension": "App", "routeRef": "catalog", "entityRef": "component:default/shop"}});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    v
}

async fn ingest_answers_per_event_and_keeps_the_good_ones(db: TestDb) {
    let (base, catalog, _dir) = serve(&db).await;
    let http = reqwest::Client::new();
    let url = format!("{base}/api/analytics/v1/events");
    let now = chrono::Utc::now().to_rfc3339();
    let body = json!({"events": [
        event(Some("a"), "user:default/u0", &now),
        event(Some("b"), "user:default/u1", "2026-13-01T00:00:00Z"),
        event(Some("a"), "user:default/u0", &now),
        {"id": "c", "timestamp": now, "user": "u2", "action": "navigate", "subject": "/x"},
        event(Some("d"), "u3", &now),
    ]});
    let res = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["accepted"], 2);
    assert_eq!(out["duplicates"], 1);
    let rejected = out["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["index"], 1);
    assert!(
        rejected[0]["reason"].as_str().unwrap().contains("RFC 3339"),
        "{out}"
    );
    assert_eq!(rejected[1]["index"], 3);
    assert!(
        rejected[1]["reason"]
            .as_str()
            .unwrap()
            .contains("`context` is required"),
        "{out}"
    );
    assert_eq!(catalog.database().count_events().await.unwrap(), 2);
    // Every event bad: 400, nothing stored.
    let res = http
        .post(&url)
        .json(&json!({"events": [{"user": "u1"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(catalog.database().count_events().await.unwrap(), 2);
    // Not a batch: the catalog's error envelope.
    let res = http.post(&url).json(&json!([1])).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["name"], "InputError");
    assert_eq!(err["request"]["url"], "/events");
    // Too many events in one batch; a body over 1 MiB.
    let many: Vec<Value> = (0..1_001)
        .map(|i| event(Some(&format!("m{i}")), "u0", &now))
        .collect();
    let res = http
        .post(&url)
        .json(&json!({"events": many}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let big = format!("{{\"events\": [], \"pad\": \"{}\"}}", "x".repeat(1_100_000));
    let res = http
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // The rate bound: 429 with Retry-After once the bucket is empty.
    let r = analytics::Recorder::of(&catalog);
    r.configure(analytics::Settings {
        max_events_per_second: 1,
        ..Default::default()
    });
    let one = json!({"events": [event(None, "u0", &now)]});
    let mut statuses = vec![];
    for _ in 0..4 {
        let res = http.post(&url).json(&one).send().await.unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().get("retry-after").is_some());
        }
    }
    assert_eq!(statuses[..2], [200, 200], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

async fn summary_series_and_teams_answer_json_and_csv(db: TestDb) {
    let (base, catalog, _dir) = serve(&db).await;
    let r = analytics::Recorder::of(&catalog);
    r.configure(analytics::Settings::default());
    let http = reqwest::Client::new();
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let events: Vec<Value> = (0..4)
        .map(|i| event(Some(&format!("e{i}")), &format!("u{i}"), &now.to_rfc3339()))
        .collect();
    let res = http
        .post(format!("{base}/api/analytics/v1/events"))
        .json(&json!({"events": events}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let get = |path: String| {
        let http = http.clone();
        async move { http.get(path).send().await.unwrap() }
    };
    let s: Value = get(format!(
        "{base}/api/analytics/v1/summary?group=web-team&date={today}"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(s["group"], "group:default/web-team");
    assert_eq!(
        (
            s["engineers"].as_u64(),
            s["dau"].as_u64(),
            s["mau"].as_u64()
        ),
        (Some(6), Some(4), Some(4))
    );
    assert_eq!(s["mauShare"], 0.667);
    assert_eq!(s["phase"], "50-75");
    assert_eq!(s["chasm"], false);
    assert_eq!(s["features"]["catalog"]["users"], 4);
    assert!(s["withheld"].is_null());
    // The organisation when no group is named; the department counts its team.
    let org: Value = get(format!("{base}/api/analytics/v1/summary"))
        .await
        .json()
        .await
        .unwrap();
    assert!(org["group"].is_null());
    assert_eq!(org["dau"], 4);
    // Under the k-threshold: counts withheld with the reason.
    r.configure(analytics::Settings {
        k_threshold: 7,
        ..Default::default()
    });
    let w: Value = get(format!(
        "{base}/api/analytics/v1/summary?group=group:default/eng"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert!(w["dau"].is_null() && w["engineers"].is_null(), "{w}");
    assert!(
        w["withheld"].as_str().unwrap().contains("fewer than 7"),
        "{w}"
    );
    r.configure(analytics::Settings::default());
    // The time series.
    let from = today - chrono::Days::new(2);
    let series: Value = get(format!(
        "{base}/api/analytics/v1/summary?group=web-team&from={from}&to={today}"
    ))
    .await
    .json()
    .await
    .unwrap();
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(points[2]["date"], today.to_string());
    assert_eq!(
        (points[0]["dau"].as_u64(), points[2]["wau"].as_u64()),
        (Some(0), Some(4))
    );
    // CSV.
    let res = get(format!(
        "{base}/api/analytics/v1/summary?group=web-team&from={from}&to={today}&format=csv"
    ))
    .await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().next(), Some("date,dau,wau,mau,mauShare,phase"));
    assert_eq!(
        text.lines().last().unwrap(),
        format!("{today},4,4,4,0.667,50-75")
    );
    let text = get(format!("{base}/api/analytics/v1/summary?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(text.contains("\nmau,4\n"), "{text}");
    let teams: Value = get(format!("{base}/api/analytics/v1/teams"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = teams["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["group:default/eng", "group:default/web-team"]);
    let text = get(format!("{base}/api/analytics/v1/teams?format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("group:default/web-team,web-team,team,6,4,0.667,50-75,false,"),
        "{text}"
    );
    // Errors.
    let res = get(format!("{base}/api/analytics/v1/summary?group=nope")).await;
    assert_eq!(res.status(), 404);
    let res = get(format!("{base}/api/analytics/v1/summary?date=yesterday")).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD")
    );
    let res = get(format!(
        "{base}/api/analytics/v1/summary?from=2020-01-01&to=2026-01-01"
    ))
    .await;
    assert_eq!(res.status(), 400);
    let res = get(format!("{base}/api/analytics/v1/summary?format=xml")).await;
    assert_eq!(res.status(), 400);
    // Prometheus.
    let metrics = get(format!("{base}/metrics")).await.text().await.unwrap();
    assert!(metrics.contains("stagedoor_adoption_mau 4\n"), "{metrics}");
    assert!(
        metrics.contains("stagedoor_adoption_engineers 6\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("stagedoor_analytics_events_stored_total 4\n"),
        "{metrics}"
    );
}

async fn page_views_are_recorded_by_route_and_shown(db: TestDb) {
    let (base, catalog, _dir) = serve(&db).await;
    let r = analytics::Recorder::of(&catalog);
    r.configure(analytics::Settings {
        k_threshold: 1,
        ..Default::default()
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Anonymous views count for no one.
    assert_eq!(
        http.get(format!("{base}/catalog"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = http
        .post(format!("{base}/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=user:default/u5")
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for path in [
        "/catalog",
        "/catalog/default/component/shop",
        "/catalog/default/component/missing",
    ] {
        let _ = http
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
    }
    // An htmx fragment is not a page view.
    let _ = http
        .get(format!("{base}/catalog?kind=component"))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .header("hx-target", "results")
        .send()
        .await
        .unwrap();
    r.flush().await;
    // Sign-in, the catalog page and the entity page; not the 404.
    assert_eq!(catalog.database().count_events().await.unwrap(), 3);
    let s: Value = common::get_json(
        &http,
        format!("{base}/api/analytics/v1/summary?group=web-team"),
    )
    .await;
    assert_eq!(s["dau"], 1);
    assert_eq!(s["features"]["catalog"]["users"], 1);
    assert_eq!(s["features"]["sign-in"]["users"], 1);
    // The dashboard shows it, from the main navigation.
    let page = http
        .get(format!("{base}/adoption"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<a href="/adoption" aria-current="page">Adoption</a>"#));
    assert!(page.contains("<dt>Daily active</dt><dd>1 "), "{page}");
    assert!(page.contains("<svg class=\"trend adoption-lines\""));
    assert!(page.contains("Web-team") || page.contains("web-team"));
    assert!(!page.contains("Demo data"));
    let one = http
        .get(format!("{base}/adoption?group=web-team"))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    assert!(one.text().await.unwrap().contains("Adoption: web-team"));
    assert_eq!(
        http.get(format!("{base}/adoption?group=nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(page.contains("Onboarding checklist"));
    // The person's checklist: signed in and used the catalog; web-team owns the shop.
    let c: Value =
        common::get_json(&http, format!("{base}/api/analytics/v1/checklist?user=u5")).await;
    let done: Vec<&str> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["done"] == true)
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["sign-in", "catalog", "owns"]);
    assert_eq!(c["next"]["id"], "search");
    let home = http
        .get(format!("{base}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains(r#"Getting started <span class="count">3 of 7</span>"#),
        "{home}"
    );
    assert!(
        home.contains(r#"Next: <a href="/catalog">Search</a>"#),
        "{home}"
    );
    let team: Value = common::get_json(
        &http,
        format!("{base}/api/analytics/v1/checklist?group=web-team"),
    )
    .await;
    assert_eq!(team["engineers"], 6);
    assert_eq!(team["steps"][1]["engineers"], 1);
    assert_eq!(team["steps"][2]["share"], 1.0);
    assert_eq!(
        http.get(format!("{base}/api/analytics/v1/checklist?user=nobody"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Ingest throughput over HTTP on SQLite: batches of 500 from 4 concurrent senders.
/// `cargo test --release -p web --test it analytics_api:: -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn ingest_benchmark() {
    let db = TestDb::fresh(store::testing::Backend::Sqlite)
        .await
        .unwrap();
    let (base, catalog, _dir) = serve(&db).await;
    let url = format!("{base}/api/analytics/v1/events");
    let now = chrono::Utc::now();
    const BATCH: usize = 500;
    const BATCHES: usize = 200;
    const SENDERS: usize = 4;
    let bodies: Vec<String> = (0..BATCHES)
        .map(|b| {
            let events: Vec<Value> = (0..BATCH)
                .map(|i| {
                    let n = b * BATCH + i;
                    let plugin = ["catalog", "techdocs", "search", "scaffolder"][n % 4];
                    json!({"id": format!("bench-{n}"), "timestamp": (now - chrono::Duration::seconds((n % 86_400) as i64)).to_rfc3339(),
                        "user": format!("user:default/u{}", n % 5_000), "action": "navigate", "subject": "/catalog",
                        "attributes": {"n": n},
                        "context": {"pluginId": plugin, "extension": "App", "routeRef": "catalog"}})
                })
                .collect();
            json!({"events": events}).to_string()
        })
        .collect();
    let bodies = std::sync::Arc::new(bodies);
    let start = Instant::now();
    let mut tasks = vec![];
    for s in 0..SENDERS {
        let (bodies, url) = (bodies.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for body in bodies.iter().skip(s).step_by(SENDERS) {
                let res = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = start.elapsed();
    let n = catalog.database().count_events().await.unwrap() as usize;
    assert_eq!(n, BATCH * BATCHES);
    println!(
        "ingest over HTTP on SQLite: {n} events in {:.2} s = {:.0} events/s (batches of {BATCH}, {SENDERS} senders)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
}
