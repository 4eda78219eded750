//! Adoption analytics on SQLite and PostgreSQL, over a real catalog with nested groups:
//! attribution through `memberOf` and `spec.parent`, the population filter, the k-threshold,
//! raw-event expiry that keeps the roll-ups, phase transitions and the chasm, the ingest of
//! Backstage batches (good kept, bad rejected by index, duplicates once), roll-ups surviving a
//! restart, and the demo history's chasm and crossing teams.

use std::sync::Arc;

use analytics::{Event, Phase, Recorder, Settings, Source};
use catalog::settings::{CatalogSettings, LocationSpec};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::json;
use store::testing::TestDb;

store::on_each_database!(
    events_count_for_every_group_above_their_users,
    small_groups_are_withheld_and_the_population_is_filtered,
    expiry_deletes_raw_events_and_keeps_the_roll_ups,
    phases_move_with_monthly_share_and_the_chasm_needs_four_stalled_weeks,
    ingest_keeps_good_events_rejects_bad_ones_and_counts_duplicates_once,
    the_demo_has_a_team_in_the_chasm_and_one_past_it,
    weekly_cohorts_follow_first_time_users,
    newcomers_time_to_first_use_is_measured_per_feature,
    the_checklist_is_detected_from_use_and_ownership,
);

/// org → dept → team-x → squad (nested), dept → data-insights, dept → storefront, and a
/// two-person team-z. `bot` is a User outside the engineer population when it is filtered.
fn org_yaml() -> String {
    let mut docs = vec![];
    let group = |name: &str, kind: &str, parent: Option<&str>| {
        let parent = parent.map_or(String::new(), |p| format!("\n  parent: {p}"));
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{ name: {name} }}\nspec:\n  type: {kind}\n  children: []{parent}\n"
        )
    };
    docs.push(group("org", "organization", None));
    docs.push(group("dept", "department", Some("org")));
    docs.push(group("team-x", "team", Some("dept")));
    docs.push(group("squad", "team", Some("team-x")));
    docs.push(group("data-insights", "team", Some("dept")));
    docs.push(group("storefront", "team", Some("dept")));
    docs.push(group("team-z", "team", Some("dept")));
    let user = |name: &str, team: &str, role: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: {name}\n  labels: {{ role: {role} }}\nspec:\n  memberOf: [{team}]\n"
        )
    };
    for i in 0..3 {
        docs.push(user(&format!("x{i}"), "team-x", "engineer"));
    }
    for i in 0..2 {
        docs.push(user(&format!("s{i}"), "squad", "engineer"));
    }
    for i in 0..3 {
        docs.push(user(&format!("d{i}"), "data-insights", "engineer"));
    }
    for i in 0..4 {
        docs.push(user(&format!("f{i}"), "storefront", "engineer"));
    }
    for i in 0..2 {
        docs.push(user(&format!("z{i}"), "team-z", "engineer"));
    }
    docs.push(user("bot", "team-x", "bot"));
    docs.push(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: shop }\nspec: { type: service, lifecycle: production, owner: team-x }\n".to_owned(),
    );
    docs.join("---\n")
}

struct Fixture {
    catalog: Arc<catalog::Catalog>,
    _dir: tempfile::TempDir,
}

async fn fixture(db: &TestDb) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.yaml");
    std::fs::write(&file, org_yaml()).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        ..Default::default()
    };
    let catalog = catalog::Catalog::connect(settings, db.url()).await.unwrap();
    catalog.settle().await.unwrap();
    Fixture { catalog, _dir: dir }
}

fn recorder(f: &Fixture, k: usize) -> Recorder {
    let r = Recorder::of(&f.catalog);
    r.configure(Settings {
        k_threshold: k,
        ..Default::default()
    });
    r
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn noon(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

fn use_on(user: &str, d: NaiveDate, plugin: &str) -> Event {
    let mut e = Event::server(&format!("user:default/{user}"), "navigate", "/x", plugin);
    e.at = noon(d);
    e
}

async fn events_count_for_every_group_above_their_users(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    r.store(&[
        use_on("s0", t, "catalog"),
        use_on("s0", t, "techdocs"),
        use_on("x1", t - Days::new(3), "catalog"),
    ])
    .await
    .unwrap();
    let snap = f.catalog.snapshot();
    let squad = r
        .summary(&snap, Some("group:default/squad"), t)
        .await
        .unwrap();
    assert_eq!(
        (squad.engineers, squad.dau, squad.mau),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(squad.features["docs"].users, 1);
    // team-x counts its own three members, the squad's two below it, and the bot.
    let team = r
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert_eq!(
        (team.engineers, team.dau, team.wau),
        (Some(6), Some(1), Some(2))
    );
    let dept = r
        .summary(&snap, Some("group:default/dept"), t)
        .await
        .unwrap();
    assert_eq!((dept.engineers, dept.wau), (Some(15), Some(2)));
    let org = r
        .summary(&snap, Some("group:default/org"), t)
        .await
        .unwrap();
    assert_eq!(org.wau, Some(2));
    let all = r.summary(&snap, None, t).await.unwrap();
    assert_eq!(
        (all.group, all.engineers, all.wau),
        (None, Some(15), Some(2))
    );
    // The event's day decides: three days ago is in the week, not the day.
    let earlier = r
        .summary(&snap, Some("group:default/team-x"), t - Days::new(3))
        .await
        .unwrap();
    assert_eq!(earlier.dau, Some(1));
    assert!(matches!(
        r.summary(&snap, Some("group:default/nope"), t).await,
        Err(analytics::MeasureError::UnknownGroup(_))
    ));
}

async fn small_groups_are_withheld_and_the_population_is_filtered(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 5);
    let t = today();
    r.store(&[use_on("z0", t, "catalog"), use_on("bot", t, "catalog")])
        .await
        .unwrap();
    let snap = f.catalog.snapshot();
    let z = r
        .summary(&snap, Some("group:default/team-z"), t)
        .await
        .unwrap();
    assert_eq!((z.engineers, z.dau, z.phase), (None, None, None));
    assert!(
        z.withheld.as_deref().unwrap().contains("fewer than 5"),
        "{z:?}"
    );
    assert!(z.features.is_empty());
    let series = r
        .series(&snap, Some("group:default/team-z"), t - Days::new(6), t)
        .await
        .unwrap();
    assert!(series.points.is_empty() && series.withheld.is_some());
    let teams = r.teams(&snap, t).await.unwrap();
    let row = teams
        .iter()
        .find(|row| row.group == "group:default/team-z")
        .unwrap();
    assert!(row.withheld.is_some() && row.mau.is_none());
    // The organisation is large enough; the bot counts until the population leaves it out.
    assert_eq!(r.summary(&snap, None, t).await.unwrap().dau, Some(2));
    r.configure(
        Settings {
            k_threshold: 5,
            ..Default::default()
        }
        .with_population("kind=user,metadata.labels.role=engineer")
        .unwrap(),
    );
    let all = r.summary(&snap, None, t).await.unwrap();
    assert_eq!((all.engineers, all.dau), (Some(14), Some(1)));
}

async fn expiry_deletes_raw_events_and_keeps_the_roll_ups(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    let old = t - Days::new(401);
    r.store(&[use_on("x0", old, "catalog"), use_on("x1", t, "catalog")])
        .await
        .unwrap();
    let store = f.catalog.database();
    assert_eq!(store.count_events().await.unwrap(), 2);
    assert_eq!(r.expire(Utc::now()).await.unwrap(), 1);
    assert_eq!(store.count_events().await.unwrap(), 1);
    // The day's roll-up is kept, so the old day still counts.
    let kept = store.user_days_since(&old.to_string()).await.unwrap();
    assert!(
        kept.iter()
            .any(|d| d.day == old.to_string() && d.user_ref == "user:default/x0")
    );
    let snap = f.catalog.snapshot();
    let then = r
        .summary(&snap, Some("group:default/team-x"), old)
        .await
        .unwrap();
    assert_eq!(then.dau, Some(1));
    // A second process reads the roll-ups back (restart).
    let again = catalog::Catalog::connect(CatalogSettings::default(), db.url())
        .await
        .unwrap();
    let r2 = Recorder::of(&again);
    r2.configure(Settings {
        k_threshold: 1,
        ..Default::default()
    });
    let s = r2
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert_eq!(s.dau, Some(1));
}

async fn phases_move_with_monthly_share_and_the_chasm_needs_four_stalled_weeks(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    let snap = f.catalog.snapshot();
    let sf = Some("group:default/storefront");
    let mut events = vec![];
    // One of four active every week for five weeks: 25 %, stalled.
    for w in 0..6 {
        events.push(use_on("f0", t - Days::new(w * 7), "catalog"));
    }
    r.store(&events).await.unwrap();
    let s = r.summary(&snap, sf, t).await.unwrap();
    assert_eq!(
        (s.mau_share, s.phase, s.chasm),
        (Some(0.25), Some(Phase::EarlyAdopters), Some(true))
    );
    // data-insights: one of three active only this week, so not yet four weeks in the phase.
    r.store(&[use_on("d0", t, "catalog")]).await.unwrap();
    let d = r
        .summary(&snap, Some("group:default/data-insights"), t)
        .await
        .unwrap();
    assert_eq!(
        (d.phase, d.chasm),
        (Some(Phase::EarlyAdopters), Some(false))
    );
    // A second storefront engineer: 50 %, past the chasm.
    r.store(&[use_on("f1", t, "scaffolder")]).await.unwrap();
    let s = r.summary(&snap, sf, t).await.unwrap();
    assert_eq!(
        (s.mau_share, s.phase, s.chasm),
        (Some(0.5), Some(Phase::EarlyMajority), Some(false))
    );
    // Everyone: 75 %+.
    r.store(&[use_on("f2", t, "catalog"), use_on("f3", t, "catalog")])
        .await
        .unwrap();
    assert_eq!(
        r.summary(&snap, sf, t).await.unwrap().phase,
        Some(Phase::Majority)
    );
    // The series shows the path: MAU 1 of 4 a month ago, all four today.
    let series = r.series(&snap, sf, t - Days::new(28), t).await.unwrap();
    assert_eq!(series.points.first().unwrap().mau, 1);
    assert_eq!(series.points.last().unwrap().mau, 4);
    // data-insights' peers past the chasm (storefront) use templates; it does not.
    let d = r
        .summary(&snap, Some("group:default/data-insights"), t)
        .await
        .unwrap();
    let templates = d
        .peer_features
        .iter()
        .find(|p| p.feature == "templates")
        .unwrap();
    assert_eq!((templates.peer_share, templates.share), (0.25, 0.0));
    assert!(d.peer_features.iter().all(|p| p.peer_share > p.share));
}

async fn ingest_keeps_good_events_rejects_bad_ones_and_counts_duplicates_once(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let now = Utc::now();
    let stamp = now.to_rfc3339();
    let ev = |id: Option<&str>, user: &str, action: &str| {
        let mut v = json!({"timestamp": stamp, "user": user, "action": action, "subject": "term",
            "context": {"pluginId": "search", "extension": "SearchBar", "routeRef": "search"}});
        if let Some(id) = id {
            v["id"] = json!(id);
        }
        v
    };
    let mut open = ev(Some("e3"), "user:default/x0", "discover");
    open["value"] = json!(2);
    let body = json!({"events": [
        ev(Some("e1"), "user:default/x0", "search"),
        ev(Some("e2"), "group:default/team-x", "search"),
        open,
        ev(Some("e1"), "user:default/x0", "search"),
        {"timestamp": "not a date"},
        ev(None, "x1", "search"),
    ]});
    let out = r.ingest(&body, now).await.unwrap();
    assert_eq!((out.accepted, out.duplicates), (3, 1));
    let rejected: Vec<usize> = out.rejected.iter().map(|x| x.index).collect();
    assert_eq!(rejected, vec![1, 4]);
    assert!(out.rejected[0].reason.contains("must name a User"));
    assert_eq!(f.catalog.database().count_events().await.unwrap(), 3);
    // The same batch again: nothing new but the event without an id.
    let out = r.ingest(&body, now).await.unwrap();
    assert_eq!((out.accepted, out.duplicates), (1, 3));
    // Search success: x0 ran one search and opened a result at rank 2; x1 searched twice.
    let snap = f.catalog.snapshot();
    let s = r.summary(&snap, None, now.date_naive()).await.unwrap();
    let search = s.search_success.unwrap();
    assert_eq!((search.searches, search.successful), (3, 1));
    assert_eq!(search.median_rank, Some(2));
    assert_eq!(s.features["search"].users, 2);
    // A batch over the bound is refused whole; so is a flood past the rate.
    let mut small = Settings {
        k_threshold: 1,
        max_batch: 2,
        max_events_per_second: 2,
        ..Default::default()
    };
    r.configure(small.clone());
    assert!(matches!(
        r.ingest(&body, now).await,
        Err(analytics::BatchError::TooMany { max: 2, found: 6 })
    ));
    let two = json!({"events": [ev(Some("r1"), "x0", "search"), ev(Some("r2"), "x0", "search")]});
    r.ingest(&two, now).await.unwrap();
    r.ingest(&two, now).await.unwrap();
    assert!(matches!(
        r.ingest(&two, now).await,
        Err(analytics::BatchError::RateLimited { .. })
    ));
    small.max_events_per_second = 1_000;
    r.configure(small);
    assert_eq!(Source::Backstage.as_str(), "backstage");
}

async fn the_demo_has_a_team_in_the_chasm_and_one_past_it(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, analytics::demo::DEMO_K_THRESHOLD);
    let t = today();
    let snap = f.catalog.snapshot();
    let org = r.org(&snap);
    assert_eq!(
        analytics::demo::events(&org, t),
        analytics::demo::events(&org, t),
        "deterministic"
    );
    let stored = r.seed_demo(&snap, t).await.unwrap();
    assert!(stored > 200, "{stored}");
    // Seeding again adds nothing: the ids are the same.
    assert_eq!(r.seed_demo(&snap, t).await.unwrap(), 0);
    let yesterday = t - Days::new(1);
    let d = r
        .summary(&snap, Some("group:default/data-insights"), yesterday)
        .await
        .unwrap();
    assert_eq!(
        (d.chasm, d.phase),
        (Some(true), Some(Phase::EarlyAdopters)),
        "{d:?}"
    );
    let s = r
        .summary(&snap, Some("group:default/storefront"), yesterday)
        .await
        .unwrap();
    assert!(
        s.mau_share.unwrap() >= 0.5 && s.chasm == Some(false),
        "{s:?}"
    );
    let range = r.demo_range().unwrap();
    assert_eq!(range.1, yesterday.to_string());
    // Storefront is past the chasm, so data-insights is told what it uses that they do not.
    assert!(!d.peer_features.is_empty(), "{d:?}");
}

async fn weekly_cohorts_follow_first_time_users(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    // Weeks end on `t`: the oldest of the eight is t-55 … t-49.
    r.store(&[
        use_on("x0", t - Days::new(50), "catalog"),
        use_on("x0", t - Days::new(45), "catalog"),
        use_on("x1", t - Days::new(20), "catalog"),
    ])
    .await
    .unwrap();
    let snap = f.catalog.snapshot();
    let s = r
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert_eq!(s.retention.len(), 8);
    let first = &s.retention[0];
    assert_eq!((first.week, first.size), (t - Days::new(55), Some(1)));
    assert_eq!(first.retained, vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(s.retention[5].size, Some(1));
    assert_eq!(s.retention[5].retained, vec![0.0, 0.0]);
    assert_eq!(s.retention[7].retained, Vec::<f64>::new());
    // One-person cohorts are withheld at k = 2, though the group itself is shown.
    let r2 = recorder(&f, 2);
    let s = r2
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert!(s.withheld.is_none());
    assert!(
        s.retention[0].withheld
            && s.retention[0].size.is_none()
            && s.retention[0].retained.is_empty()
    );
}

async fn newcomers_time_to_first_use_is_measured_per_feature(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    // x0 and x1 are newcomers (first active 10 and 4 days ago); x2 has used the portal for
    // longer than 90 days, so their first uses do not count.
    r.store(&[
        use_on("x0", t - Days::new(10), "catalog"),
        use_on("x0", t - Days::new(7), "techdocs"),
        use_on("x0", t - Days::new(2), "catalog"),
        use_on("x1", t - Days::new(4), "catalog"),
        use_on("x1", t - Days::new(4), "techdocs"),
        use_on("x2", t - Days::new(120), "catalog"),
        use_on("x2", t - Days::new(1), "search"),
    ])
    .await
    .unwrap();
    let snap = f.catalog.snapshot();
    let s = r
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert_eq!(s.newcomers, Some(2), "{s:?}");
    let by: std::collections::BTreeMap<_, _> = s
        .first_use
        .iter()
        .map(|u| (u.feature.as_str(), (u.users, u.median_days)))
        .collect();
    // Catalog: both on their first day. Docs: x0 after 3 days, x1 the same day (median of
    // [0, 3] is the upper one). Search was used only by x2, who is no newcomer.
    assert_eq!(by.get("catalog"), Some(&(2, 0)), "{by:?}");
    assert_eq!(by.get("docs"), Some(&(2, 3)), "{by:?}");
    assert_eq!(by.get("search"), None, "{by:?}");
    // Under the k-threshold the newcomers are withheld, not shown.
    let s = recorder(&f, 3)
        .summary(&snap, Some("group:default/team-x"), t)
        .await
        .unwrap();
    assert_eq!((s.newcomers, s.first_use.len()), (None, 0));
}

async fn the_checklist_is_detected_from_use_and_ownership(db: TestDb) {
    let f = fixture(&db).await;
    let r = recorder(&f, 1);
    let t = today();
    let mut signed = Event::server("user:default/x0", "sign-in", "guest", "app");
    signed.at = noon(t - Days::new(30));
    r.store(&[
        signed,
        use_on("x0", t, "catalog"),
        use_on("x0", t, "techdocs"),
        use_on("d0", t, "catalog"),
    ])
    .await
    .unwrap();
    let snap = f.catalog.snapshot();
    // x0 signed in, used the catalog and docs, and team-x owns the shop component.
    let c = r.checklist(&snap, "user:default/x0").await.unwrap();
    let done: Vec<&str> = c
        .steps
        .iter()
        .filter(|s| s.done)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(done, ["sign-in", "catalog", "owns", "docs"]);
    assert_eq!((c.done, c.total), (4, 7));
    assert_eq!(c.next.as_ref().map(|s| s.id.as_str()), Some("search"));
    // d0's team owns nothing.
    let d = r.checklist(&snap, "user:default/d0").await.unwrap();
    assert_eq!(d.next.as_ref().map(|s| s.id.as_str()), Some("sign-in"));
    assert!(!d.steps.iter().find(|s| s.id == "owns").unwrap().done);
    // A template run unlocks its step.
    let mut run = Event::server(
        "user:default/x0",
        "create",
        "template:default/svc",
        "scaffolder",
    );
    run.at = noon(t);
    r.store(&[run]).await.unwrap();
    let c = r.checklist(&snap, "user:default/x0").await.unwrap();
    assert!(
        c.steps
            .iter()
            .find(|s| s.id == "template-run")
            .unwrap()
            .done
    );
    // Per group: the share of engineers who unlocked each step.
    let g = r
        .group_checklist(&snap, Some("group:default/team-x"))
        .await
        .unwrap();
    assert_eq!(g.engineers, Some(6));
    let owns = g.steps.iter().find(|s| s.id == "owns").unwrap();
    assert_eq!(
        (owns.engineers, owns.share),
        (Some(4), Some(0.667)),
        "team-x's own four members, not the squad"
    );
    let catalog_step = g.steps.iter().find(|s| s.id == "catalog").unwrap();
    assert_eq!(catalog_step.engineers, Some(1));
    assert_eq!(g.complete, Some(0));
    let small = recorder(&f, 7)
        .group_checklist(&snap, Some("group:default/team-x"))
        .await
        .unwrap();
    assert!(small.withheld.is_some() && small.steps.iter().all(|s| s.share.is_none()));
}
