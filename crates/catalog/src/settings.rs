//! What the catalog is told to read and how: locations, kind rules, URL allow-list, intervals.

/// Lexical path normalisation, as configuration files resolve relative targets.
pub use crate::source::normalize;

use std::time::Duration;

/// A place entities come from: `file` (a file, a glob, or a directory searched for
/// `catalog-info.yaml`) or `url` (fetched over HTTP(S) from an allowed host).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LocationSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
}

impl LocationSpec {
    pub fn new(kind: &str, target: &str) -> Self {
        Self {
            kind: kind.to_owned(),
            target: target.to_owned(),
        }
    }

    /// Backstage's stringified location ref, e.g. `file:/srv/catalog/all.yaml`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.target)
    }
}

/// Which kinds may come from where (Backstage's `catalog.rules`). No rules means every kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// Kinds allowed, compared case-insensitively.
    pub allow: Vec<String>,
    /// When non-empty, the rule applies only to entities read from these locations
    /// (`target` may be a glob-like pattern with `*`).
    pub locations: Vec<LocationSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrphanStrategy {
    /// Entities no longer emitted by any file stay, annotated `backstage.io/orphan`, as in Backstage.
    #[default]
    Keep,
    Delete,
}

/// A host that `url` locations and `$text`/`$json`/`$yaml` may read from. `*.example.com` matches
/// any subdomain; `port` narrows to one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    pub host: String,
    pub port: Option<u16>,
}

impl AllowedHost {
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        let pattern = self.host.to_ascii_lowercase();
        let host_ok = match pattern.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => host == pattern,
        };
        host_ok && self.port.is_none_or(|p| Some(p) == port)
    }
}

#[derive(Debug, Clone)]
pub struct CatalogSettings {
    /// Locations from configuration, in order: earlier locations win entity conflicts.
    pub locations: Vec<(LocationSpec, Vec<Rule>)>,
    pub rules: Vec<Rule>,
    pub allowed_hosts: Vec<AllowedHost>,
    pub orphan_strategy: OrphanStrategy,
    /// How often file locations are checked for changes.
    pub watch_interval: Duration,
    /// How often `url` locations are fetched again.
    pub url_refresh_interval: Duration,
    /// Largest file or response read, in bytes.
    pub max_file_bytes: u64,
    /// Timeout for one HTTP read.
    pub http_timeout: Duration,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            locations: Vec::new(),
            rules: Vec::new(),
            allowed_hosts: Vec::new(),
            orphan_strategy: OrphanStrategy::Keep,
            watch_interval: Duration::from_millis(500),
            url_refresh_interval: Duration::from_secs(300),
            max_file_bytes: 10 * 1024 * 1024,
            http_timeout: Duration::from_secs(10),
        }
    }
}

impl CatalogSettings {
    /// Whether an entity of `kind` read through `location` passes the rules.
    pub fn allows(&self, kind: &str, location: &LocationSpec, own_rules: &[Rule]) -> bool {
        if self.rules.is_empty() && own_rules.is_empty() {
            return true;
        }
        self.rules.iter().chain(own_rules).any(|rule| {
            rule.allow.iter().any(|k| k.eq_ignore_ascii_case(kind))
                && (rule.locations.is_empty()
                    || rule.locations.iter().any(|l| {
                        l.kind == location.kind && wildcard_match(&l.target, &location.target)
                    }))
        })
    }
}

/// `*` matches any run of characters; everything else literally.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_limit_kinds_and_locations() {
        let s = CatalogSettings {
            rules: vec![
                Rule {
                    allow: vec!["Component".into(), "API".into()],
                    locations: vec![],
                },
                Rule {
                    allow: vec!["Group".into()],
                    locations: vec![LocationSpec::new("file", "/org/*.yaml")],
                },
            ],
            ..Default::default()
        };
        let any = LocationSpec::new("file", "/x/catalog-info.yaml");
        assert!(s.allows("component", &any, &[]));
        assert!(!s.allows("Group", &any, &[]));
        assert!(s.allows("Group", &LocationSpec::new("file", "/org/groups.yaml"), &[]));
        assert!(!s.allows("User", &LocationSpec::new("file", "/org/groups.yaml"), &[]));
        assert!(CatalogSettings::default().allows("Anything", &any, &[]));
    }

    #[test]
    fn hosts_match_exactly_or_by_subdomain() {
        let h = AllowedHost {
            host: "*.example.com".into(),
            port: None,
        };
        assert!(h.matches("git.example.com", Some(443)));
        assert!(!h.matches("example.com.evil.org", None));
        let p = AllowedHost {
            host: "127.0.0.1".into(),
            port: Some(8080),
        };
        assert!(p.matches("127.0.0.1", Some(8080)));
        assert!(!p.matches("127.0.0.1", Some(8081)));
    }
}
