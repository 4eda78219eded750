//! From what a source read to catalog entities: names normalised (an invalid one rejected),
//! duplicates left out with an error naming both entries, memberships resolved from either side
//! (a user's `memberOf`, a group's `member`s) into `spec.memberOf`, nested groups into
//! `spec.parent` and `spec.children`, and every entity checked by the catalog's own validation.
//! One bad entry is an error naming it; the rest are kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::directory::{Directory, GroupEntry, UserEntry};

/// The annotation naming the import source an entity came from.
pub const SOURCE_ANNOTATION: &str = "stagedoor.dev/org-import-source";

/// Entities of one source, sorted by reference, and the entries left out (one message each).
#[derive(Debug, Clone, Default)]
pub struct Assembled {
    pub entities: Vec<Value>,
    pub errors: Vec<String>,
}

/// A catalog name for `raw`: itself when valid; otherwise lower-cased with every character
/// outside `[a-z0-9_.-]` replaced by `_`, runs of separators collapsed, separators trimmed from
/// the ends and cut to 63 characters (the normalisation Backstage's Microsoft Graph provider
/// applies). `None` when nothing valid is left.
pub fn normalise_name(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if model::validate::is_valid_object_name(raw) {
        return Some(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            c
        } else {
            '_'
        };
        let sep = !c.is_ascii_alphanumeric();
        if sep
            && out
                .chars()
                .last()
                .is_none_or(|l| !l.is_ascii_alphanumeric())
        {
            continue;
        }
        out.push(c);
    }
    out.truncate(63);
    let out = out
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned();
    model::validate::is_valid_object_name(&out).then_some(out)
}

/// Names for entries, first come first served; the rest are errors.
fn name_entries<'a>(
    what: &str,
    entries: impl Iterator<Item = (&'a str, &'a str)>,
    errors: &mut Vec<String>,
) -> HashMap<&'a str, String> {
    let mut names = HashMap::new();
    let mut taken: HashMap<String, &str> = HashMap::new();
    for (key, raw) in entries {
        let Some(name) = normalise_name(raw) else {
            errors.push(format!(
                "{what} {key}: name {raw:?} cannot be made a valid catalog name; left out"
            ));
            continue;
        };
        // Catalog names compare case-insensitively: `Alice` and `alice` are one entity.
        match taken.get(&name.to_lowercase()) {
            Some(first) => errors.push(format!(
                "{what} {key}: name {name:?} is already used by {first}; left out"
            )),
            None => {
                taken.insert(name.to_lowercase(), key);
                names.insert(key, name);
            }
        }
    }
    names
}

fn profile(display: &Option<String>, email: &Option<String>, picture: &Option<String>) -> Value {
    let mut p = Map::new();
    for (k, v) in [
        ("displayName", display),
        ("email", email),
        ("picture", picture),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            p.insert(k.into(), json!(v));
        }
    }
    Value::Object(p)
}

fn metadata(
    name: &str,
    description: &Option<String>,
    annotations: &BTreeMap<String, String>,
    source: &str,
) -> Value {
    let mut a: Map<String, Value> = annotations
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    a.insert(SOURCE_ANNOTATION.into(), json!(source));
    let mut m = json!({"name": name, "annotations": a});
    if let Some(d) = description.as_deref().filter(|d| !d.trim().is_empty()) {
        m["description"] = json!(d);
    }
    m
}

/// The entities of `dir`, as source `source` (see the module docs).
pub fn assemble(source: &str, dir: Directory) -> Assembled {
    // The first entry read keeps a name (sources read in configured order): a later duplicate
    // is the one reported.
    let Directory {
        users,
        groups,
        mut errors,
    } = dir;
    let user_names = name_entries(
        "user",
        users.iter().map(|u| (u.key.as_str(), u.name.as_str())),
        &mut errors,
    );
    let group_names = name_entries(
        "group",
        groups.iter().map(|g| (g.key.as_str(), g.name.as_str())),
        &mut errors,
    );

    // Memberships from both sides; keys the source did not import (or left out) are ignored,
    // as Backstage's providers do.
    let mut user_groups: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut parents: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for g in groups
        .iter()
        .filter(|g| group_names.contains_key(g.key.as_str()))
    {
        let gname = group_names[g.key.as_str()].as_str();
        for p in &g.member_of {
            if let Some(pname) = group_names.get(p.as_str()) {
                parents.entry(gname).or_default().insert(pname);
            }
        }
        for m in &g.members {
            if user_names.contains_key(m.as_str()) {
                user_groups.entry(m.as_str()).or_default().insert(gname);
            } else if let Some(child) = group_names.get(m.as_str()) {
                parents.entry(child.as_str()).or_default().insert(gname);
            }
        }
    }
    for u in users
        .iter()
        .filter(|u| user_names.contains_key(u.key.as_str()))
    {
        for k in &u.member_of {
            if let Some(gname) = group_names.get(k.as_str()) {
                user_groups.entry(u.key.as_str()).or_default().insert(gname);
            }
        }
    }
    let parent = resolve_parents(&parents, &mut errors);
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (child, p) in &parent {
        children.entry(p).or_default().push(child);
    }

    let mut entities = Vec::new();
    let mut keep = |key: &str, entity: Value, errors: &mut Vec<String>| {
        let problems = entity
            .as_object()
            .map(model::validate::validate)
            .unwrap_or_default();
        if problems.is_empty() {
            entities.push(entity);
        } else {
            let list: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            errors.push(format!(
                "{key}: not a valid entity ({}); left out",
                list.join("; ")
            ));
        }
    };
    for u in &users {
        let Some(name) = user_names.get(u.key.as_str()) else {
            continue;
        };
        keep(
            &u.key,
            user_entity(u, name, &user_groups, source),
            &mut errors,
        );
    }
    for g in &groups {
        let Some(name) = group_names.get(g.key.as_str()) else {
            continue;
        };
        let mut kids: Vec<&str> = children.get(name.as_str()).cloned().unwrap_or_default();
        kids.sort_unstable();
        let e = group_entity(g, name, parent.get(name.as_str()).copied(), &kids, source);
        keep(&g.key, e, &mut errors);
    }
    entities.sort_by_cached_key(entity_ref);
    Assembled { entities, errors }
}

fn user_entity(
    u: &UserEntry,
    name: &str,
    groups: &HashMap<&str, BTreeSet<&str>>,
    source: &str,
) -> Value {
    let member_of: Vec<&str> = groups
        .get(u.key.as_str())
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default();
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "User",
        "metadata": metadata(name, &u.description, &u.annotations, source),
        "spec": {
            "profile": profile(&u.display_name, &u.email, &u.picture),
            "memberOf": member_of,
        },
    })
}

fn group_entity(
    g: &GroupEntry,
    name: &str,
    parent: Option<&str>,
    children: &[&str],
    source: &str,
) -> Value {
    let mut spec = json!({
        "type": if g.group_type.trim().is_empty() { "team" } else { g.group_type.as_str() },
        "profile": profile(&g.display_name, &g.email, &g.picture),
        "children": children,
    });
    if let Some(p) = parent {
        spec["parent"] = json!(p);
    }
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": metadata(name, &g.description, &g.annotations, source),
        "spec": spec,
    })
}

/// One parent per group (the first by name when a source gives several, as `spec.parent` holds
/// one); a parent that would close a cycle is dropped with an error.
fn resolve_parents<'a>(
    parents: &HashMap<&'a str, BTreeSet<&'a str>>,
    errors: &mut Vec<String>,
) -> BTreeMap<&'a str, &'a str> {
    let mut chosen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut keys: Vec<&&str> = parents.keys().collect();
    keys.sort();
    for &child in keys {
        let Some(&p) = parents[child].iter().find(|p| **p != child) else {
            continue;
        };
        // Walk up from the would-be parent; reaching the child means a cycle.
        let (mut at, mut steps) = (p, 0usize);
        let mut cycle = false;
        while let Some(&up) = chosen.get(at) {
            if up == child || steps > chosen.len() {
                cycle = true;
                break;
            }
            at = up;
            steps += 1;
        }
        if cycle || p == child {
            errors.push(format!(
                "group {child}: parent {p} would make a cycle; imported without a parent"
            ));
            continue;
        }
        chosen.insert(child, p);
    }
    chosen
}

/// `kind:namespace/name` of a generated entity (always in the default namespace).
pub(crate) fn entity_ref(e: &Value) -> String {
    format!(
        "{}:default/{}",
        e["kind"].as_str().unwrap_or_default().to_lowercase(),
        e.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_when_valid_and_normalised_otherwise() {
        assert_eq!(
            normalise_name("Alice.Adams").as_deref(),
            Some("Alice.Adams")
        );
        assert_eq!(normalise_name("Carol Chen!").as_deref(), Some("carol_chen"));
        assert_eq!(
            normalise_name("a@b.example").as_deref(),
            Some("a_b.example")
        );
        assert_eq!(normalise_name("!!!"), None);
        assert_eq!(normalise_name(&"x".repeat(80)).unwrap().len(), 63);
    }

    fn user(key: &str, name: &str, member_of: &[&str]) -> UserEntry {
        UserEntry {
            key: key.into(),
            name: name.into(),
            member_of: member_of.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn group(key: &str, members: &[&str]) -> GroupEntry {
        GroupEntry {
            key: key.into(),
            name: key.into(),
            members: members.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn memberships_from_both_sides_nesting_duplicates_and_cycles() {
        let dir = Directory {
            users: vec![
                user("u1", "ann", &["eng"]),
                user("u2", "ben", &[]),
                user("u3", "ANN", &[]),
                user("u4", "???", &[]),
            ],
            groups: vec![
                group("eng", &["web", "u2"]),
                group("web", &["u1", "eng"]),
                group("ops", &[]),
            ],
            errors: vec![],
        };
        let a = assemble("test", dir);
        let by_ref: HashMap<String, &Value> =
            a.entities.iter().map(|e| (entity_ref(e), e)).collect();
        assert_eq!(by_ref.len(), 5, "{:?}", a.entities);
        assert_eq!(
            by_ref["user:default/ann"]["spec"]["memberOf"],
            json!(["eng", "web"])
        );
        assert_eq!(
            by_ref["user:default/ben"]["spec"]["memberOf"],
            json!(["eng"])
        );
        // eng lists web as a member and web lists eng: the second link (by name) is a cycle.
        assert_eq!(by_ref["group:default/eng"]["spec"]["parent"], json!("web"));
        assert_eq!(
            by_ref["group:default/web"]["spec"]["children"],
            json!(["eng"])
        );
        assert!(by_ref["group:default/web"]["spec"].get("parent").is_none());
        assert_eq!(
            by_ref["user:default/ann"]["metadata"]["annotations"][SOURCE_ANNOTATION],
            json!("test")
        );
        let errors = a.errors.join("\n");
        assert!(
            errors.contains("user u3: name \"ANN\" is already used by u1"),
            "{errors}"
        );
        assert!(errors.contains("user u4: name \"???\""), "{errors}");
        assert!(errors.contains("cycle"), "{errors}");
    }
}
