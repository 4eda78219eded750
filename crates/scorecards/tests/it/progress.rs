//! Campaign progress kept in the database, on SQLite and PostgreSQL: today's point and each
//! team's, finished teams, the once-a-day events told once even across restarts, the most
//! improved team of the week, and generated demo history that never hides a measurement. And
//! scorecard results: each entity's on the days it changed, each scorecard's totals per day.

use std::sync::Arc;

use catalog::read::{Snapshot, Stitched};
use chrono::{DateTime, FixedOffset, NaiveDate};
use scorecards::{CampaignEvent, Evaluation, Progress};
use serde_json::{Value, json};
use store::testing::TestDb;

store::on_each_database!(
    campaign_progress_is_recorded_once_a_day_per_team,
    results_are_kept_on_the_days_they_change,
);

fn at(day: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{day}T12:00:00Z")).unwrap()
}

fn stitched(v: Value) -> Arc<Stitched> {
    let kind = v["kind"].as_str().unwrap();
    let name = v["metadata"]["name"].as_str().unwrap();
    let body = v.to_string();
    let etag = format!(
        "{:x}",
        body.bytes().map(usize::from).sum::<usize>() * 7 + body.len()
    );
    Arc::new(Stitched::from_json(
        format!("{kind}:default/{name}").to_lowercase(),
        format!("uid-{name}"),
        etag,
        &body,
    ))
}

/// A scorecard with one check (an annotation), a campaign over it, and components of two teams,
/// the first `on_call` of which pass.
fn catalog(on_call: &[&str]) -> Snapshot {
    let mut v = vec![
        json!({"apiVersion": "stagedoor.dev/v1alpha1", "kind": "Scorecard",
               "metadata": {"name": "ops", "namespace": "default"},
               "spec": {"owner": "group:default/p", "filter": "kind=component", "levels": ["bronze"],
                        "checks": [{"id": "pd", "title": "On call", "level": "bronze",
                                    "expression": "'pd' in entity.metadata.annotations"}]}}),
        json!({"apiVersion": "stagedoor.dev/v1alpha1", "kind": "Campaign",
               "metadata": {"name": "oncall", "namespace": "default"},
               "spec": {"owner": "group:default/p", "filter": "kind=component", "checks": ["ops/pd"],
                        "start": "2026-09-01", "deadline": "2026-09-21"}}),
    ];
    for (name, team) in [
        ("a1", "a"),
        ("a2", "a"),
        ("b1", "b"),
        ("b2", "b"),
        ("b3", "b"),
    ] {
        let annotations = if on_call.contains(&name) {
            json!({"pd": "x"})
        } else {
            json!({})
        };
        v.push(
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": name, "namespace": "default", "annotations": annotations},
            "spec": {"type": "service", "lifecycle": "production", "owner": team},
            "relations": [{"type": "ownedBy", "targetRef": format!("group:default/{team}")}]}),
        );
    }
    Snapshot::of(v.into_iter().map(stitched).collect())
}

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

async fn campaign_progress_is_recorded_once_a_day_per_team(test_db: TestDb) {
    let db = store::Db::connect(test_db.url()).await.unwrap();
    let progress = Progress::new(db.clone());
    let key = "campaign:default/oncall";

    // Before the start nothing is recorded.
    let eval = Evaluation::build(&catalog(&[]), at("2026-08-31"));
    assert_eq!(
        progress.record(&eval, day("2026-08-31")).await.unwrap(),
        vec![]
    );
    assert!(db.campaign_days(key).await.unwrap().is_empty());

    // The first day: started, told once however often it is recorded (a restart included).
    let eval = Evaluation::build(&catalog(&["a1"]), at("2026-09-01"));
    let events = progress.record(&eval, day("2026-09-01")).await.unwrap();
    assert_eq!(
        events,
        vec![CampaignEvent::Started {
            campaign: key.into()
        }]
    );
    let again = Progress::new(db.clone());
    assert_eq!(
        again.record(&eval, day("2026-09-01")).await.unwrap(),
        vec![]
    );

    // A week later team a has finished and team b fixed two: b is the most improved.
    let eval = Evaluation::build(&catalog(&["a1", "a2", "b1", "b2"]), at("2026-09-08"));
    let events = progress.record(&eval, day("2026-09-08")).await.unwrap();
    assert_eq!(
        events,
        vec![CampaignEvent::TeamFinished {
            campaign: key.into(),
            team: "group:default/a".into()
        }]
    );
    let c = eval.campaign("default", "oncall").unwrap();
    let report = progress.report(c, day("2026-09-08"), 0).await.unwrap();
    let days: Vec<(String, i64, String)> = report
        .history
        .iter()
        .map(|d| (d.day.clone(), d.failing, d.source.clone()))
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-09-01".into(), 4, "recorded".into()),
            ("2026-09-08".into(), 1, "recorded".into()),
        ]
    );
    assert_eq!(
        report
            .finished
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["group:default/a"]
    );
    assert_eq!(report.most_improved, Some(("group:default/b".into(), 2)));

    // Seven days before the deadline, and the day after it with one still failing.
    let eval = Evaluation::build(&catalog(&["a1", "a2", "b1", "b2"]), at("2026-09-14"));
    assert_eq!(
        progress.record(&eval, day("2026-09-14")).await.unwrap(),
        vec![CampaignEvent::DeadlineInSevenDays {
            campaign: key.into()
        }]
    );
    let eval = Evaluation::build(&catalog(&["a1", "a2", "b1", "b2"]), at("2026-09-22"));
    assert_eq!(
        progress.record(&eval, day("2026-09-22")).await.unwrap(),
        vec![CampaignEvent::DeadlinePassed {
            campaign: key.into(),
            failing: 1
        }]
    );

    // Generated history fills only the days nobody measured.
    progress
        .seed_demo_history(&eval, day("2026-09-22"))
        .await
        .unwrap();
    let stored = db.campaign_days(key).await.unwrap();
    assert_eq!(stored.len(), 22, "a point a day from the 1st to the 22nd");
    let sources = |d: &str| stored.iter().find(|p| p.day == d).unwrap().source.clone();
    assert_eq!(sources("2026-09-01"), "recorded");
    assert_eq!(sources("2026-09-02"), "demo");
    assert_eq!(sources("2026-09-22"), "recorded");
}

async fn results_are_kept_on_the_days_they_change(test_db: TestDb) {
    let db = store::Db::connect(test_db.url()).await.unwrap();
    let progress = Progress::new(db.clone());
    let mut last = std::collections::HashMap::new();
    let eval = Evaluation::build(&catalog(&["a1"]), at("2026-09-01"));
    assert_eq!(
        progress
            .record_scores(&eval, day("2026-09-01"), &mut last)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        progress
            .record_scores(&eval, day("2026-09-01"), &mut last)
            .await
            .unwrap(),
        0
    );

    // A restart knows what it recorded; the next day only b1's change is written.
    let mut fresh = std::collections::HashMap::new();
    let eval = Evaluation::build(&catalog(&["a1", "b1"]), at("2026-09-02"));
    assert_eq!(
        progress
            .record_scores(&eval, day("2026-09-02"), &mut fresh)
            .await
            .unwrap(),
        1
    );
    let b1 = db
        .score_history("scorecard:default/ops", "component:default/b1")
        .await
        .unwrap();
    let b1: Vec<(&str, i64, &str)> = b1
        .iter()
        .map(|r| (r.day.as_str(), r.level, r.checks.as_str()))
        .collect();
    assert_eq!(b1, vec![("2026-09-01", -1, "0"), ("2026-09-02", 0, "1")]);

    let days = progress
        .scorecard_days("scorecard:default/ops")
        .await
        .unwrap();
    let days: Vec<(&str, i64, &str, &str)> = days
        .iter()
        .map(|d| {
            (
                d.day.as_str(),
                d.total,
                d.levels.as_str(),
                d.checks.as_str(),
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-09-01", 5, "[1,4]", "[1]"),
            ("2026-09-02", 5, "[2,3]", "[2]")
        ]
    );
}
