//! Entity references (`[kind:][namespace/]name`) parsed once into a type, with Backstage's defaults.

use std::fmt;

/// A fully qualified reference. `Display` gives Backstage's canonical form:
/// `kind:namespace/name` with kind and namespace lower-cased and the name as written.
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
    #[error("entity reference {0:?} had missing or empty kind (e.g. did not start with \"component:\" or similar)")]
    MissingKind(String),
    #[error("entity reference {0:?} is malformed: {1}")]
    Malformed(String, &'static str),
}

impl EntityRef {
    /// Parses `name`, `kind:name` or `kind:namespace/name`. `default_kind` fills a missing kind
    /// (an error when `None`), `default_namespace` a missing namespace.
    pub fn parse(s: &str, default_kind: Option<&str>, default_namespace: &str) -> Result<Self, RefError> {
        let _ = (s, default_kind, default_namespace);
        todo!("model helper")
    }

    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        Self { kind: kind.to_owned(), namespace: namespace.to_owned(), name: name.to_owned() }
    }

    /// The canonical string, lower-cased entirely: the key Stagedoor uses for identity and
    /// uniqueness (names are unique per kind and namespace case-insensitively).
    pub fn key(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind.to_lowercase(), self.namespace.to_lowercase(), self.name)
    }
}
