//! Benchmark (ignored by default; figures in `docs/benchmarks.md`): docs for 2,000 generated
//! entities of 10 pages each, built from scratch; a pass that finds nothing changed; and one
//! edited page made visible. Run with
//! `cargo test --release -p docs --test it bench:: -- --ignored --nocapture`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::read::{Snapshot, Stitched};
use docs::{Docs, DocsSettings};
use serde_json::json;

const ENTITIES: usize = 2_000;
const PAGES: usize = 10;

fn page(e: usize, p: usize) -> String {
    let next = (p + 1) % (PAGES - 1);
    format!(
        "# Page {p} of service {e}\n\n\
         Service {e} handles orders, refunds and stock for warehouse {w}. See [the next page](page-{next}.md#details) \
         and the [overview](index.md).\n\n\
         ## Details\n\n\
         !!! note \"Good to know\"\n    Requests are idempotent; retries are safe within 48 hours.\n\n\
         | Setting | Default | Meaning |\n|---|---|---|\n| `timeout` | 30 s | per request |\n| `retries` | 3 | before giving up |\n\n\
         ```rust\nfn handler(req: Request) -> Response {{\n    let id = req.id();\n    service_{e}::handle(id)\n}}\n```\n\n\
         === \"Shell\"\n\n    ```sh\n    curl https://svc-{e}.example/health\n    ```\n\n\
         === \"HTTP\"\n\n    ```http\n    GET /health HTTP/1.1\n    ```\n\n\
         ## Operations\n\n\
         - [x] Dashboards\n- [ ] Alerts\n- Runbook: restart one pod at a time, then check https://grafana.example/d/{e}.\n\n\
         {lorem}\n",
        w = e % 3,
        lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ".repeat(8),
    )
}

fn generate(root: &Path) -> Snapshot {
    let mut entities = Vec::with_capacity(ENTITIES);
    for e in 0..ENTITIES {
        let dir = root.join(format!("svc-{e}"));
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let mut nav = String::from("nav:\n  - Home: index.md\n  - Pages:\n");
        for p in 0..PAGES - 1 {
            nav.push_str(&format!("      - page-{p}.md\n"));
        }
        std::fs::write(
            dir.join("mkdocs.yml"),
            format!("site_name: Service {e}\n{nav}"),
        )
        .unwrap();
        std::fs::write(dir.join("docs/index.md"), page(e, PAGES - 1)).unwrap();
        for p in 0..PAGES - 1 {
            std::fs::write(dir.join(format!("docs/page-{p}.md")), page(e, p)).unwrap();
        }
        let body = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": format!("svc-{e}"), "namespace": "default", "annotations": {
                "backstage.io/techdocs-ref": "dir:.",
                "backstage.io/managed-by-location":
                    format!("file:{}", dir.join("catalog-info.yaml").display()),
            }},
            "spec": {"type": "service", "lifecycle": "production", "owner": format!("team-{}", e % 40)}})
        .to_string();
        entities.push(Arc::new(Stitched::from_json(
            format!("component:default/svc-{e}"),
            format!("uid-{e}"),
            format!("etag-{e}"),
            &body,
        )));
    }
    Snapshot::of(entities)
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn docs_for_two_thousand_entities() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = generate(tmp.path());
    let settings = DocsSettings::default();
    let docs = Docs::default();

    let t = Instant::now();
    let changed = docs.update(&snap, &settings);
    let scratch = t.elapsed();
    assert_eq!(changed, ENTITIES);
    let pages = docs.pages();
    assert_eq!(pages.len(), ENTITIES * PAGES);
    let problems: usize = docs
        .entities()
        .iter()
        .map(|e| e.site.as_ref().unwrap().problems.len())
        .sum();
    assert_eq!(problems, 0);

    let t = Instant::now();
    assert_eq!(docs.update(&snap, &settings), 0);
    let idle = t.elapsed();

    // One page edited: stat pass, that page rendered, the new text served.
    let edited = tmp.path().join("svc-1234/docs/page-3.md");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\nA freshly written sentence.\n");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&edited, text).unwrap();
    let t = Instant::now();
    assert_eq!(docs.update(&snap, &settings), 1);
    let one = t.elapsed();
    let entry = docs.entity("component:default/svc-1234").unwrap();
    let site = entry.site.as_ref().unwrap();
    assert_eq!(site.rendered, 1);
    assert!(
        site.page("page-3/")
            .unwrap()
            .text
            .contains("A freshly written sentence.")
    );

    let bytes: usize = pages.iter().map(|p| p.text.len()).sum();
    println!(
        "docs bench: {ENTITIES} entities x {PAGES} pages ({} MB of text): from scratch {:.2} s; \
         pass with nothing changed {} ms; one page edited {} ms; workers {}",
        bytes / 1_000_000,
        scratch.as_secs_f64(),
        idle.as_millis(),
        one.as_millis(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
}
