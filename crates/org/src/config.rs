//! Org import settings read from the config file, in Backstage's shapes where Backstage has one:
//! `ldap.providers[]` (and `catalog.providers.ldapOrg.<id>`) with `target`, `bind`, `users` and
//! `groups` (`dn`, `options.{filter,scope,attributes}`, `map`); `catalog.providers.okta`
//! (`orgUrl`, `token`); `catalog.providers.githubOrg` (`githubUrl`, `orgs`, `token`); and
//! Stagedoor's own `orgImport.{intervalSeconds,outputDir}`. Secrets come through `${VAR}` in the
//! file and are held as [`forge::Secret`], which never prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use forge::Secret;
use serde_json::Value;

use crate::assemble::normalise_name;

/// Every configured source, how often they are imported and where the files go.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sources: Vec<Source>,
    pub interval: Duration,
    /// Where the generated files are written (default: `org-import` under the data directory).
    pub output_dir: Option<PathBuf>,
    /// Largest generated file; more entities go to further files (`<id>--part2.yaml`, …).
    pub max_file_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sources: Vec::new(),
            interval: Duration::from_secs(3600),
            output_dir: None,
            // Well under the catalog's default limit on one file (10 MiB).
            max_file_bytes: 4 * 1024 * 1024,
        }
    }
}

/// One source: its id (the generated file's name and the entities' source annotation).
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub kind: SourceKind,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Ldap(LdapSource),
    Okta(OktaSource),
    GitHub(GitHubSource),
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Ldap(_) => "ldap",
            SourceKind::Okta(_) => "okta",
            SourceKind::GitHub(_) => "github",
        }
    }
}

/// An LDAP directory: `ldap://` or `ldaps://` (rustls) target, an optional simple bind.
#[derive(Debug, Clone)]
pub struct LdapSource {
    pub target: String,
    pub bind: Option<(String, Secret)>,
    pub users: Vec<LdapQuery>,
    pub groups: Vec<LdapQuery>,
    /// Time allowed for connecting and for each operation.
    pub timeout: Duration,
    /// Entries read per search at most; more is an error for that search.
    pub max_entries: usize,
    /// Check the server's certificate for `ldaps://` and StartTLS (Backstage's
    /// `tls.rejectUnauthorized`, default true).
    pub tls_verify: bool,
    /// Upgrade an `ldap://` connection with StartTLS (`tls.starttls`).
    pub starttls: bool,
}

/// Where the search scope goes: the base entry only, its children, or the whole subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Base,
    One,
    Sub,
}

/// One `users[]` or `groups[]` entry: a search and how its attributes map to entity fields.
#[derive(Debug, Clone)]
pub struct LdapQuery {
    pub dn: String,
    pub scope: Scope,
    pub filter: String,
    /// Attributes asked for besides the mapped ones.
    pub attributes: Vec<String>,
    /// Entity field (`rdn`, `name`, `displayName`, `email`, `memberOf`, …) to attribute.
    pub map: BTreeMap<String, String>,
}

/// Okta's Users and Groups API at `orgUrl` with an API token (`Authorization: SSWS`).
#[derive(Debug, Clone)]
pub struct OktaSource {
    pub org_url: String,
    pub token: Secret,
}

/// A GitHub organisation's teams and members.
#[derive(Debug, Clone)]
pub struct GitHubSource {
    /// The REST API base (`https://api.github.com`, or `<githubUrl>/api/v3` for GitHub Enterprise).
    pub api_base: String,
    pub org: String,
    pub token: Option<Secret>,
}

/// Backstage's defaults for `users[].map` (LdapOrgEntityProvider).
const USER_MAP: &[(&str, &str)] = &[
    ("rdn", "uid"),
    ("name", "uid"),
    ("displayName", "cn"),
    ("email", "mail"),
    ("memberOf", "memberOf"),
    ("description", "description"),
];

/// Backstage's defaults for `groups[].map`.
const GROUP_MAP: &[(&str, &str)] = &[
    ("rdn", "cn"),
    ("name", "cn"),
    ("description", "description"),
    ("type", "groupType"),
    ("displayName", "cn"),
    ("memberOf", "memberOf"),
    ("members", "member"),
];

fn string(v: &Value, at: &str, what: &str) -> Result<Option<String>, String> {
    match v.get(at) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{what}.{at} must be a string")),
    }
}

fn required(v: &Value, at: &str, what: &str) -> Result<String, String> {
    string(v, at, what)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("{what}.{at} is required"))
}

/// An object or a list of them (Backstage accepts both for `users`, `groups` and providers).
fn one_or_many(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn query(v: &Value, what: &str, defaults: &[(&str, &str)]) -> Result<LdapQuery, String> {
    let dn = required(v, "dn", what)?;
    let options = v.get("options").cloned().unwrap_or(Value::Null);
    let scope = match string(&options, "scope", &format!("{what}.options"))?.as_deref() {
        None | Some("one") => Scope::One,
        Some("base") => Scope::Base,
        Some("sub") => Scope::Sub,
        Some(other) => {
            return Err(format!(
                "{what}.options.scope must be base, one or sub, not {other:?}"
            ));
        }
    };
    let filter = string(&options, "filter", &format!("{what}.options"))?
        .unwrap_or_else(|| "(objectClass=*)".into());
    let attributes = match options.get("attributes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{what}.options.attributes must be strings"))?,
        Some(_) => return Err(format!("{what}.options.attributes must be a list")),
    };
    let mut map: BTreeMap<String, String> = defaults
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(m) = v.get("map").and_then(Value::as_object) {
        for (k, val) in m {
            match val {
                // `null` turns a mapping off (Backstage: `memberOf: null`).
                Value::Null => {
                    map.remove(k);
                }
                Value::String(s) => {
                    map.insert(k.clone(), s.clone());
                }
                _ => return Err(format!("{what}.map.{k} must be a string or null")),
            }
        }
    }
    Ok(LdapQuery {
        dn,
        scope,
        filter,
        attributes,
        map,
    })
}

fn ldap(v: &Value, what: &str) -> Result<LdapSource, String> {
    let target = required(v, "target", what)?;
    if !(target.starts_with("ldap://") || target.starts_with("ldaps://")) {
        return Err(format!("{what}.target must be an ldap:// or ldaps:// URL"));
    }
    let bind = match v.get("bind") {
        None | Some(Value::Null) => None,
        Some(b) => Some((
            required(b, "dn", &format!("{what}.bind"))?,
            Secret::new(string(b, "secret", &format!("{what}.bind"))?.unwrap_or_default()),
        )),
    };
    let users = one_or_many(v.get("users"))
        .into_iter()
        .enumerate()
        .map(|(i, u)| query(u, &format!("{what}.users[{i}]"), USER_MAP))
        .collect::<Result<Vec<_>, _>>()?;
    let groups = one_or_many(v.get("groups"))
        .into_iter()
        .enumerate()
        .map(|(i, g)| query(g, &format!("{what}.groups[{i}]"), GROUP_MAP))
        .collect::<Result<Vec<_>, _>>()?;
    if users.is_empty() && groups.is_empty() {
        return Err(format!("{what} needs users or groups to read"));
    }
    let tls = v.get("tls").cloned().unwrap_or(Value::Null);
    let flag = |key: &str, default: bool| match tls.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{what}.tls.{key} must be true or false")),
    };
    Ok(LdapSource {
        target,
        bind,
        users,
        groups,
        timeout: Duration::from_secs(30),
        max_entries: 100_000,
        tls_verify: flag("rejectUnauthorized", true)?,
        starttls: flag("starttls", false)?,
    })
}

/// The host part of a URL, for a default source id.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', ':']).next().unwrap_or(rest)
}

/// Reads the org import settings from the whole config (see the module docs); `base` is the
/// config file's folder, for a relative `orgImport.outputDir`.
pub fn parse(v: &Value, base: &Path) -> Result<Settings, String> {
    let mut out = Settings::default();
    let mut add = |id: String, kind: SourceKind, what: &str| -> Result<(), String> {
        let id = normalise_name(&id).ok_or_else(|| format!("{what}: id {id:?} is not usable"))?;
        out.sources.push(Source { id, kind });
        Ok(())
    };
    for (i, p) in one_or_many(v.pointer("/ldap/providers"))
        .into_iter()
        .enumerate()
    {
        let what = format!("ldap.providers[{i}]");
        let src = ldap(p, &what)?;
        let id =
            string(p, "id", &what)?.unwrap_or_else(|| format!("ldap-{}", host_of(&src.target)));
        add(id, SourceKind::Ldap(src), &what)?;
    }
    if let Some(m) = v
        .pointer("/catalog/providers/ldapOrg")
        .and_then(Value::as_object)
    {
        for (id, p) in m {
            let what = format!("catalog.providers.ldapOrg.{id}");
            add(id.clone(), SourceKind::Ldap(ldap(p, &what)?), &what)?;
        }
    }
    for (i, p) in one_or_many(v.pointer("/catalog/providers/okta"))
        .into_iter()
        .enumerate()
    {
        let what = format!("catalog.providers.okta[{i}]");
        let org_url = required(p, "orgUrl", &what)?;
        let token = Secret::new(required(p, "token", &what)?);
        let id = string(p, "id", &what)?.unwrap_or_else(|| format!("okta-{}", host_of(&org_url)));
        add(id, SourceKind::Okta(OktaSource { org_url, token }), &what)?;
    }
    let github = v.pointer("/catalog/providers/githubOrg");
    let github: Vec<(Option<String>, &Value)> = match github {
        Some(Value::Object(m)) if !m.contains_key("orgs") => {
            m.iter().map(|(k, p)| (Some(k.clone()), p)).collect()
        }
        other => one_or_many(other).into_iter().map(|p| (None, p)).collect(),
    };
    for (i, (key, p)) in github.into_iter().enumerate() {
        let what = format!("catalog.providers.githubOrg[{i}]");
        let url = string(p, "githubUrl", &what)?.unwrap_or_else(|| "https://github.com".into());
        let api_base = match string(p, "apiBaseUrl", &what)? {
            Some(a) => a,
            None if host_of(&url) == "github.com" => "https://api.github.com".into(),
            None => format!("{}/api/v3", url.trim_end_matches('/')),
        };
        let orgs: Vec<String> = p
            .get("orgs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if orgs.is_empty() {
            return Err(format!("{what}.orgs must list at least one organisation"));
        }
        let token = string(p, "token", &what)?
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        let id = string(p, "id", &what)?.or(key);
        for org in &orgs {
            let id = match (&id, orgs.len()) {
                (Some(id), 1) => id.clone(),
                (Some(id), _) => format!("{id}-{org}"),
                (None, _) => format!("github-{org}"),
            };
            let src = GitHubSource {
                api_base: api_base.clone(),
                org: org.clone(),
                token: token.clone(),
            };
            add(id, SourceKind::GitHub(src), &what)?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for s in &out.sources {
        if !seen.insert(s.id.to_lowercase()) {
            return Err(format!(
                "two org import sources have the id {:?}; give one an `id`",
                s.id
            ));
        }
    }
    if let Some(s) = v.pointer("/orgImport/intervalSeconds") {
        let secs = s
            .as_u64()
            .filter(|s| *s > 0)
            .ok_or("orgImport.intervalSeconds must be a positive integer")?;
        out.interval = Duration::from_secs(secs);
    }
    if let Some(b) = v.pointer("/orgImport/maxFileBytes") {
        out.max_file_bytes = b
            .as_u64()
            .filter(|b| *b >= 1024)
            .ok_or("orgImport.maxFileBytes must be an integer of at least 1024")?;
    }
    if let Some(d) = v.pointer("/orgImport/outputDir") {
        let d = d.as_str().ok_or("orgImport.outputDir must be a string")?;
        out.output_dir = Some(base.join(d));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_backstage_shapes_with_defaults() {
        let v = json!({
            "ldap": {"providers": [{
                "target": "ldap://127.0.0.1:389",
                "tls": {"rejectUnauthorized": false},
                "bind": {"dn": "cn=admin,dc=x", "secret": "s3cret"},
                "users": {"dn": "ou=people,dc=x", "options": {"filter": "(objectClass=inetOrgPerson)", "scope": "sub"}, "map": {"name": "cn", "memberOf": null}},
                "groups": [{"dn": "ou=groups,dc=x"}]
            }]},
            "catalog": {"providers": {
                "okta": [{"orgUrl": "https://acme.okta.com", "token": "t"}],
                "githubOrg": {"gh": {"githubUrl": "https://github.com", "orgs": ["acme"]}}
            }},
            "orgImport": {"intervalSeconds": 60, "outputDir": "org", "maxFileBytes": 2048}
        });
        let s = parse(&v, Path::new("/etc/sd")).unwrap();
        let ids: Vec<&str> = s.sources.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["ldap-127.0.0.1", "okta-acme.okta.com", "gh"]);
        let SourceKind::Ldap(l) = &s.sources[0].kind else {
            panic!()
        };
        assert_eq!(l.users[0].scope, Scope::Sub);
        assert!(!l.tls_verify && !l.starttls);
        assert_eq!(l.users[0].map["name"], "cn");
        assert_eq!(l.users[0].map["email"], "mail");
        assert!(!l.users[0].map.contains_key("memberOf"));
        assert_eq!(l.groups[0].map["members"], "member");
        assert_eq!(l.groups[0].filter, "(objectClass=*)");
        assert!(!format!("{s:?}").contains("s3cret"), "secrets never print");
        let SourceKind::GitHub(g) = &s.sources[2].kind else {
            panic!()
        };
        assert_eq!(g.api_base, "https://api.github.com");
        assert_eq!(s.interval, Duration::from_secs(60));
        assert_eq!(s.output_dir.as_deref(), Some(Path::new("/etc/sd/org")));
        assert_eq!(s.max_file_bytes, 2048);
    }

    #[test]
    fn clear_errors() {
        let e = |v: Value| parse(&v, Path::new("/")).unwrap_err();
        assert!(
            e(json!({"ldap": {"providers": [{"target": "http://x", "users": {"dn": "x"}}]}}))
                .contains("ldap.providers[0].target")
        );
        assert!(e(json!({"ldap": {"providers": [{"target": "ldap://x", "users": {"dn": "x", "options": {"scope": "all"}}}]}})).contains("scope"));
        assert!(
            e(json!({"catalog": {"providers": {"okta": {"orgUrl": "https://x"}}}}))
                .contains("okta[0].token is required")
        );
        assert!(e(json!({"catalog": {"providers": {"okta": [{"orgUrl": "https://x", "token": "a"}, {"orgUrl": "https://x", "token": "b"}]}}})).contains("two org import sources"));
    }
}
