//! Reading a GitHub organisation's teams and members on the shared GitHub client
//! (`forge::github`, paging by `Link`, ETags, rate limits): `/orgs/{org}/teams` (a team's
//! `parent` gives the hierarchy), `/orgs/{org}/teams/{slug}/members`, `/orgs/{org}/members` and
//! `/users/{login}` for each member's profile. Mapped as Backstage's GitHub org provider maps
//! them: users named by login (`github.com/user-login`), groups by team slug
//! (`github.com/team-slug: org/slug`), of type `team`.

use std::collections::BTreeMap;

use forge::Client;
use forge::github::GitHub;
use serde::Deserialize;

use crate::config::GitHubSource;
use crate::directory::{Directory, GroupEntry, UserEntry};

#[derive(Deserialize)]
struct Team {
    slug: String,
    name: Option<String>,
    description: Option<String>,
    parent: Option<Parent>,
}

#[derive(Deserialize)]
struct Parent {
    slug: String,
}

#[derive(Deserialize)]
struct Member {
    login: String,
}

#[derive(Deserialize)]
struct Profile {
    login: String,
    name: Option<String>,
    email: Option<String>,
    avatar_url: Option<String>,
    bio: Option<String>,
}

/// Reads the organisation's teams, members and their profiles. An API error is an error
/// (nothing is imported from a partial read).
pub async fn read_github(src: &GitHubSource) -> Result<Directory, String> {
    read_with(src, &client(src)?).await
}

/// A client for the source's API with GitHub's media type and version headers.
pub(crate) fn client(src: &GitHubSource) -> Result<Client, String> {
    GitHub::new(Some(&src.api_base), src.token.clone())
        .map(|gh| gh.client().clone())
        .map_err(|e| e.to_string())
}

/// As [`read_github`], on a client kept between runs: GitHub answers an unchanged page with a
/// 304, which does not count against the rate limit.
pub(crate) async fn read_with(src: &GitHubSource, api: &Client) -> Result<Directory, String> {
    let org = forge::encode_segment(&src.org);
    let err = |e: forge::Error| format!("github org {}: {e}", src.org);
    let teams: Vec<Team> = api
        .get_all(&format!("/orgs/{org}/teams?per_page=100"))
        .await
        .map_err(err)?
        .items;
    let mut dir = Directory::default();
    let mut memberships: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in teams {
        let path = format!(
            "/orgs/{org}/teams/{}/members?per_page=100",
            forge::encode_segment(&t.slug)
        );
        let members: Vec<Member> = api.get_all(&path).await.map_err(err)?.items;
        for m in &members {
            memberships
                .entry(m.login.to_lowercase())
                .or_default()
                .push(t.slug.clone());
        }
        dir.groups.push(GroupEntry {
            key: t.slug.clone(),
            name: t.slug.clone(),
            group_type: "team".into(),
            display_name: t.name,
            description: t.description,
            member_of: t.parent.map(|p| p.slug).into_iter().collect(),
            annotations: BTreeMap::from([(
                "github.com/team-slug".to_owned(),
                format!("{}/{}", src.org, t.slug),
            )]),
            ..Default::default()
        });
    }
    let members: Vec<Member> = api
        .get_all(&format!("/orgs/{org}/members?per_page=100"))
        .await
        .map_err(err)?
        .items;
    for m in members {
        let path = format!("/users/{}", forge::encode_segment(&m.login));
        let p: Profile = api.get_json(&path).await.map_err(err)?;
        dir.users.push(UserEntry {
            key: format!("user:{}", p.login.to_lowercase()),
            name: p.login.clone(),
            display_name: p.name,
            email: p.email,
            picture: p.avatar_url,
            description: p.bio,
            member_of: memberships
                .remove(&p.login.to_lowercase())
                .unwrap_or_default(),
            annotations: BTreeMap::from([("github.com/user-login".to_owned(), p.login)]),
        });
    }
    Ok(dir)
}
