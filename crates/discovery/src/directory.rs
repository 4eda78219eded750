//! Who is who in the catalog, as the owner guess needs it: Groups by name, Users by name and by
//! `spec.profile.email`, and each User's groups. Built from catalog entities (a snapshot, or files
//! read offline by `stagedoor discover --catalog`).

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Default, Clone)]
pub struct Directory {
    /// Lower-case group name → `group:<namespace>/<name>`.
    groups: HashMap<String, String>,
    /// Lower-case user name → the user.
    users: HashMap<String, Person>,
    /// Lower-case email → user name.
    emails: HashMap<String, String>,
}

#[derive(Debug, Clone)]
struct Person {
    entity_ref: String,
    /// Group refs from `spec.memberOf` and from groups' `spec.members`.
    groups: Vec<String>,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// `team-a`, `group:team-a`, `group:default/team-a` → `group:default/team-a` (lower case).
fn group_ref(raw: &str, namespace: &str) -> String {
    let raw = raw.to_ascii_lowercase();
    let raw = raw.strip_prefix("group:").unwrap_or(&raw);
    if raw.contains('/') {
        format!("group:{raw}")
    } else {
        format!("group:{namespace}/{raw}")
    }
}

impl Directory {
    /// From entity JSON objects of any kind; only Users and Groups are kept.
    pub fn from_entities<'a>(entities: impl IntoIterator<Item = &'a Value>) -> Directory {
        let mut d = Directory::default();
        let mut members: Vec<(String, String)> = Vec::new(); // (user name, group ref)
        for e in entities {
            let kind = str_at(e, "/kind").unwrap_or_default().to_ascii_lowercase();
            let Some(name) = str_at(e, "/metadata/name") else {
                continue;
            };
            let ns = str_at(e, "/metadata/namespace")
                .unwrap_or("default")
                .to_ascii_lowercase();
            let lname = name.to_ascii_lowercase();
            match kind.as_str() {
                "group" => {
                    let r = format!("group:{ns}/{lname}");
                    for m in e
                        .pointer("/spec/members")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(m) = m.as_str() {
                            let m = m.to_ascii_lowercase();
                            let m = m
                                .rsplit('/')
                                .next()
                                .unwrap_or(&m)
                                .trim_start_matches("user:");
                            members.push((m.to_owned(), r.clone()));
                        }
                    }
                    d.groups.insert(lname, r);
                }
                "user" => {
                    let groups = e
                        .pointer("/spec/memberOf")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(|g| group_ref(g, &ns))
                        .collect();
                    if let Some(email) = str_at(e, "/spec/profile/email") {
                        d.emails.insert(email.to_ascii_lowercase(), lname.clone());
                    }
                    d.users.insert(
                        lname.clone(),
                        Person {
                            entity_ref: format!("user:{ns}/{lname}"),
                            groups,
                        },
                    );
                }
                _ => {}
            }
        }
        for (user, group) in members {
            if let Some(p) = d.users.get_mut(&user)
                && !p.groups.contains(&group)
            {
                p.groups.push(group);
            }
        }
        d
    }

    /// The Users and Groups of a catalog snapshot.
    pub fn of(snapshot: &catalog::read::Snapshot) -> Directory {
        // Separate `filter` values are alternatives (Backstage's query semantics).
        let filter = model::filter::parse_query(&["kind=user".to_owned(), "kind=group".to_owned()])
            .ok()
            .flatten();
        let people: Vec<Value> = snapshot
            .entities(filter.as_ref())
            .map(|e| e.json().clone())
            .collect();
        Directory::from_entities(people.iter())
    }

    /// The ref of the group named `name` (case-insensitive), if the catalog has it.
    pub fn group(&self, name: &str) -> Option<&str> {
        self.groups
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The user with this email: their ref and their groups.
    pub fn user_by_email(&self, email: &str) -> Option<(&str, &[String])> {
        let name = self.emails.get(&email.to_ascii_lowercase())?;
        self.user_by_name(name)
    }

    pub fn user_by_name(&self, name: &str) -> Option<(&str, &[String])> {
        self.users
            .get(&name.to_ascii_lowercase())
            .map(|p| (p.entity_ref.as_str(), p.groups.as_slice()))
    }
}
