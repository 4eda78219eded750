//! Validation of Stagedoor's own kinds (Scorecard, Campaign): what is accepted, and that each
//! mistake is reported at the field it concerns.

use model::validate::{Problem, validate};
use serde_json::{Value, json};

fn problems(v: Value) -> Vec<Problem> {
    validate(v.as_object().expect("an object"))
}

fn paths(v: Value) -> Vec<String> {
    problems(v).into_iter().map(|p| p.path).collect()
}

fn scorecard(spec: Value) -> Value {
    json!({
        "apiVersion": "stagedoor.dev/v1alpha1", "kind": "Scorecard",
        "metadata": {"name": "production-readiness", "title": "Production readiness"},
        "spec": spec,
    })
}

fn good_spec() -> Value {
    json!({
        "owner": "group:default/platform",
        "filter": "kind=component,spec.lifecycle=production",
        "levels": ["bronze", "silver", "gold"],
        "checks": [
            {"id": "has-description", "title": "Has a description", "level": "bronze",
             "expression": "has(entity.metadata.description) && size(entity.metadata.description) >= 20",
             "fix": "Add one sentence saying what this does and for whom."},
            {"id": "on-call", "title": "Paged through PagerDuty", "level": "silver",
             "expression": "\"pagerduty.com/integration-key\" in entity.metadata.annotations"},
            {"id": "owner", "title": "Owned by a team", "level": "gold",
             "expression": "facts.owner_exists && facts.owner_kind == 'group' && facts.dependents >= 0"},
        ],
    })
}

fn campaign(spec: Value) -> Value {
    json!({
        "apiVersion": "stagedoor.dev/v1alpha1", "kind": "Campaign",
        "metadata": {"name": "pagerduty-by-september"},
        "spec": spec,
    })
}

fn good_campaign() -> Value {
    json!({
        "owner": "group:default/platform",
        "filter": "kind=component,spec.lifecycle=production",
        "checks": ["production-readiness/on-call"],
        "start": "2026-09-01",
        "deadline": "2026-09-21",
    })
}

fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    *base.pointer_mut(pointer).expect("the field exists") = value;
    base
}

#[test]
fn the_issues_examples_are_valid() {
    assert_eq!(problems(scorecard(good_spec())), vec![]);
    assert_eq!(problems(campaign(good_campaign())), vec![]);
}

#[test]
fn our_kinds_need_our_api_version() {
    let mut s = scorecard(good_spec());
    s["apiVersion"] = json!("backstage.io/v1alpha1");
    let found = problems(s);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "apiVersion");
    assert!(found[0].message.contains("stagedoor.dev/v1alpha1"));
}

#[test]
fn scorecard_spec_mistakes_name_their_field() {
    let s = |p: &str, v: Value| paths(scorecard(with(good_spec(), p, v)));
    assert_eq!(s("/owner", json!(7)), ["spec.owner"]);
    assert_eq!(s("/filter", json!("")), ["spec.filter"]);
    assert_eq!(s("/filter", json!("kind=a,=b")), ["spec.filter"]);
    assert_eq!(s("/levels", json!([])), ["spec.levels"]);
    assert_eq!(
        s("/levels", json!(["bronze", "bronze", "silver", "gold"])),
        ["spec.levels.1"]
    );
    assert_eq!(s("/checks", json!([])), ["spec.checks"]);
    assert_eq!(
        s("/checks/1/id", json!("has-description")),
        ["spec.checks.1.id"]
    );
    assert_eq!(s("/checks/1/id", json!("not valid!")), ["spec.checks.1.id"]);
    assert_eq!(s("/checks/0/title", Value::Null), ["spec.checks.0.title"]);
    assert_eq!(
        s("/checks/2/level", json!("platinum")),
        ["spec.checks.2.level"]
    );
    assert_eq!(s("/checks/2", json!("a string")), ["spec.checks.2"]);
    assert_eq!(s("/checks/0/fix", json!("")), ["spec.checks.0.fix"]);
}

#[test]
fn a_level_not_in_levels_says_which_levels_there_are() {
    let found = problems(scorecard(with(
        good_spec(),
        "/checks/2/level",
        json!("platinum"),
    )));
    assert_eq!(
        found[0].message,
        "level \"platinum\" is not one of spec.levels (bronze, silver, gold)"
    );
}

#[test]
fn a_bad_expression_is_an_error_at_the_expression() {
    let found = problems(scorecard(with(
        good_spec(),
        "/checks/1/expression",
        json!("entity.metadata.name ==="),
    )));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "spec.checks.1.expression");
    assert!(
        found[0]
            .message
            .starts_with("invalid CEL expression: 1:24: Syntax error:"),
        "{}",
        found[0].message
    );
    assert!(
        !found[0].message.contains('^'),
        "no caret drawing: {}",
        found[0].message
    );
}

#[test]
fn an_unknown_fact_is_named_with_the_known_ones() {
    let found = problems(scorecard(with(
        good_spec(),
        "/checks/0/expression",
        json!("facts.owner_exists && facts.pager_duty"),
    )));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "spec.checks.0.expression");
    assert!(
        found[0].message.contains("unknown fact facts.pager_duty")
            && found[0].message.contains("owner_exists"),
        "{}",
        found[0].message
    );
    // Inside a string literal it is text, not a fact.
    let quoted = with(
        good_spec(),
        "/checks/0/expression",
        json!("entity.metadata.name != 'facts.nope'"),
    );
    assert_eq!(problems(scorecard(quoted)), vec![]);
}

#[test]
fn repository_facts_validate_by_their_nested_names() {
    let expression = |e: &str| {
        problems(scorecard(with(
            good_spec(),
            "/checks/0/expression",
            json!(e),
        )))
    };
    for good in [
        "facts.days_since_change >= 0 && facts.days_since_change < 90",
        "facts.repo.known && facts.repo.has_readme && facts.repo.has_codeowners",
        "facts.repo.has_license && facts.repo.has_ci && !facts.repo.has_dockerfile",
        "'Go' in facts.repo.languages && facts.repo.languages.exists(l, l == 'Rust')",
        "'Cargo.toml' in facts.repo.manifests",
        "!('react' in facts.repo.frameworks) || facts.repo.frameworks.react >= 18",
        "facts.repo.frameworks['actix-web'] >= 4 && size(facts.repo.frameworks) > 0",
        "has(facts.repo.frameworks.tokio) && facts.repo.frameworks.tokio == 1",
        "facts.owner_kind.startsWith('g') && facts.repo.languages.size() > 0",
        "facts.repo.has_readme || entity.metadata.name == 'facts.repo.nope'",
    ] {
        assert_eq!(expression(good), vec![], "{good}");
    }

    let found = expression("facts.repo.has_readme && facts.repo.nope");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "spec.checks.0.expression");
    assert!(
        found[0].message.contains("unknown fact facts.repo.nope")
            && found[0].message.contains("has_readme")
            && found[0].message.contains("frameworks"),
        "{}",
        found[0].message
    );
    let found = expression("facts.nope.has_readme");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.contains("unknown fact facts.nope;")
            && found[0].message.contains("days_since_change, repo"),
        "{}",
        found[0].message
    );
    // A repository fact is not a top-level one.
    let found = expression("facts.has_readme");
    assert!(
        found[0].message.contains("unknown fact facts.has_readme"),
        "{}",
        found[0].message
    );
}

#[test]
fn expressions_and_checks_are_bounded() {
    let long = format!("{}true", "true && ".repeat(1000));
    let found = problems(scorecard(with(
        good_spec(),
        "/checks/0/expression",
        json!(long),
    )));
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.contains("at most 4096"),
        "{}",
        found[0].message
    );

    let check = good_spec()["checks"][0].clone();
    let many: Vec<Value> = (0..101)
        .map(|i| with(check.clone(), "/id", json!(format!("c{i}"))))
        .collect();
    assert_eq!(
        paths(scorecard(with(good_spec(), "/checks", json!(many)))),
        ["spec.checks"]
    );
}

#[test]
fn campaign_spec_mistakes_name_their_field() {
    let c = |p: &str, v: Value| paths(campaign(with(good_campaign(), p, v)));
    assert_eq!(c("/checks", json!([])), ["spec.checks"]);
    assert_eq!(c("/checks", json!(["on-call"])), ["spec.checks.0"]);
    assert_eq!(c("/checks", json!(["a/b/c"])), ["spec.checks.0"]);
    assert_eq!(c("/start", json!("1 September")), ["spec.start"]);
    assert_eq!(c("/deadline", json!("2026-02-30")), ["spec.deadline"]);
    assert_eq!(c("/deadline", json!("2026-08-31")), ["spec.deadline"]);
    assert_eq!(c("/filter", Value::Null), ["spec.filter"]);
    assert_eq!(c("/owner", json!("")), ["spec.owner"]);
    assert_eq!(c("/start", json!("2024-02-29")), Vec::<String>::new());
}

#[test]
fn our_kinds_are_owned() {
    let s = scorecard(good_spec());
    let me = model::EntityRef::new("Scorecard", "default", "production-readiness");
    let (rels, problems) = model::relations::outgoing(s.as_object().unwrap(), &me);
    assert!(problems.is_empty());
    assert_eq!(rels.len(), 1);
    assert_eq!(rels[0].1.to_string(), "group:default/platform");
}

#[test]
fn exemptions_name_an_entity_one_of_the_checks_a_reason_and_an_end() {
    let mut spec = good_spec();
    spec["exemptions"] = json!([
        {"entity": "component:default/legacy-billing", "check": "on-call",
         "reason": "Replaced by billing-v2 in Q1", "until": "2027-03-31"},
    ]);
    assert_eq!(problems(scorecard(spec.clone())), vec![]);
    spec["exemptions"] = json!([
        {"entity": "not a ref:", "check": "nope", "reason": "", "until": "soon"},
        "on-call",
    ]);
    assert_eq!(
        paths(scorecard(spec)),
        vec![
            "spec.exemptions.0.entity",
            "spec.exemptions.0.check",
            "spec.exemptions.0.reason",
            "spec.exemptions.0.until",
            "spec.exemptions.1",
        ]
    );
}
