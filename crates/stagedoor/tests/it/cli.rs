//! The binary's commands, run as a user would run them.

use std::process::Command;

fn stagedoor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stagedoor"))
}

#[test]
fn validate_finds_exactly_the_demo_mistakes_with_their_lines() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo");
    let out = stagedoor()
        .args(["validate", "--format", "json", demo])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "problems mean a non-zero exit");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems: Vec<(String, u64)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let file = p["file"].as_str().unwrap();
            (
                file.rsplit('/').next().unwrap().to_owned(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            ("invalid-name.yaml".to_owned(), 10),
            ("yaml-syntax-error.yaml".to_owned(), 16)
        ]
    );
    assert!(report["entities"].as_u64().unwrap() > 50);
}

#[test]
fn validate_passes_good_files_and_prints_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n").unwrap();
    let out = stagedoor().args(["validate"]).arg(&good).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n  tags: [Not_Valid]\nspec:\n  type: team\n").unwrap();
    let out = stagedoor().args(["validate"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("{}:5:", bad.display())), "{text}");
    assert!(
        text.contains("spec.children"),
        "a Group needs children: {text}"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["validate", "--help"],
        vec!["discover", "--help"],
        vec!["org-import", "--help"],
        vec!["render", "--help"],
    ] {
        let out = stagedoor().args(&args).output().unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8(out.stdout)
                .unwrap()
                .contains("Usage: stagedoor")
        );
    }
}

#[test]
fn validate_reports_a_bad_scorecard_check_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scorecard.yaml");
    std::fs::write(
        &file,
        "apiVersion: stagedoor.dev/v1alpha1\nkind: Scorecard\nmetadata: { name: readiness }\nspec:\n  owner: group:default/platform\n  filter: kind=component\n  levels: [bronze]\n  checks:\n    - id: described\n      title: Has a description\n      level: silver\n      expression: has(entity.metadata.description) &&\n",
    )
    .unwrap();
    let out = stagedoor().args(["validate"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("scorecard.yaml:11:7: spec.checks.0.level: level \"silver\" is not one of spec.levels (bronze)"),
        "{text}"
    );
    assert!(
        text.contains("scorecard.yaml:12:7: spec.checks.0.expression: invalid CEL expression: 1:"),
        "{text}"
    );
}

#[test]
fn render_prints_an_expression_as_a_template_would() {
    let run = |args: &[&str]| {
        let out = stagedoor().arg("render").args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let ctx = r#"{"parameters": {"name": "Web App", "tags": ["a", "b"], "n": 3}}"#;
    let (code, out, _) = run(&[
        "${{ parameters.name.split(' ')[0] | lower }}:${{ parameters.tags }}:${{ parameters.n > 2 }}",
        "--context",
        ctx,
    ]);
    assert_eq!((code, out.as_str()), (Some(0), "web:a,b:true"));
    let (code, out, _) = run(&["${{ parameters.n }}", "--value", "--context", ctx]);
    assert_eq!((code, out.as_str()), (Some(0), "3\n"));
    let (code, _, err) = run(&["${{ parameters.n | nosuch }}"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 1") && err.contains("nosuch"), "{err}");
}
