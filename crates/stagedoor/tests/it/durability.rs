//! What `stagedoor serve` has served survives a crash, and its fatal errors keep secrets: uids
//! seen once `/readyz` is 200 are the uids after a kill -9 and a restart (SQLite and PostgreSQL),
//! and a database password never reaches the log, human or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use store::testing::TestDb;

use crate::common;
use common::free_port;

fn serve(db: &str, port: u16, location: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stagedoor"))
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--location")
        .arg(location)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(http: &reqwest::Client, port: u16) {
    let started = Instant::now();
    loop {
        let r = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if r.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not ready in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every entity's name and uid, as served.
async fn uids(http: &reqwest::Client, port: u16) -> BTreeMap<String, String> {
    let url =
        format!("http://127.0.0.1:{port}/api/catalog/entities?fields=metadata.name,metadata.uid");
    let items: Vec<serde_json::Value> = http.get(url).send().await.unwrap().json().await.unwrap();
    items
        .iter()
        .map(|e| {
            let m = &e["metadata"];
            (
                m["name"].as_str().unwrap().to_owned(),
                m["uid"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn uids_survive_a_kill_right_after_ready(db: TestDb) {
    // Enough entities that writing them takes a while after processing ends.
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::new();
    for i in 0..5000 {
        write!(
            yaml,
            "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{i}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{}\n",
            i % 20
        )
        .unwrap();
    }
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(&file, yaml).unwrap();
    let http = reqwest::Client::new();

    let port = free_port();
    let mut first = serve(db.url(), port, &file);
    wait_ready(&http, port).await;
    let before = uids(&http, port).await;
    first.kill().unwrap(); // SIGKILL: nothing is flushed on the way out
    first.wait().unwrap();
    assert_eq!(
        before.len(),
        5001,
        "every component and the generated Location"
    );

    let port = free_port();
    let mut second = serve(db.url(), port, &file);
    wait_ready(&http, port).await;
    let after = uids(&http, port).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let changed = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .count();
    assert_eq!(
        changed,
        0,
        "{changed} of {} entities changed uid across the crash",
        before.len()
    );
}

store::on_each_database!(uids_survive_a_kill_right_after_ready);

#[test]
fn a_fatal_database_error_masks_the_password() {
    for format in ["human", "json"] {
        for url in [
            "postgres://u:s3cret-pw@127.0.0.1:1/x?sslmode=bogus",
            "mysql://u:s3cret-pw@h/x?token=s3cret-pw",
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_stagedoor"))
                .args(["serve", "--db", url, "--listen", "127.0.0.1:0"])
                .env("STAGEDOOR_LOG_FORMAT", format)
                .env_remove("RUST_BACKTRACE")
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.status.success(), "{url}: should fail");
            assert!(
                !text.contains("s3cret-pw"),
                "{format} log shows the secret:\n{text}"
            );
            assert!(
                text.contains("u:***@"),
                "{format} log names the database, masked:\n{text}"
            );
        }
    }
}
