//! `publish:github` and `publish:gitlab`: a new repository created through the host's REST API
//! (the shared `forge` clients: `POST /orgs/{owner}/repos` or `/user/repos` on GitHub, after
//! asking whether the owner is an organisation as Backstage does; `POST /projects` in the
//! namespace looked up by path on GitLab), then the workspace (or `sourcePath`) committed with
//! gix and pushed with `git` ([`super::git_push`]). Inputs and outputs are Backstage's; the
//! inputs of theirs not implemented here (branch protection, collaborators, …) are logged as
//! ignored rather than refused, so Backstage templates still run.

use serde_json::{Map, Value, json};

use super::git_push::{PushAuth, check_remote, push};
use super::publish_git::{commit_directory, commit_inputs};
use super::{ActionContext, ActionSpec, str_input};
use crate::error::ScaffolderError;
use crate::publishing::{HostKind, Integration, Publishing, RepoUrl, parse_repo_url};

fn common_inputs(host_example: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({
        "repoUrl": {"type": "string", "title": "Repository Location", "description": format!("Accepts the format '{host_example}?repo=reponame&owner=owner' where 'reponame' is the new repository name and 'owner' is an organization or username")},
        "description": {"type": "string", "title": "Repository Description"},
        "defaultBranch": {"type": "string", "title": "Default Branch", "description": "Sets the default branch on the repository. The default value is 'main'"},
        "repoVisibility": {"type": "string", "title": "Repository Visibility", "enum": ["private", "public", "internal"]},
        "sourcePath": {"type": "string", "title": "Source Path", "description": "Path within the workspace that will be used as the repository root. If omitted, the entire workspace will be published as the repository."},
        "gitCommitMessage": {"type": "string", "title": "Git Commit Message", "description": "Sets the commit message on the repository. The default value is 'initial commit'"},
        "gitAuthorName": {"type": "string", "title": "Default Author Name", "description": "Sets the default author name for the commit. The default value is 'Scaffolder'"},
        "gitAuthorEmail": {"type": "string", "title": "Default Author Email", "description": "Sets the default author email for the commit."},
        "topics": {"type": "array", "title": "Topics", "items": {"type": "string"}},
        "token": {"type": "string", "title": "Authentication Token", "description": "The token to use for authorization; defaults to the integration's"}
    }) else {
        unreachable!("an object literal")
    };
    m
}

pub const GITHUB: ActionSpec = ActionSpec {
    id: "publish:github",
    description: "Initializes a git repository of contents in workspace and publishes it to GitHub.",
    input: || {
        let mut props = common_inputs("github.com");
        props.insert(
            "homepage".into(),
            json!({"type": "string", "title": "Repository Homepage"}),
        );
        json!({"type": "object", "required": ["repoUrl"], "properties": props})
    },
    output: Some(super::publish_git::publish_output),
    dry_run: false,
};

pub const GITLAB: ActionSpec = ActionSpec {
    id: "publish:gitlab",
    description: "Initializes a git repository of the content in the workspace, and publishes it to GitLab.",
    input: || {
        let props = common_inputs("gitlab.com");
        json!({"type": "object", "required": ["repoUrl"], "properties": props})
    },
    output: Some(|| {
        json!({"type": "object", "properties": {
            "remoteUrl": {"type": "string", "title": "A URL to the repository with the provider"},
            "repoContentsUrl": {"type": "string", "title": "A URL to the root of the repository"},
            "projectId": {"type": "integer", "title": "The ID of the project"},
            "commitHash": {"type": "string", "title": "The git commit hash of the initial commit"}
        }})
    }),
    dry_run: false,
};

/// The repository, the integration for its host and the token to use.
fn prepare(
    ctx: &mut ActionContext<'_>,
    spec: &ActionSpec,
    input: &Value,
    kind: HostKind,
) -> Result<(RepoUrl, String, Integration, forge::Secret), ScaffolderError> {
    let raw = str_input(input, "repoUrl").unwrap_or_default();
    let url = parse_repo_url(raw)?;
    let owner = url.owner.clone().ok_or_else(|| {
        ScaffolderError::Input(format!(
            "Invalid repo URL passed to publisher: {raw}, missing owner"
        ))
    })?;
    if kind == HostKind::GitHub && owner.contains('/') {
        return Err(ScaffolderError::Input(format!(
            "Invalid owner {owner:?}: GitHub owners are one name"
        )));
    }
    let settings = ctx
        .services
        .catalog
        .as_ref()
        .map(|c| Publishing::of(c).settings())
        .unwrap_or_default();
    let integration = settings.integration(&url.host, kind)?;
    let token = str_input(input, "token")
        .filter(|t| !t.is_empty())
        .map(forge::Secret::new)
        .or_else(|| integration.token.clone())
        .ok_or_else(|| {
            ScaffolderError::Input(format!(
                "No token available for host: {}, with owner {owner}, and repo {}",
                url.host, url.repo
            ))
        })?;
    let known = (spec.input)();
    let ignored: Vec<&str> = input
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .filter(|k| known["properties"].get(*k).is_none())
        .collect();
    if !ignored.is_empty() {
        ctx.info(&format!(
            "Ignoring inputs this server does not implement: {}",
            ignored.join(", ")
        ));
    }
    Ok((url, owner, integration, token))
}

/// Commits the workspace (or `sourcePath`) in a scratch repository and pushes it to `remote`.
async fn commit_and_push(
    ctx: &mut ActionContext<'_>,
    input: &Value,
    remote: &str,
    auth: PushAuth<'_>,
) -> Result<(String, String), ScaffolderError> {
    let source = ctx.workspace_dir(str_input(input, "sourcePath").unwrap_or("./"))?;
    if !source.is_dir() {
        return Err(ScaffolderError::Input(format!(
            "sourcePath {} is not a directory in the workspace",
            str_input(input, "sourcePath").unwrap_or("./")
        )));
    }
    let commit = commit_inputs(ctx, input);
    let scratch = tempfile::tempdir()?;
    let repo = scratch.path().join("publish.git");
    let hash = commit_directory(&source, &repo, &commit, chrono::Utc::now().timestamp())?;
    push(&repo, remote, &commit.branch, Some(auth)).await?;
    ctx.info(&format!(
        "Pushed commit {hash} to branch {} of {remote}",
        commit.branch
    ));
    Ok((hash, commit.branch))
}

fn visibility(input: &Value) -> &str {
    str_input(input, "repoVisibility").unwrap_or("private")
}

fn topics(input: &Value) -> Vec<String> {
    input
        .get("topics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_lowercase)
        .collect()
}

fn failed(what: &str, e: &forge::Error) -> ScaffolderError {
    ScaffolderError::Internal(format!("Failed to create the {what}, {e}"))
}

pub async fn github(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let (url, owner, integration, token) = prepare(ctx, &GITHUB, input, HostKind::GitHub)?;
    let gh = forge::github::GitHub::new(Some(&integration.api_base_url), Some(token.clone()))
        .map_err(|e| ScaffolderError::Input(e.to_string()))?;
    let api = gh.client();
    let segment = forge::encode_segment;
    // As Backstage: an organisation's repositories are created under /orgs, a user's under /user.
    let user: Value = api
        .get_json(&format!("/users/{}", segment(&owner)))
        .await
        .map_err(|e| match e {
            forge::Error::NotFound { .. } => ScaffolderError::Input(format!(
                "The owner {owner} does not exist on {}, or the token cannot see it",
                url.host
            )),
            other => ScaffolderError::Internal(other.to_string()),
        })?;
    let org = user["type"] == "Organization";
    let owner_type = if org { "Organization" } else { "User" };
    let vis = visibility(input);
    let mut body = json!({"name": url.repo, "private": vis == "private"});
    if org {
        body["visibility"] = json!(vis);
    }
    for key in ["description", "homepage"] {
        if let Some(v) = str_input(input, key) {
            body[key] = json!(v);
        }
    }
    let path = if org {
        format!("/orgs/{}/repos", segment(&owner))
    } else {
        "/user/repos".to_owned()
    };
    let what = format!("{owner_type} repository {owner}/{}", url.repo);
    let created = match api.send_json(forge::rest::Method::POST, &path, &body).await {
        Ok(v) => v,
        Err(e) if e.status() == Some(422) => {
            // GitHub's 422 names the reason only in `errors[]`; whether the name is taken is
            // asked directly, so the message can say so.
            let repo_path = format!("/repos/{}/{}", segment(&owner), segment(&url.repo));
            return Err(match api.get(&repo_path).await {
                Ok(_) => ScaffolderError::Conflict(format!(
                    "Failed to create the {what}: a repository with this name already exists on {}",
                    url.host
                )),
                Err(_) => failed(&what, &e),
            });
        }
        Err(e) => return Err(failed(&what, &e)),
    };
    let clone_url = created["clone_url"].as_str().unwrap_or_default().to_owned();
    let html_url = created["html_url"].as_str().unwrap_or_default().to_owned();
    ctx.info(&format!("Created the {what} ({vis})"));
    let topics = topics(input);
    if !topics.is_empty() {
        let topics_path = format!("/repos/{}/{}/topics", segment(&owner), segment(&url.repo));
        api.send_json(
            forge::rest::Method::PUT,
            &topics_path,
            &json!({"names": topics}),
        )
        .await
        .map_err(|e| ScaffolderError::Internal(format!("Failed to set the topics, {e}")))?;
    }
    check_remote(&clone_url, &integration.host, &integration.api_base_url)?;
    let auth = PushAuth {
        user: "x-access-token",
        token: &token,
    };
    let (hash, branch) = commit_and_push(ctx, input, &clone_url, auth).await?;
    ctx.set_output("remoteUrl", json!(clone_url));
    ctx.set_output(
        "repoContentsUrl",
        json!(format!("{}/blob/{branch}", html_url.trim_end_matches('/'))),
    );
    ctx.set_output("commitHash", json!(hash));
    Ok(())
}

pub async fn gitlab(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let (url, owner, integration, token) = prepare(ctx, &GITLAB, input, HostKind::GitLab)?;
    let gl = forge::gitlab::GitLab::new(Some(&integration.api_base_url), Some(token.clone()))
        .map_err(|e| ScaffolderError::Input(e.to_string()))?;
    let api = gl.client();
    let namespace: Value = api
        .get_json(&format!("/namespaces/{}", forge::encode_segment(&owner)))
        .await
        .map_err(|e| match e {
            forge::Error::NotFound { .. } => ScaffolderError::Input(format!(
                "The namespace {owner} is not found or the user doesn't have permissions to access it"
            )),
            other => ScaffolderError::Internal(other.to_string()),
        })?;
    let vis = visibility(input);
    let mut body = json!({
        "namespace_id": namespace["id"],
        "name": url.repo,
        "path": url.repo,
        "visibility": vis,
    });
    if let Some(d) = str_input(input, "description") {
        body["description"] = json!(d);
    }
    let topics = topics(input);
    if !topics.is_empty() {
        body["topics"] = json!(topics);
    }
    let what = format!("project {owner}/{}", url.repo);
    let created = match api
        .send_json(forge::rest::Method::POST, "/projects", &body)
        .await
    {
        Ok(v) => v,
        Err(e) if e.status() == Some(400) && e.to_string().contains("has already been taken") => {
            return Err(ScaffolderError::Conflict(format!(
                "Failed to create the {what}: a project with this path already exists on {}",
                url.host
            )));
        }
        Err(e) => return Err(failed(&what, &e)),
    };
    let http_url = created["http_url_to_repo"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let project_id = created["id"].clone();
    ctx.info(&format!("Created the {what} ({vis})"));
    check_remote(&http_url, &integration.host, &integration.api_base_url)?;
    let auth = PushAuth {
        user: "oauth2",
        token: &token,
    };
    let (hash, branch) = commit_and_push(ctx, input, &http_url, auth).await?;
    let remote = http_url.trim_end_matches(".git").to_owned();
    ctx.set_output("remoteUrl", json!(remote));
    ctx.set_output(
        "repoContentsUrl",
        json!(format!("{remote}/-/blob/{branch}")),
    );
    ctx.set_output("commitHash", json!(hash));
    ctx.set_output("projectId", project_id);
    Ok(())
}
