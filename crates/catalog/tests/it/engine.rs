//! The engine end to end on real files and a real database: ingestion, edits, bad input,
//! conflicts, orphans, locations, substitutions, URL reading and restarts.

use std::sync::Arc;

use catalog::settings::{AllowedHost, CatalogSettings, LocationSpec, OrphanStrategy};
use catalog::{Catalog, CatalogError};
use serde_json::Value;
use store::testing::TestDb;

use crate::common;
use common::{Fixture, entity, errors};

fn component(name: &str, owner: &str, extra: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{extra}spec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

fn relations(e: &Value, kind: &str) -> Vec<String> {
    e["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == kind)
        .map(|r| r["targetRef"].as_str().unwrap().to_owned())
        .collect()
}

const ORG: &str = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: ada\nspec:\n  memberOf: [team-a]\n";

async fn ingests_files_with_relations_both_ways_and_rewrites_nothing_when_unchanged(db: TestDb) {
    let f = Fixture::new(db);
    f.write("org.yaml", ORG);
    f.write("svc.yaml", &component("payments", "team-a", ""));
    f.write(
        "all.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./org.yaml, ./svc.yaml]\n",
    );
    let c = f.open(f.settings(&["all.yaml"])).await;
    assert!(!c.is_ready());
    let stats = c.round().await.unwrap();
    assert!(c.is_ready());
    assert_eq!(
        stats.entities, 5,
        "generated root location, all.yaml's Location, group, user, component"
    );

    let svc = entity(&c, "component:default/payments").unwrap();
    assert_eq!(relations(&svc, "ownedBy"), vec!["group:default/team-a"]);
    let team = entity(&c, "group:default/team-a").unwrap();
    assert_eq!(
        relations(&team, "ownerOf"),
        vec!["component:default/payments"]
    );
    assert_eq!(relations(&team, "hasMember"), vec!["user:default/ada"]);
    let ann = &svc["metadata"]["annotations"];
    assert_eq!(
        ann["backstage.io/managed-by-location"],
        format!("file:{}", f.path("svc.yaml").display())
    );
    assert_eq!(
        ann["backstage.io/managed-by-origin-location"],
        format!("file:{}", f.path("all.yaml").display())
    );
    assert!(
        svc["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(
        svc["metadata"]["etag"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );

    let again = c.round().await.unwrap();
    assert_eq!((again.files_read, again.changed, again.deleted), (0, 0, 0));
}

async fn an_edit_shows_up_and_keeps_the_uid(db: TestDb) {
    let f = Fixture::new(db);
    f.write("svc.yaml", &component("payments", "team-a", ""));
    let c = f.open(f.settings(&["svc.yaml"])).await;
    c.round().await.unwrap();
    let before = entity(&c, "component:default/payments").unwrap();
    f.write(
        "svc.yaml",
        &component("payments", "team-b", "  description: now owned by b\n"),
    );
    let stats = c.round().await.unwrap();
    assert_eq!(stats.changed, 1);
    let after = entity(&c, "component:default/payments").unwrap();
    assert_eq!(after["spec"]["owner"], "team-b");
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_ne!(after["metadata"]["etag"], before["metadata"]["etag"]);
}

async fn bad_input_keeps_the_last_good_version_with_file_and_line(db: TestDb) {
    let f = Fixture::new(db);
    let good = format!(
        "{}---\n{}",
        component("a", "team", ""),
        component("b", "team", "")
    );
    f.write("two.yaml", &good);
    let c = f.open(f.settings(&["two.yaml"])).await;
    c.round().await.unwrap();

    // Document 2 gets a syntax error; document 1 changes normally.
    f.write(
        "two.yaml",
        &format!("{}---\n{}", component("a", "team", "  description: edited\n"), "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: b\n   bad: indent\n"),
    );
    c.round().await.unwrap();
    let a = entity(&c, "component:default/a").unwrap();
    assert_eq!(a["metadata"]["description"], "edited");
    assert!(errors(&a).is_empty());
    let b = entity(&c, "component:default/b").expect("last good version of b is still served");
    assert_eq!(b["spec"]["owner"], "team");
    let errs = errors(&b);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0]["file"],
        f.path("two.yaml").to_string_lossy().as_ref()
    );
    assert!(errs[0]["line"].as_u64().unwrap() >= 13, "{errs:?}");

    // An invalid name on a known entity: kept, with an error pointing at the name line.
    f.write(
        "two.yaml",
        &format!(
            "{}---\n{}",
            component("a", "team", "  description: edited\n"),
            component("b", "team", "  tags: [Not A Tag]\n")
        ),
    );
    c.round().await.unwrap();
    let b = entity(&c, "component:default/b").unwrap();
    let errs = errors(&b);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]["message"].as_str().unwrap().contains("tags"),
        "{errs:?}"
    );
    assert_eq!(errs[0]["line"], 15, "{errs:?}");

    // Fixed: the error goes away.
    f.write("two.yaml", &good);
    c.round().await.unwrap();
    assert!(errors(&entity(&c, "component:default/b").unwrap()).is_empty());
}

async fn the_first_location_keeps_a_conflicting_entity(db: TestDb) {
    let f = Fixture::new(db);
    f.write("one/catalog-info.yaml", &component("dup", "first", ""));
    f.write("two/catalog-info.yaml", &component("dup", "second", ""));
    let c = f.open(f.settings(&["one", "two"])).await;
    c.round().await.unwrap();
    let dup = entity(&c, "component:default/dup").unwrap();
    assert_eq!(dup["spec"]["owner"], "first");
    let errs = f.root_errors(&c, "two");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["name"], "ConflictError");
}

async fn a_location_given_twice_is_read_once_without_errors(db: TestDb) {
    let f = Fixture::new(db);
    f.write("svc.yaml", &component("a", "t", ""));
    let c = f.open(f.settings(&["svc.yaml", "svc.yaml"])).await;
    c.round().await.unwrap();
    assert!(f.root_errors(&c, "svc.yaml").is_empty());
    assert_eq!(c.snapshot().len(), 2);
}

async fn removed_entities_become_orphans_or_go_by_strategy(db: TestDb) {
    let first = Fixture::new(db);
    for strategy in [OrphanStrategy::Keep, OrphanStrategy::Delete] {
        let f = first.another().await;
        f.write(
            "svc.yaml",
            &format!(
                "{}---\n{}",
                component("a", "t", ""),
                component("b", "t", "")
            ),
        );
        let c = f
            .open(CatalogSettings {
                orphan_strategy: strategy,
                ..f.settings(&["svc.yaml"])
            })
            .await;
        c.round().await.unwrap();
        f.write("svc.yaml", &component("a", "t", ""));
        c.round().await.unwrap();
        let b = entity(&c, "component:default/b");
        match strategy {
            OrphanStrategy::Keep => assert_eq!(
                b.unwrap()["metadata"]["annotations"]["backstage.io/orphan"],
                "true"
            ),
            OrphanStrategy::Delete => assert!(b.is_none()),
        }
        assert!(
            entity(&c, "component:default/a").unwrap()["metadata"]["annotations"]
                .get("backstage.io/orphan")
                .is_none()
        );
    }
}

async fn deleting_a_registered_location_removes_exactly_what_it_produced(db: TestDb) {
    let f = Fixture::new(db);
    f.write("base/catalog-info.yaml", &component("base", "t", ""));
    f.write(
        "extra/catalog-info.yaml",
        &format!(
            "{}---\n{}",
            component("x1", "t", ""),
            component("x2", "t", "")
        ),
    );
    let c = f.open(f.settings(&["base"])).await;
    c.round().await.unwrap();
    let before = c.snapshot().len();
    let (row, entities, _) = c
        .add_location(
            LocationSpec::new("file", &f.path("extra/catalog-info.yaml").to_string_lossy()),
            false,
        )
        .await
        .unwrap();
    assert_eq!(entities.len(), 3, "generated location + 2 components");
    assert_eq!(c.snapshot().len(), before + 3);
    let dup = c
        .add_location(
            LocationSpec::new("file", &f.path("extra/catalog-info.yaml").to_string_lossy()),
            false,
        )
        .await;
    assert!(matches!(dup, Err(CatalogError::Conflict(_))));
    c.delete_location(&row.unwrap().id).await.unwrap();
    assert_eq!(c.snapshot().len(), before);
    assert!(entity(&c, "component:default/x1").is_none());
    assert!(entity(&c, "component:default/base").is_some());
}

async fn many_locations_register_in_one_round_each_with_its_own_result(db: TestDb) {
    let f = Fixture::new(db);
    for i in 0..5 {
        f.write(
            &format!("r{i}/catalog-info.yaml"),
            &component(&format!("r{i}"), "t", ""),
        );
    }
    let c = f.open(f.settings(&[])).await;
    c.round().await.unwrap();
    let file = |i: usize| {
        LocationSpec::new(
            "file",
            &f.path(&format!("r{i}/catalog-info.yaml")).to_string_lossy(),
        )
    };
    c.add_location(file(0), false).await.unwrap();
    let specs = vec![
        file(1),
        LocationSpec::new("ftp", "x"),
        file(0),
        file(2),
        file(3),
        file(4),
    ];
    let results = c.add_locations(&specs).await.unwrap();
    let outcome: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok",
            Err(CatalogError::Input(_)) => "input",
            Err(CatalogError::Conflict(_)) => "conflict",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(outcome, ["ok", "input", "conflict", "ok", "ok", "ok"]);
    // Settled before returning: every new file's component is served.
    for i in 0..5 {
        assert!(
            entity(&c, &format!("component:default/r{i}")).is_some(),
            "r{i}"
        );
    }
    assert_eq!(c.locations().await.len(), 5);
}

async fn cyclic_locations_terminate_with_an_error(db: TestDb) {
    let f = Fixture::new(db);
    let loc = |name: &str, target: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n  target: {target}\n"
        )
    };
    f.write("a.yaml", &loc("a", "./b.yaml"));
    f.write(
        "b.yaml",
        &format!(
            "{}---\n{}",
            loc("b", "./a.yaml"),
            component("inside", "t", "")
        ),
    );
    let c = f.open(f.settings(&["a.yaml"])).await;
    c.round().await.unwrap();
    assert!(entity(&c, "component:default/inside").is_some());
    let b = entity(&c, "location:default/b").unwrap();
    assert!(
        !errors(&b).is_empty(),
        "the Location that closes the cycle is told: {b}"
    );
}

async fn substitutions_read_files_but_never_escape_the_location(db: TestDb) {
    let f = Fixture::new(db);
    f.write(
        "cat/api.yaml",
        "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
    );
    f.write(
        "cat/all.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: pets\nspec:\n  type: openapi\n  lifecycle: production\n  owner: t\n  definition:\n    $text: ./api.yaml\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: sneaky\nspec:\n  type: openapi\n  lifecycle: production\n  owner: t\n  definition:\n    $text: ../secret.txt\n",
    );
    f.write("secret.txt", "outside the location's directory");
    let c = f.open(f.settings(&["cat/all.yaml"])).await;
    c.round().await.unwrap();
    let pets = entity(&c, "api:default/pets").unwrap();
    assert!(
        pets["spec"]["definition"]
            .as_str()
            .unwrap()
            .starts_with("openapi: 3.0.0")
    );
    assert!(entity(&c, "api:default/sneaky").is_none());
    let errs = f.root_errors(&c, "cat/all.yaml");
    assert!(
        errs.iter()
            .any(|e| e["message"].as_str().unwrap().contains("outside")),
        "{errs:?}"
    );
}

async fn absolute_url_references_in_files_are_read_from_allowed_hosts(db: TestDb) {
    let f = Fixture::new(db);
    let url = serve_yaml("served over HTTP".into()).await;
    f.write(
        "all.yaml",
        &component("doc", "t", &format!("  description:\n    $text: {url}\n")),
    );
    let c = f
        .open(CatalogSettings {
            allowed_hosts: vec![AllowedHost {
                host: "127.0.0.1".into(),
                port: None,
            }],
            ..f.settings(&["all.yaml"])
        })
        .await;
    c.round().await.unwrap();
    let e = entity(&c, "component:default/doc").expect("read, not taken for a file path");
    assert_eq!(e["metadata"]["description"], "served over HTTP");
}

/// Serves one YAML body on loopback, for `url` locations.
async fn serve_yaml(body: String) -> String {
    serve_changing_yaml(Arc::new(std::sync::Mutex::new(body))).await
}

/// Serves whatever the shared string holds at the time of each request.
async fn serve_changing_yaml(body: Arc<std::sync::Mutex<String>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                break;
            };
            let body = body.lock().unwrap().clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/catalog-info.yaml")
}

async fn url_locations_read_only_allowed_hosts(db: TestDb) {
    let f = Fixture::new(db);
    let url = serve_yaml(component("remote", "t", "")).await;
    let spec = LocationSpec::new("url", &url);
    let denied = f
        .open(CatalogSettings {
            locations: vec![(spec.clone(), vec![])],
            ..Default::default()
        })
        .await;
    denied.round().await.unwrap();
    assert!(entity(&denied, "component:default/remote").is_none());
    let errs = errors(&entity(&denied, &catalog::generated_location_ref(&spec)).unwrap());
    assert_eq!(errs[0]["name"], "NotAllowedError", "{errs:?}");

    let g = f.another().await;
    let allowed = g
        .open(CatalogSettings {
            locations: vec![(spec, vec![])],
            allowed_hosts: vec![AllowedHost {
                host: "127.0.0.1".into(),
                port: None,
            }],
            ..Default::default()
        })
        .await;
    allowed.round().await.unwrap();
    let remote = entity(&allowed, "component:default/remote").unwrap();
    assert_eq!(
        remote["metadata"]["annotations"]["backstage.io/view-url"],
        url
    );
}

async fn url_locations_are_fetched_again_after_their_interval(db: TestDb) {
    let f = Fixture::new(db);
    let body = Arc::new(std::sync::Mutex::new(component("remote", "team-a", "")));
    let url = serve_changing_yaml(body.clone()).await;
    let c = f
        .open(CatalogSettings {
            locations: vec![(LocationSpec::new("url", &url), vec![])],
            allowed_hosts: vec![AllowedHost {
                host: "127.0.0.1".into(),
                port: None,
            }],
            url_refresh_interval: std::time::Duration::from_millis(300),
            ..Default::default()
        })
        .await;
    c.round().await.unwrap();
    *body.lock().unwrap() = component("remote", "team-b", "");
    c.round().await.unwrap();
    let owner =
        |c: &Catalog| entity(c, "component:default/remote").unwrap()["spec"]["owner"].clone();
    assert_eq!(owner(&c), "team-a", "not due yet: the cached copy stays");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    // Due: read again in the background, and processed by the round after it arrives.
    let started = std::time::Instant::now();
    while owner(&c) != "team-b" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "never fetched again"
        );
        c.round().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn a_restart_serves_the_stored_catalog_at_once_with_the_same_uids(db: TestDb) {
    let f = Fixture::new(db);
    f.write("svc.yaml", &component("payments", "team-a", ""));
    let uid = {
        let c = f.open(f.settings(&["svc.yaml"])).await;
        c.round().await.unwrap();
        entity(&c, "component:default/payments").unwrap()["metadata"]["uid"].clone()
    };
    let c = f.open(f.settings(&["svc.yaml"])).await;
    assert!(!c.is_ready());
    assert_eq!(
        entity(&c, "component:default/payments").unwrap()["metadata"]["uid"],
        uid,
        "served from the database before any round"
    );
    let stats = c.round().await.unwrap();
    assert_eq!(
        stats.changed, 0,
        "nothing changed on disk, so nothing is rewritten"
    );
    assert_eq!(
        entity(&c, "component:default/payments").unwrap()["metadata"]["uid"],
        uid
    );
}

/// Large enough to train the body dictionary: what is served and what is stored are the same
/// bytes, before and after a restart, while memory holds them compressed.
async fn a_large_catalog_is_served_and_stored_byte_for_byte_from_compressed_bodies(db: TestDb) {
    let f = Fixture::new(db);
    let docs: Vec<String> = (0..700)
        .map(|i| component(&format!("svc-{i}"), &format!("team-{}", i % 13), ""))
        .collect();
    f.write("all.yaml", &docs.join("---\n"));
    let settings = || f.settings(&["all.yaml"]);
    let served = |c: &Catalog| -> Vec<(String, String)> {
        let snap = c.snapshot();
        snap.iter()
            .map(|s| (s.key().to_owned(), s.body().into_owned()))
            .collect()
    };
    let c = f.open(settings()).await;
    c.round().await.unwrap();
    let first = served(&c);
    assert_eq!(first.len(), 701);
    let text: usize = first.iter().map(|(_, b)| b.len()).sum();
    assert!(
        c.snapshot().entity_bytes() < text,
        "entities hold {} bytes for {text} bytes of text",
        c.snapshot().entity_bytes()
    );
    let db = store::Db::connect(&f.db_url()).await.unwrap();
    let stored: Vec<(String, String)> = db
        .load_entities()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entity_ref, r.body.to_string()))
        .collect();
    assert_eq!(stored, first);
    drop(c);
    let again = f.open(settings()).await;
    assert_eq!(served(&again), first, "a restart serves the same bytes");
    assert_eq!(again.round().await.unwrap().changed, 0);
}

async fn oversized_files_are_refused_and_named(db: TestDb) {
    let f = Fixture::new(db);
    f.write(
        "big.yaml",
        &format!(
            "{}  description: {}\n",
            component("big", "t", ""),
            "x".repeat(4096)
        ),
    );
    let c = f
        .open(CatalogSettings {
            max_file_bytes: 1024,
            ..f.settings(&["big.yaml"])
        })
        .await;
    c.round().await.unwrap();
    assert!(entity(&c, "component:default/big").is_none());
    let errs = f.root_errors(&c, "big.yaml");
    assert!(
        errs[0]["message"].as_str().unwrap().contains("limit"),
        "{errs:?}"
    );
}

/// Persist, then publish: while entity writes fail (a database outage) nothing new is served,
/// `readiness` says the stored state lags, and nothing is dropped: the next round that can write
/// stores exactly what it then publishes, and a restart finds the same uids.
async fn failed_writes_are_not_published_and_are_retried(db: TestDb) {
    let fx = Fixture::new(db);
    fx.write("all.yaml", &component("a", "team-a", ""));
    let c = fx.open(fx.settings(&["all.yaml"])).await;
    c.round().await.unwrap();
    assert_eq!(c.readiness(), Ok(()));
    let uid_a = entity(&c, "component:default/a").unwrap()["metadata"]["uid"].clone();

    c.inject_write_fault(true);
    fx.write(
        "all.yaml",
        &format!(
            "{}---\n{}",
            component("a", "team-a", ""),
            component("b", "team-a", "")
        ),
    );
    assert!(c.round().await.is_err(), "a failed write fails the round");
    assert!(
        entity(&c, "component:default/b").is_none(),
        "an entity is not served before it is stored"
    );
    let reason = c.readiness().unwrap_err();
    assert!(reason.starts_with("stored state lags"), "{reason}");
    // A round with no new input still retries what is pending.
    assert!(c.round().await.is_err());

    c.inject_write_fault(false);
    c.round().await.unwrap();
    assert_eq!(c.readiness(), Ok(()));
    let uid_b = entity(&c, "component:default/b").unwrap()["metadata"]["uid"].clone();
    drop(c);

    let reopened = fx.open(fx.settings(&["all.yaml"])).await;
    assert_eq!(
        entity(&reopened, "component:default/b").unwrap()["metadata"]["uid"],
        uid_b
    );
    assert_eq!(
        entity(&reopened, "component:default/a").unwrap()["metadata"]["uid"],
        uid_a
    );
}

async fn relation_targets_no_entity_names_any_more_are_forgotten(db: TestDb) {
    let f = Fixture::new(db);
    let edit = |i: usize| {
        let deps: Vec<String> = (0..50)
            .map(|j| format!("component:default/dep-{i}-{j}"))
            .collect();
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  dependsOn: [{}]\n",
            deps.join(", ")
        )
    };
    f.write("svc.yaml", &edit(0));
    let c = f.open(f.settings(&["svc.yaml"])).await;
    let first = c.round().await.unwrap().engine_bytes;
    // Each edit names 50 new dependencies and drops the last 50: 1,500 targets named once.
    let mut last = first;
    for i in 1..=30 {
        f.write("svc.yaml", &edit(i));
        let stats = c.round().await.unwrap();
        assert_eq!(stats.changed, 1);
        last = stats.engine_bytes;
    }
    let svc = entity(&c, "component:default/payments").unwrap();
    let deps = relations(&svc, "dependsOn");
    assert_eq!(deps.len(), 50);
    assert!(deps.contains(&"component:default/dep-30-7".to_owned()));
    // Kept, the 1,450 forgotten targets would be about 50 bytes each in `engine_bytes`.
    assert!(
        last < first + 40_000,
        "engine state grew from {first} to {last} bytes"
    );
}

store::on_each_database!(
    relation_targets_no_entity_names_any_more_are_forgotten,
    absolute_url_references_in_files_are_read_from_allowed_hosts,
    ingests_files_with_relations_both_ways_and_rewrites_nothing_when_unchanged,
    an_edit_shows_up_and_keeps_the_uid,
    bad_input_keeps_the_last_good_version_with_file_and_line,
    the_first_location_keeps_a_conflicting_entity,
    a_location_given_twice_is_read_once_without_errors,
    removed_entities_become_orphans_or_go_by_strategy,
    deleting_a_registered_location_removes_exactly_what_it_produced,
    many_locations_register_in_one_round_each_with_its_own_result,
    cyclic_locations_terminate_with_an_error,
    substitutions_read_files_but_never_escape_the_location,
    url_locations_read_only_allowed_hosts,
    url_locations_are_fetched_again_after_their_interval,
    a_restart_serves_the_stored_catalog_at_once_with_the_same_uids,
    a_large_catalog_is_served_and_stored_byte_for_byte_from_compressed_bodies,
    oversized_files_are_refused_and_named,
    failed_writes_are_not_published_and_are_retried,
);
