//! Evaluation over small hand-built snapshots: levels, errors, bounds, facts, team counts.

use std::sync::Arc;

use catalog::read::{Snapshot, Stitched};
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use crate::{Evaluation, Summary};

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-09-10T12:00:00Z").unwrap()
}

/// A stitched entity as the catalog serves it; the etag follows the content, as the catalog's
/// does.
fn stitched(v: Value) -> Arc<Stitched> {
    let kind = v["kind"].as_str().unwrap();
    let name = v["metadata"]["name"].as_str().unwrap();
    let key = format!("{kind}:default/{name}").to_ascii_lowercase();
    let body = v.to_string();
    let etag = format!(
        "{:x}",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    Arc::new(Stitched::from_json(key, format!("uid-{name}"), etag, &body))
}

fn component(name: &str, owner: Option<&str>, extra: Value) -> Value {
    let mut c = json!({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": name, "namespace": "default", "annotations": {}},
        "spec": {"type": "service", "lifecycle": "production"},
        "relations": [],
    });
    if let Some(o) = owner {
        c["spec"]["owner"] = json!(o);
        c["relations"] = json!([{"type": "ownedBy", "targetRef": o}]);
    }
    merge(&mut c, extra);
    c
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

fn group(name: &str) -> Value {
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"type": "team", "children": []}})
}

fn scorecard(name: &str, filter: &str, levels: &[&str], checks: Value) -> Value {
    json!({"apiVersion": "stagedoor.dev/v1alpha1", "kind": "Scorecard",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"owner": "group:default/platform", "filter": filter, "levels": levels, "checks": checks},
           "relations": [{"type": "ownedBy", "targetRef": "group:default/platform"}]})
}

fn check(id: &str, level: &str, expression: &str) -> Value {
    json!({"id": id, "title": id, "level": level, "expression": expression, "fix": format!("fix {id}")})
}

fn readiness() -> Value {
    scorecard(
        "readiness",
        "kind=component",
        &["bronze", "silver", "gold"],
        json!([
            check("described", "bronze", "has(entity.metadata.description)"),
            check(
                "on-call",
                "silver",
                "'pagerduty.com/integration-key' in entity.metadata.annotations"
            ),
            check("docs", "gold", "facts.has_docs"),
        ]),
    )
}

fn evaluate(entities: Vec<Value>) -> Evaluation {
    Evaluation::build(
        &Snapshot::of(entities.into_iter().map(stitched).collect()),
        now(),
    )
}

fn level_of(e: &Evaluation, key: &str) -> Option<String> {
    let found = e.for_entity(key);
    assert_eq!(found.len(), 1, "{key} is scored by one scorecard");
    let (card, score) = found[0];
    score.level.map(|l| card.levels[l].clone())
}

#[test]
fn a_level_needs_its_checks_and_every_lower_levels() {
    let pd = json!({"metadata": {"annotations": {"pagerduty.com/integration-key": "k"}}});
    let docs = json!({"metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}});
    let e = evaluate(vec![
        readiness(),
        component("none", None, json!({})),
        component("bronze", None, json!({"metadata": {"description": "d"}})),
        component("silver", None, {
            let mut v = pd.clone();
            merge(&mut v, json!({"metadata": {"description": "d"}}));
            v
        }),
        component("gold", None, {
            let mut v = pd.clone();
            merge(&mut v, docs.clone());
            merge(&mut v, json!({"metadata": {"description": "d"}}));
            v
        }),
        // Passes silver and gold but not bronze: no level at all.
        component("skipper", None, {
            let mut v = pd;
            merge(&mut v, docs);
            v
        }),
    ]);
    assert_eq!(level_of(&e, "component:default/none"), None);
    assert_eq!(
        level_of(&e, "component:default/bronze").as_deref(),
        Some("bronze")
    );
    assert_eq!(
        level_of(&e, "component:default/silver").as_deref(),
        Some("silver")
    );
    assert_eq!(
        level_of(&e, "component:default/gold").as_deref(),
        Some("gold")
    );
    assert_eq!(level_of(&e, "component:default/skipper"), None);
}

#[test]
fn a_level_without_checks_is_reached_with_the_ones_below() {
    let card = scorecard(
        "sparse",
        "kind=component",
        &["bronze", "silver", "gold"],
        json!([check("always", "bronze", "true")]),
    );
    let e = evaluate(vec![card, component("a", None, json!({}))]);
    assert_eq!(level_of(&e, "component:default/a").as_deref(), Some("gold"));
}

#[test]
fn evaluation_errors_fail_only_their_check_and_say_why() {
    let card = scorecard(
        "errors",
        "kind=component",
        &["bronze"],
        json!([
            check(
                "missing-field",
                "bronze",
                "size(entity.metadata.description) > 3"
            ),
            check("not-bool", "bronze", "entity.metadata.name"),
            check("divide", "bronze", "1 / 0 == 1"),
            check("fine", "bronze", "entity.metadata.name == 'a'"),
        ]),
    );
    let e = evaluate(vec![card, component("a", None, json!({}))]);
    let (_, score) = e.for_entity("component:default/a")[0];
    let errors: Vec<Option<&str>> = score.checks.iter().map(|c| c.error.as_deref()).collect();
    assert_eq!(errors[0], Some("No such key: description"));
    assert!(errors[1].unwrap().contains("not a boolean"), "{errors:?}");
    assert!(errors[2].unwrap().contains("zero"), "{errors:?}");
    assert_eq!(errors[3], None);
    assert!(score.checks[3].passed);
    assert!(score.checks[..3].iter().all(|c| !c.passed));
    assert_eq!(score.level, None);
}

#[test]
fn bad_and_oversized_expressions_are_check_errors_not_panics() {
    // The catalog refuses these at validation; the evaluator must still cope with them.
    let long = format!("{}true", "true && ".repeat(1000));
    let card = scorecard(
        "bad",
        "kind=component",
        &["bronze"],
        json!([
            check("syntax", "bronze", "entity.metadata.name ==="),
            check("long", "bronze", &long),
            check("fact", "bronze", "facts.nope"),
            check("level", "platinum", "true"),
        ]),
    );
    let e = evaluate(vec![card, component("a", None, json!({}))]);
    let (card, score) = e.for_entity("component:default/a")[0];
    let compile: Vec<String> = card
        .checks
        .iter()
        .map(|c| c.program.as_ref().err().cloned().unwrap_or_default())
        .collect();
    assert!(
        compile[0].starts_with("invalid CEL expression"),
        "{compile:?}"
    );
    assert!(
        compile[1].contains("at most 4096 are allowed"),
        "{compile:?}"
    );
    assert!(
        compile[2].contains("unknown fact facts.nope"),
        "{compile:?}"
    );
    assert!(compile[3].contains("not one of spec.levels"), "{compile:?}");
    for (c, r) in compile.iter().zip(&score.checks) {
        assert_eq!(r.error.as_deref(), Some(c.as_str()));
    }
}

#[test]
fn facts_describe_owner_docs_and_dependents() {
    let card = scorecard(
        "facts",
        "kind=component",
        &["bronze"],
        json!([
            check(
                "owner",
                "bronze",
                "facts.owner_exists && facts.owner_kind == 'group'"
            ),
            check("popular", "bronze", "facts.dependents >= 2"),
        ]),
    );
    let used = json!({"relations": [
        {"type": "ownedBy", "targetRef": "group:default/team-a"},
        {"type": "dependencyOf", "targetRef": "component:default/x"},
        {"type": "apiConsumedBy", "targetRef": "component:default/y"},
    ]});
    let e = evaluate(vec![
        card,
        group("team-a"),
        component("owned", Some("group:default/team-a"), used),
        component("orphaned", Some("group:default/gone"), json!({})),
    ]);
    let passed = |key: &str| -> Vec<bool> {
        e.for_entity(key)[0]
            .1
            .checks
            .iter()
            .map(|c| c.passed)
            .collect()
    };
    assert_eq!(passed("component:default/owned"), [true, true]);
    assert_eq!(passed("component:default/orphaned"), [false, false]);
}

#[test]
fn now_is_a_timestamp() {
    let card = scorecard(
        "time",
        "kind=component",
        &["bronze"],
        json!([check(
            "after",
            "bronze",
            "now > timestamp('2026-09-01T00:00:00Z')"
        )]),
    );
    let e = evaluate(vec![card, component("a", None, json!({}))]);
    let (_, score) = e.for_entity("component:default/a")[0];
    assert_eq!(score.checks[0].error, None);
    assert!(score.checks[0].passed);
}

#[test]
fn only_what_the_filter_selects_is_scored() {
    let mut experimental = component("exp", None, json!({}));
    experimental["spec"]["lifecycle"] = json!("experimental");
    let mut card = readiness();
    card["spec"]["filter"] = json!("kind=component,spec.lifecycle=production");
    let e = evaluate(vec![
        card,
        component("prod", None, json!({})),
        experimental,
        group("g"),
    ]);
    assert_eq!(e.for_entity("component:default/prod").len(), 1);
    assert!(e.for_entity("component:default/exp").is_empty());
    assert!(e.for_entity("group:default/g").is_empty());
    let (_, scores) = e
        .scorecard("default", "Readiness")
        .expect("found by name, any casing");
    assert_eq!(scores.len(), 1);
}

#[test]
fn teams_count_levels_and_checks() {
    let described = json!({"metadata": {"description": "d"}});
    let e = evaluate(vec![
        readiness(),
        component("a1", Some("group:default/a"), described.clone()),
        component("a2", Some("group:default/a"), json!({})),
        component("b1", Some("group:default/b"), described),
        component("loose", None, json!({})),
    ]);
    let (card, scores) = e.scorecard("default", "readiness").unwrap();
    let summary = Summary::of(card, scores);
    assert_eq!(summary.all.total, 4);
    assert_eq!(summary.all.none, 2);
    assert_eq!(summary.all.levels, [2, 0, 0]);
    assert_eq!(summary.all.checks[0].passing, 2);
    assert_eq!(summary.all.checks[0].failing, 2);
    let owners: Vec<Option<&str>> = summary.teams.iter().map(|t| t.owner.as_deref()).collect();
    assert_eq!(
        owners,
        [None, Some("group:default/a"), Some("group:default/b")]
    );
    assert_eq!(summary.teams[1].counts.total, 2);
    assert_eq!(summary.teams[1].counts.levels, [1, 0, 0]);
    assert_eq!(summary.teams[1].counts.none, 1);
}

#[test]
fn a_scorecard_version_is_compiled_once() {
    let card = scorecard(
        "cached",
        "kind=component",
        &["bronze"],
        json!([check("c", "bronze", "true")]),
    );
    let first = evaluate(vec![card.clone(), component("a", None, json!({}))]);
    let second = evaluate(vec![card.clone(), component("b", None, json!({}))]);
    assert!(Arc::ptr_eq(&first.scorecards[0], &second.scorecards[0]));
    let mut edited = card;
    edited["spec"]["checks"][0]["expression"] = json!("false");
    let third = evaluate(vec![edited, component("a", None, json!({}))]);
    assert!(!Arc::ptr_eq(&first.scorecards[0], &third.scorecards[0]));
    assert!(!third.for_entity("component:default/a")[0].1.checks[0].passed);
}

#[test]
fn large_catalogs_are_split_across_workers_in_ref_order() {
    let mut entities = vec![readiness()];
    entities.extend((0..2_000).map(|i| component(&format!("c{i:04}"), None, json!({}))));
    let e = evaluate(entities);
    let (_, scores) = e.scorecard("default", "readiness").unwrap();
    assert_eq!(scores.len(), 2_000);
    assert!(scores.windows(2).all(|w| w[0].entity_key < w[1].entity_key));
}

fn campaign(name: &str, filter: &str, checks: &[&str]) -> Value {
    json!({"apiVersion": "stagedoor.dev/v1alpha1", "kind": "Campaign",
           "metadata": {"name": name, "namespace": "default", "title": "On call"},
           "spec": {"owner": "group:default/platform", "filter": filter, "checks": checks,
                    "start": "2026-09-01", "deadline": "2026-09-21"},
           "relations": [{"type": "ownedBy", "targetRef": "group:default/platform"}]})
}

fn on_call() -> Value {
    json!({"metadata": {"annotations": {"pagerduty.com/integration-key": "k"}}})
}

#[test]
fn a_campaign_counts_entities_and_teams_passing_its_checks() {
    let e = evaluate(vec![
        readiness(),
        campaign("pd", "kind=component", &["readiness/on-call"]),
        group("a"),
        group("b"),
        component("a1", Some("group:default/a"), on_call()),
        component("a2", Some("group:default/a"), on_call()),
        component("b1", Some("group:default/b"), on_call()),
        component("b2", Some("group:default/b"), json!({})),
        component("orphan", None, json!({})),
    ]);
    let c = e.campaign("default", "PD").expect("found in any casing");
    assert_eq!((c.total(), c.passing, c.failing()), (5, 3, 2));
    let teams: Vec<(Option<&str>, usize, usize)> = c
        .teams
        .iter()
        .map(|t| (t.owner.as_deref(), t.total, t.passing))
        .collect();
    assert_eq!(
        teams,
        vec![
            (Some("group:default/a"), 2, 2),
            (Some("group:default/b"), 2, 1),
            (None, 1, 0),
        ]
    );
    assert_eq!(c.finished_teams(), vec!["group:default/a".to_string()]);
    assert_eq!(c.checks[0].title, "on-call");
    assert_eq!(c.checks[0].fix.as_deref(), Some("fix on-call"));
}

#[test]
fn a_campaign_phase_follows_its_dates_and_its_failures() {
    use crate::Phase;
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let failing = evaluate(vec![
        readiness(),
        campaign("pd", "kind=component", &["readiness/on-call"]),
        component("a1", None, json!({})),
    ]);
    let c = &failing.campaigns[0];
    assert_eq!(c.phase(day("2026-08-31")), Phase::NotStarted);
    assert_eq!(c.phase(day("2026-09-01")), Phase::Active);
    assert_eq!(c.phase(day("2026-09-21")), Phase::Active);
    assert_eq!(c.phase(day("2026-09-22")), Phase::Overdue);
    let done = evaluate(vec![
        readiness(),
        campaign("pd", "kind=component", &["readiness/on-call"]),
        component("a1", None, on_call()),
    ]);
    assert_eq!(done.campaigns[0].phase(day("2026-09-22")), Phase::Complete);
}

#[test]
fn a_campaign_covers_entities_outside_the_scorecards_filter() {
    // The scorecard scores components only; the campaign also asks it of APIs.
    let api = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "API",
        "metadata": {"name": "pay-api", "namespace": "default", "annotations": {}},
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "a", "definition": "x"},
        "relations": []});
    let e = evaluate(vec![
        readiness(),
        campaign("pd", "kind=component,kind=api", &["readiness/on-call"]),
        component("a1", None, on_call()),
        api,
    ]);
    let c = &e.campaigns[0];
    let states: Vec<(&str, bool)> = c
        .entities
        .iter()
        .map(|e| (e.entity_ref.as_str(), e.passing()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("api:default/pay-api", false),
            ("component:default/a1", true)
        ]
    );
}

#[test]
fn a_campaign_naming_a_missing_check_fails_everything_and_says_why() {
    let e = evaluate(vec![
        readiness(),
        campaign(
            "pd",
            "kind=component",
            &["readiness/nope", "missing/on-call"],
        ),
        component("a1", None, on_call()),
    ]);
    let c = &e.campaigns[0];
    let errors: Vec<Option<&str>> = c.checks.iter().map(|c| c.error.as_deref()).collect();
    assert_eq!(
        errors,
        vec![
            Some("scorecard \"readiness\" has no check \"nope\""),
            Some("no scorecard named \"missing\" in namespace \"default\""),
        ]
    );
    assert_eq!((c.total(), c.passing), (1, 0));
}

/// A group under `parent` (a full ref), with the `childOf` relation the catalog would add.
fn sub_group(name: &str, parent: &str) -> Value {
    let mut g = group(name);
    g["spec"]["parent"] = json!(parent);
    g["relations"] = json!([{"type": "childOf", "targetRef": parent}]);
    g
}

/// (owner, parent, depth, total, levels, passing per check) of every roll-up node.
type Node = (
    Option<String>,
    Option<String>,
    usize,
    usize,
    Vec<usize>,
    Vec<usize>,
);

fn nodes(entities: Vec<Value>) -> Vec<Node> {
    let snapshot = Snapshot::of(entities.into_iter().map(stitched).collect());
    let e = Evaluation::build(&snapshot, now());
    let (card, scores) = e.scorecard("default", "readiness").unwrap();
    let rollup = crate::RollUp::of(card, scores, &snapshot);
    let all: usize = scores.len();
    assert_eq!(rollup.all.total, all);
    rollup
        .groups
        .iter()
        .map(|g| {
            (
                g.owner.clone(),
                g.parent.clone(),
                g.depth,
                g.counts.total,
                g.counts.levels.clone(),
                g.counts.checks.iter().map(|c| c.passing).collect(),
            )
        })
        .collect()
}

fn node(
    owner: Option<&str>,
    parent: Option<&str>,
    depth: usize,
    total: usize,
    levels: [usize; 3],
    passing: [usize; 3],
) -> Node {
    (
        owner.map(|o| format!("group:default/{o}")),
        parent.map(|p| format!("group:default/{p}")),
        depth,
        total,
        levels.to_vec(),
        passing.to_vec(),
    )
}

#[test]
fn groups_roll_up_everything_their_sub_groups_own() {
    let described = json!({"metadata": {"description": "d"}});
    let silver = {
        let mut v = on_call();
        merge(&mut v, described.clone());
        v
    };
    let owned = |name: &str, owner: &str, extra: &Value| {
        component(name, Some(&format!("group:default/{owner}")), extra.clone())
    };
    let nothing = json!({});
    let got = nodes(vec![
        readiness(),
        group("org"),
        sub_group("dept", "group:default/org"),
        sub_group("team-b", "group:default/dept"),
        sub_group("team-a", "group:default/dept"),
        // A team owning nothing scored is left out.
        sub_group("idle", "group:default/dept"),
        owned("a1", "team-a", &silver),
        owned("a2", "team-a", &nothing),
        owned("b1", "team-b", &described),
        owned("d1", "dept", &silver),
        owned("o1", "org", &nothing),
        // A person owning something is a root of its own.
        component("u1", Some("user:default/ann"), described.clone()),
        component("loose", None, on_call()),
    ]);
    let user = (
        Some("user:default/ann".to_owned()),
        None,
        0,
        1,
        vec![1, 0, 0],
        vec![1, 0, 0],
    );
    assert_eq!(
        got,
        vec![
            node(Some("org"), None, 0, 5, [1, 2, 0], [3, 2, 0]),
            node(Some("dept"), Some("org"), 1, 4, [1, 2, 0], [3, 2, 0]),
            node(Some("team-a"), Some("dept"), 2, 2, [0, 1, 0], [1, 1, 0]),
            node(Some("team-b"), Some("dept"), 2, 1, [1, 0, 0], [1, 0, 0]),
            user,
            node(None, None, 0, 1, [0, 0, 0], [0, 1, 0]),
        ]
    );
}

#[test]
fn a_child_of_cycle_neither_hangs_nor_counts_twice() {
    let cyclic = |name: &str, parents: &[&str]| {
        let mut g = group(name);
        g["relations"] = json!(
            parents
                .iter()
                .map(|p| json!({"type": "childOf", "targetRef": format!("group:default/{p}")}))
                .collect::<Vec<_>>()
        );
        g
    };
    let owned = |name: &str, owner: &str| {
        component(name, Some(&format!("group:default/{owner}")), json!({}))
    };
    let got = nodes(vec![
        readiness(),
        // b → c → d → b, and b is also its own parent; t hangs below the loop.
        cyclic("b", &["b", "c"]),
        cyclic("c", &["d"]),
        cyclic("d", &["b"]),
        cyclic("t", &["c"]),
        owned("b1", "b"),
        owned("t1", "t"),
        owned("t2", "t"),
    ]);
    let summary: Vec<(Option<String>, Option<String>, usize, usize)> = got
        .into_iter()
        .map(|(o, p, depth, total, _, _)| (o, p, depth, total))
        .collect();
    let g = |n: &str| Some(format!("group:default/{n}"));
    assert_eq!(
        summary,
        vec![
            // The loop is cut at its smallest ref: b becomes the root.
            (g("b"), None, 0, 3),
            (g("d"), g("b"), 1, 3),
            (g("c"), g("d"), 2, 3),
            (g("t"), g("c"), 3, 2),
        ]
    );
}

#[test]
fn an_exemption_passes_its_check_until_its_last_day() {
    let mut card = readiness();
    card["spec"]["exemptions"] = json!([
        {"entity": "component:default/legacy", "check": "on-call", "reason": "Retired in Q4", "until": "2026-09-10"},
        {"entity": "component:default/old", "check": "on-call", "reason": "Expired", "until": "2026-09-09"},
    ]);
    let described = json!({"metadata": {"description": "d"}});
    let e = evaluate(vec![
        card,
        campaign("pd", "kind=component", &["readiness/on-call"]),
        component("legacy", None, described.clone()),
        component("old", None, described),
    ]);
    let (_, legacy) = e.for_entity("component:default/legacy")[0];
    assert!(
        legacy.checks[1].passed,
        "exempt on its last day (now is 2026-09-10)"
    );
    let x = legacy.checks[1]
        .exempt
        .as_ref()
        .expect("the exemption is reported");
    assert_eq!(
        (x.reason.as_str(), x.until.to_string().as_str()),
        ("Retired in Q4", "2026-09-10")
    );
    assert_eq!(
        level_of(&e, "component:default/legacy").as_deref(),
        Some("silver")
    );
    let (_, old) = e.for_entity("component:default/old")[0];
    assert!(
        !old.checks[1].passed && old.checks[1].exempt.is_none(),
        "an expired exemption does not apply"
    );
    // Campaigns count the exempt entity as done.
    assert_eq!((e.campaigns[0].total(), e.campaigns[0].passing), (2, 1));
}

#[test]
fn the_next_evaluation_keeps_what_did_not_change() {
    use crate::state::Pushed;
    let card = readiness();
    let mut entities = vec![
        card,
        group("a"),
        campaign("pd", "kind=component", &["readiness/on-call"]),
    ];
    for i in 0..20 {
        entities.push(component(
            &format!("c{i}"),
            Some("group:default/a"),
            json!({}),
        ));
    }
    let first_snap = Snapshot::of(entities.iter().cloned().map(stitched).collect());
    let first = Evaluation::build(&first_snap, now());
    assert_eq!(first.evaluated, 20);

    // One entity edited: only it is evaluated again, and the result is the fresh one.
    entities[6] = component("c3", Some("group:default/a"), on_call());
    let edited = Snapshot::of(entities.iter().cloned().map(stitched).collect());
    let second = Evaluation::build_from(&edited, now(), &Pushed::default(), 0, Some(&first));
    assert_eq!(second.evaluated, 1);
    let (_, c3) = second.for_entity("component:default/c3")[0];
    assert!(c3.checks[1].passed, "the edit is seen");
    // The campaign keeps the entries of unchanged entities and takes the edit.
    let (before, after) = (&first.campaigns[0], &second.campaigns[0]);
    assert_eq!((before.passing, after.passing), (0, 1));
    let kept = before
        .entities
        .iter()
        .zip(&after.entities)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(kept, 19, "every entry but the edited entity's is the same");

    // The owner disappears: everything it owned is evaluated again (facts.owner_exists changed).
    let ownerless: Vec<Value> = entities
        .iter()
        .filter(|e| e["kind"] != "Group")
        .cloned()
        .collect();
    let gone = Snapshot::of(ownerless.into_iter().map(stitched).collect());
    let third = Evaluation::build_from(&gone, now(), &Pushed::default(), 0, Some(&second));
    assert_eq!(third.evaluated, 20);

    // A new day evaluates everything again (checks may read `now`).
    let tomorrow = now() + chrono::Days::new(1);
    let fourth = Evaluation::build_from(&gone, tomorrow, &Pushed::default(), 0, Some(&third));
    assert_eq!(fourth.evaluated, 20);
}

#[test]
fn pushed_facts_are_read_as_facts_pushed_source_name_until_they_expire() {
    use crate::state::Pushed;
    let card = scorecard(
        "ci",
        "kind=component",
        &["bronze"],
        json!([check(
            "coverage",
            "bronze",
            "has(facts.pushed.ci) && facts.pushed.ci.coverage >= 80.0"
        )]),
    );
    let snap = Snapshot::of(
        vec![
            card,
            component("a", None, json!({})),
            component("b", None, json!({})),
        ]
        .into_iter()
        .map(stitched)
        .collect(),
    );
    let at = now().timestamp_millis();
    let pushed = Pushed::from_rows(&[
        store::PushedFactsRow {
            entity_ref: "component:default/a".into(),
            source: "ci".into(),
            facts: r#"{"coverage": 91.5}"#.into(),
            expires_at: at + 60_000,
            updated_at: at,
        },
        store::PushedFactsRow {
            entity_ref: "component:default/b".into(),
            source: "ci".into(),
            facts: r#"{"coverage": 95}"#.into(),
            expires_at: at - 1,
            updated_at: at - 100_000,
        },
    ]);
    let e = Evaluation::build_from(&snap, now(), &pushed, 1, None);
    let passed = |e: &Evaluation, k: &str| e.for_entity(k)[0].1.checks[0].passed;
    assert!(passed(&e, "component:default/a"));
    assert!(
        !passed(&e, "component:default/b"),
        "expired facts are not seen"
    );
    // The evaluation holds until a's facts expire, then the same inputs give a new result.
    assert!(e.holds_for(&snap, 1, now()));
    assert!(!e.holds_for(&snap, 1, now() + chrono::Duration::seconds(61)));
    assert!(
        !e.holds_for(&snap, 2, now()),
        "a push makes a new evaluation"
    );
    let again = Evaluation::build_from(&snap, now(), &pushed, 2, Some(&e));
    assert_eq!(
        again.evaluated, 0,
        "unchanged pushed facts keep their scores"
    );
    let later = Evaluation::build_from(
        &snap,
        now() + chrono::Duration::seconds(61),
        &pushed,
        1,
        Some(&e),
    );
    assert!(!passed(&later, "component:default/a"));
    assert_eq!(later.evaluated, 1, "only the entity whose facts changed");
}
