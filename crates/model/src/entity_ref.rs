//! Entity references (`[kind:][namespace/]name`) parsed once into a type, with Backstage's defaults.

use std::fmt;

use crate::Entity;

/// The namespace an entity or reference has when none is written.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A fully qualified reference. `Display` gives Backstage's canonical form:
/// `kind:namespace/name` with kind and namespace lower-cased and the name as written.
///
/// Backstage's own `stringifyEntityRef` also lower-cases the name; where output must match
/// Backstage byte for byte (relation `targetRef`s, `entityRef` fields), use [`EntityRef::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("entity reference must be a non-empty string")]
    Empty,
    #[error(
        "entity reference {0:?} had missing or empty kind (e.g. did not start with \"component:\" or similar)"
    )]
    MissingKind(String),
    #[error("entity reference {0:?} is malformed: {1}")]
    Malformed(String, &'static str),
}

const SHAPE: &str = "expected the form [<kind>:][<namespace>/]<name>";

impl EntityRef {
    /// Parses `name`, `kind:name` or `kind:namespace/name`. `default_kind` fills a missing kind
    /// (an error when `None`), `default_namespace` a missing namespace.
    ///
    /// Splitting follows Backstage: the first `:` separates the kind unless a `/` comes before
    /// it, and the first `/` separates the namespace; anything after that belongs to the name
    /// (so `a:b/c/d` has the name `c/d`). Empty parts are errors, not defaults.
    pub fn parse(
        s: &str,
        default_kind: Option<&str>,
        default_namespace: &str,
    ) -> Result<Self, RefError> {
        if s.is_empty() {
            return Err(RefError::Empty);
        }
        let slash = s.find('/');
        let colon = match (s.find(':'), slash) {
            (Some(c), Some(sl)) if sl < c => None,
            (c, _) => c,
        };
        let kind = colon.map(|c| &s[..c]);
        let name_start = colon.map_or(0, |c| c + 1);
        let namespace = slash.map(|sl| &s[name_start..sl]);
        let name = &s[slash.map_or(name_start, |sl| sl + 1)..];
        if kind == Some("") || namespace == Some("") || name.is_empty() {
            return Err(RefError::Malformed(s.to_owned(), SHAPE));
        }
        let kind = match kind.or(default_kind) {
            Some(k) if !k.is_empty() => k,
            _ => return Err(RefError::MissingKind(s.to_owned())),
        };
        let namespace = match namespace {
            Some(ns) => ns,
            // Backstage treats an empty default the same as no default.
            None if default_namespace.is_empty() => DEFAULT_NAMESPACE,
            None => default_namespace,
        };
        Ok(Self::new(kind, namespace, name))
    }

    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The reference of an entity itself: its kind, `metadata.namespace` (or `default`) and
    /// `metadata.name`. `None` when kind or name is missing or not a string.
    pub fn of_entity(entity: &Entity) -> Option<Self> {
        let kind = entity.get("kind")?.as_str()?;
        let name = crate::entity::str_at(entity, "metadata.name")?;
        Some(Self::new(kind, crate::entity::namespace(entity), name))
    }

    /// The canonical string, lower-cased entirely: the key Stagedoor uses for identity and
    /// uniqueness (names are unique per kind and namespace case-insensitively).
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Backstage's stringifyEntityRef lower-cases all three parts: relation targets, error
        // messages and lookups all use this one spelling.
        write!(
            f,
            "{}:{}/{}",
            self.kind.to_lowercase(),
            self.namespace.to_lowercase(),
            self.name.to_lowercase()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<EntityRef, RefError> {
        EntityRef::parse(s, Some("Group"), "ns")
    }

    #[test]
    fn full_partial_and_bare_forms() {
        assert_eq!(
            p("component:prod/svc").unwrap(),
            EntityRef::new("component", "prod", "svc")
        );
        assert_eq!(
            p("user:alice").unwrap(),
            EntityRef::new("user", "ns", "alice")
        );
        assert_eq!(
            p("team-a").unwrap(),
            EntityRef::new("Group", "ns", "team-a")
        );
        assert_eq!(
            p("other/team-a").unwrap(),
            EntityRef::new("Group", "other", "team-a")
        );
    }

    #[test]
    fn slash_before_colon_means_no_kind() {
        // The colon belongs to the name because the namespace separator comes first.
        assert_eq!(p("ns1/a:b").unwrap(), EntityRef::new("Group", "ns1", "a:b"));
        assert_eq!(p("k:ns1/a/b").unwrap(), EntityRef::new("k", "ns1", "a/b"));
        assert_eq!(p("k:a:b").unwrap(), EntityRef::new("k", "ns", "a:b"));
    }

    #[test]
    fn empty_parts_are_errors() {
        assert_eq!(p(""), Err(RefError::Empty));
        for bad in [":x", "k:", "k:/x", "k:ns/", "/x", "ns/", ":"] {
            assert!(matches!(p(bad), Err(RefError::Malformed(..))), "{bad}");
        }
    }

    #[test]
    fn missing_kind_without_default_is_an_error() {
        let e = EntityRef::parse("svc", None, "default").unwrap_err();
        assert_eq!(e, RefError::MissingKind("svc".into()));
        assert!(e.to_string().contains("missing or empty kind"));
        assert_eq!(
            EntityRef::parse("svc", Some(""), "default").unwrap_err(),
            RefError::MissingKind("svc".into())
        );
    }

    #[test]
    fn empty_default_namespace_means_default() {
        assert_eq!(
            EntityRef::parse("k:x", None, "").unwrap().namespace,
            "default"
        );
    }

    #[test]
    fn display_lowercases_every_part() {
        let r = EntityRef::new("Component", "Prod", "MySvc");
        assert_eq!(r.to_string(), "component:prod/mysvc");
        assert_eq!(r.key(), "component:prod/mysvc");
    }

    #[test]
    fn of_entity_uses_default_namespace() {
        let e: Entity = serde_json::from_str(r#"{"kind":"API","metadata":{"name":"a"}}"#).unwrap();
        assert_eq!(
            EntityRef::of_entity(&e).unwrap(),
            EntityRef::new("API", "default", "a")
        );
        let e: Entity = serde_json::from_str(r#"{"kind":"API","metadata":{}}"#).unwrap();
        assert!(EntityRef::of_entity(&e).is_none());
    }
}
