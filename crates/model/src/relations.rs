//! The built-in relations an entity emits from its spec, and their inverses.
//!
//! Backstage's built-in kinds processor emits each relation in both directions itself. Stagedoor
//! adds inverses in one place instead (with [`inverse`]), so [`outgoing`] returns only the
//! relations the entity declares directly: `ownedBy` from `spec.owner`, never `ownerOf`.

use serde_json::Value;

use crate::{Entity, EntityRef, kinds, validate::Problem};

pub const OWNED_BY: &str = "ownedBy";
pub const OWNER_OF: &str = "ownerOf";
pub const CONSUMES_API: &str = "consumesApi";
pub const API_CONSUMED_BY: &str = "apiConsumedBy";
pub const PROVIDES_API: &str = "providesApi";
pub const API_PROVIDED_BY: &str = "apiProvidedBy";
pub const DEPENDS_ON: &str = "dependsOn";
pub const DEPENDENCY_OF: &str = "dependencyOf";
pub const PARENT_OF: &str = "parentOf";
pub const CHILD_OF: &str = "childOf";
pub const MEMBER_OF: &str = "memberOf";
pub const HAS_MEMBER: &str = "hasMember";
pub const PART_OF: &str = "partOf";
pub const HAS_PART: &str = "hasPart";

/// Every built-in relation type paired with its inverse, each pair listed in both orders.
const PAIRS: &[(&str, &str)] = &[
    (OWNED_BY, OWNER_OF),
    (OWNER_OF, OWNED_BY),
    (CONSUMES_API, API_CONSUMED_BY),
    (API_CONSUMED_BY, CONSUMES_API),
    (PROVIDES_API, API_PROVIDED_BY),
    (API_PROVIDED_BY, PROVIDES_API),
    (DEPENDS_ON, DEPENDENCY_OF),
    (DEPENDENCY_OF, DEPENDS_ON),
    (PARENT_OF, CHILD_OF),
    (CHILD_OF, PARENT_OF),
    (MEMBER_OF, HAS_MEMBER),
    (HAS_MEMBER, MEMBER_OF),
    (PART_OF, HAS_PART),
    (HAS_PART, PART_OF),
];

/// One spec field that declares relations: where it is, what relation it makes, and the kind a
/// reference without one gets (`None`: the reference must name its kind).
struct Field {
    field: &'static str,
    relation: &'static str,
    default_kind: Option<&'static str>,
}

const fn f(
    field: &'static str,
    relation: &'static str,
    default_kind: Option<&'static str>,
) -> Field {
    Field {
        field,
        relation,
        default_kind,
    }
}

const OWNER: Field = f("owner", OWNED_BY, Some(kinds::GROUP));
const SYSTEM: Field = f("system", PART_OF, Some(kinds::SYSTEM));
const DEPENDS: Field = f("dependsOn", DEPENDS_ON, None);
const DEPENDENCY: Field = f("dependencyOf", DEPENDENCY_OF, None);

/// The relation fields of each kind, as Backstage's built-in kinds processor reads them (and
/// scaffolder's processor for a Template's owner). Kinds match case-sensitively, as there.
fn fields(kind: &str) -> &'static [Field] {
    const COMPONENT: &[Field] = &[
        OWNER,
        f("subcomponentOf", PART_OF, Some(kinds::COMPONENT)),
        f("providesApis", PROVIDES_API, Some(kinds::API)),
        f("consumesApis", CONSUMES_API, Some(kinds::API)),
        DEPENDS,
        DEPENDENCY,
        SYSTEM,
    ];
    const API: &[Field] = &[OWNER, SYSTEM];
    const RESOURCE: &[Field] = &[OWNER, DEPENDS, DEPENDENCY, SYSTEM];
    const USER: &[Field] = &[f("memberOf", MEMBER_OF, Some(kinds::GROUP))];
    const GROUP: &[Field] = &[
        f("parent", CHILD_OF, Some(kinds::GROUP)),
        f("children", PARENT_OF, Some(kinds::GROUP)),
        f("members", HAS_MEMBER, Some(kinds::USER)),
    ];
    const SYSTEM_FIELDS: &[Field] = &[OWNER, f("domain", PART_OF, Some(kinds::DOMAIN))];
    const DOMAIN: &[Field] = &[OWNER, f("subdomainOf", PART_OF, Some(kinds::DOMAIN))];
    const TEMPLATE: &[Field] = &[OWNER];
    // Stagedoor's own kinds: a scorecard or campaign belongs to the team that runs it.
    const OWNED: &[Field] = &[OWNER];
    match kind {
        kinds::COMPONENT => COMPONENT,
        kinds::API => API,
        kinds::RESOURCE => RESOURCE,
        kinds::USER => USER,
        kinds::GROUP => GROUP,
        kinds::SYSTEM => SYSTEM_FIELDS,
        kinds::DOMAIN => DOMAIN,
        kinds::TEMPLATE => TEMPLATE,
        kinds::SCORECARD | kinds::CAMPAIGN => OWNED,
        _ => &[],
    }
}

/// Outgoing relations `(type, target)` this entity declares (ownedBy, partOf, dependsOn, …),
/// refs resolved with Backstage's default kinds and the entity's own namespace. Refs that do not
/// parse are reported as problems and skipped.
///
/// Only the declared direction is returned (see the module docs). Duplicates are dropped; order
/// follows the spec fields. Absent, `null` and empty-string fields declare nothing, as in
/// Backstage; an empty string inside a list is an error there too.
pub fn outgoing(entity: &Entity, me: &EntityRef) -> (Vec<(&'static str, EntityRef)>, Vec<Problem>) {
    let mut relations: Vec<(&'static str, EntityRef)> = Vec::new();
    let mut problems = Vec::new();
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or(&me.kind);
    let Some(spec) = entity.get("spec").and_then(Value::as_object) else {
        return (relations, problems);
    };
    for field in fields(kind) {
        let path = format!("spec.{}", field.field);
        let (items, in_list): (&[Value], bool) = match spec.get(field.field) {
            None | Some(Value::Null | Value::Bool(false)) => continue,
            Some(Value::String(s)) if s.is_empty() => continue,
            Some(Value::Array(items)) => (items, true),
            Some(v) => (std::slice::from_ref(v), false),
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = if in_list {
                format!("{path}.{i}")
            } else {
                path.clone()
            };
            let Some(s) = item.as_str() else {
                problems.push(Problem::new(
                    item_path,
                    "must be an entity reference string",
                ));
                continue;
            };
            match EntityRef::parse(s, field.default_kind, &me.namespace) {
                Ok(target) => {
                    if !relations
                        .iter()
                        .any(|(t, r)| *t == field.relation && *r == target)
                    {
                        relations.push((field.relation, target));
                    }
                }
                Err(e) => problems.push(Problem::new(item_path, e.to_string())),
            }
        }
    }
    (relations, problems)
}

/// The inverse of a built-in relation type (`ownedBy` ↔ `ownerOf`, …).
pub fn inverse(relation: &str) -> Option<&'static str> {
    PAIRS.iter().find(|(a, _)| *a == relation).map(|(_, b)| *b)
}

/// A built-in relation type's number, so that it can be kept in one byte; `None` for a type
/// that is not built in. [`builtin_type`] turns it back.
pub fn builtin_index(relation: &str) -> Option<u8> {
    PAIRS
        .iter()
        .position(|(a, _)| *a == relation)
        .map(|i| i as u8)
}

/// The built-in relation type numbered `index` by [`builtin_index`].
pub fn builtin_type(index: u8) -> &'static str {
    PAIRS[index as usize].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(v: Value) -> (Vec<(&'static str, String)>, Vec<Problem>) {
        let e = v.as_object().unwrap().clone();
        let me = EntityRef::of_entity(&e).unwrap();
        let (rels, problems) = outgoing(&e, &me);
        (
            rels.into_iter().map(|(t, r)| (t, r.to_string())).collect(),
            problems,
        )
    }

    fn rel(t: &'static str, r: &str) -> (&'static str, String) {
        (t, r.to_owned())
    }

    #[test]
    fn every_built_in_type_survives_its_number() {
        for (t, _) in PAIRS {
            assert_eq!(builtin_type(builtin_index(t).unwrap()), *t);
        }
        assert_eq!(builtin_index("likes"), None);
    }

    #[test]
    fn component_relations_use_default_kinds_and_own_namespace() {
        let (rels, problems) = run(json!({
            "kind": "Component",
            "metadata": {"name": "svc", "namespace": "payments"},
            "spec": {
                "owner": "team-a",
                "system": "billing",
                "subcomponentOf": "platform",
                "providesApis": ["pay-api", "default/other-api"],
                "consumesApis": ["api:ext/rates"],
                "dependsOn": ["resource:db"],
                "dependencyOf": ["component:web"],
            }
        }));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            rels,
            vec![
                rel(OWNED_BY, "group:payments/team-a"),
                rel(PART_OF, "component:payments/platform"),
                rel(PROVIDES_API, "api:payments/pay-api"),
                rel(PROVIDES_API, "api:default/other-api"),
                rel(CONSUMES_API, "api:ext/rates"),
                rel(DEPENDS_ON, "resource:payments/db"),
                rel(DEPENDENCY_OF, "component:payments/web"),
                rel(PART_OF, "system:payments/billing"),
            ]
        );
    }

    #[test]
    fn depends_on_requires_a_kind() {
        let (rels, problems) = run(json!({
            "kind": "Resource",
            "metadata": {"name": "db"},
            "spec": {"owner": "user:bob", "dependsOn": ["storage", "resource:disk"]}
        }));
        assert_eq!(
            rels,
            vec![
                rel(OWNED_BY, "user:default/bob"),
                rel(DEPENDS_ON, "resource:default/disk")
            ]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "spec.dependsOn.0");
        assert!(problems[0].message.contains("missing or empty kind"));
    }

    #[test]
    fn group_user_system_domain_api_template() {
        let (rels, _) = run(json!({
            "kind": "Group", "metadata": {"name": "g"},
            "spec": {"type": "team", "parent": "org", "children": ["sub"], "members": ["alice"]}
        }));
        assert_eq!(
            rels,
            vec![
                rel(CHILD_OF, "group:default/org"),
                rel(PARENT_OF, "group:default/sub"),
                rel(HAS_MEMBER, "user:default/alice")
            ]
        );
        let (rels, _) = run(
            json!({"kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": ["g1", "group:x/g2"]}}),
        );
        assert_eq!(
            rels,
            vec![
                rel(MEMBER_OF, "group:default/g1"),
                rel(MEMBER_OF, "group:x/g2")
            ]
        );
        let (rels, _) = run(
            json!({"kind": "System", "metadata": {"name": "s"}, "spec": {"owner": "o", "domain": "d"}}),
        );
        assert_eq!(
            rels,
            vec![
                rel(OWNED_BY, "group:default/o"),
                rel(PART_OF, "domain:default/d")
            ]
        );
        let (rels, _) = run(
            json!({"kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "o", "subdomainOf": "top"}}),
        );
        assert_eq!(
            rels,
            vec![
                rel(OWNED_BY, "group:default/o"),
                rel(PART_OF, "domain:default/top")
            ]
        );
        let (rels, _) = run(
            json!({"kind": "API", "metadata": {"name": "a"}, "spec": {"owner": "o", "system": "s"}}),
        );
        assert_eq!(
            rels,
            vec![
                rel(OWNED_BY, "group:default/o"),
                rel(PART_OF, "system:default/s")
            ]
        );
        let (rels, _) =
            run(json!({"kind": "Template", "metadata": {"name": "t"}, "spec": {"owner": "o"}}));
        assert_eq!(rels, vec![rel(OWNED_BY, "group:default/o")]);
    }

    #[test]
    fn unknown_or_miscased_kinds_declare_nothing() {
        let (rels, _) =
            run(json!({"kind": "component", "metadata": {"name": "x"}, "spec": {"owner": "o"}}));
        assert!(rels.is_empty());
        let (rels, _) =
            run(json!({"kind": "Widget", "metadata": {"name": "x"}, "spec": {"owner": "o"}}));
        assert!(rels.is_empty());
    }

    #[test]
    fn empty_and_invalid_targets() {
        let (rels, problems) = run(json!({
            "kind": "Component", "metadata": {"name": "x"},
            "spec": {"owner": "", "system": null, "providesApis": ["", 3, "a", "a"], "consumesApis": "single"}
        }));
        assert_eq!(
            rels,
            vec![
                rel(PROVIDES_API, "api:default/a"),
                rel(CONSUMES_API, "api:default/single")
            ]
        );
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["spec.providesApis.0", "spec.providesApis.1"]);
    }

    #[test]
    fn inverses_are_symmetric() {
        for (a, b) in PAIRS {
            assert_eq!(inverse(a), Some(*b));
            assert_eq!(inverse(b), Some(*a));
        }
        assert_eq!(inverse("ownedBy"), Some("ownerOf"));
        assert_eq!(inverse("partOf"), Some("hasPart"));
        assert_eq!(inverse("likes"), None);
    }
}
