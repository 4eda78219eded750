//! `stagedoor org-import` as an operator runs it, against a real slapd: the config in
//! Backstage's `ldap.providers` shape with the bind secret from `${VAR}`, a dry run that prints
//! what would be added (and the entries left out) and writes nothing, an import, and a JSON
//! dry run afterwards that finds nothing to change. The secret is never printed.

use std::process::{Command, Output};

use org::testing::{ADMIN, PASSWORD, SUFFIX, Slapd};
use serde_json::Value;

fn org_import(config: &std::path::Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stagedoor"))
        .arg("org-import")
        .arg("--config")
        .arg(config)
        .args(["--db", db])
        .args(args)
        .env("ORG_TEST_LDAP_SECRET", PASSWORD)
        .output()
        .unwrap()
}

#[test]
fn dry_run_then_import_then_nothing_to_change() {
    let Some(slapd) = Slapd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("app-config.yaml");
    std::fs::write(
        &config,
        format!(
            "ldap:\n  providers:\n    - id: corp\n      target: {url}\n      bind:\n        dn: {ADMIN}\n        secret: ${{ORG_TEST_LDAP_SECRET}}\n      users:\n        - dn: ou=people,{SUFFIX}\n          options:\n            filter: (objectClass=inetOrgPerson)\n        - dn: ou=contractors,{SUFFIX}\n      groups:\n        - dn: ou=groups,{SUFFIX}\n          options:\n            filter: (objectClass=groupOfNames)\norgImport:\n  outputDir: org\n",
            url = slapd.url
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", tmp.path().join("sd.db").display());
    let generated = tmp.path().join("org/corp.yaml");

    let out = org_import(&config, &db, &["--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("source corp (ldap) -> {}", generated.display())),
        "{stdout}"
    );
    assert!(stdout.contains("  + user:default/alice\n"), "{stdout}");
    assert!(
        stdout.contains("      spec.memberOf: [\"platform\"]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  + group:default/engineering\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  ! user cn=Nameless Person,ou=people,dc=example,dc=org: missing required attribute uid"), "{stdout}");
    assert!(
        stdout.contains(
            "6 added, 0 changed, 0 removed, 0 unchanged, 2 left out; dry run: nothing written"
        ),
        "{stdout}"
    );
    assert!(!generated.exists());
    assert!(!stdout.contains(PASSWORD) && !String::from_utf8_lossy(&out.stderr).contains(PASSWORD));

    let out = org_import(&config, &db, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sources"][0]["written"], true);
    assert_eq!(report["sources"][0]["registered"], true);
    assert!(
        std::fs::read_to_string(&generated)
            .unwrap()
            .contains("\"name\": \"carol_chen\"")
    );

    let out = org_import(&config, &db, &["--dry-run", "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &report["sources"][0];
    assert_eq!(s["unchanged"], 6, "{s:#}");
    assert_eq!(s["added"].as_array().unwrap().len(), 0);

    // The directory down: exit code 1, and the reason.
    drop(slapd);
    let out = org_import(&config, &db, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("failed: ldap://127.0.0.1:"));
}

#[test]
fn help_and_a_config_without_sources() {
    let out = Command::new(env!("CARGO_BIN_EXE_stagedoor"))
        .args(["org-import", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && help.contains("Usage: stagedoor org-import"),
        "{help}"
    );
    assert!(
        help.contains("--dry-run") && help.contains("--format <FORMAT>"),
        "{help}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("app-config.yaml");
    std::fs::write(&config, "catalog:\n  locations: []\n").unwrap();
    let out = org_import(&config, "sqlite::memory:", &["--dry-run"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no org import source is configured"));
}

/// Kills the server (by its own process id) when the test ends, pass or fail.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_imports_on_schedule_and_serves_the_result() {
    let Some(slapd) = Slapd::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = tmp.path().join("app-config.yaml");
    std::fs::write(
        &config,
        format!(
            "server:\n  listen: 127.0.0.1:{port}\ncatalog:\n  providers:\n    ldapOrg:\n      corp:\n        target: {url}\n        bind: {{dn: '{ADMIN}', secret: '{PASSWORD}'}}\n        users: {{dn: 'ou=people,{SUFFIX}'}}\n        groups: {{dn: 'ou=groups,{SUFFIX}', options: {{filter: '(objectClass=groupOfNames)'}}}}\norgImport:\n  intervalSeconds: 3600\n  outputDir: org\n",
            url = slapd.url
        ),
    )
    .unwrap();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_stagedoor"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .args([
                "--db",
                &format!("sqlite://{}", tmp.path().join("sd.db").display()),
            ])
            .current_dir(tmp.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no import within 60 s"
        );
        if let Ok(r) = http
            .get(format!("{base}/api/discovery/v1/org-import"))
            .send()
            .await
            && let Ok(v) = r.json::<Value>().await
            && !v["lastImport"].is_null()
        {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let s = &status["lastImport"]["sources"][0];
    assert_eq!(s["id"], "corp");
    assert_eq!(
        (s["users"].as_u64(), s["groups"].as_u64()),
        (Some(3), Some(3)),
        "{s:#}"
    );
    assert!(tmp.path().join("org/corp.yaml").exists());
    let alice: Value = http
        .get(format!(
            "{base}/api/catalog/entities/by-name/user/default/alice"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(alice["spec"]["memberOf"], serde_json::json!(["platform"]));
    // Relations are the catalog's own: the group lists its member.
    let platform: Value = http
        .get(format!(
            "{base}/api/catalog/entities/by-name/group/default/platform"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let members: Vec<&str> = platform["relations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "hasMember")
        .map(|r| r["targetRef"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["user:default/alice", "user:default/carol_chen"]);
}
