//! The dry-run corpus (`tests/corpus/*.request.json`) run through Stagedoor and compared with
//! the answers the real Backstage scaffolder gave (`*.expected.json`, recorded by
//! `tests/corpus/record.py`): status codes and error names always; on success the files written
//! (content, executable bit), the output, the echoed steps and every step-status event exactly.
//! Two documented differences are normalised: files are compared sorted by path (Backstage lists
//! them in its glob's order), and a secret is masked where it appears in a line rather than the
//! whole line.

use serde_json::{Value, json};

fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn sorted_files(v: &Value) -> Vec<Value> {
    let mut files = v.as_array().cloned().unwrap_or_default();
    files.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    files
}

fn status_events(log: &Value) -> Vec<Value> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].clone())
        .filter(|b| b.get("status").is_some() || b.get("stepId").is_none())
        .collect()
}

/// The `info:` lines that carry a template's own message (debug:log and dry-run inputs).
fn message_lines(log: &Value) -> Vec<String> {
    log.as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"]["message"].as_str())
        .filter(|m| m.contains("dry-run mode with inputs"))
        .map(str::to_owned)
        .collect()
}

async fn run_case(name: &str) -> (u16, Value) {
    let request: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join(format!("{name}.request.json"))).unwrap(),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let req = serde_json::from_value(request).unwrap();
    match scaffolder::dryrun::dry_run(
        scaffolder::engine(),
        req,
        &Default::default(),
        work.path(),
        &Default::default(),
    )
    .await
    {
        Ok(body) => (200, body),
        Err(e) => (
            e.status(),
            match e {
                scaffolder::ScaffolderError::Values(errors) => json!({"errors": errors}),
                other => json!({"error": {"name": other.name(), "message": other.to_string()}}),
            },
        ),
    }
}

#[tokio::test]
async fn every_case_matches_the_recorded_backstage_answer() {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .strip_suffix(".expected.json")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 12, "corpus has {} cases", names.len());
    for name in names {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(corpus_dir().join(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let (status, body) = run_case(&name).await;
        assert_eq!(
            status,
            expected["status"].as_u64().unwrap() as u16,
            "{name}: {body}"
        );
        let want = &expected["body"];
        if status != 200 {
            if let Some(errors) = want.get("errors") {
                assert_eq!(&body["errors"], errors, "{name}");
            } else {
                assert_eq!(body["error"]["name"], want["error"]["name"], "{name}");
                // Our render errors word minijinja's diagnosis; the others are Backstage's words.
                if want["error"]["name"] != "TemplateRenderError" {
                    assert_eq!(body["error"]["message"], want["error"]["message"], "{name}");
                }
            }
            continue;
        }
        assert_eq!(
            sorted_files(&body["directoryContents"]),
            sorted_files(&want["directoryContents"]),
            "{name}: files"
        );
        assert_eq!(body["output"], want["output"], "{name}: output");
        assert_eq!(body["steps"], want["steps"], "{name}: steps");
        assert_eq!(
            status_events(&body["log"]),
            status_events(&want["log"]),
            "{name}: step events"
        );
        if name != "secrets" {
            assert_eq!(
                message_lines(&body["log"]),
                message_lines(&want["log"]),
                "{name}: inputs"
            );
        }
    }
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let (status, body) = run_case("secrets").await;
    assert_eq!(status, 200);
    let text = body["log"].to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("token is ***"), "{text}");
}
