//! The org import API on both databases, against a GitHub organisation recorded on loopback:
//! 404 while nothing is configured, a dry run that writes nothing and lists what would be
//! added per field, an import after which the people are catalog entities, and the latest runs.

mod common;

use catalog::CatalogSettings;
use forge::Secret;
use forge::testing::{Fake, Reply};
use org::config::GitHubSource;
use org::{Settings, Source, SourceKind};
use serde_json::{Value, json};
use store::testing::TestDb;

store::on_each_database!(org_import_is_previewed_and_applied_over_http);

async fn org_import_is_previewed_and_applied_over_http(db: TestDb) {
    let gh = Fake::start().await;
    gh.route(
        "GET",
        "/orgs/acme/teams?per_page=100",
        Reply::json(200, r#"[{"id": 1, "slug": "platform", "name": "Platform", "description": "Runs the platform", "parent": null}]"#),
    );
    gh.route(
        "GET",
        "/orgs/acme/teams/platform/members?per_page=100",
        Reply::json(200, r#"[{"login": "octo", "id": 7}]"#),
    );
    gh.route(
        "GET",
        "/orgs/acme/members?per_page=100",
        Reply::json(200, r#"[{"login": "octo", "id": 7}]"#),
    );
    gh.route(
        "GET",
        "/users/octo",
        Reply::json(200, r#"{"login": "octo", "id": 7, "name": "Octo Cat", "email": "octo@acme.example", "avatar_url": "https://avatars.example/7"}"#),
    );
    let tmp = tempfile::tempdir().unwrap();
    let (base, catalog) = common::serve(CatalogSettings::default(), &db).await;
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();

    let r = http
        .get(format!("{base}/api/discovery/v1/org-import/preview"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["name"], "NotFoundError");

    let settings = Settings {
        sources: vec![Source {
            id: "github-acme".into(),
            kind: SourceKind::GitHub(GitHubSource {
                api_base: gh.base.clone(),
                org: "acme".into(),
                token: Some(Secret::new("ghp_x")),
            }),
        }],
        ..Default::default()
    };
    org::OrgImport::of(&catalog).configure(settings, tmp.path().to_path_buf());

    let preview =
        common::get_json(&http, format!("{base}/api/discovery/v1/org-import/preview")).await;
    assert_eq!(preview["dryRun"], true);
    let s = &preview["sources"][0];
    assert_eq!(
        (s["id"].as_str(), s["kind"].as_str()),
        (Some("github-acme"), Some("github"))
    );
    let added: Vec<&str> = s["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entityRef"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["group:default/platform", "user:default/octo"]);
    let octo = &s["added"][1];
    assert_eq!(octo["change"], "added");
    assert!(octo["fields"].as_array().unwrap().contains(
        &json!({"field": "spec.profile.email", "before": null, "after": "octo@acme.example"})
    ));
    assert_eq!(s["written"], false);
    assert!(!tmp.path().join("github-acme.yaml").exists());

    let r = http
        .post(format!("{base}/api/discovery/v1/org-import/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let applied: Value = r.json().await.unwrap();
    assert_eq!(applied["dryRun"], false);
    assert_eq!(applied["sources"][0]["written"], true);
    assert_eq!(applied["sources"][0]["registered"], true);
    let user = common::get_json(
        &http,
        format!("{base}/api/catalog/entities/by-name/user/default/octo"),
    )
    .await;
    assert_eq!(user["spec"]["memberOf"], json!(["platform"]));
    assert_eq!(user["spec"]["profile"]["displayName"], "Octo Cat");

    let status = common::get_json(&http, format!("{base}/api/discovery/v1/org-import")).await;
    assert_eq!(
        status["sources"],
        json!([{"id": "github-acme", "kind": "github"}])
    );
    assert_eq!(
        status["lastImport"]["sources"][0]["added"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(status["lastPreview"]["dryRun"], true);
}
