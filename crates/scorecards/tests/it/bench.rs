//! The evaluation benchmark behind docs/benchmarks.md (ignored by default): a catalog from
//! `../shared/tools/gen-catalog.py`, one scorecard of 20 checks over every component, evaluated
//! from scratch several times, then again after one entity is edited (the incremental path).
//!
//! ```sh
//! python3 ../shared/tools/gen-catalog.py -n 50000 --out /tmp/cat-50k
//! STAGEDOOR_BENCH_CATALOG=/tmp/cat-50k/all.yaml \
//!   cargo test --release -p scorecards --test it bench:: -- --ignored --nocapture
//! ```

use std::time::Instant;

// The server's allocator (crates/stagedoor/src/main.rs, tuned in .cargo/config.toml): with the
// system allocator of a test binary, half of an evaluation's time was glibc's malloc and free.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use catalog::settings::{CatalogSettings, LocationSpec};

/// Twenty checks of the kinds real scorecards have: annotations, links, spec fields, sizes,
/// comprehensions over relations and tags, facts and time.
const CHECKS: &[(&str, &str, &str)] = &[
    (
        "described",
        "bronze",
        "has(entity.metadata.description) && size(entity.metadata.description) >= 20",
    ),
    ("titled", "bronze", "has(entity.metadata.title)"),
    ("owned", "bronze", "facts.owner_exists"),
    ("team-owned", "bronze", "facts.owner_kind == 'group'"),
    (
        "source",
        "bronze",
        "'github.com/project-slug' in entity.metadata.annotations",
    ),
    (
        "lifecycle",
        "bronze",
        "entity.spec.lifecycle in ['production', 'experimental', 'deprecated']",
    ),
    (
        "tagged",
        "bronze",
        "has(entity.metadata.tags) && size(entity.metadata.tags) > 0",
    ),
    (
        "on-call",
        "silver",
        "'pagerduty.com/service-id' in entity.metadata.annotations",
    ),
    ("system", "silver", "has(entity.spec.system)"),
    (
        "dashboard",
        "silver",
        "has(entity.metadata.links) && entity.metadata.links.exists(l, l.icon == 'dashboard')",
    ),
    (
        "repo-link",
        "silver",
        "has(entity.metadata.links) && entity.metadata.links.exists(l, l.url.startsWith('https://'))",
    ),
    (
        "quality",
        "silver",
        "'sonarqube.org/project-key' in entity.metadata.annotations",
    ),
    (
        "k8s",
        "silver",
        "'backstage.io/kubernetes-id' in entity.metadata.annotations",
    ),
    (
        "relations",
        "silver",
        "entity.relations.exists(r, r.type == 'ownedBy')",
    ),
    ("docs", "gold", "facts.has_docs"),
    ("depended-on", "gold", "facts.dependents >= 1"),
    (
        "few-deps",
        "gold",
        "!has(entity.spec.dependsOn) || size(entity.spec.dependsOn) <= 5",
    ),
    (
        "apis",
        "gold",
        "entity.spec.type != 'service' || has(entity.spec.providesApis)",
    ),
    (
        "tier",
        "gold",
        "has(entity.metadata.tags) && entity.metadata.tags.exists(t, t.startsWith('tier-'))",
    ),
    ("recent", "gold", "now > timestamp('2020-01-01T00:00:00Z')"),
];

fn scorecard_yaml() -> String {
    let mut y = String::from(
        "apiVersion: stagedoor.dev/v1alpha1\nkind: Scorecard\nmetadata: { name: bench }\nspec:\n  owner: group:default/platform\n  filter: kind=component\n  levels: [bronze, silver, gold]\n  checks:\n",
    );
    for (id, level, expr) in CHECKS {
        y.push_str(&format!(
            "    - id: {id}\n      title: {id}\n      level: {level}\n      expression: \"{}\"\n",
            expr.replace('"', "\\\"")
        ));
    }
    // A campaign over every component, as the demo has: its status is part of each evaluation.
    y.push_str("---\napiVersion: stagedoor.dev/v1alpha1\nkind: Campaign\nmetadata: { name: bench-on-call }\nspec:\n  owner: group:default/platform\n  filter: kind=component\n  checks: [bench/on-call]\n  start: 2026-01-01\n  deadline: 2027-01-01\n");
    y
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: set STAGEDOOR_BENCH_CATALOG to a generated catalog's all.yaml"]
async fn evaluate_20_checks_from_scratch() {
    let Ok(root) = std::env::var("STAGEDOOR_BENCH_CATALOG") else {
        panic!("set STAGEDOOR_BENCH_CATALOG to gen-catalog.py's all.yaml");
    };
    assert_eq!(CHECKS.len(), 20);
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("scorecard.yaml");
    std::fs::write(&card, scorecard_yaml()).unwrap();
    let settings = CatalogSettings {
        locations: vec![
            (LocationSpec::new("file", &root), vec![]),
            (LocationSpec::new("file", &card.to_string_lossy()), vec![]),
        ],
        ..Default::default()
    };
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    );
    let catalog = catalog::Catalog::connect(settings, &url).await.unwrap();
    catalog.round().await.unwrap();
    let snap = catalog.snapshot();
    let mut times = Vec::new();
    let mut scored = 0;
    for _ in 0..3 {
        // A fresh snapshot each time, as after a change: nothing derived is reused but the
        // compiled scorecard (same version).
        let fresh = catalog::read::Snapshot::of(snap.iter().cloned().collect());
        let t = Instant::now();
        let eval = scorecards::Evaluation::build(&fresh, chrono::Utc::now().fixed_offset());
        times.push(t.elapsed().as_secs_f64());
        let (_, scores) = eval
            .scorecard("default", "bench")
            .expect("the bench scorecard");
        scored = scores.len();
        let errors = scores
            .iter()
            .flat_map(|s| &s.checks)
            .filter(|c| c.error.is_some())
            .count();
        let first_error = scores
            .iter()
            .flat_map(|s| &s.checks)
            .find_map(|c| c.error.clone());
        println!("evaluation errors: {errors} (first: {first_error:?})");
    }
    times.sort_by(f64::total_cmp);
    // One edited entity, as after a file change: the next evaluation starts from the last.
    let base = scorecards::Evaluation::build(&snap, chrono::Utc::now().fixed_offset());
    let mut edits = Vec::new();
    for i in 0..5 {
        let mut records: Vec<_> = snap.iter().cloned().collect();
        let at = records
            .iter()
            .position(|r| r.key().starts_with("component:"))
            .expect("a component")
            + i;
        let old = &records[at];
        let mut body: serde_json::Value = serde_json::from_str(&old.body()).unwrap();
        body["metadata"]["description"] =
            serde_json::json!(format!("Edited {i} times, and long enough."));
        records[at] = std::sync::Arc::new(catalog::read::Stitched::from_json(
            old.key().to_owned(),
            old.uid().to_owned(),
            format!("edited-{i}"),
            &body.to_string(),
        ));
        let edited = catalog::read::Snapshot::of(records);
        let t = Instant::now();
        let next = scorecards::Evaluation::build_from(
            &edited,
            chrono::Utc::now().fixed_offset(),
            &scorecards::Pushed::default(),
            0,
            Some(&base),
        );
        edits.push(t.elapsed().as_secs_f64());
        assert_eq!(
            next.evaluated, 1,
            "only the edited entity is evaluated again"
        );
    }
    edits.sort_by(f64::total_cmp);
    println!(
        "one edited entity re-evaluated: min {:.4} median {:.4} max {:.4} s",
        edits[0], edits[2], edits[4]
    );
    // Where the time goes, on one core: parsing the stored JSON, and converting it for CEL.
    let records: Vec<_> = snap
        .iter()
        .filter(|r| r.key().starts_with("component:"))
        .collect();
    let t = Instant::now();
    let parsed: Vec<_> = records
        .iter()
        .map(|r| catalog::read::Entity::new(r))
        .collect();
    let parse_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for e in &parsed {
        let _ = cel::to_value(e.json());
    }
    println!(
        "one core: parse {parse_s:.3} s, to CEL values {:.3} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "entities {} components scored {scored} checks {} evaluation s: min {:.3} median {:.3} max {:.3}",
        snap.len(),
        CHECKS.len(),
        times[0],
        times[1],
        times[2]
    );
}
