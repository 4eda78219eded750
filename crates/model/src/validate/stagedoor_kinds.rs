//! The spec rules of Stagedoor's own kinds (`stagedoor.dev/v1alpha1`): `Scorecard` and `Campaign`.
//!
//! Every problem names the field it concerns (`spec.checks.2.expression`), so ingestion and
//! `stagedoor validate` report it at that field's line like any other entity error. A check's CEL
//! expression is parsed here, so a bad one is a processing error on the Scorecard itself rather
//! than something found only when the scorecard is evaluated.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Out, is_valid_object_name, type_name};
use crate::filter;

/// Largest CEL expression accepted, in bytes: expressions are one-liners, and the bound keeps
/// parsing and the nesting an expression can build small.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Most levels a scorecard may have.
pub const MAX_LEVELS: usize = 10;
/// Most checks a scorecard may have (each is evaluated for every entity it applies to).
pub const MAX_CHECKS: usize = 100;
/// The variables a check's expression sees.
pub const VARIABLES: &[&str] = &["entity", "facts", "now"];
/// The built-in facts, as `facts.<name>`; crates/scorecards computes them and docs/api.md
/// describes each.
pub const FACTS: &[&str] = &[
    "owner_exists",
    "owner_kind",
    "has_docs",
    "dependents",
    "days_since_change",
    "repo",
];
/// The facts about the entity's repository, as `facts.repo.<name>`.
pub const REPO_FACTS: &[&str] = &[
    "known",
    "has_readme",
    "has_codeowners",
    "has_license",
    "has_ci",
    "has_dockerfile",
    "languages",
    "manifests",
    "frameworks",
];
/// Where facts pushed by other systems appear: `facts.pushed.<source>.<name>`.
pub const PUSHED_FACTS: &str = "pushed";
/// The facts that are maps of facts, with the names they hold.
const NESTED_FACTS: &[(&str, &[&str])] = &[("repo", REPO_FACTS)];

pub(super) fn scorecard_spec(spec: &Map<String, Value>, out: &mut Out) {
    out.required_str(spec, "owner", "spec.owner");
    filter_field(spec, out);
    let levels = levels(spec, out);
    let Some(checks) = required_array(spec, "checks", out) else {
        return;
    };
    if checks.len() > MAX_CHECKS {
        out.push(
            "spec.checks",
            format!(
                "has {} checks; at most {MAX_CHECKS} are allowed",
                checks.len()
            ),
        );
    }
    let mut ids = HashSet::new();
    for (i, check) in checks.iter().enumerate() {
        let p = format!("spec.checks.{i}");
        let Value::Object(check) = check else {
            out.push(&p, format!("must be an object, found {}", type_name(check)));
            continue;
        };
        if let Some(id) = out.required_str(check, "id", &format!("{p}.id")) {
            if !is_valid_object_name(id) {
                out.push(format!("{p}.id"), format!("{id:?} is not a valid check id; expected 1-63 characters of [a-zA-Z0-9-_.], starting and ending with a letter or digit"));
            } else if !ids.insert(id) {
                out.push(
                    format!("{p}.id"),
                    format!("duplicate check id {id:?}; ids must be unique"),
                );
            }
        }
        out.required_str(check, "title", &format!("{p}.title"));
        if let Some(level) = out.required_str(check, "level", &format!("{p}.level"))
            && let Some(levels) = &levels
            && !levels.contains(&level)
        {
            out.push(
                format!("{p}.level"),
                format!(
                    "level {level:?} is not one of spec.levels ({})",
                    levels.join(", ")
                ),
            );
        }
        if let Some(source) = out.required_str(check, "expression", &format!("{p}.expression"))
            && let Err(why) = check_expression(source)
        {
            out.push(format!("{p}.expression"), why);
        }
        out.optional_str(check, "fix", &format!("{p}.fix"), true);
        out.optional_str(check, "description", &format!("{p}.description"), false);
    }
    exemptions(spec, &ids, out);
}

/// Most exemptions a scorecard may list.
pub const MAX_EXEMPTIONS: usize = 1000;

/// `spec.exemptions`: `[{entity, check, reason, until}]`, each naming one of the scorecard's
/// checks, an entity ref, why, and the date it ends (an exemption is a deadline, never forever).
fn exemptions(spec: &Map<String, Value>, ids: &HashSet<&str>, out: &mut Out) {
    let Some(items) = out.optional_array(spec, "exemptions", "spec.exemptions") else {
        return;
    };
    if items.len() > MAX_EXEMPTIONS {
        out.push(
            "spec.exemptions",
            format!(
                "has {} exemptions; at most {MAX_EXEMPTIONS} are allowed",
                items.len()
            ),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let p = format!("spec.exemptions.{i}");
        let Value::Object(item) = item else {
            out.push(&p, format!("must be an object, found {}", type_name(item)));
            continue;
        };
        if let Some(r) = out.required_str(item, "entity", &format!("{p}.entity"))
            && crate::EntityRef::parse(r, None, "default").is_err()
        {
            out.push(
                format!("{p}.entity"),
                format!("{r:?} is not an entity reference; expected kind:namespace/name, e.g. component:default/payments"),
            );
        }
        if let Some(c) = out.required_str(item, "check", &format!("{p}.check"))
            && !ids.is_empty()
            && !ids.contains(c)
        {
            out.push(
                format!("{p}.check"),
                format!("{c:?} is not one of this scorecard's check ids"),
            );
        }
        out.required_str(item, "reason", &format!("{p}.reason"));
        date_field(item, "until", &format!("{p}.until"), out);
    }
}

pub(super) fn campaign_spec(spec: &Map<String, Value>, out: &mut Out) {
    out.required_str(spec, "owner", "spec.owner");
    filter_field(spec, out);
    if let Some(checks) = required_array(spec, "checks", out) {
        for (i, check) in checks.iter().enumerate() {
            let p = format!("spec.checks.{i}");
            let Some(s) = out.string(check, &p, true) else {
                continue;
            };
            let valid = s
                .split_once('/')
                .is_some_and(|(card, id)| is_valid_object_name(card) && is_valid_object_name(id));
            if !valid {
                out.push(
                    p,
                    format!("{s:?} is not a check reference; expected <scorecard>/<check id>, e.g. production-readiness/on-call"),
                );
            }
        }
    }
    let start = date_field(spec, "start", "spec.start", out);
    let deadline = date_field(spec, "deadline", "spec.deadline", out);
    if let (Some(start), Some(deadline)) = (start, deadline)
        && deadline < start
    {
        out.push(
            "spec.deadline",
            format!("the deadline {deadline} is before the start {start}"),
        );
    }
}

/// Parses a check's expression as CEL and checks what it can name: the three variables and the
/// built-in facts. Errors say why, for the author of the scorecard.
pub fn check_expression(source: &str) -> Result<(), String> {
    if source.len() > MAX_EXPRESSION_BYTES {
        return Err(format!(
            "the expression has {} bytes; at most {MAX_EXPRESSION_BYTES} are allowed",
            source.len()
        ));
    }
    if source.trim().is_empty() {
        return Err("must not be empty".into());
    }
    // The parser is third-party code fed with text from any catalog file: a panic in it must
    // become this entity's error, never take down ingestion.
    let parsed = std::panic::catch_unwind(|| cel::Program::compile(source).map(|_| ()))
        .map_err(|_| "the CEL parser failed on this expression".to_owned())?;
    if let Err(e) = parsed {
        return Err(format!(
            "invalid CEL expression: {}",
            parse_errors(&e.to_string())
        ));
    }
    for path in facts_named(source) {
        let Some(&fact) = path.first() else {
            continue;
        };
        if fact == PUSHED_FACTS {
            // Pushed by other systems at run time: any source and name may come.
            continue;
        }
        if !FACTS.contains(&fact) {
            return Err(format!(
                "unknown fact facts.{fact}; the built-in facts are {}, and facts pushed by other systems are facts.{PUSHED_FACTS}.<source>.<name>",
                FACTS.join(", ")
            ));
        }
        let nested = NESTED_FACTS.iter().find(|(name, _)| *name == fact);
        if let (Some((_, names)), Some(&field)) = (nested, path.get(1))
            && !names.contains(&field)
        {
            return Err(format!(
                "unknown fact facts.{fact}.{field}; the facts under facts.{fact} are {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

/// The parser's report as one line: each error's `line:column: message`, without the source
/// excerpt and caret it draws under it (the caller shows where the expression is).
fn parse_errors(report: &str) -> String {
    let errors: Vec<&str> = report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ERROR: "))
        .map(|l| l.strip_prefix("<input>:").unwrap_or(l))
        .collect();
    if errors.is_empty() {
        report.trim().to_owned()
    } else {
        errors.join("; ")
    }
}

/// The fields written as `facts.<name>.<name>…` in an expression (outside string literals), each
/// as its names: `facts.repo.has_readme` gives `["repo", "has_readme"]`. A name followed by `(`
/// is a method call (`facts.owner_kind.startsWith('g')`), not a field, and ends the path.
fn facts_named(source: &str) -> Vec<Vec<&str>> {
    let b = source.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(_) if c == b'\\' => {
                i += 2;
                continue;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if source[i..].starts_with("facts.") && (i == 0 || !ident(b[i - 1])) => {
                let mut path = Vec::new();
                let mut start = i + "facts.".len();
                loop {
                    let end = b[start..]
                        .iter()
                        .position(|&c| !ident(c))
                        .map_or(b.len(), |n| start + n);
                    let call = source[end..].trim_start().starts_with('(');
                    if !call {
                        path.push(&source[start..end]);
                    }
                    i = end;
                    if call
                        || b.get(end) != Some(&b'.')
                        || !b.get(end + 1).is_some_and(|&c| ident(c))
                    {
                        break;
                    }
                    start = end + 1;
                }
                out.push(path);
                continue;
            }
            None => {}
        }
        i += 1;
    }
    out
}

fn filter_field(spec: &Map<String, Value>, out: &mut Out) {
    if let Some(f) = out.required_str(spec, "filter", "spec.filter") {
        match filter::parse_query(&[f.to_owned()]) {
            Err(e) => out.push("spec.filter", e.0),
            Ok(None) => out.push(
                "spec.filter",
                "has no conditions; write one in Backstage's filter syntax, e.g. kind=component",
            ),
            Ok(Some(_)) => {}
        }
    }
}

fn required_array<'a>(
    spec: &'a Map<String, Value>,
    key: &str,
    out: &mut Out,
) -> Option<&'a [Value]> {
    let path = format!("spec.{key}");
    match spec.get(key) {
        None | Some(Value::Null) => {
            out.push(&path, "missing required field");
            None
        }
        Some(Value::Array(a)) if a.is_empty() => {
            out.push(&path, "must not be empty");
            None
        }
        Some(_) => out.optional_array(spec, key, &path),
    }
}

/// `spec.levels`: ordered, non-empty, unique names. `None` when unusable, so checks' levels are
/// not judged against a list that is itself wrong.
fn levels<'a>(spec: &'a Map<String, Value>, out: &mut Out) -> Option<Vec<&'a str>> {
    let items = required_array(spec, "levels", out)?;
    if items.len() > MAX_LEVELS {
        out.push(
            "spec.levels",
            format!(
                "has {} levels; at most {MAX_LEVELS} are allowed",
                items.len()
            ),
        );
    }
    let mut levels = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = format!("spec.levels.{i}");
        match out.string(item, &p, true) {
            Some(l) if levels.contains(&l) => {
                out.push(p, format!("duplicate level {l:?}"));
                ok = false;
            }
            Some(l) => levels.push(l),
            None => ok = false,
        }
    }
    ok.then_some(levels)
}

/// A calendar date written `YYYY-MM-DD`, returned as written (that form sorts as dates do).
fn date_field<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
    out: &mut Out,
) -> Option<&'a str> {
    let s = out.required_str(map, key, path)?;
    if is_date(s) {
        Some(s)
    } else {
        out.push(
            path,
            format!("{s:?} is not a date; expected YYYY-MM-DD, e.g. 2026-09-21"),
        );
        None
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if !s
        .bytes()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}
