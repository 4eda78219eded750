//! GitHub's REST API (v3): typed calls on the [`rest`](crate::rest) core. Repositories of an
//! organisation or a user, a repository's languages, tree, files and recent commits, and the
//! writes a proposal or a new repository needs (a branch, a file, a pull request, a repository).

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::github_app::{GitHubApp, Installation};
use crate::rest::{Client, Error, Limits, Listing, Method};
use crate::{ChangeRequest, Commit, Secret, Tree, TreeEntry, encode_path, encode_segment};

/// github.com's API; GitHub Enterprise Server's is `https://HOST/api/v3`.
pub const API: &str = "https://api.github.com";

/// A repository as GitHub lists it (the fields Stagedoor reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repo {
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    pub html_url: String,
    /// `None` for an empty repository.
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub fork: bool,
    /// Last push to any branch, RFC 3339; `None` before the first push.
    #[serde(default)]
    pub pushed_at: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// GitHub's media type and the API version these calls are written against.
fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("accept", "application/vnd.github+json".into()),
        ("x-github-api-version", "2022-11-28".into()),
    ]
}

/// A GitHub API client.
#[derive(Debug, Clone)]
pub struct GitHub {
    client: Client,
}

impl GitHub {
    /// A client for `base` (default [`API`]) with GitHub's media type and API version headers.
    pub fn new(base: Option<&str>, token: Option<Secret>) -> Result<GitHub, Error> {
        Self::with_limits(base, token, Limits::default())
    }

    pub fn with_limits(
        base: Option<&str>,
        token: Option<Secret>,
        limits: Limits,
    ) -> Result<GitHub, Error> {
        let client = Client::with_options(base.unwrap_or(API), token, headers(), limits)?;
        Ok(GitHub { client })
    }

    /// A client authenticated as a GitHub App installation: app `app_id` with its private key
    /// (PEM); installation tokens are minted and renewed as needed (see [`crate::github_app`]).
    pub fn with_app(
        base: Option<&str>,
        app_id: u64,
        private_key: &Secret,
        installation: Installation,
        limits: Limits,
    ) -> Result<GitHub, Error> {
        let base = base.unwrap_or(API);
        let app = GitHubApp::new(base, app_id, private_key, installation, headers(), limits)?;
        let client = Client::with_token_source(base, std::sync::Arc::new(app), headers(), limits)?;
        Ok(GitHub { client })
    }

    /// The REST core underneath, for calls not typed here.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every repository of an organisation (`type=all`: public, private and internal ones the
    /// token can see), 100 a page.
    pub async fn org_repos(&self, org: &str) -> Result<Listing<Repo>, Error> {
        self.client
            .get_all(&format!(
                "/orgs/{}/repos?type=all&per_page=100",
                encode_segment(org)
            ))
            .await
    }

    /// Every repository a user owns.
    pub async fn user_repos(&self, user: &str) -> Result<Listing<Repo>, Error> {
        self.client
            .get_all(&format!(
                "/users/{}/repos?type=owner&per_page=100",
                encode_segment(user)
            ))
            .await
    }

    /// One repository by `owner/name`.
    pub async fn repo(&self, full_name: &str) -> Result<Repo, Error> {
        self.client.get_json(&format!("/repos/{full_name}")).await
    }

    /// Bytes of code per language, largest first (GitHub's linguist counts).
    pub async fn languages(&self, full_name: &str) -> Result<Vec<(String, u64)>, Error> {
        let map: serde_json::Map<String, Value> = self
            .client
            .get_json(&format!("/repos/{full_name}/languages"))
            .await?;
        let mut out: Vec<(String, u64)> = map
            .into_iter()
            .filter_map(|(l, b)| b.as_u64().map(|b| (l, b)))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The whole tree of `branch`, recursively (GitHub cuts very large trees short and says so).
    pub async fn tree(&self, full_name: &str, branch: &str) -> Result<Tree, Error> {
        #[derive(Deserialize)]
        struct Entry {
            path: String,
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            size: Option<u64>,
        }
        #[derive(Deserialize)]
        struct Body {
            tree: Vec<Entry>,
            #[serde(default)]
            truncated: bool,
        }
        let body: Body = self
            .client
            .get_json(&format!(
                "/repos/{full_name}/git/trees/{}?recursive=1",
                encode_segment(branch)
            ))
            .await?;
        Ok(Tree {
            entries: body
                .tree
                .into_iter()
                // Submodules (`commit`) are someone else's repository.
                .filter(|e| e.kind == "blob" || e.kind == "tree")
                .map(|e| TreeEntry {
                    is_dir: e.kind == "tree",
                    path: e.path,
                    size: e.size,
                })
                .collect(),
            truncated: body.truncated,
        })
    }

    /// A file's bytes at `branch`, from the contents API (base64 in JSON; files over 1 MB are
    /// not served that way and are an error).
    pub async fn file(&self, full_name: &str, path: &str, branch: &str) -> Result<Vec<u8>, Error> {
        let url = format!(
            "/repos/{full_name}/contents/{}?ref={}",
            encode_path(path),
            encode_segment(branch)
        );
        let v: Value = self.client.get_json(&url).await?;
        let invalid = |m: &str| Error::Json {
            url: self.client.url(&url).unwrap_or_default(),
            message: m.to_owned(),
        };
        if v.get("encoding").and_then(Value::as_str) != Some("base64") {
            return Err(invalid(
                "not a file served as base64 (a folder, or a file over 1 MB)",
            ));
        }
        let text: String = v
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| invalid(&format!("content is not base64: {e}")))
    }

    /// Commits on `branch` authored since `since` (RFC 3339), newest first, at most
    /// `Limits::max_pages` pages of 100.
    pub async fn commits_since(
        &self,
        full_name: &str,
        branch: &str,
        since: &str,
    ) -> Result<Vec<Commit>, Error> {
        #[derive(Deserialize)]
        struct Person {
            #[serde(default)]
            name: String,
            #[serde(default)]
            email: String,
            #[serde(default)]
            date: String,
        }
        #[derive(Deserialize)]
        struct Inner {
            author: Option<Person>,
        }
        #[derive(Deserialize)]
        struct Login {
            login: String,
        }
        #[derive(Deserialize)]
        struct Item {
            sha: String,
            commit: Inner,
            #[serde(default)]
            author: Option<Login>,
        }
        let list: Listing<Item> = self
            .client
            .get_all(&format!(
                "/repos/{full_name}/commits?sha={}&since={}&per_page=100",
                encode_segment(branch),
                encode_segment(since)
            ))
            .await?;
        Ok(list
            .items
            .into_iter()
            .map(|i| {
                let p = i.commit.author.unwrap_or(Person {
                    name: String::new(),
                    email: String::new(),
                    date: String::new(),
                });
                Commit {
                    sha: i.sha,
                    author_name: p.name,
                    author_email: p.email,
                    author_login: i.author.map(|a| a.login),
                    date: p.date,
                }
            })
            .collect())
    }

    /// The commit at the tip of `branch`.
    pub async fn branch_head(&self, full_name: &str, branch: &str) -> Result<String, Error> {
        let v: Value = self
            .client
            .get_json(&format!(
                "/repos/{full_name}/git/ref/heads/{}",
                encode_path(branch)
            ))
            .await?;
        v.pointer("/object/sha")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::Invalid(format!("{full_name}: branch {branch} has no commit")))
    }

    /// Creates `branch` at commit `sha`.
    pub async fn create_branch(
        &self,
        full_name: &str,
        branch: &str,
        sha: &str,
    ) -> Result<(), Error> {
        self.client
            .send_json(
                Method::POST,
                &format!("/repos/{full_name}/git/refs"),
                &json!({"ref": format!("refs/heads/{branch}"), "sha": sha}),
            )
            .await?;
        Ok(())
    }

    /// Creates (or, with the current blob `sha`, replaces) a file on `branch` in one commit.
    pub async fn put_file(
        &self,
        full_name: &str,
        branch: &str,
        path: &str,
        content: &[u8],
        message: &str,
    ) -> Result<(), Error> {
        self.client
            .send_json(
                Method::PUT,
                &format!("/repos/{full_name}/contents/{}", encode_path(path)),
                &json!({
                    "message": message,
                    "content": base64::engine::general_purpose::STANDARD.encode(content),
                    "branch": branch,
                }),
            )
            .await?;
        Ok(())
    }

    /// Opens a pull request of `head` into `base`.
    pub async fn open_pull_request(
        &self,
        full_name: &str,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<ChangeRequest, Error> {
        let v = self
            .client
            .send_json(
                Method::POST,
                &format!("/repos/{full_name}/pulls"),
                &json!({"title": title, "head": head, "base": base, "body": body}),
            )
            .await?;
        Ok(ChangeRequest {
            number: v.get("number").and_then(Value::as_u64).unwrap_or_default(),
            url: v
                .get("html_url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            branch: head.to_owned(),
        })
    }

    /// Creates a repository in organisation `org`, or the token's user's when `None`.
    pub async fn create_repository(
        &self,
        org: Option<&str>,
        name: &str,
        description: &str,
        private: bool,
    ) -> Result<Repo, Error> {
        let path = match org {
            Some(o) => format!("/orgs/{}/repos", encode_segment(o)),
            None => "/user/repos".to_owned(),
        };
        let v = self
            .client
            .send_json(
                Method::POST,
                &path,
                &json!({"name": name, "description": description, "private": private}),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| Error::Json {
            url: path,
            message: e.to_string(),
        })
    }
}
