//! `stagedoor discover` as a user runs it: JSON lines per repository, proposals with evidence,
//! owners mapped through catalog files, and `--write` making a branch while the working tree
//! stays as it was.

use std::process::Command;

use discovery::testing::{git, repo_with};

fn stagedoor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stagedoor"))
}

#[test]
fn discover_prints_json_per_repository_and_writes_branches() {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let svc = repo_with(
        &repos.join("billing"),
        &[
            ("Dockerfile", "FROM x\n"),
            ("main.go", "package main\n"),
            (".github/CODEOWNERS", "* @acme/billing-team\n"),
        ],
        ("Alice", "alice@example.com"),
    );
    repo_with(
        &repos.join("cataloged"),
        &[
            ("catalog-info.yaml", "kind: Component\n"),
            ("deep/x/catalog-info.yml", "kind: API\n"),
        ],
        ("Alice", "alice@example.com"),
    );
    std::fs::create_dir_all(repos.join("broken/.git")).unwrap();
    let catalog = tmp.path().join("org.yaml");
    std::fs::write(&catalog, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: billing-team\nspec:\n  type: team\n  children: []\n").unwrap();

    let out = stagedoor()
        .args(["discover", "--format", "json", "--catalog"])
        .arg(&catalog)
        .arg(&repos)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable repository means a non-zero exit"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let billing = lines.iter().find(|l| l["name"] == "billing").unwrap();
    assert_eq!(billing["cataloged"], false);
    assert_eq!(billing["catalogFiles"], serde_json::json!([]));
    assert_eq!(
        billing["path"],
        std::fs::canonicalize(&svc).unwrap().to_str().unwrap()
    );
    let entity = &billing["proposal"]["entity"];
    assert_eq!(entity["kind"], "Component");
    assert_eq!(entity["spec"]["type"], "service");
    assert_eq!(entity["spec"]["owner"], "group:default/billing-team");
    let owner = billing["proposal"]["guesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["field"] == "spec.owner")
        .unwrap();
    assert_eq!(
        owner["evidence"][0],
        ".github/CODEOWNERS:1: * @acme/billing-team (@acme/billing-team is group:default/billing-team)"
    );
    let cataloged = lines.iter().find(|l| l["name"] == "cataloged").unwrap();
    assert_eq!(cataloged["cataloged"], true);
    assert_eq!(
        cataloged["catalogFiles"],
        serde_json::json!(["catalog-info.yaml", "deep/x/catalog-info.yml"])
    );
    assert!(cataloged["proposal"].is_null());
    let broken = lines.iter().find(|l| l.get("error").is_some()).unwrap();
    assert!(broken["path"].as_str().unwrap().ends_with("broken"));

    // --write: a branch with the file in billing; the working tree untouched.
    std::fs::remove_dir_all(repos.join("broken")).unwrap();
    let status = git(&svc, &["status", "--porcelain"]);
    let out = stagedoor()
        .args(["discover", "--write"])
        .arg(&repos)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("wrote catalog-info.yaml on branch stagedoor/catalog-info"),
        "{text}"
    );
    let file = git(&svc, &["show", "stagedoor/catalog-info:catalog-info.yaml"]);
    assert!(file.contains("name: \"billing\""), "{file}");
    assert_eq!(git(&svc, &["status", "--porcelain"]), status);
    assert!(!svc.join("catalog-info.yaml").exists());
    // The default branch is unchanged, so the next run still proposes, and cannot write again.
    let out = stagedoor()
        .args(["discover", "--write"])
        .arg(&repos)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("already exists")
    );
}
