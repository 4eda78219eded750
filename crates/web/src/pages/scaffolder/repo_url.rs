//! The RepoUrlPicker as a form widget without JavaScript: a host select (the hosts this server
//! can publish to, narrowed by `ui:options.allowedHosts`), the owner (a select from
//! `allowedOwners`, else free text), the repository name (a select from `allowedRepos`, else
//! free text). The three parts post as `p.<name>.host`, `.owner` and `.repo` and are read back
//! into Backstage's value, `host?owner=o&repo=r`, with a message per problem on the field.

use scaffolder::Template;
use scaffolder::publishing::{LOCAL_HOST, check_name};
use serde_json::Value;

use super::form::{FormPage, Read};

/// The picker's parts as the form shows them.
pub struct Picker {
    pub hosts: Vec<String>,
    pub host: String,
    /// `allowedOwners`; empty: owner is free text.
    pub owners: Vec<String>,
    pub owner: String,
    /// `allowedRepos`; empty: the name is free text.
    pub repos: Vec<String>,
    pub repo: String,
}

fn is_picker(schema: &Value) -> bool {
    schema.get("ui:field").and_then(Value::as_str) == Some("RepoUrlPicker")
}

fn strings(schema: &Value, option: &str) -> Vec<String> {
    schema
        .pointer(&format!("/ui:options/{option}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The hosts to offer: `allowedHosts` that this server can publish to, or all it can.
fn host_options(schema: &Value, server_hosts: &[String]) -> Vec<String> {
    let allowed = strings(schema, "allowedHosts");
    if allowed.is_empty() {
        return server_hosts.to_vec();
    }
    allowed
        .into_iter()
        .filter(|h| server_hosts.iter().any(|s| s.eq_ignore_ascii_case(h)))
        .collect()
}

/// Every RepoUrlPicker property of the template, with its schema.
fn pickers(t: &Template) -> impl Iterator<Item = (&String, &Value)> {
    t.parameters
        .iter()
        .filter_map(|p| p.get("properties").and_then(Value::as_object))
        .flatten()
        .filter(|(_, s)| is_picker(s))
}

fn posted_part<'a>(posted: &'a [(String, String)], input: &str, part: &str) -> &'a str {
    let key = format!("{input}.{part}");
    posted
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v.trim())
}

/// `(host, owner, repo)` of a `host?owner=o&repo=r` value (empty parts when absent).
fn split(value: &str) -> (String, String, String) {
    let (host, query) = value.split_once('?').unwrap_or((value, ""));
    let mut owner = String::new();
    let mut repo = String::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "owner" => owner = v.into_owned(),
            "repo" => repo = v.into_owned(),
            _ => {}
        }
    }
    (host.to_owned(), owner, repo)
}

/// Makes each RepoUrlPicker field of `pages` a picker, filled from `posted` (or its default).
pub fn attach(
    t: &Template,
    pages: &mut [FormPage],
    posted: Option<&[(String, String)]>,
    server_hosts: &[String],
) {
    for (name, schema) in pickers(t) {
        let Some(field) = pages
            .iter_mut()
            .flat_map(|p| p.fields.iter_mut())
            .find(|f| f.name == *name)
        else {
            continue;
        };
        let hosts = host_options(schema, server_hosts);
        let owners = strings(schema, "allowedOwners");
        let repos = strings(schema, "allowedRepos");
        let (host, owner, repo) = match posted {
            Some(p) => (
                posted_part(p, &field.input, "host").to_owned(),
                posted_part(p, &field.input, "owner").to_owned(),
                posted_part(p, &field.input, "repo").to_owned(),
            ),
            None => {
                let (h, o, r) = split(schema.get("default").and_then(Value::as_str).unwrap_or(""));
                // As Backstage's picker: the first allowed host and owner are preselected.
                let first = |list: &[String], v: String| {
                    if v.is_empty() {
                        list.first().cloned().unwrap_or_default()
                    } else {
                        v
                    }
                };
                (first(&hosts, h), first(&owners, o), r)
            }
        };
        if hosts.is_empty() && field.error.is_none() {
            let allowed = strings(schema, "allowedHosts");
            field.error = Some(format!(
                "cannot be chosen: this server has no integration for {}",
                if allowed.is_empty() {
                    "any host".to_owned()
                } else {
                    allowed.join(", ")
                }
            ));
        }
        field.widget = "repourl";
        field.value = compose(&host, &owner, &repo);
        field.repo = Some(Picker {
            hosts,
            host,
            owners,
            owner,
            repos,
            repo,
        });
    }
}

/// Backstage's value: `host?owner=o&repo=r` (owner left out when empty).
fn compose(host: &str, owner: &str, repo: &str) -> String {
    if host.is_empty() && owner.is_empty() && repo.is_empty() {
        return String::new();
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    if !owner.is_empty() {
        q.append_pair("owner", owner);
    }
    q.append_pair("repo", repo);
    format!("{host}?{}", q.finish())
}

/// Reads each picker's posted parts into `read.values`, or a message into `read.field_errors`.
/// Nothing posted: no value (a `required` picker is then reported by the schema check).
pub fn read(t: &Template, posted: &[(String, String)], server_hosts: &[String], read: &mut Read) {
    for (name, schema) in pickers(t) {
        let input = format!("p.{name}");
        let host = posted_part(posted, &input, "host");
        let owner = posted_part(posted, &input, "owner");
        let repo = posted_part(posted, &input, "repo");
        if host.is_empty() && owner.is_empty() && repo.is_empty() {
            continue;
        }
        match check(schema, server_hosts, host, owner, repo) {
            Ok(()) => {
                if let Some(values) = read.values.as_object_mut() {
                    values.insert(name.clone(), compose(host, owner, repo).into());
                }
            }
            Err(message) => read.field_errors.push((name.clone(), message)),
        }
    }
}

fn one_of(what: &str, list: &[String]) -> String {
    format!("{what} must be one of: {}", list.join(", "))
}

fn check(
    schema: &Value,
    server_hosts: &[String],
    host: &str,
    owner: &str,
    repo: &str,
) -> Result<(), String> {
    let hosts = host_options(schema, server_hosts);
    if host.is_empty() {
        return Err("needs a host".into());
    }
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(one_of("host", &hosts));
    }
    let owners = strings(schema, "allowedOwners");
    if owner.is_empty() {
        if host != LOCAL_HOST {
            return Err("needs an owner".into());
        }
    } else if !owners.is_empty() && !owners.iter().any(|o| o == owner) {
        return Err(one_of("owner", &owners));
    } else {
        check_name("owner", owner, true).map_err(|e| e.to_string())?;
    }
    let repos = strings(schema, "allowedRepos");
    if repo.is_empty() {
        return Err("needs a repository name".into());
    }
    if !repos.is_empty() && !repos.iter().any(|r| r == repo) {
        return Err(one_of("repository", &repos));
    }
    check_name("repository name", repo, false).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parts_are_checked_and_composed_as_backstage_writes_them() {
        let schema = json!({"type": "string", "ui:field": "RepoUrlPicker",
            "ui:options": {"allowedHosts": ["github.com", "local"], "allowedOwners": ["acme", "a/b"]}});
        let hosts = vec!["local".to_owned(), "gitlab.com".to_owned()];
        assert_eq!(host_options(&schema, &hosts), ["local"]);
        assert_eq!(check(&schema, &hosts, "local", "acme", "svc"), Ok(()));
        assert_eq!(compose("local", "a/b", "svc"), "local?owner=a%2Fb&repo=svc");
        assert_eq!(compose("local", "", "svc"), "local?repo=svc");
        assert_eq!(
            split("github.com?owner=a%2Fb&repo=r"),
            ("github.com".into(), "a/b".into(), "r".into())
        );
        assert_eq!(
            check(&schema, &hosts, "github.com", "acme", "svc").unwrap_err(),
            "host must be one of: local"
        );
        assert_eq!(
            check(&schema, &hosts, "local", "other", "svc").unwrap_err(),
            "owner must be one of: acme, a/b"
        );
        assert_eq!(
            check(&schema, &hosts, "local", "acme", "").unwrap_err(),
            "needs a repository name"
        );
        assert!(
            check(&schema, &hosts, "local", "acme", "../x")
                .unwrap_err()
                .contains("Invalid repository name")
        );
        let open = json!({"ui:field": "RepoUrlPicker"});
        let all = vec!["github.com".to_owned()];
        assert_eq!(
            check(&open, &all, "github.com", "", "svc").unwrap_err(),
            "needs an owner"
        );
        assert!(
            check(&open, &all, "github.com", "x y", "svc")
                .unwrap_err()
                .contains("Invalid owner")
        );
    }
}
