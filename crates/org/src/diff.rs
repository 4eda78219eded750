//! What an import would change: the new entities of a source compared with what the catalog
//! holds from that source's file, as entities added, changed and removed, each with the fields
//! that differ (`spec.profile.email`, `spec.memberOf`, `metadata.annotations.<name>`, …) and
//! their values before and after. Annotations the catalog adds itself (where an entity was read
//! from) are not the import's and are not compared.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::assemble::entity_ref;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
}

/// One field of one entity, before and after (`None`: absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One entity the import adds, changes or removes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub entity_ref: String,
    pub kind: String,
    pub name: String,
    pub change: ChangeKind,
    pub fields: Vec<FieldChange>,
}

/// Annotations the catalog sets on every entity it reads from a file.
fn catalog_owned(annotation: &str) -> bool {
    annotation.starts_with("backstage.io/managed-by-")
        || matches!(
            annotation,
            "backstage.io/view-url" | "backstage.io/edit-url" | "backstage.io/source-location"
        )
}

fn flatten_into(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                flatten_into(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Object(_) | Value::Null => {}
        // Lists (memberOf, children) compare whole: their order is the import's, sorted.
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// The fields an import writes, by path.
fn fields(e: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let m = &e["metadata"];
    for key in ["title", "description"] {
        if let Some(v) = m.get(key) {
            flatten_into(&format!("metadata.{key}"), v, &mut out);
        }
    }
    for key in ["labels", "annotations"] {
        if let Some(Value::Object(map)) = m.get(key) {
            for (k, v) in map.iter().filter(|(k, _)| !catalog_owned(k)) {
                out.insert(format!("metadata.{key}.{k}"), v.clone());
            }
        }
    }
    if let Some(spec) = e.get("spec") {
        flatten_into("spec", spec, &mut out);
    }
    out
}

fn describe(e: &Value) -> (String, String) {
    (
        e["kind"].as_str().unwrap_or_default().to_owned(),
        e.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Compares `current` (entities in the catalog from the source's file) with `next` (what the
/// import would write). Answers the changes, sorted by reference, and how many are unchanged.
pub fn diff(current: &[Value], next: &[Value]) -> (Vec<Change>, usize) {
    let before: HashMap<String, &Value> = current.iter().map(|e| (entity_ref(e), e)).collect();
    let after: HashMap<String, &Value> = next.iter().map(|e| (entity_ref(e), e)).collect();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (r, new) in &after {
        let (kind, name) = describe(new);
        let new_fields = fields(new);
        let Some(old) = before.get(r) else {
            changes.push(Change {
                entity_ref: r.clone(),
                kind,
                name,
                change: ChangeKind::Added,
                fields: new_fields
                    .into_iter()
                    .map(|(field, v)| FieldChange {
                        field,
                        before: None,
                        after: Some(v),
                    })
                    .collect(),
            });
            continue;
        };
        let mut old_fields = fields(old);
        let mut differ = Vec::new();
        for (field, v) in new_fields {
            match old_fields.remove(&field) {
                Some(o) if o == v => {}
                o => differ.push(FieldChange {
                    field,
                    before: o,
                    after: Some(v),
                }),
            }
        }
        differ.extend(old_fields.into_iter().map(|(field, o)| FieldChange {
            field,
            before: Some(o),
            after: None,
        }));
        if differ.is_empty() {
            unchanged += 1;
        } else {
            differ.sort_by(|a, b| a.field.cmp(&b.field));
            changes.push(Change {
                entity_ref: r.clone(),
                kind,
                name,
                change: ChangeKind::Changed,
                fields: differ,
            });
        }
    }
    for (r, old) in &before {
        if after.contains_key(r) {
            continue;
        }
        let (kind, name) = describe(old);
        changes.push(Change {
            entity_ref: r.clone(),
            kind,
            name,
            change: ChangeKind::Removed,
            fields: fields(old)
                .into_iter()
                .map(|(field, v)| FieldChange {
                    field,
                    before: Some(v),
                    after: None,
                })
                .collect(),
        });
    }
    changes.sort_by(|a, b| a.entity_ref.cmp(&b.entity_ref));
    (changes, unchanged)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(name: &str, email: &str, groups: &[&str]) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User",
            "metadata": {"name": name, "annotations": {"backstage.io/managed-by-location": "file:/x"}},
            "spec": {"profile": {"email": email}, "memberOf": groups}})
    }

    #[test]
    fn added_changed_removed_per_field() {
        let current = vec![
            user("ann", "a@x", &["web"]),
            user("ben", "b@x", &[]),
            user("cy", "c@x", &[]),
        ];
        let mut next = vec![
            user("ann", "ann@x", &["web", "ops"]),
            user("ben", "b@x", &[]),
            user("dee", "d@x", &[]),
        ];
        // Catalog-owned annotations differ between the file and the catalog: not a change.
        next[1]["metadata"]["annotations"] = json!({});
        let (changes, unchanged) = diff(&current, &next);
        assert_eq!(unchanged, 1);
        let summary: Vec<(&str, ChangeKind)> = changes
            .iter()
            .map(|c| (c.name.as_str(), c.change))
            .collect();
        assert_eq!(
            summary,
            [
                ("ann", ChangeKind::Changed),
                ("cy", ChangeKind::Removed),
                ("dee", ChangeKind::Added)
            ]
        );
        let ann = &changes[0].fields;
        assert_eq!(ann.len(), 2);
        assert_eq!(ann[0].field, "spec.memberOf");
        assert_eq!(ann[0].after, Some(json!(["web", "ops"])));
        assert_eq!(ann[1].field, "spec.profile.email");
        assert_eq!(ann[1].before, Some(json!("a@x")));
        assert!(changes[1].fields.iter().all(|f| f.after.is_none()));
    }
}
