//! The org import API on both databases, against a GitHub organisation recorded on loopback:
//! 404 while nothing is configured, a dry run that writes nothing and lists what would be
//! added per field, an import after which the people are catalog entities, the latest runs,
//! and the org import page (last import, a dry run's per-field table).

use crate::common;

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
    let html = common::get_text(&http, format!("{base}/org-import")).await;
    assert!(html.contains("No org source is configured"), "{html}");

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

    // The page: the last import per source, and a dry run on request with its per-field table.
    let html = common::get_text(&http, format!("{base}/org-import")).await;
    assert!(
        html.contains("<th scope=\"row\">github-acme (github)</th><td>1</td><td>1</td><td>2</td>"),
        "{html}"
    );
    assert!(!html.contains("Dry run,"));
    gh.route(
        "GET",
        "/users/octo",
        Reply::json(200, r#"{"login": "octo", "id": 7, "name": "Octo Cat", "email": "octo@cats.example", "avatar_url": "https://avatars.example/7"}"#),
    );
    let html = common::get_text(&http, format!("{base}/org-import?preview=1")).await;
    assert!(
        html.contains("1 users, 1 groups: 0 added, 1 changed, 0 removed, 1 unchanged."),
        "{html}"
    );
    assert!(
        html.contains("<td><code>spec.profile.email</code></td><td>octo@acme.example</td><td>octo@cats.example</td>"),
        "{html}"
    );
    // A dry run: the catalog still has the old address.
    let user = common::get_json(
        &http,
        format!("{base}/api/catalog/entities/by-name/user/default/octo"),
    )
    .await;
    assert_eq!(user["spec"]["profile"]["email"], "octo@acme.example");
}
