//! The search benchmark behind docs/benchmarks.md (ignored by default): a catalog from
//! `../shared/tools/gen-catalog.py` ingested by the real engine, plus one generated docs page
//! per five components; the index's build time and size, what it adds to the process's
//! resident memory, an incremental rebuild after one edit, and query latency as a name is typed.
//!
//! ```sh
//! python3 ../shared/tools/gen-catalog.py -n 50000 --seed 1 --out /tmp/cat-50k
//! STAGEDOOR_BENCH_CATALOG=/tmp/cat-50k/all.yaml \
//!   cargo test --release -p search --test it bench:: -- --ignored --nocapture
//! ```
//!
//! With `STAGEDOOR_BENCH_EXPORT=/tmp/docs.tsv` it also writes the documents for
//! `crates/search/bench/compare_engines.py`.

use std::sync::Arc;
use std::time::Instant;

use catalog::read::{Snapshot, Stitched};
use catalog::settings::{CatalogSettings, LocationSpec};
use search::{DocType, Document, Query, Search};

/// Resident memory of this process, from /proc (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

const WORDS: &[&str] = &[
    "deploy",
    "rollback",
    "settlement",
    "latency",
    "retry",
    "queue",
    "schema",
    "migration",
    "alert",
    "runbook",
    "cache",
    "token",
    "billing",
    "invoice",
    "refund",
    "gateway",
    "webhook",
    "throttle",
    "replica",
    "backup",
    "restore",
    "incident",
    "metrics",
    "dashboard",
    "config",
];

/// A docs page of about 1.5 KB for a component, deterministic.
fn docs_page(i: usize, entity: &str, name: &str) -> Document {
    let mut text = String::new();
    for k in 0..220 {
        text.push_str(WORDS[(i * 7 + k * 13) % WORDS.len()]);
        text.push(' ');
    }
    Document {
        doc_type: DocType::Techdocs,
        source: "docs".into(),
        entity: entity.into(),
        name: "index".into(),
        title: format!("{name} overview"),
        keywords: vec!["Getting started".into(), "Operations".into()],
        owner: String::new(),
        text,
        location: format!("/docs/default/component/{name}/"),
        facets: vec![
            ("kind".into(), "Component".into()),
            ("name".into(), name.into()),
        ],
    }
}

fn p50_ms(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (
        times[times.len() / 2] * 1e3,
        times[times.len() * 95 / 100] * 1e3,
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: set STAGEDOOR_BENCH_CATALOG to a generated catalog's all.yaml"]
async fn index_and_query_as_you_type() {
    let Ok(root) = std::env::var("STAGEDOOR_BENCH_CATALOG") else {
        panic!("set STAGEDOOR_BENCH_CATALOG to gen-catalog.py's all.yaml");
    };
    let dir = tempfile::tempdir().unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &root), vec![])],
        ..Default::default()
    };
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    );
    let catalog = catalog::Catalog::connect(settings, &url).await.unwrap();
    catalog.round().await.unwrap();
    let snap = catalog.snapshot();
    let components = snap
        .iter()
        .filter(|e| e.key().starts_with("component:"))
        .count();
    // Let the allocator give back what ingestion freed, then take the baseline.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let rss_catalog = rss_kib();

    let search = Search::default();
    let t = Instant::now();
    search.refresh(&snap);
    let build_catalog = t.elapsed().as_secs_f64();
    let pages: Vec<Document> = snap
        .iter()
        .filter(|e| e.key().starts_with("component:"))
        .enumerate()
        .filter(|(i, _)| i % 5 == 0)
        .map(|(i, e)| docs_page(i, e.key(), e.key().rsplit('/').next().unwrap()))
        .collect();
    let n_pages = pages.len();
    let t = Instant::now();
    search.replace_source("docs", pages);
    let add_docs = t.elapsed().as_secs_f64();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let rss_indexed = rss_kib();
    let index = search.current();
    // The same documents for `bench/compare_engines.py` (SQLite FTS5, PostgreSQL full text).
    if let Ok(path) = std::env::var("STAGEDOOR_BENCH_EXPORT") {
        let clean = |s: &str| s.replace(['\t', '\n', '\r', '\\'], " ");
        let mut out = String::new();
        for d in index.ids() {
            let doc = index.document(d);
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                doc.doc_type.as_str(),
                clean(&doc.name),
                clean(&doc.title),
                clean(&doc.keywords.join(" ")),
                clean(&doc.owner),
                clean(&doc.text)
            ));
        }
        std::fs::write(&path, out).unwrap();
    }
    let by_type = |ty: DocType| {
        index
            .search(&Query {
                types: vec![ty],
                limit: 1,
                ..Query::new("")
            })
            .unwrap()
            .total
    };
    println!(
        "catalog: {} entities, {components} components; documents: {} ({} entities, {} API operations/channels/messages, {n_pages} docs pages); terms {}",
        snap.len(),
        index.len(),
        by_type(DocType::SoftwareCatalog),
        by_type(DocType::ApiDefinition),
        index.terms()
    );
    println!(
        "build from the snapshot: {build_catalog:.2} s; adding the docs pages (a rebuild): {add_docs:.2} s"
    );
    println!(
        "index heap: {:.1} MiB; process RSS: catalog alone {:.1} MiB, with the index {:.1} MiB (+{:.1} MiB)",
        index.heap_bytes() as f64 / 1048576.0,
        rss_catalog as f64 / 1024.0,
        rss_indexed as f64 / 1024.0,
        (rss_indexed as f64 - rss_catalog as f64) / 1024.0
    );

    println!(
        "index parts (MiB): {}",
        index
            .heap_parts()
            .iter()
            .map(|(k, v)| format!("{k} {:.1}", *v as f64 / 1048576.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // One entity edited, as after a file change: only it is extracted again.
    let mut records: Vec<Arc<Stitched>> = snap.iter().cloned().collect();
    let at = records
        .iter()
        .position(|r| r.key().starts_with("api:"))
        .unwrap();
    let old = records[at].clone();
    let mut body: serde_json::Value = serde_json::from_str(&old.body()).unwrap();
    body["metadata"]["description"] = serde_json::json!("Edited: now handles chargebacks.");
    records[at] = Arc::new(Stitched::from_json(
        old.key().to_owned(),
        old.uid().to_owned(),
        "edited".into(),
        &body.to_string(),
    ));
    let edited = Snapshot::of(records);
    let t = Instant::now();
    search.refresh(&edited);
    println!(
        "rebuild after one edited entity: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let index = search.current();
    assert_eq!(index.search(&Query::new("chargebacks")).unwrap().total, 1);

    // As a name is typed, then typos, then a word only in docs pages, then filtered.
    let name = snap
        .iter()
        .find(|e| e.key().starts_with("component:"))
        .map(|e| e.key().rsplit('/').next().unwrap().to_owned())
        .unwrap();
    let mut typed: Vec<String> = (1..=name.len().min(10))
        .map(|n| name[..n].to_owned())
        .collect();
    typed.extend(
        [
            "p", "pa", "pay", "paym", "payme", "paymen", "payment", "payments",
        ]
        .map(String::from),
    );
    typed.extend(
        [
            "paymnets",
            "invntory",
            "settlement",
            "payments api",
            "listAccounts",
        ]
        .map(String::from),
    );
    println!("| typed | results | p50 ms | p95 ms |");
    let mut all = Vec::new();
    for term in &typed {
        let q = Query::new(term.clone());
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..30 {
            let t = Instant::now();
            total = index.search(&q).unwrap().total;
            times.push(t.elapsed().as_secs_f64());
        }
        all.extend_from_slice(&times);
        let (p50, p95) = p50_ms(&mut times);
        println!("| `{term}` | {total} | {p50:.2} | {p95:.2} |");
    }
    let mut filtered = Vec::new();
    let q = Query {
        filters: vec![("kind".into(), vec!["component".into()])],
        types: vec![DocType::SoftwareCatalog],
        ..Query::new("pay")
    };
    for _ in 0..30 {
        let t = Instant::now();
        index.search(&q).unwrap();
        filtered.push(t.elapsed().as_secs_f64());
    }
    let (p50, p95) = p50_ms(&mut filtered);
    println!("| `pay`, kind=component | | {p50:.2} | {p95:.2} |");
    let (p50, p95) = p50_ms(&mut all);
    println!("all typed queries: p50 {p50:.2} ms, p95 {p95:.2} ms");
}
