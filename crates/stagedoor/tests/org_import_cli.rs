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
