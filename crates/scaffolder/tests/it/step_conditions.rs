//! Backstage 4.2's conditions beyond a step's `if`: status checks (after a failed step, only the
//! steps whose `if` calls `always()` or `failure()` run; the task still fails with the first
//! error), an `each` step's `if` decided per iteration, and output links and text with their
//! own `if`.

use scaffolder::{ScaffolderError, Template};
use serde_json::{Value, json};

use crate::support::template;

/// Runs `steps` (no template directory) and returns the first error and every log message.
async fn run(steps: Value) -> (Option<ScaffolderError>, Vec<String>) {
    let (error, log, _) = run_with_output(template(steps)).await;
    (error, log)
}

async fn run_with_output(entity: Value) -> (Option<ScaffolderError>, Vec<String>, Value) {
    let (result, log) =
        crate::support::run_template(&Template::from_entity(&entity).unwrap()).await;
    let (error, output) = match result {
        Ok(outcome) => (None, outcome.output),
        Err(f) => (Some(f.error), Value::Null),
    };
    let messages = log
        .events
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .collect();
    (error, messages, output)
}

fn log_step(id: &str, condition: Option<&str>) -> Value {
    let mut step =
        json!({"id": id, "action": "debug:log", "input": {"message": format!("ran {id}")}});
    if let Some(c) = condition {
        step["if"] = json!(c);
    }
    step
}

#[tokio::test]
async fn after_a_failure_only_status_checked_steps_run() {
    let (error, log) = run(json!([
        log_step("first", Some("${{ failure() }}")),
        {"id": "broken", "action": "fetch:plain", "input": {"url": "./missing"}},
        log_step("plain", None),
        log_step("cleanup", Some("${{ always() }}")),
        log_step("on-failure", Some("${{ failure() }}")),
        log_step("not-on-failure", Some("${{ not failure() }}")),
    ]))
    .await;
    assert!(error.is_some(), "the task fails with the first error");
    let has = |m: &str| log.iter().any(|l| l.contains(m));
    assert!(
        has("Skipping step first because its if condition was false"),
        "{log:#?}"
    );
    assert!(
        has("Skipping step plain because a previous step failed"),
        "{log:#?}"
    );
    assert!(has("ran cleanup"), "{log:#?}");
    assert!(has("ran on-failure"), "{log:#?}");
    assert!(
        has("Skipping step not-on-failure because its if condition was false"),
        "{log:#?}"
    );
    assert!(!has("ran plain") && !has("ran first"), "{log:#?}");
}

#[tokio::test]
async fn without_a_failure_always_runs_and_failure_is_false() {
    let (error, log) = run(json!([
        log_step("a", Some("${{ always() }}")),
        log_step("b", Some("${{ failure() }}")),
    ]))
    .await;
    assert!(error.is_none());
    assert!(log.iter().any(|l| l.contains("ran a")), "{log:#?}");
    assert!(!log.iter().any(|l| l.contains("ran b")), "{log:#?}");
}

#[tokio::test]
async fn output_links_and_text_keep_only_items_whose_if_holds() {
    let mut entity = template(json!([log_step("a", None)]));
    entity["spec"]["output"] = json!({
        "links": [
            {"title": "always", "url": "https://a.test"},
            {"title": "shown", "url": "https://b.test", "if": "${{ steps.a.output | length == 0 }}"},
            {"title": "hidden", "url": "https://c.test", "if": "${{ false }}"},
            {"title": "empty list", "url": "https://d.test", "if": "${{ [] }}"},
        ],
        "text": [{"title": "t", "content": "x", "if": false}],
    });
    let (error, _, output) = run_with_output(entity).await;
    assert!(error.is_none());
    assert_eq!(
        output["links"],
        json!([
            {"title": "always", "url": "https://a.test"},
            {"title": "shown", "url": "https://b.test"},
        ])
    );
    assert_eq!(output["text"], json!([]));
}

#[tokio::test]
async fn an_each_step_decides_its_if_per_iteration() {
    let (error, log) = run(json!([
        {"id": "per", "action": "debug:log", "each": ["a", "b", "c"],
            "if": "${{ each.value != 'b' }}", "input": {"message": "ran ${{ each.value }}"}},
        {"id": "objects", "action": "debug:log", "each": [{"n": 1}],
            "input": {"message": "object ${{ each.value.n }}"}},
    ]))
    .await;
    assert!(error.is_none());
    let has = |m: &str| log.iter().any(|l| l.contains(m));
    assert!(has("ran a") && has("ran c") && !has("ran b"), "{log:#?}");
    assert!(
        has(r#"Skipping step each: {"key":"1","value":"b"}"#),
        "{log:#?}"
    );
    assert!(
        has(r#"Running step each: {"key":"0","value":"[object Object]"}"#),
        "{log:#?}"
    );
    assert!(has("object 1"), "{log:#?}");
}
