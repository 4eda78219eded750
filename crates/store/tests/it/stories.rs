//! One story per store capability, each run on SQLite (in a temp dir) and on PostgreSQL (a fresh
//! database under `STAGEDOOR_TEST_PG`, dropped afterwards), through `store::testing`. Without
//! that variable the PostgreSQL half is skipped with a notice, except under `CI=true`, where it
//! fails.

use std::time::Instant;

use store::testing::{TestDb, notice};
use store::{CampaignDay, Db, EntityRow, LocationRow, PushedFactsRow, StoreError};

// ---- harness ----------------------------------------------------------------------------------

store::on_each_database!(
    locations_crud_and_conflicts,
    entities_upsert_update_delete_reload,
    bulk_apply,
    migrations_are_idempotent_on_reconnect,
    campaign_days_and_finished_teams,
    pushed_facts_replace_and_expire,
);

async fn connect(url: &str) -> Db {
    Db::connect(url).await.expect("connect")
}

// ---- stories ----------------------------------------------------------------------------------

fn location(id: &str, kind: &str, target: &str) -> LocationRow {
    LocationRow {
        id: id.into(),
        kind: kind.into(),
        target: target.into(),
        created_at: 1_700_000_000_000,
    }
}

async fn locations_crud_and_conflicts(test_db: TestDb) {
    let url = test_db.url().to_owned();
    let db = connect(&url).await;
    assert!(db.list_locations().await.unwrap().is_empty());

    // Ids sort differently from insertion, and all share one millisecond: the list must still
    // come back in registration order.
    let first = location("c-id", "url", "https://git.example.com/a/catalog-info.yaml");
    let second = location("a-id", "file", "/srv/catalog/all.yaml");
    let third = location("b-id", "url", "https://git.example.com/b/catalog-info.yaml");
    for loc in [&first, &second, &third] {
        db.add_location(loc).await.unwrap();
    }
    assert_eq!(
        db.list_locations().await.unwrap(),
        vec![first.clone(), second.clone(), third.clone()]
    );

    match db
        .add_location(&location("d-id", &first.kind, &first.target))
        .await
    {
        Err(StoreError::Conflict(message)) => assert!(message.contains(&first.target), "{message}"),
        other => panic!("duplicate (kind, target) gave {other:?}"),
    }
    match db
        .add_location(&location("c-id", "file", "/elsewhere.yaml"))
        .await
    {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("duplicate id gave {other:?}"),
    }
    // Uniqueness is on the pair: the same target under another kind is a different location.
    let same_target_other_kind = location("e-id", "file", &first.target);
    db.add_location(&same_target_other_kind).await.unwrap();
    assert_eq!(db.list_locations().await.unwrap().len(), 4);

    assert_eq!(db.get_location("a-id").await.unwrap(), Some(second.clone()));
    assert_eq!(db.get_location("missing").await.unwrap(), None);

    assert!(db.delete_location("c-id").await.unwrap());
    assert!(!db.delete_location("c-id").await.unwrap());
    assert_eq!(db.get_location("c-id").await.unwrap(), None);
    assert_eq!(
        db.list_locations().await.unwrap(),
        vec![
            second.clone(),
            third.clone(),
            same_target_other_kind.clone()
        ]
    );

    // Deleting frees the (kind, target) pair for a new registration, which goes last.
    let again = location("f-id", &first.kind, &first.target);
    db.add_location(&again).await.unwrap();
    assert_eq!(db.list_locations().await.unwrap().last(), Some(&again));
    db.close().await;
}

fn entity(name: &str, generation: u32) -> EntityRow {
    EntityRow {
        entity_ref: format!("component:default/{name}"),
        uid: format!("uid-{name}"),
        etag: format!("etag-{name}-{generation}"),
        hash: format!("hash-{name}-{generation}"),
        location_key: Some(format!(
            "url:https://git.example.com/{name}/catalog-info.yaml"
        )),
        body: format!(
            r#"{{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{{"name":"{name}","description":"générée — gen {generation} \"quoted\" \\ ✓"}},"spec":{{"type":"service"}}}}"#
        )
        .into(),
        updated_at: 1_700_000_000_000 + i64::from(generation),
    }
}

async fn entities_upsert_update_delete_reload(test_db: TestDb) {
    let url = test_db.url().to_owned();
    let db = connect(&url).await;
    assert!(db.load_entities().await.unwrap().is_empty());

    let mut orphan = entity("orphan", 1);
    orphan.location_key = None;
    let (a, b) = (entity("a", 1), entity("b", 1));
    // Given out of order: load_entities sorts by ref.
    db.apply_entity_changes(&[orphan.clone(), b.clone(), a.clone()], &[])
        .await
        .unwrap();
    assert_eq!(
        db.load_entities().await.unwrap(),
        vec![a.clone(), b.clone(), orphan.clone()]
    );

    // Update one, delete another, in one call; deleting an unknown ref is harmless.
    let a2 = entity("a", 2);
    db.apply_entity_changes(
        std::slice::from_ref(&a2),
        &[
            b.entity_ref.clone(),
            "component:default/never-stored".into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        db.load_entities().await.unwrap(),
        vec![a2.clone(), orphan.clone()]
    );

    // A ref given twice: the last row wins. A ref both deleted and upserted: it stays, as the
    // upsert's row.
    let (c1, c2, orphan2) = (entity("c", 1), entity("c", 2), entity("orphan", 2));
    db.apply_entity_changes(
        &[c1, c2.clone(), orphan2.clone()],
        &[orphan.entity_ref.clone()],
    )
    .await
    .unwrap();
    let expected = vec![a2.clone(), c2.clone(), orphan2.clone()];
    assert_eq!(db.load_entities().await.unwrap(), expected);

    // Nothing to do is not an error and changes nothing.
    db.apply_entity_changes(&[], &[]).await.unwrap();

    // Durable: a new process sees exactly the same rows.
    db.close().await;
    let reopened = connect(&url).await;
    assert_eq!(reopened.load_entities().await.unwrap(), expected);
    reopened.close().await;
}

fn bulk_entity(i: usize, generation: u32) -> EntityRow {
    let name = format!("service-{i:06}");
    // About 1.5 KB, like a real stitched entity with annotations and relations.
    let filler = "x".repeat(1_300);
    EntityRow {
        entity_ref: format!("component:default/{name}"),
        uid: format!("00000000-0000-4000-8000-{i:012}"),
        etag: format!("etag-{i}-{generation}"),
        hash: format!("hash-{i}-{generation}"),
        location_key: (!i.is_multiple_of(3)).then(|| format!("url:https://git.example.com/{name}")),
        body: format!(
            r#"{{"kind":"Component","metadata":{{"name":"{name}","generation":{generation},"description":"{filler}"}}}}"#
        )
        .into(),
        updated_at: 1_700_000_000_000 + i as i64,
    }
}

async fn bulk_apply(test_db: TestDb) {
    let url = test_db.url().to_owned();
    // STAGEDOOR_BULK_ROWS=120000 turns this into the full-size measurement.
    let count: usize = std::env::var("STAGEDOOR_BULK_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let db = connect(&url).await;
    let rows: Vec<EntityRow> = (0..count).map(|i| bulk_entity(i, 1)).collect();

    let started = Instant::now();
    db.apply_entity_changes(&rows, &[]).await.unwrap();
    let insert_time = started.elapsed();

    let loaded = db.load_entities().await.unwrap();
    assert_eq!(loaded.len(), count);
    assert_eq!(loaded, rows, "rows were generated in ref order");

    // Rewrite every row and delete a quarter of them in the same transaction.
    let deletes: Vec<String> = rows
        .iter()
        .step_by(4)
        .map(|r| r.entity_ref.clone())
        .collect();
    let updates: Vec<EntityRow> = (0..count)
        .filter(|i| i % 4 != 0)
        .map(|i| bulk_entity(i, 2))
        .collect();
    let started = Instant::now();
    db.apply_entity_changes(&updates, &deletes).await.unwrap();
    let update_time = started.elapsed();

    let loaded = db.load_entities().await.unwrap();
    assert_eq!(loaded.len(), count - deletes.len());
    assert_eq!(loaded, updates);

    notice(&format!(
        "bulk_apply on {}: {count} inserts in {insert_time:?}, {} updates + {} deletes in {update_time:?}",
        db.dialect(),
        updates.len(),
        deletes.len()
    ));
    // Generous for a debug build on a busy 2-core machine; a row-at-a-time regression on
    // PostgreSQL (one round trip per row) would still blow through it.
    let budget = std::time::Duration::from_secs(60);
    assert!(insert_time < budget, "insert took {insert_time:?}");
    assert!(update_time < budget, "update took {update_time:?}");
    db.close().await;
}

async fn migration_versions(db: &Db) -> Vec<(i64, String)> {
    const SQL: &str = "SELECT version, name FROM schema_migrations ORDER BY version";
    match db {
        Db::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    }
}

async fn migrations_are_idempotent_on_reconnect(test_db: TestDb) {
    let url = test_db.url().to_owned();
    // Two processes starting at once on a fresh database: both succeed, one migrates.
    let (first, second) = tokio::join!(Db::connect(&url), Db::connect(&url));
    let (first, second) = (
        first.expect("first connect"),
        second.expect("second connect"),
    );
    let expected_dialect = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(first.dialect(), expected_dialect);
    let versions = migration_versions(&first).await;
    assert_eq!(
        versions,
        vec![
            (1, "init".to_string()),
            (2, "scorecards".to_string()),
            (3, "analytics".to_string()),
            (4, "scaffolder".to_string()),
            (5, "discovery".to_string())
        ]
    );
    second.close().await;

    let loc = location("keep", "url", "https://git.example.com/keep.yaml");
    first.add_location(&loc).await.unwrap();
    first.close().await;

    for _ in 0..2 {
        let db = connect(&url).await;
        assert_eq!(migration_versions(&db).await, versions);
        assert_eq!(db.list_locations().await.unwrap(), vec![loc.clone()]);
        db.close().await;
    }

    // A schema written by a newer Stagedoor is refused rather than run against.
    let db = connect(&url).await;
    const FUTURE: &str =
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)";
    match &db {
        Db::Sqlite(pool) => sqlx::query(FUTURE).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(FUTURE).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    db.close().await;
    match Db::connect(&url).await {
        Err(StoreError::SchemaTooNew {
            found: 999,
            known: 5,
        }) => {}
        other => panic!("a newer schema gave {other:?}"),
    }
}

fn day(day: &str, total: i64, failing: i64, source: &str) -> CampaignDay {
    CampaignDay {
        day: day.into(),
        total,
        failing,
        source: source.into(),
    }
}

async fn campaign_days_and_finished_teams(test_db: TestDb) {
    let db = connect(test_db.url()).await;
    assert!(
        db.campaign_days("campaign:default/c")
            .await
            .unwrap()
            .is_empty()
    );

    // Generated history fills empty days only; a measurement replaces what a day held.
    let seeded = [
        day("2026-09-02", 10, 9, "demo"),
        day("2026-09-01", 10, 10, "demo"),
    ];
    db.seed_campaign_days("campaign:default/c", &seeded)
        .await
        .unwrap();
    db.record_campaign_day("campaign:default/c", &day("2026-09-02", 11, 7, "recorded"))
        .await
        .unwrap();
    db.record_campaign_day("campaign:default/c", &day("2026-09-02", 11, 6, "recorded"))
        .await
        .unwrap();
    db.seed_campaign_days("campaign:default/c", &[day("2026-09-02", 1, 1, "demo")])
        .await
        .unwrap();
    db.record_campaign_day(
        "campaign:default/other",
        &day("2026-09-02", 1, 1, "recorded"),
    )
    .await
    .unwrap();
    assert_eq!(
        db.campaign_days("campaign:default/c").await.unwrap(),
        vec![
            day("2026-09-01", 10, 10, "demo"),
            day("2026-09-02", 11, 6, "recorded")
        ]
    );

    // A team keeps the time it finished while it stays finished, and loses it when it fails again.
    let teams = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let new = db
        .update_finished_teams("campaign:default/c", &teams(&["group:default/a"]), 100)
        .await
        .unwrap();
    assert_eq!(new, teams(&["group:default/a"]));
    let new = db
        .update_finished_teams(
            "campaign:default/c",
            &teams(&["group:default/a", "group:default/b"]),
            200,
        )
        .await
        .unwrap();
    assert_eq!(new, teams(&["group:default/b"]));
    assert_eq!(
        db.finished_teams("campaign:default/c").await.unwrap(),
        vec![
            ("group:default/a".to_string(), 100),
            ("group:default/b".to_string(), 200)
        ]
    );
    db.update_finished_teams("campaign:default/c", &teams(&["group:default/b"]), 300)
        .await
        .unwrap();
    assert_eq!(
        db.finished_teams("campaign:default/c").await.unwrap(),
        vec![("group:default/b".to_string(), 200)]
    );
    assert!(
        db.finished_teams("campaign:default/other")
            .await
            .unwrap()
            .is_empty()
    );
}

fn pushed(entity: &str, source: &str, facts: &str, expires_at: i64) -> PushedFactsRow {
    PushedFactsRow {
        entity_ref: entity.into(),
        source: source.into(),
        facts: facts.into(),
        expires_at,
        updated_at: 1,
    }
}

async fn pushed_facts_replace_and_expire(test_db: TestDb) {
    let db = connect(test_db.url()).await;
    db.put_pushed_facts(&[
        pushed("component:default/a", "ci", r#"{"coverage":50}"#, 1_000),
        pushed(
            "component:default/a",
            "pagerduty",
            r#"{"oncall":true}"#,
            3_000,
        ),
        pushed("component:default/b", "ci", r#"{"coverage":70}"#, 1_000),
    ])
    .await
    .unwrap();
    // A second push for the same entity and source replaces the first.
    db.put_pushed_facts(&[pushed(
        "component:default/a",
        "ci",
        r#"{"coverage":90}"#,
        5_000,
    )])
    .await
    .unwrap();
    assert_eq!(
        db.live_pushed_facts(2_000).await.unwrap(),
        vec![
            pushed("component:default/a", "ci", r#"{"coverage":90}"#, 5_000),
            pushed(
                "component:default/a",
                "pagerduty",
                r#"{"oncall":true}"#,
                3_000
            ),
        ]
    );
    // Expired rows are gone for good, not only hidden.
    assert_eq!(
        db.live_pushed_facts(4_000).await.unwrap(),
        vec![pushed(
            "component:default/a",
            "ci",
            r#"{"coverage":90}"#,
            5_000
        )]
    );
    assert_eq!(db.live_pushed_facts(0).await.unwrap().len(), 1);
}
