//! GitLab's REST API (v4): typed calls on the [`rest`](crate::rest) core. A group's projects
//! (subgroups included), a project's languages, tree, files and recent commits, and the writes a
//! proposal or a new project needs (a branch, a commit, a merge request, a project).

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rest::{Client, Error, Limits, Listing, Method};
use crate::{ChangeRequest, Commit, Secret, Tree, TreeEntry, encode_segment};

/// gitlab.com's API; a self-managed instance's is `https://HOST/api/v4`.
pub const API: &str = "https://gitlab.com/api/v4";

/// A project as GitLab lists it (the fields Stagedoor reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Project {
    pub id: u64,
    pub name: String,
    pub path: String,
    /// `group/subgroup/project`.
    pub path_with_namespace: String,
    pub web_url: String,
    /// `None` for an empty repository.
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    /// Last activity (push, issue, merge request...), RFC 3339.
    #[serde(default)]
    pub last_activity_at: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A GitLab API client.
#[derive(Debug, Clone)]
pub struct GitLab {
    client: Client,
}

/// A project reference in a URL: its numeric id, or its encoded path.
fn project_ref(project: &str) -> String {
    encode_segment(project)
}

impl GitLab {
    /// A client for `base` (default [`API`]); the token is sent as `Authorization: Bearer`,
    /// which GitLab accepts for personal, group and project access tokens.
    pub fn new(base: Option<&str>, token: Option<Secret>) -> Result<GitLab, Error> {
        Self::with_limits(base, token, Limits::default())
    }

    pub fn with_limits(
        base: Option<&str>,
        token: Option<Secret>,
        limits: Limits,
    ) -> Result<GitLab, Error> {
        let client = Client::with_options(
            base.unwrap_or(API),
            token,
            vec![("accept", "application/json".into())],
            limits,
        )?;
        Ok(GitLab { client })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every project of a group and its subgroups, 100 a page.
    pub async fn group_projects(&self, group: &str) -> Result<Listing<Project>, Error> {
        self.client
            .get_all(&format!(
                "/groups/{}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&per_page=100",
                encode_segment(group)
            ))
            .await
    }

    /// One project by id or `group/project` path.
    pub async fn project(&self, project: &str) -> Result<Project, Error> {
        self.client
            .get_json(&format!("/projects/{}", project_ref(project)))
            .await
    }

    /// Languages as GitLab reports them: a percentage of the code each, largest first.
    pub async fn languages(&self, project: &str) -> Result<Vec<(String, f64)>, Error> {
        let map: serde_json::Map<String, Value> = self
            .client
            .get_json(&format!("/projects/{}/languages", project_ref(project)))
            .await?;
        let mut out: Vec<(String, f64)> = map
            .into_iter()
            .filter_map(|(l, p)| p.as_f64().map(|p| (l, p)))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The whole tree of `branch`, recursively, 100 entries a page (at most
    /// [`Limits::max_pages`] pages).
    pub async fn tree(&self, project: &str, branch: &str) -> Result<Tree, Error> {
        self.tree_bounded(project, branch, usize::MAX).await
    }

    /// The tree of `branch`, recursively, stopping once `max_entries` entries are read or
    /// [`Limits::max_pages`] pages followed (`truncated` then says so): GitLab has no cap of its
    /// own, and a huge repository should cost a bounded number of requests.
    pub async fn tree_bounded(
        &self,
        project: &str,
        branch: &str,
        max_entries: usize,
    ) -> Result<Tree, Error> {
        #[derive(Deserialize)]
        struct Entry {
            path: String,
            #[serde(rename = "type")]
            kind: String,
        }
        let mut out = Tree::default();
        let mut next = Some(format!(
            "/projects/{}/repository/tree?recursive=true&ref={}&per_page=100",
            project_ref(project),
            encode_segment(branch)
        ));
        let mut pages = 0usize;
        while let Some(url) = next {
            if out.entries.len() >= max_entries || pages >= self.client.limits().max_pages {
                out.truncated = true;
                break;
            }
            pages += 1;
            let page = self.client.get(&url).await?;
            let items: Vec<Entry> = page.json()?;
            out.entries.extend(
                items
                    .into_iter()
                    .filter(|e| e.kind == "blob" || e.kind == "tree")
                    .map(|e| TreeEntry {
                        is_dir: e.kind == "tree",
                        path: e.path,
                        size: None,
                    }),
            );
            next = page.next;
        }
        Ok(out)
    }

    /// A file's bytes at `branch`.
    pub async fn raw_file(
        &self,
        project: &str,
        path: &str,
        branch: &str,
    ) -> Result<Vec<u8>, Error> {
        let page = self
            .client
            .get(&format!(
                "/projects/{}/repository/files/{}/raw?ref={}",
                project_ref(project),
                encode_segment(path),
                encode_segment(branch)
            ))
            .await?;
        Ok(page.body.to_vec())
    }

    /// Commits on `branch` since `since` (RFC 3339), newest first.
    pub async fn commits_since(
        &self,
        project: &str,
        branch: &str,
        since: &str,
    ) -> Result<Vec<Commit>, Error> {
        #[derive(Deserialize)]
        struct Item {
            id: String,
            #[serde(default)]
            author_name: String,
            #[serde(default)]
            author_email: String,
            #[serde(default)]
            authored_date: String,
        }
        let list: Listing<Item> = self
            .client
            .get_all(&format!(
                "/projects/{}/repository/commits?ref_name={}&since={}&per_page=100",
                project_ref(project),
                encode_segment(branch),
                encode_segment(since)
            ))
            .await?;
        Ok(list
            .items
            .into_iter()
            .map(|i| Commit {
                sha: i.id,
                author_name: i.author_name,
                author_email: i.author_email,
                author_login: None,
                date: i.authored_date,
            })
            .collect())
    }

    /// Creates `branch` from `from` (a branch or commit).
    pub async fn create_branch(
        &self,
        project: &str,
        branch: &str,
        from: &str,
    ) -> Result<(), Error> {
        self.client
            .send_json(
                Method::POST,
                &format!(
                    "/projects/{}/repository/branches?branch={}&ref={}",
                    project_ref(project),
                    encode_segment(branch),
                    encode_segment(from)
                ),
                &json!({}),
            )
            .await?;
        Ok(())
    }

    /// One commit on `branch` creating the file `path` with `content` (sent base64).
    pub async fn commit_file(
        &self,
        project: &str,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<String, Error> {
        let v = self
            .client
            .send_json(
                Method::POST,
                &format!("/projects/{}/repository/commits", project_ref(project)),
                &json!({
                    "branch": branch,
                    "commit_message": message,
                    "actions": [{
                        "action": "create",
                        "file_path": path,
                        "encoding": "base64",
                        "content": base64::engine::general_purpose::STANDARD.encode(content),
                    }],
                }),
            )
            .await?;
        Ok(v.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Opens a merge request of `source` into `target`.
    pub async fn open_merge_request(
        &self,
        project: &str,
        source: &str,
        target: &str,
        title: &str,
        description: &str,
    ) -> Result<ChangeRequest, Error> {
        let v = self
            .client
            .send_json(
                Method::POST,
                &format!("/projects/{}/merge_requests", project_ref(project)),
                &json!({
                    "source_branch": source,
                    "target_branch": target,
                    "title": title,
                    "description": description,
                }),
            )
            .await?;
        Ok(ChangeRequest {
            number: v.get("iid").and_then(Value::as_u64).unwrap_or_default(),
            url: v
                .get("web_url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            branch: source.to_owned(),
        })
    }

    /// Creates a project in `namespace` (a group's or user's full path), or the token's user's
    /// when `None`; `visibility` is `private`, `internal` or `public`.
    pub async fn create_project(
        &self,
        namespace: Option<&str>,
        name: &str,
        description: &str,
        visibility: &str,
    ) -> Result<Project, Error> {
        let mut body = json!({
            "name": name,
            "path": name,
            "description": description,
            "visibility": visibility,
        });
        if let Some(ns) = namespace {
            let v: Value = self
                .client
                .get_json(&format!("/namespaces/{}", encode_segment(ns)))
                .await?;
            body["namespace_id"] = v.get("id").cloned().unwrap_or(Value::Null);
        }
        let v = self
            .client
            .send_json(Method::POST, "/projects", &body)
            .await?;
        serde_json::from_value(v).map_err(|e| Error::Json {
            url: "/projects".into(),
            message: e.to_string(),
        })
    }
}
