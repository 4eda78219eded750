//! Discovery over HTTP on both databases: the repositories and completeness API, the
//! completeness page (table, SVG trend, Uncatalogued list with proposals), accepting a proposal
//! from the page (a commit on a new branch; sign-in, ownership and bad names checked), and
//! Backstage's `POST /api/catalog/analyze-location`.

use crate::common;

use std::time::Duration;

use catalog::{CatalogSettings, LocationSpec};
use discovery::testing::{bare_repo_with, git, repo_with};
use serde_json::{Value, json};
use store::testing::TestDb;

store::on_each_database!(discovery_is_served_as_api_and_page);

const ORG: &str = "apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {profile: {email: alice@example.com}, memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: mallory}
spec: {profile: {email: mallory@example.com}}
";

async fn discovery_is_served_as_api_and_page(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let cataloged = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n";
    repo_with(
        &repos.join("orders"),
        &[("catalog-info.yaml", cataloged)],
        ("Alice", "alice@example.com"),
    );
    let billing = repo_with(
        &repos.join("billing"),
        &[
            ("Dockerfile", "FROM x\n"),
            ("CODEOWNERS", "* @acme/team-a\n"),
        ],
        ("Bob", "bob@example.com"),
    );
    bare_repo_with(&repos.join("docs-site.git"), &[("index.html", "<p>\n")]);
    let org = tmp.path().join("org.yaml");
    std::fs::write(&org, ORG).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", org.to_str().unwrap()), vec![])],
        watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();

    // Not configured: a clear 404 from the API, a hint on the page.
    let resp = http
        .get(format!("{base}/api/discovery/v1/completeness"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("discovery.sources"),
        "{body}"
    );

    discovery::State::of(&catalog).configure(discovery::Settings {
        sources: vec![repos.clone()],
        hosts: vec![],
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: discovery::Limits::default(),
    });
    let scan: Value = http
        .post(format!("{base}/api/discovery/v1/scan"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (scan["repositories"].as_u64(), scan["registered"].as_u64()),
        (Some(3), Some(1)),
        "{scan}"
    );

    let c: Value = common::get_json(&http, format!("{base}/api/discovery/v1/completeness")).await;
    assert_eq!(c["org"], json!({"found": 3, "cataloged": 1, "percent": 33}));
    assert_eq!(c["groups"][0]["group"], "group:default/team-a");
    assert_eq!(
        c["groups"][0]["total"],
        json!({"found": 2, "cataloged": 1, "percent": 50})
    );
    assert_eq!(c["unowned"]["found"], 1);
    assert_eq!(
        c["trend"].as_array().unwrap().len(),
        1,
        "today's row was recorded"
    );

    let r: Value = common::get_json(&http, format!("{base}/api/discovery/v1/repositories")).await;
    let billing_json = r["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "billing")
        .unwrap();
    assert_eq!(billing_json["owner"], "group:default/team-a");
    assert_eq!(
        billing_json["proposal"]["entity"]["spec"]["type"],
        "service"
    );
    let orders_json = r["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "orders")
        .unwrap();
    assert_eq!(orders_json["entities"], json!(["component:default/orders"]));

    // The page: stats, SVG trend, the team table and the Uncatalogued list for team-a.
    let page = common::get_text(
        &http,
        format!("{base}/completeness?team=group:default/team-a"),
    )
    .await;
    assert!(
        page.contains(r#"<svg class="trend completeness-trend""#),
        "{page}"
    );
    assert!(page.contains("<span class=\"stat\">33%</span>"));
    assert!(
        page.contains("aria-label=\"billing\""),
        "team-a's uncatalogued repository is listed"
    );
    assert!(
        !page.contains("aria-label=\"docs-site\""),
        "another team's is not"
    );
    assert!(
        page.contains("CODEOWNERS:1: * @acme/team-a"),
        "evidence is shown"
    );

    // The team page's card (loaded by htmx; the page links to the full report without it).
    let card = common::get_text(
        &http,
        format!("{base}/completeness/team-card?team=group:default/team-a"),
    )
    .await;
    assert!(
        card.contains("1 of 2 repositories in the catalog"),
        "{card}"
    );
    let group_page = common::get_text(&http, format!("{base}/catalog/default/group/team-a")).await;
    assert!(
        group_page.contains("/completeness/team-card?team=group%3Adefault/team-a"),
        "{group_page}"
    );

    // The ownership report names the org's share and, under team-a, its uncatalogued repository.
    let report = common::get_text(&http, format!("{base}/ownership")).await;
    assert!(
        report.contains("<span class=\"stat\">33%</span> of repositories in the catalog"),
        "{report}"
    );
    let team_a = &report[report
        .find("id=\"team-group_3Adefault_2Fteam-a\"")
        .expect("team-a's section")..];
    assert!(
        team_a.contains("Repositories not in the catalog <span class=\"count\">1</span>")
            && team_a
                .contains("Of the repositories this team owns, 1 of 2 are in the catalog (50%)")
            && team_a.contains("/completeness?team=group%3Adefault/team-a"),
        "{team_a}"
    );

    // Accepting: signed out is refused; mallory is not in team-a; a bad name is refused; alice
    // commits on a new branch with her edit.
    let billing_path = std::fs::canonicalize(&billing)
        .unwrap()
        .display()
        .to_string();
    let form = |name: &str| {
        format!(
            "path={}&name={name}&type=library&owner=group%3Adefault%2Fteam-a&lifecycle=production",
            urlencode(&billing_path)
        )
    };
    let post = |cookie: Option<&str>, body: String| {
        let mut req = http
            .post(format!("{base}/completeness/accept"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    assert_eq!(post(None, form("billing")).await.unwrap().status(), 403);
    assert_eq!(
        post(
            Some("stagedoor_guest=user%3Adefault%2Fmallory"),
            form("billing")
        )
        .await
        .unwrap()
        .status(),
        403
    );
    let bad = post(
        Some("stagedoor_guest=user%3Adefault%2Falice"),
        form("Bad%20Name%21"),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("is not a valid entity name")
    );
    let status_before = git(&billing, &["status", "--porcelain"]);
    let ok = post(
        Some("stagedoor_guest=user%3Adefault%2Falice"),
        form("billing-svc"),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.text()
            .await
            .unwrap()
            .contains("on branch stagedoor/catalog-info")
    );
    let file = git(
        &billing,
        &["show", "stagedoor/catalog-info:catalog-info.yaml"],
    );
    assert!(
        file.contains("name: \"billing-svc\"") && file.contains("type: \"library\""),
        "{file}"
    );
    assert_eq!(git(&billing, &["status", "--porcelain"]), status_before);
    let again = post(
        Some("stagedoor_guest=user%3Adefault%2Falice"),
        form("billing-svc"),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), 409, "the branch exists");

    // analyze-location: a cataloged repository's entities, an uncataloged one's proposal, and a
    // path outside the sources refused.
    let analyze = |target: String| {
        http.post(format!("{base}/api/catalog/analyze-location"))
            .json(&json!({"location": {"type": "url", "target": target}}))
            .send()
    };
    let a: Value = analyze(repos.join("orders").display().to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["generateEntities"], json!([]));
    let existing = &a["existingEntityFiles"][0];
    assert_eq!(existing["isRegistered"], true);
    assert_eq!(existing["entity"]["metadata"]["name"], "orders");
    assert!(
        existing["location"]["target"]
            .as_str()
            .unwrap()
            .ends_with("orders/catalog-info.yaml")
    );
    let a: Value = analyze(repos.join("docs-site.git").display().to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["existingEntityFiles"], json!([]));
    let generated = &a["generateEntities"][0];
    assert_eq!(generated["entity"]["spec"]["type"], "website");
    let field = generated["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "spec.type")
        .unwrap();
    assert_eq!(field["state"], "analysisSuggestedValue");
    assert_eq!(field["value"], "website");
    assert!(
        field["description"]
            .as_str()
            .unwrap()
            .contains("index.html")
    );
    let outside = analyze(tmp.path().display().to_string()).await.unwrap();
    assert_eq!(outside.status(), 400);
    let body: Value = outside.json().await.unwrap();
    assert_eq!(body["error"]["name"], "InputError");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
