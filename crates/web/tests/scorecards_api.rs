//! The scorecards API over real HTTP on both databases: an entity's levels and checks, a
//! scorecard's counts per team, 404 envelopes, a bad scorecard refused with the field it
//! concerns, and a file edit that makes a check pass visible within 2 seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::{Value, json};
use store::testing::TestDb;

mod common;

const SCORECARD: &str = "\
apiVersion: stagedoor.dev/v1alpha1
kind: Scorecard
metadata: { name: production-readiness, title: Production readiness }
spec:
  owner: group:default/platform
  filter: kind=component,spec.lifecycle=production
  levels: [bronze, silver, gold]
  checks:
    - id: has-description
      title: Has a description
      level: bronze
      expression: has(entity.metadata.description) && size(entity.metadata.description) >= 20
      fix: Add one sentence saying what this does and for whom.
    - id: on-call
      title: Paged through PagerDuty
      level: silver
      expression: '\"pagerduty.com/integration-key\" in entity.metadata.annotations'
      fix: Add the pagerduty.com/integration-key annotation.
    - id: owned
      title: Owned by a team in the catalog
      level: gold
      expression: facts.owner_exists && facts.owner_kind == 'group'
";

fn components(checkout_description: &str) -> String {
    format!(
        "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: team-a }}
spec: {{ type: team, children: [] }}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: platform }}
spec: {{ type: team, children: [] }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: {checkout_description}
  annotations: {{ pagerduty.com/integration-key: abc }}
spec: {{ type: service, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  description: Takes the money and gives it back when asked.
  annotations: {{ pagerduty.com/integration-key: abc }}
spec: {{ type: service, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{ name: ledger }}
spec: {{ type: service, lifecycle: production, owner: team-gone }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{ name: sandbox }}
spec: {{ type: service, lifecycle: experimental, owner: team-a }}
"
    )
}

async fn start(dir: &std::path::Path, db: &TestDb) -> (String, Arc<catalog::Catalog>) {
    std::fs::write(dir.join("scorecards.yaml"), SCORECARD).unwrap();
    std::fs::write(dir.join("components.yaml"), components("Short.")).unwrap();
    let settings = CatalogSettings {
        locations: ["scorecards.yaml", "components.yaml"]
            .iter()
            .map(|f| {
                (
                    LocationSpec::new("file", &dir.join(f).to_string_lossy()),
                    vec![],
                )
            })
            .collect(),
        watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    common::serve(settings, db).await
}

async fn get(http: &reqwest::Client, url: String) -> (u16, Value) {
    let resp = http.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn checks(card: &Value) -> Vec<(String, bool)> {
    card["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["passed"] == true))
        .collect()
}

async fn scorecards_are_served_per_entity_and_per_team(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();
    let api = format!("{base}/api/scorecards/v1");

    // checkout: on call and owned, but its description is too short: no level at all.
    let (status, body) = get(&http, format!("{api}/entities/component/default/checkout")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["entityRef"], "component:default/checkout");
    let cards = body["scorecards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{body}");
    let card = &cards[0];
    assert_eq!(card["ref"], "scorecard:default/production-readiness");
    assert_eq!(card["title"], "Production readiness");
    assert_eq!(card["levels"], json!(["bronze", "silver", "gold"]));
    assert_eq!(card["level"], Value::Null);
    assert_eq!(
        checks(card),
        [
            ("has-description".to_owned(), false),
            ("on-call".to_owned(), true),
            ("owned".to_owned(), true)
        ]
    );
    assert_eq!(
        card["checks"][0]["fix"],
        "Add one sentence saying what this does and for whom."
    );
    assert_eq!(card["checks"][0]["level"], "bronze");
    assert!(card["checks"][0].get("error").is_none());

    // payments reaches gold; ledger's owner is not in the catalog: silver.
    let level = |body: &Value| body["scorecards"][0]["level"].clone();
    let (_, payments) = get(&http, format!("{api}/entities/component/default/payments")).await;
    assert_eq!(level(&payments), "gold");
    let (_, ledger) = get(&http, format!("{api}/entities/Component/default/Ledger")).await;
    assert_eq!(level(&ledger), Value::Null, "no description, no pager");
    // An entity the filter leaves out has no scorecards; that is not an error.
    let (status, sandbox) = get(&http, format!("{api}/entities/component/default/sandbox")).await;
    assert_eq!(status, 200);
    assert_eq!(sandbox["scorecards"], json!([]));

    // Per team: counts per level and per check.
    let (status, body) = get(&http, format!("{api}/scorecards/production-readiness")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scorecard"]["owner"], "group:default/platform");
    assert_eq!(
        body["scorecard"]["filter"],
        "kind=component,spec.lifecycle=production"
    );
    assert_eq!(body["scorecard"]["checks"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["summary"],
        json!({"total": 3, "none": 2, "levels": {"bronze": 0, "silver": 0, "gold": 1},
               "checks": {"has-description": {"passing": 1, "failing": 2},
                          "on-call": {"passing": 2, "failing": 1},
                          "owned": {"passing": 2, "failing": 1}}})
    );
    let teams = body["teams"].as_array().unwrap();
    let refs: Vec<&Value> = teams.iter().map(|t| &t["ref"]).collect();
    assert_eq!(
        refs,
        [
            &json!("group:default/team-a"),
            &json!("group:default/team-gone")
        ]
    );
    assert_eq!(teams[0]["total"], 2);
    assert_eq!(teams[0]["levels"]["gold"], 1);
    assert_eq!(teams[0]["none"], 1);

    // The entity page shows the level and, for each failing check, how to fix it.
    let page = |path: &'static str| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let checkout = page("/catalog/default/component/checkout").await;
    assert!(checkout.contains("Production readiness"), "{checkout}");
    assert!(checkout.contains("no level yet"));
    assert!(checkout.contains("Has a description"));
    assert!(checkout.contains("Add one sentence saying what this does and for whom."));
    assert!(
        !checkout.contains("Paged through PagerDuty"),
        "passing checks are not listed"
    );
    let payments = page("/catalog/default/component/payments").await;
    assert!(payments.contains("badge-level level-3\"") && payments.contains(">gold<"));
    assert!(payments.contains("Every check passes."));
    let sandbox = page("/catalog/default/component/sandbox").await;
    assert!(
        !sandbox.contains("Production readiness"),
        "the filter leaves it out"
    );

    // 404s in the catalog API's envelope.
    for url in [
        format!("{api}/entities/component/default/nope"),
        format!("{api}/scorecards/nope"),
        format!("{api}/no-such-endpoint"),
    ] {
        let (status, body) = get(&http, url.clone()).await;
        assert_eq!(status, 404, "{url}: {body}");
        assert_eq!(body["error"]["name"], "NotFoundError", "{body}");
        assert_eq!(body["response"]["statusCode"], 404);
        assert!(body["request"]["url"].as_str().unwrap().starts_with('/'));
    }

    // A scorecard with a bad expression is refused, naming the field.
    let mut bad = yaml_to_json(SCORECARD);
    bad["spec"]["checks"][1]["expression"] = json!("entity.metadata.annotations ===");
    let resp = http
        .post(format!("{base}/api/catalog/validate-entity"))
        .json(&json!({"entity": bad, "location": "url:https://example.com/x.yaml"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("spec.checks.1.expression") && message.contains("invalid CEL"),
        "{body}"
    );
}

/// The test's YAML as JSON, through the model's own parser.
fn yaml_to_json(text: &str) -> Value {
    model::yaml::parse_documents(text)
        .into_iter()
        .next()
        .unwrap()
        .result
        .unwrap()
}

async fn a_fixed_file_passes_its_check_within_two_seconds(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    catalog.round().await.unwrap();
    tokio::spawn(catalog.clone().run());
    let http = reqwest::Client::new();
    let url = format!("{base}/api/scorecards/v1/entities/component/default/checkout");
    let (_, before) = get(&http, url.clone()).await;
    assert_eq!(before["scorecards"][0]["checks"][0]["passed"], false);

    // Same size and a later mtime would both be noticed; make sure the size changes too.
    std::fs::write(
        dir.path().join("components.yaml"),
        components("Takes orders from the shop and hands them to payments."),
    )
    .unwrap();
    let edited = Instant::now();
    loop {
        let (_, now) = get(&http, url.clone()).await;
        let card = &now["scorecards"][0];
        if card["checks"][0]["passed"] == true {
            assert_eq!(card["level"], "gold", "{now}");
            break;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(2),
            "the fix was not visible within 2 s: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

store::on_each_database!(
    scorecards_are_served_per_entity_and_per_team,
    a_fixed_file_passes_its_check_within_two_seconds,
);
