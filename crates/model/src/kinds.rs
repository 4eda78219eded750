//! The kinds Stagedoor knows natively, with Backstage's canonical spelling and apiVersions.

pub const API: &str = "API";
pub const COMPONENT: &str = "Component";
pub const DOMAIN: &str = "Domain";
pub const GROUP: &str = "Group";
pub const LOCATION: &str = "Location";
pub const RESOURCE: &str = "Resource";
pub const SYSTEM: &str = "System";
pub const TEMPLATE: &str = "Template";
pub const USER: &str = "User";

/// Every built-in kind, canonically spelled.
pub const BUILTIN: &[&str] = &[
    API, COMPONENT, DOMAIN, GROUP, LOCATION, RESOURCE, SYSTEM, TEMPLATE, USER,
];

const CATALOG_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];
const TEMPLATE_VERSIONS: &[&str] = &["scaffolder.backstage.io/v1beta3"];

/// The canonical spelling of a built-in kind, matched case-insensitively (`component` →
/// `Component`); `None` for kinds Stagedoor has no schema for.
pub fn canonical(kind: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(kind))
}

/// The apiVersions a built-in kind (canonical spelling) accepts; empty for other kinds.
pub fn api_versions(kind: &str) -> &'static [&'static str] {
    match kind {
        TEMPLATE => TEMPLATE_VERSIONS,
        k if BUILTIN.contains(&k) => CATALOG_VERSIONS,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_case_insensitive() {
        assert_eq!(canonical("api"), Some("API"));
        assert_eq!(canonical("TEMPLATE"), Some("Template"));
        assert_eq!(canonical("Widget"), None);
    }

    #[test]
    fn versions_per_kind() {
        assert!(api_versions("Component").contains(&"backstage.io/v1beta1"));
        assert_eq!(
            api_versions("Template"),
            ["scaffolder.backstage.io/v1beta3"]
        );
        assert!(api_versions("component").is_empty());
    }
}
