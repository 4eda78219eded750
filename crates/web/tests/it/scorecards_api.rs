//! The scorecards API over real HTTP on both databases: an entity's levels and checks, a
//! scorecard's counts per team, 404 envelopes, a bad scorecard refused with the field it
//! concerns, and a file edit that makes a check pass visible within 2 seconds. Campaigns: counts
//! per team and entity, finished teams, status from the dates, history (today live, earlier days
//! from the database), a fix followed within seconds, a check that does not exist, and the list.
//! Pushed facts: per-item rejection, seen by checks, expiry, a batch too large; and exemptions.
//! The recorder (`scorecards::Progress::run`) is not running here: the binary spawns it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::settings::{CatalogSettings, LocationSpec};
use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use store::testing::TestDb;

use crate::common;

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
    // No day recorded yet (the recorder is not running here): the history is today, live.
    let history = body["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{body}");
    assert_eq!(history[0]["date"], today().to_string());
    assert_eq!(history[0]["total"], body["summary"]["total"]);
    assert_eq!(history[0]["levels"]["none"], body["summary"]["none"]);
    assert_eq!(
        history[0]["checks"]["on-call"],
        body["summary"]["checks"]["on-call"]["passing"]
    );
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
        async move { common::get_text(&http, url).await }
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

/// Two teams' services for the campaigns. The scorecard covers production components; the
/// campaigns below cover services, so `b-jobs` (experimental) is checked by the campaign alone
/// and `docs-site` (a website) is left out of it. `a-web` is on call only when `a_web_on_call`.
fn team_services(a_web_on_call: bool) -> String {
    let a_web_annotations = if a_web_on_call {
        "annotations: { pagerduty.com/integration-key: a-web-key }"
    } else {
        "annotations: {}"
    };
    format!(
        "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: team-a }}
spec: {{ type: team, children: [] }}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: team-b }}
spec: {{ type: team, children: [] }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a-api
  annotations: {{ pagerduty.com/integration-key: abc }}
spec: {{ type: service, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a-web
  {a_web_annotations}
spec: {{ type: service, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: b-api
  annotations: {{ pagerduty.com/integration-key: abc }}
spec: {{ type: service, lifecycle: production, owner: team-b }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: b-jobs
  annotations: {{ pagerduty.com/integration-key: abc }}
spec: {{ type: service, lifecycle: experimental, owner: team-b }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{ name: docs-site }}
spec: {{ type: website, lifecycle: production, owner: team-a }}
"
    )
}

/// A Campaign over every service, asking for `checks` between `start` and `deadline`.
fn campaign(name: &str, checks: &[&str], start: NaiveDate, deadline: NaiveDate) -> String {
    format!(
        "\
apiVersion: stagedoor.dev/v1alpha1
kind: Campaign
metadata: {{ name: {name}, title: Campaign {name} }}
spec:
  owner: group:default/platform
  filter: kind=component,spec.type=service
  checks: [{checks}]
  start: {start}
  deadline: {deadline}
",
        checks = checks.join(", ")
    )
}

/// Today as the server sees it (the evaluation's clock is UTC).
fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Serves the scorecard, the two teams' services and `campaigns` (YAML documents).
async fn start_campaigns(
    dir: &std::path::Path,
    db: &TestDb,
    campaigns: &[String],
) -> (String, Arc<catalog::Catalog>) {
    std::fs::write(dir.join("scorecards.yaml"), SCORECARD).unwrap();
    std::fs::write(dir.join("services.yaml"), team_services(false)).unwrap();
    std::fs::write(dir.join("campaigns.yaml"), campaigns.join("---\n")).unwrap();
    let settings = CatalogSettings {
        locations: ["scorecards.yaml", "services.yaml", "campaigns.yaml"]
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
    let (base, catalog) = common::serve(settings, db).await;
    catalog.round().await.unwrap();
    (base, catalog)
}

/// `(ref, total, passing, failing, finished)` of each team.
fn teams(body: &Value) -> Vec<(String, u64, u64, u64, bool)> {
    body["teams"]
        .as_array()
        .unwrap_or_else(|| panic!("no teams: {body}"))
        .iter()
        .map(|t| {
            (
                t["ref"].as_str().unwrap().to_owned(),
                t["total"].as_u64().unwrap(),
                t["passing"].as_u64().unwrap(),
                t["failing"].as_u64().unwrap(),
                t.get("finishedAt").is_some(),
            )
        })
        .collect()
}

/// `(entityRef, failingChecks)` of each entity.
fn failing_checks(body: &Value) -> Vec<(String, Vec<String>)> {
    body["entities"]
        .as_array()
        .unwrap_or_else(|| panic!("no entities: {body}"))
        .iter()
        .map(|e| {
            let failing = e["failingChecks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            (e["entityRef"].as_str().unwrap().to_owned(), failing)
        })
        .collect()
}

fn counts(body: &Value) -> (u64, u64, u64) {
    (
        body["total"].as_u64().unwrap(),
        body["passing"].as_u64().unwrap(),
        body["failing"].as_u64().unwrap(),
    )
}

fn team_row(team: &str, total: u64, passing: u64, finished: bool) -> (String, u64, u64, u64, bool) {
    (team.to_owned(), total, passing, total - passing, finished)
}

const ON_CALL: &str = "production-readiness/on-call";

async fn a_campaign_counts_entities_and_teams_with_today_live(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let today = today();
    let (start, deadline) = (today - Days::new(10), today + Days::new(10));
    let (base, catalog) = start_campaigns(
        dir.path(),
        &db,
        &[campaign("on-call", &[ON_CALL], start, deadline)],
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("{base}/api/scorecards/v1/campaigns/On-Call");

    let (status, body) = get(&http, url.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ref"], "campaign:default/on-call");
    assert_eq!(body["name"], "on-call");
    assert_eq!(body["title"], "Campaign on-call");
    assert_eq!(body["owner"], "group:default/platform");
    assert_eq!(body["filter"], "kind=component,spec.type=service");
    assert_eq!(
        body["checks"],
        json!([{"ref": ON_CALL, "title": "Paged through PagerDuty",
                "fix": "Add the pagerduty.com/integration-key annotation."}])
    );
    assert_eq!(body["start"], start.to_string());
    assert_eq!(body["deadline"], deadline.to_string());
    assert_eq!(body["status"], "active", "{body}");
    // Services only (not docs-site), the experimental b-jobs included though the scorecard
    // leaves it out; a-web alone is not on call.
    assert_eq!(counts(&body), (4, 3, 1), "{body}");
    assert_eq!(
        failing_checks(&body),
        [
            ("component:default/a-api".to_owned(), vec![]),
            (
                "component:default/a-web".to_owned(),
                vec![ON_CALL.to_owned()]
            ),
            ("component:default/b-api".to_owned(), vec![]),
            ("component:default/b-jobs".to_owned(), vec![]),
        ]
    );
    assert_eq!(body["entities"][1]["owner"], "group:default/team-a");
    assert_eq!(body["entities"][1]["passing"], false);
    assert_eq!(body["entities"][3]["passing"], true);
    assert_eq!(
        teams(&body),
        [
            team_row("group:default/team-a", 2, 1, false),
            team_row("group:default/team-b", 2, 2, true),
        ]
    );
    // Nothing recorded it yet: it finished as of this evaluation.
    let finished_at = body["teams"][1]["finishedAt"].as_str().unwrap();
    let finished_at = chrono::DateTime::parse_from_rfc3339(finished_at).unwrap();
    assert_eq!(finished_at.date_naive(), today, "{body}");
    // No recorder runs here, so the history is today's live point alone.
    assert_eq!(
        body["history"],
        json!([{"date": today.to_string(), "failing": 1, "total": 4, "source": "recorded"}])
    );
    let evaluated = chrono::DateTime::parse_from_rfc3339(body["evaluatedAt"].as_str().unwrap());
    assert_eq!(evaluated.unwrap().date_naive(), today);

    // Earlier days come from the database; a stored point for today is replaced by the live
    // value, and a stored finishing time is kept, but only for a team that is finished now.
    let key = "campaign:default/on-call";
    let store = catalog.database();
    let day = |date: NaiveDate, failing: i64, source: &str| store::CampaignDay {
        day: date.to_string(),
        total: 4,
        failing,
        source: source.into(),
    };
    for point in [
        day(today - Days::new(2), 4, "demo"),
        day(today - Days::new(1), 2, "recorded"),
        day(today, 4, "demo"),
    ] {
        store.record_campaign_day(key, &point).await.unwrap();
    }
    let finished_ms = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let stored_teams = ["group:default/team-a".into(), "group:default/team-b".into()];
    store
        .update_finished_teams(key, &stored_teams, finished_ms)
        .await
        .unwrap();
    let (_, body) = get(&http, url).await;
    assert_eq!(
        body["history"],
        json!([
            {"date": (today - Days::new(2)).to_string(), "failing": 4, "total": 4, "source": "demo"},
            {"date": (today - Days::new(1)).to_string(), "failing": 2, "total": 4, "source": "recorded"},
            {"date": today.to_string(), "failing": 1, "total": 4, "source": "recorded"},
        ]),
        "{body}"
    );
    assert_eq!(body["teams"][1]["finishedAt"], "2026-01-01T00:00:00Z");
    assert!(body["teams"][0].get("finishedAt").is_none(), "{body}");
}

async fn a_fix_makes_the_campaign_drop_and_the_team_finish(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let today = today();
    let (start, deadline) = (today - Days::new(3), today + Days::new(3));
    let (base, catalog) = start_campaigns(
        dir.path(),
        &db,
        &[campaign("on-call", &[ON_CALL], start, deadline)],
    )
    .await;
    tokio::spawn(catalog.clone().run());
    let http = reqwest::Client::new();
    let url = format!("{base}/api/scorecards/v1/campaigns/on-call");
    let (_, before) = get(&http, url.clone()).await;
    assert_eq!(counts(&before), (4, 3, 1), "{before}");
    assert!(before["teams"][0].get("finishedAt").is_none(), "{before}");

    std::fs::write(dir.path().join("services.yaml"), team_services(true)).unwrap();
    let edited = Instant::now();
    let after = loop {
        let (_, now) = get(&http, url.clone()).await;
        if now["failing"] == 0 {
            break now;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(5),
            "the fix was not visible within 5 s: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(counts(&after), (4, 4, 0), "{after}");
    assert_eq!(after["status"], "complete");
    assert_eq!(
        teams(&after),
        [
            team_row("group:default/team-a", 2, 2, true),
            team_row("group:default/team-b", 2, 2, true),
        ]
    );
    assert!(failing_checks(&after).iter().all(|(_, f)| f.is_empty()));
    // Only the failing ones, or none, on request; anything else is a clear 400.
    let url = |q: &str| format!("{base}/api/scorecards/v1/campaigns/on-call?entities={q}");
    let (_, only) = get(&http, url("failing")).await;
    assert_eq!(only["entities"], json!([]), "nothing fails any more");
    assert_eq!(only["total"], after["total"]);
    let (status, bad) = get(&http, url("some")).await;
    assert_eq!(status, 400, "{bad}");
    let history = after["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["failing"], 0, "{after}");
    assert_eq!(history.last().unwrap()["date"], today.to_string());
}

async fn a_campaign_status_follows_its_dates(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let today = today();
    let campaigns = [
        campaign(
            "later",
            &[ON_CALL],
            today + Days::new(1),
            today + Days::new(30),
        ),
        campaign(
            "late",
            &[ON_CALL],
            today - Days::new(30),
            today - Days::new(1),
        ),
        campaign("due-today", &[ON_CALL], today - Days::new(30), today),
        campaign("starts-today", &[ON_CALL], today, today + Days::new(30)),
    ];
    let (base, _catalog) = start_campaigns(dir.path(), &db, &campaigns).await;
    let http = reqwest::Client::new();
    let api = format!("{base}/api/scorecards/v1/campaigns");

    let (status, later) = get(&http, format!("{api}/later")).await;
    assert_eq!(status, 200, "{later}");
    assert_eq!(later["status"], "not-started", "{later}");
    assert_eq!(later["history"], json!([]), "no point before the start");
    // Its counts are served all the same, so teams can start early.
    assert_eq!(counts(&later), (4, 3, 1));

    let (_, late) = get(&http, format!("{api}/late")).await;
    assert_eq!(late["status"], "overdue", "{late}");
    assert_eq!(late["failing"], 1);
    assert_eq!(late["history"][0]["date"], today.to_string(), "{late}");

    // Both ends are inclusive.
    for name in ["due-today", "starts-today"] {
        let (_, body) = get(&http, format!("{api}/{name}")).await;
        assert_eq!(body["status"], "active", "{name}: {body}");
        assert_eq!(body["history"].as_array().unwrap().len(), 1, "{body}");
    }
}

async fn a_campaign_naming_a_missing_check_fails_everything(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let today = today();
    let checks = [
        ON_CALL,
        "production-readiness/no-such-check",
        "no-such-card/on-call",
    ];
    let (base, _catalog) = start_campaigns(
        dir.path(),
        &db,
        &[campaign("typo", &checks, today, today + Days::new(7))],
    )
    .await;
    let http = reqwest::Client::new();
    let (status, body) = get(&http, format!("{base}/api/scorecards/v1/campaigns/typo")).await;
    assert_eq!(status, 200, "{body}");
    let refs: Vec<&Value> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["ref"])
        .collect();
    assert_eq!(refs, checks.map(Value::from).iter().collect::<Vec<_>>());
    assert!(body["checks"][0].get("error").is_none(), "{body}");
    let error = |i: usize| body["checks"][i]["error"].as_str().unwrap_or_default();
    assert!(
        error(1).contains("no-such-check") && error(1).contains("production-readiness"),
        "{body}"
    );
    assert!(error(2).contains("no-such-card"), "{body}");
    // A check that does not resolve is titled by its reference.
    assert_eq!(body["checks"][1]["title"], checks[1]);

    // Every entity fails, on the two missing checks (and a-web on on-call as well).
    assert_eq!(counts(&body), (4, 0, 4), "{body}");
    assert_eq!(body["status"], "active");
    let missing = || vec![checks[1].to_owned(), checks[2].to_owned()];
    let mut a_web = vec![ON_CALL.to_owned()];
    a_web.extend(missing());
    assert_eq!(
        failing_checks(&body),
        [
            ("component:default/a-api".to_owned(), missing()),
            ("component:default/a-web".to_owned(), a_web),
            ("component:default/b-api".to_owned(), missing()),
            ("component:default/b-jobs".to_owned(), missing()),
        ]
    );
    assert_eq!(
        teams(&body),
        [
            team_row("group:default/team-a", 2, 0, false),
            team_row("group:default/team-b", 2, 0, false),
        ]
    );
}

async fn campaigns_are_listed_and_an_unknown_one_is_404(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let today = today();
    let campaigns = [
        campaign(
            "on-call",
            &[ON_CALL],
            today - Days::new(1),
            today + Days::new(1),
        ),
        campaign(
            "later",
            &[ON_CALL],
            today + Days::new(5),
            today + Days::new(9),
        ),
    ];
    let (base, _catalog) = start_campaigns(dir.path(), &db, &campaigns).await;
    let http = reqwest::Client::new();
    let api = format!("{base}/api/scorecards/v1");

    let (status, body) = get(&http, format!("{api}/campaigns/nope")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["name"], "NotFoundError", "{body}");
    assert_eq!(
        body["error"]["message"],
        "No campaign named 'nope' found in namespace 'default'"
    );
    assert_eq!(body["response"]["statusCode"], 404);
    assert!(body["request"]["url"].as_str().unwrap().starts_with('/'));

    let (status, body) = get(&http, format!("{api}/campaigns")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["evaluatedAt"].is_string(), "{body}");
    let items = body["items"].as_array().unwrap();
    // In ref order.
    let refs: Vec<&Value> = items.iter().map(|i| &i["ref"]).collect();
    assert_eq!(
        refs,
        [
            &json!("campaign:default/later"),
            &json!("campaign:default/on-call")
        ]
    );
    let on_call = &items[1];
    assert_eq!(on_call["status"], "active");
    assert_eq!(counts(on_call), (4, 3, 1), "{on_call}");
    assert_eq!(on_call["checks"][0]["ref"], ON_CALL);
    assert_eq!(on_call["start"], (today - Days::new(1)).to_string());
    assert_eq!(items[0]["status"], "not-started");
    assert_eq!(counts(&items[0]), (4, 3, 1));
}

store::on_each_database!(
    scorecards_are_served_per_entity_and_per_team,
    a_fixed_file_passes_its_check_within_two_seconds,
    a_campaign_counts_entities_and_teams_with_today_live,
    a_fix_makes_the_campaign_drop_and_the_team_finish,
    a_campaign_status_follows_its_dates,
    a_campaign_naming_a_missing_check_fails_everything,
    campaigns_are_listed_and_an_unknown_one_is_404,
    pushed_facts_are_checked_per_item_seen_by_checks_and_expire,
    an_exemption_passes_a_check_and_says_why,
);

const CI_SCORECARD: &str = "\
apiVersion: stagedoor.dev/v1alpha1
kind: Scorecard
metadata: { name: ci }
spec:
  owner: group:default/platform
  filter: kind=component
  levels: [bronze]
  checks:
    - id: coverage
      title: Tested
      level: bronze
      expression: has(facts.pushed.ci) && facts.pushed.ci.coverage >= 80.0
";

async fn post(http: &reqwest::Client, url: String, body: &Value) -> (u16, Value) {
    let resp = http.post(url).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn pushed_facts_are_checked_per_item_seen_by_checks_and_expire(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    std::fs::write(dir.path().join("scorecards.yaml"), CI_SCORECARD).unwrap();
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();
    let api = format!("{base}/api/scorecards/v1");
    let coverage_passes = |body: &Value| body["scorecards"][0]["checks"][0]["passed"] == true;
    let (_, body) = get(&http, format!("{api}/entities/component/default/checkout")).await;
    assert_eq!(
        body["scorecards"][0]["ref"], "scorecard:default/ci",
        "{body}"
    );
    assert!(!coverage_passes(&body), "no facts pushed yet");

    let (status, body) = post(
        &http,
        format!("{api}/facts"),
        &json!([
            {"entityRef": "component:default/checkout", "source": "ci", "facts": {"coverage": 91.5}, "ttlSeconds": 5},
            {"entityRef": "component:default/payments", "source": "ci", "facts": {"coverage": 95.0}},
            {"entityRef": "component:default/nope", "source": "ci", "facts": {"coverage": 99.0}},
            {"entityRef": "component:default/ledger", "source": "ci", "facts": "high"},
            {"entityRef": "component:default/ledger", "source": "CI", "facts": {"coverage": 1}},
            {"entityRef": "component:default/ledger", "source": "ci", "facts": {"coverage": 1}, "ttlSeconds": -5},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 2);
    let rejected: Vec<(u64, String)> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    assert!(rejected[0].1.contains("no such entity"), "{rejected:?}");
    assert!(
        rejected[1].1.contains("facts must be an object"),
        "{rejected:?}"
    );
    assert!(rejected[2].1.contains("source"), "{rejected:?}");
    assert!(rejected[3].1.contains("ttlSeconds"), "{rejected:?}");

    // The valid ones are seen by the next request.
    let (_, body) = get(&http, format!("{api}/entities/component/default/checkout")).await;
    assert!(coverage_passes(&body), "{body}");
    let (_, body) = get(&http, format!("{api}/entities/component/default/payments")).await;
    assert!(coverage_passes(&body), "{body}");

    // checkout's facts live 5 s (room for a slow machine to serve the reads above first): then
    // the check fails again, with no catalog change.
    tokio::time::sleep(Duration::from_millis(5300)).await;
    let (_, body) = get(&http, format!("{api}/entities/component/default/checkout")).await;
    assert!(!coverage_passes(&body), "expired facts still seen: {body}");
    let (_, body) = get(&http, format!("{api}/entities/component/default/payments")).await;
    assert!(coverage_passes(&body));

    // Nothing valid: 400 with the reasons. Too many items: 413, nothing stored.
    let (status, body) = post(
        &http,
        format!("{api}/facts"),
        &json!({"entityRef": "component:default/nope", "source": "ci", "facts": {}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let many: Vec<Value> = (0..1001)
        .map(|_| json!({"entityRef": "component:default/ledger", "source": "ci", "facts": {"coverage": 99.0}}))
        .collect();
    let (status, body) = post(&http, format!("{api}/facts"), &Value::Array(many)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["name"], "PayloadTooLargeError");
    let (_, body) = get(&http, format!("{api}/entities/component/default/ledger")).await;
    assert!(
        !coverage_passes(&body),
        "nothing of a refused batch is kept"
    );
}

async fn an_exemption_passes_a_check_and_says_why(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    let until = (today() + Days::new(30)).to_string();
    let exempt = format!(
        "{SCORECARD}  exemptions:\n    - {{ entity: component:default/ledger, check: on-call, reason: Retired next month, until: {until} }}\n"
    );
    std::fs::write(dir.path().join("scorecards.yaml"), exempt).unwrap();
    catalog.round().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{base}/api/scorecards/v1/entities/component/default/ledger");
    let (_, body) = get(&http, url).await;
    let check = &body["scorecards"][0]["checks"][1];
    assert_eq!(check["id"], "on-call", "{body}");
    assert_eq!(check["passed"], true, "{body}");
    assert_eq!(
        check["exempt"],
        json!({"reason": "Retired next month", "until": until})
    );
}
