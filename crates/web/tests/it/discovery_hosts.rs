//! Discovery of a GitHub organisation over HTTP on both databases, against recorded API
//! responses on loopback: the repositories API shows hosted records (topics, host), the page
//! offers to open a pull request, accepting opens one whose link the page then shows, and
//! analyze-location answers for a scanned hosted repository.

use crate::common;

use std::time::Duration;

use catalog::{CatalogSettings, LocationSpec};
use discovery::{HostSource, Limits, Secret, Settings};
use forge::testing::Fake;
use serde_json::Value;
use store::testing::TestDb;

store::on_each_database!(hosted_proposals_open_pull_requests);

const ORG: &str = "apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol}
spec: {profile: {email: carol@example.com}, memberOf: [web-team]}
";

async fn hosted_proposals_open_pull_requests(db: TestDb) {
    let github = Fake::start().await;
    github.github_acme();
    let tmp = tempfile::tempdir().unwrap();
    let org = tmp.path().join("org.yaml");
    std::fs::write(&org, ORG).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", org.to_str().unwrap()), vec![])],
        watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    catalog.round().await.unwrap();
    let state = discovery::State::of(&catalog);
    state.configure(Settings {
        sources: vec![],
        hosts: vec![
            HostSource::github(Some(&github.base), Some(Secret::new("ghp_x")), "acme").unwrap(),
        ],
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: Limits::default(),
    });
    state.sync_now(&catalog).await.unwrap();
    let http = reqwest::Client::new();

    let repos = common::get_json(&http, format!("{base}/api/discovery/v1/repositories")).await;
    let storefront = repos["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "storefront")
        .unwrap_or_else(|| panic!("{repos}"));
    assert_eq!(storefront["path"], "https://github.com/acme/storefront");
    assert_eq!(storefront["topics"][0], "web");
    assert_eq!(storefront["host"]["kind"], "github");
    assert_eq!(storefront["host"]["project"], "acme/storefront");
    assert_eq!(storefront["changeRequest"], Value::Null);
    assert_eq!(storefront["owner"], "group:default/web-team");
    assert!(
        repos["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no permission"),
        "{repos}"
    );

    let page = common::get_text(&http, format!("{base}/completeness")).await;
    assert!(page.contains("Accept: open a pull request"), "{page}");
    assert!(
        page.contains("<a href=\"https://github.com/acme/storefront\">"),
        "the repository links to its page: {page}"
    );

    // analyze-location answers for a scanned hosted repository from its record, and refuses
    // one it does not know (no API call on a caller's behalf).
    let before = github.requests().len();
    let analyze = |target: &str| {
        http.post(format!("{base}/api/catalog/analyze-location"))
            .json(&serde_json::json!({"location": {"type": "url", "target": target}}))
            .send()
    };
    let a: Value = analyze("https://github.com/acme/payments-api/blob/main/catalog-info.yaml")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        a["existingEntityFiles"][0]["location"],
        serde_json::json!({"type": "url", "target": "https://github.com/acme/payments-api/blob/main/catalog-info.yaml"})
    );
    assert_eq!(a["existingEntityFiles"][0]["isRegistered"], true);
    assert_eq!(
        a["existingEntityFiles"][0]["entity"]["metadata"]["name"],
        "payments-api"
    );
    let a: Value = analyze("https://github.com/acme/storefront")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        a["generateEntities"][0]["entity"]["spec"]["type"],
        "website"
    );
    let unknown = analyze("https://github.com/acme/storefront-old")
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(github.requests().len(), before, "analysis made no API call");

    let form = "path=https%3A%2F%2Fgithub.com%2Facme%2Fstorefront&name=storefront&type=website&owner=group%3Adefault%2Fweb-team&lifecycle=production";
    let post = || {
        http.post(format!("{base}/completeness/accept"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "stagedoor_guest=user%3Adefault%2Fcarol")
            .body(form)
            .send()
    };
    let ok = post().await.unwrap();
    assert_eq!(ok.status(), 200);
    let text = ok.text().await.unwrap();
    assert!(
        text.contains("Opened pull request #42")
            && text.contains("<a href=\"https://github.com/acme/storefront/pull/42\">"),
        "{text}"
    );
    let pull = github
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path() == "/repos/acme/storefront/pulls")
        .expect("a pull request was opened")
        .json();
    assert_eq!(pull["title"], "Add catalog-info.yaml for storefront");
    let body = pull["body"].as_str().unwrap();
    assert!(body.contains("accepted by user:default/carol"), "{body}");
    assert!(
        body.contains("metadata.tags"),
        "what is still guessed is listed: {body}"
    );

    // The page and the API show the open pull request from now on.
    let page = common::get_text(&http, format!("{base}/completeness")).await;
    assert!(page.contains("pull request #42 is open"), "{page}");
    let repos = common::get_json(&http, format!("{base}/api/discovery/v1/repositories")).await;
    let storefront = repos["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "storefront")
        .unwrap();
    assert_eq!(
        storefront["changeRequest"]["url"],
        "https://github.com/acme/storefront/pull/42"
    );
}
