//! Reading users and groups from Okta's Users and Groups API on the shared REST client
//! (`forge::rest`: `Link: rel="next"` pagination kept on Okta's own host, bounded bodies,
//! rate-limit headers honoured): `/api/v1/users`, `/api/v1/groups` and each group's
//! `/api/v1/groups/{id}/users`. Okta wants `Authorization: SSWS <token>`, sent as a header the
//! client never prints. Users are named by their login without its domain; groups by their
//! name; Okta's built-in groups (Everyone) and deprovisioned users are left out.

use std::collections::{BTreeMap, HashMap};

use forge::{Client, Limits};
use serde::Deserialize;

use crate::config::OktaSource;
use crate::directory::{Directory, GroupEntry, UserEntry};

const ID_ANNOTATION: &str = "okta.com/id";

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    status: String,
    profile: UserProfile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserProfile {
    login: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    title: Option<String>,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    #[serde(default, rename = "type")]
    kind: String,
    profile: GroupProfile,
}

#[derive(Deserialize)]
struct GroupProfile {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    id: String,
}

/// A client for the Okta org at `src.org_url`.
pub(crate) fn client(src: &OktaSource) -> Result<Client, String> {
    Client::with_options(
        &src.org_url,
        None,
        vec![
            ("accept", "application/json".into()),
            ("authorization", format!("SSWS {}", src.token.expose())),
        ],
        Limits::default(),
    )
    .map_err(|e| e.to_string())
}

fn display_name(p: &UserProfile) -> Option<String> {
    p.display_name.clone().or_else(|| {
        let full = [p.first_name.as_deref(), p.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!full.is_empty()).then_some(full)
    })
}

/// Reads the org's users, groups and memberships. An API error is an error (nothing is imported
/// from a partial read); a user without a login or a group without a name is listed in
/// [`Directory::errors`].
pub async fn read_okta(src: &OktaSource) -> Result<Directory, String> {
    read_with(src, &client(src)?).await
}

/// As [`read_okta`], on a client kept between runs (its ETags make unchanged pages 304s).
pub(crate) async fn read_with(src: &OktaSource, api: &Client) -> Result<Directory, String> {
    let err = |e: forge::Error| format!("okta {}: {e}", src.org_url);
    let users: Vec<User> = api
        .get_all("/api/v1/users?limit=200")
        .await
        .map_err(err)?
        .items;
    let groups: Vec<Group> = api
        .get_all("/api/v1/groups?limit=200")
        .await
        .map_err(err)?
        .items;
    let mut dir = Directory::default();
    let mut member_of: HashMap<String, Vec<String>> = HashMap::new();
    for g in &groups {
        if g.kind == "BUILT_IN" {
            continue;
        }
        let Some(name) = g.profile.name.clone().filter(|n| !n.trim().is_empty()) else {
            dir.errors.push(format!(
                "okta group {}: missing required profile.name; left out",
                g.id
            ));
            continue;
        };
        let path = format!(
            "/api/v1/groups/{}/users?limit=200",
            forge::encode_segment(&g.id)
        );
        let members: Vec<Member> = api.get_all(&path).await.map_err(err)?.items;
        for m in &members {
            member_of
                .entry(m.id.clone())
                .or_default()
                .push(g.id.clone());
        }
        dir.groups.push(GroupEntry {
            key: g.id.clone(),
            name,
            group_type: "team".into(),
            display_name: g.profile.name.clone(),
            description: g.profile.description.clone(),
            members: members.into_iter().map(|m| m.id).collect(),
            annotations: BTreeMap::from([(ID_ANNOTATION.to_owned(), g.id.clone())]),
            ..Default::default()
        });
    }
    for u in users {
        if u.status == "DEPROVISIONED" {
            continue;
        }
        let Some(login) = u.profile.login.clone().filter(|l| !l.trim().is_empty()) else {
            dir.errors.push(format!(
                "okta user {}: missing required profile.login; left out",
                u.id
            ));
            continue;
        };
        let name = login.split('@').next().unwrap_or(&login).to_owned();
        dir.users.push(UserEntry {
            name,
            display_name: display_name(&u.profile),
            email: u.profile.email.clone().or(Some(login)),
            description: u.profile.title.clone(),
            member_of: member_of.remove(&u.id).unwrap_or_default(),
            annotations: BTreeMap::from([(ID_ANNOTATION.to_owned(), u.id.clone())]),
            key: u.id,
            ..Default::default()
        });
    }
    Ok(dir)
}
