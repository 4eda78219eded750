//! Dry-run of a 50-file skeleton, timed in process (what the server does for
//! `POST /v2/dry-run` after parsing the body): takes in the files, renders names and contents,
//! reads the result back as base64 — all in memory, as the dry-run keeps its files there. Prints p50/p90/p99 over 500 runs after 50 warm-up runs.
//! Then a task from `create_task` to its entity registered in the catalog (SQLite in a temporary
//! directory): render, write catalog-info.yaml, publish, register; p50 over 30 tasks.
//! `cargo run --release -p scaffolder --example dry_run_bench [request.json]` — with a path,
//! also writes the request it used so the same body can be sent to Backstage's scaffolder.

use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

fn request() -> Value {
    let mut files = Vec::new();
    for i in 0..50 {
        let text = format!(
            "# ${{{{ values.name }}}} file {i}\n\nOwner: ${{{{ values.owner | upper }}}}\n\
             {{% for t in values.tags %}}- ${{{{ t }}}}\n{{% endfor %}}\
             Description: ${{{{ values.description | truncate(40) }}}}\n{}\n",
            "Some plain text of the skeleton that is copied as it is.\n".repeat(20)
        );
        let dir = if i % 5 == 0 {
            "src/${{ values.name }}"
        } else {
            "docs"
        };
        files.push(
            json!({"path": format!("skeleton/{dir}/f{i}.md"), "base64Content": B64.encode(text)}),
        );
    }
    json!({
        "template": {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": "bench"},
            "spec": {"type": "service", "parameters": [{"required": ["name"], "properties": {"name": {"type": "string"}}}],
                "steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton",
                    "values": {"name": "${{ parameters.name }}", "owner": "team-a", "tags": ["a", "b", "c"],
                        "description": "A service that does one thing well and nothing else at all"}}}],
                "output": {"links": [{"title": "x", "url": "${{ parameters.name }}"}]}}},
        "values": {"name": "bench-service"},
        "directoryContents": files,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let req = request();
    if let Some(path) = std::env::args().nth(1) {
        std::fs::write(path, req.to_string()).unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let mut times = Vec::new();
    for i in 0..550 {
        let r = serde_json::from_value(req.clone()).unwrap();
        let started = Instant::now();
        let out = scaffolder::dryrun::dry_run(
            scaffolder::engine(),
            r,
            &Default::default(),
            work.path(),
            &Default::default(),
        )
        .await
        .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(out["directoryContents"].as_array().unwrap().len(), 50);
        if i >= 50 {
            times.push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    report("dry-run, 50-file skeleton", &mut times);
    task_to_entity().await;
}

fn report(what: &str, times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{what}, {} runs: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        times.len(),
        p(0.5),
        p(0.9),
        p(0.99)
    );
}

const TEMPLATE: &str = r#"
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: svc}
spec:
  type: service
  steps:
    - id: fetch
      action: fetch:template
      input: {url: ./skeleton, values: {name: "${{ parameters.name }}"}}
    - id: write
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: "${{ parameters.name }}"}
          spec: {type: service, lifecycle: experimental, owner: team-a}
    - id: publish
      action: publish:file
      input: {path: "${{ parameters.name }}"}
    - id: register
      action: catalog:register
      input: {repoContentsUrl: "${{ steps.publish.output.repoContentsUrl }}"}
"#;

async fn task_to_entity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("skeleton")).unwrap();
    std::fs::write(dir.path().join("template.yaml"), TEMPLATE).unwrap();
    for i in 0..10 {
        std::fs::write(
            dir.path().join(format!("skeleton/f{i}.md")),
            "# ${{ values.name }}\n",
        )
        .unwrap();
    }
    let settings = catalog::CatalogSettings {
        locations: vec![(
            catalog::LocationSpec::new("file", &dir.path().join("template.yaml").to_string_lossy()),
            vec![],
        )],
        ..Default::default()
    };
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let catalog = catalog::Catalog::connect(settings, &url).await.unwrap();
    catalog.settle().await.unwrap();
    let s = scaffolder::Scaffolder::of(&catalog);
    s.configure(scaffolder::Settings {
        work_dir: dir.path().join("work"),
        publish_root: Some(dir.path().join("repos")),
        ..Default::default()
    });
    let mut times = Vec::new();
    for i in 0..35 {
        let name = format!("svc-{i}");
        let started = Instant::now();
        s.create_task(
            &catalog,
            "template:default/svc",
            json!({"name": name}),
            json!({}),
            Default::default(),
        )
        .await
        .unwrap();
        let key = format!("component:default/{name}");
        while catalog.snapshot().entity(&key).is_none() {
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
        }
        if i >= 5 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    report("task to registered entity", &mut times);
}
