//! Dry-run of a 50-file skeleton, timed in process (what the server does for
//! `POST /v2/dry-run` after parsing the body): writes the files, renders names and contents,
//! reads the result back as base64. Prints p50/p90/p99 over 500 runs after 50 warm-up runs.
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
    times.sort_by(f64::total_cmp);
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "dry-run, 50-file skeleton, {} runs: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        times.len(),
        p(0.5),
        p(0.9),
        p(0.99)
    );
}
