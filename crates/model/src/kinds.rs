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
/// Stagedoor's own kinds (`stagedoor.dev/v1alpha1`): maturity checks and the mandates built on them.
pub const SCORECARD: &str = "Scorecard";
pub const CAMPAIGN: &str = "Campaign";

/// Every kind the catalog accepts, canonically spelled: Backstage's built-in kinds and ours.
pub const BUILTIN: &[&str] = &[
    API, COMPONENT, DOMAIN, GROUP, LOCATION, RESOURCE, SYSTEM, TEMPLATE, USER, SCORECARD, CAMPAIGN,
];

const CATALOG_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];
const TEMPLATE_VERSIONS: &[&str] = &["scaffolder.backstage.io/v1beta3"];
/// The apiVersion of Stagedoor's own kinds.
pub const STAGEDOOR_V1ALPHA1: &str = "stagedoor.dev/v1alpha1";
const STAGEDOOR_VERSIONS: &[&str] = &[STAGEDOOR_V1ALPHA1];

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
        SCORECARD | CAMPAIGN => STAGEDOOR_VERSIONS,
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
        assert_eq!(api_versions("Scorecard"), ["stagedoor.dev/v1alpha1"]);
        assert_eq!(api_versions("Campaign"), ["stagedoor.dev/v1alpha1"]);
        assert!(!api_versions("Scorecard").contains(&"backstage.io/v1alpha1"));
    }
}
