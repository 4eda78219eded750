//! Measurement (ignored by default): the live heap the docs state holds for 20,000 documented
//! entities whose builds fail, as at N = 50,000 generated components (every `dir:.` there
//! lacks an `mkdocs.yml`). Counted by jemalloc (the binary's allocator, `main.rs`) as the
//! server's `memory` line counts, so run it alone:
//! `cargo test -p docs --test it memory:: -- --ignored --nocapture`.

use std::sync::Arc;

use catalog::read::{Snapshot, Stitched};
use docs::{Docs, DocsSettings};
use serde_json::json;

const ENTITIES: usize = 20_000;

/// Bytes allocated and not yet freed, as jemalloc counts them (size classes included).
fn live() -> isize {
    tikv_jemalloc_ctl::epoch::advance().unwrap();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap() as isize
}

fn snapshot() -> Snapshot {
    let entities = (0..ENTITIES)
        .map(|e| {
            // Paths as long as the benchmark catalog's (`…/bench/50000/systems/{system}`).
            let file = format!(
                "/root/.cache/stagedoor/bench/50000/systems/orders-platform-{}/catalog-info.yaml",
                e / 10
            );
            let mut metadata = json!({"name": format!("orders-service-{e}"), "namespace": "default",
                "annotations": {"backstage.io/techdocs-ref": "dir:.",
                                "backstage.io/managed-by-location": format!("file:{file}")}});
            if e % 4 == 0 {
                metadata["title"] = json!(format!("Orders service {e}"));
            }
            let body = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                "metadata": metadata,
                "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}})
            .to_string();
            Arc::new(Stitched::from_json(
                format!("component:default/orders-service-{e}"),
                format!("uid-{e}"),
                format!("etag-{e}"),
                &body,
            ))
        })
        .collect();
    Snapshot::of(entities)
}

#[test]
#[ignore = "measurement: run alone with --ignored --nocapture"]
fn docs_state_heap_for_twenty_thousand_entities() {
    let settings = DocsSettings::default();
    let docs = Docs::default();
    let start = live();
    let first = snapshot();
    let before = live();
    assert_eq!(docs.update(&first, &settings), ENTITIES);
    let after_first = live() - before;
    assert_eq!(docs.update(&first, &settings), 0);
    let after_idle = live() - before;

    // A catalog change: a new snapshot of the same entities replaces the first.
    let second = snapshot();
    let second_bytes = live() - before - after_idle;
    drop(first);
    assert_eq!(docs.update(&second, &settings), 0);
    let after_second = live() - start - second_bytes;
    assert_eq!(docs.entities().len(), ENTITIES);

    let per = |b: isize| b / ENTITIES as isize;
    println!(
        "docs state, {ENTITIES} failed entities (allocated bytes): first pass {} B ({} B each); \
         idle pass {} B ({} B each); after a new snapshot {} B ({} B each)",
        after_first,
        per(after_first),
        after_idle,
        per(after_idle),
        after_second,
        per(after_second),
    );
}
