//! `publish:github` and `publish:gitlab` against recorded API responses served on loopback
//! (`forge::testing::Server`), with the recorded clone URL pointing at a bare repository this
//! test made, so the push is real and the pushed commit is read back with `git`. Asserts what the
//! host received (owner, name, visibility, description, topics, the token as a bearer header),
//! that the token never reaches the task log, and the step errors for a name that is taken and
//! a token without permission.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use forge::testing::{Reply, Request, Server};
use scaffolder::publishing::{HostKind, Integration, PublishSettings};
use serde_json::{Value, json};
use store::testing::TestDb;
use support::{catalog, git, run_action, workspace};

const TOKEN: &str = "ghp_recordedTokenValue123";

fn recorded(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/publish")
            .join(name),
    )
    .unwrap()
}

/// forge's recorded creation response with its clone URL (key `url_key`) pointed at `remote`.
fn created(file: &str, url_key: &str, remote: &Path) -> String {
    let text = std::fs::read_to_string(forge::testing::fixtures().join(file)).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v[url_key] = json!(remote.display().to_string());
    v.to_string()
}

fn bare_remote(dir: &Path, name: &str) -> std::path::PathBuf {
    let remote = dir.join(format!("{name}.git"));
    std::fs::create_dir_all(&remote).unwrap();
    git(&remote, &["init", "-q", "--bare"]);
    remote
}

fn settings(kind: HostKind, host: &str, base: &str) -> PublishSettings {
    PublishSettings {
        integrations: vec![Integration {
            kind,
            host: host.into(),
            api_base_url: base.into(),
            token: Some(forge::Secret::new(TOKEN)),
        }],
        ..Default::default()
    }
}

fn find<'r>(requests: &'r [Request], method: &str, path: &str) -> &'r Request {
    requests
        .iter()
        .find(|r| r.method == method && r.path() == path)
        .unwrap_or_else(|| panic!("no {method} {path} in {requests:?}"))
}

async fn github_creates_pushes_and_answers_errors(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let remote = bare_remote(dir.path(), "new-service");
    let created_body = created("github/repo-created.json", "clone_url", &remote);
    let org = recorded("github-users-acme.json");
    let (taken, forbidden) = (
        recorded("github-repo-exists-422.json"),
        recorded("github-forbidden-403.json"),
    );
    let existing =
        std::fs::read_to_string(forge::testing::fixtures().join("github/repo-created.json"))
            .unwrap();
    let server = Server::start(move |req, _| match (req.method.as_str(), req.path()) {
        ("GET", "/users/acme") => Reply::json(200, &org),
        ("POST", "/orgs/acme/repos") => match req.json()["name"].as_str() {
            Some("new-service") => Reply::json(201, &created_body),
            Some("taken") => Reply::json(422, &taken),
            _ => Reply::json(403, &forbidden),
        },
        ("GET", "/repos/acme/taken") => Reply::json(200, &existing),
        ("PUT", "/repos/acme/new-service/topics") => Reply::json(200, r#"{"names":["rust","payments"]}"#),
        _ => Reply::json(404, r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#),
    })
    .await;
    let catalog = catalog(&db, settings(HostKind::GitHub, "github.com", &server.base)).await;
    let ws = workspace();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({
            "repoUrl": "github.com?owner=acme&repo=new-service",
            "description": "Takes payments",
            "repoVisibility": "internal",
            "defaultBranch": "main",
            "topics": ["Rust", "payments"],
            "gitAuthorName": "Grace Mbeki",
            "gitAuthorEmail": "grace@example.com",
            "requireCodeOwnerReviews": true
        }),
        json!({}),
    )
    .await;
    ran.result.unwrap();
    let requests = server.requests();
    let create = find(&requests, "POST", "/orgs/acme/repos");
    assert_eq!(
        create.json(),
        json!({"name": "new-service", "private": false, "visibility": "internal", "description": "Takes payments"})
    );
    assert_eq!(
        create.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        find(&requests, "PUT", "/repos/acme/new-service/topics").json(),
        json!({"names": ["rust", "payments"]})
    );
    // The push was real: the bare repository has the commit.
    let hash = ran.output["commitHash"].as_str().unwrap();
    assert_eq!(git(&remote, &["rev-parse", "refs/heads/main"]), hash);
    assert_eq!(
        git(&remote, &["log", "--format=%an <%ae>|%s", "main"]),
        "Grace Mbeki <grace@example.com>|initial commit"
    );
    assert_eq!(
        git(&remote, &["ls-tree", "-r", "--name-only", "main"]),
        "README.md\napp/bin/start\napp/catalog-info.yaml"
    );
    assert_eq!(ran.output["remoteUrl"], json!(remote.display().to_string()));
    assert_eq!(
        ran.output["repoContentsUrl"],
        json!("https://github.com/acme/new-service/blob/main")
    );
    assert!(
        ran.log
            .contains("Ignoring inputs this server does not implement: requireCodeOwnerReviews"),
        "{}",
        ran.log
    );
    assert!(
        !ran.log.contains(TOKEN),
        "the token reached the log: {}",
        ran.log
    );

    // A name already taken: a clear ConflictError, and nothing pushed.
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=taken"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err();
    assert_eq!(err.name(), "ConflictError");
    assert_eq!(
        err.to_string(),
        "Failed to create the Organization repository acme/taken: a repository with this name already exists on github.com"
    );
    // A token without permission: the host's own words, and no token in them.
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=locked"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err().to_string();
    assert!(
        err.starts_with("Failed to create the Organization repository acme/locked, "),
        "{err}"
    );
    assert!(err.contains("403 Forbidden: the token has no permission for this (Resource not accessible by personal access token)"), "{err}");
    assert!(!err.contains(TOKEN));
    // No integration for the host; no owner.
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "ghe.example.com?owner=acme&repo=x"}),
        json!({}),
    )
    .await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "No matching integration configuration for host ghe.example.com, please check your integrations config"
    );
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?repo=x"}),
        json!({}),
    )
    .await;
    assert!(
        ran.result
            .unwrap_err()
            .to_string()
            .ends_with("missing owner")
    );
}

async fn a_token_given_as_a_secret_is_used_and_masked(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let remote = bare_remote(dir.path(), "new-service");
    let created_body = created("github/repo-created.json", "clone_url", &remote);
    let org = recorded("github-users-acme.json");
    let server = Server::start(move |req, _| match (req.method.as_str(), req.path()) {
        ("GET", "/users/acme") => Reply::json(200, &org),
        ("POST", "/orgs/acme/repos") => Reply::json(201, &created_body),
        _ => Reply::json(404, r#"{"message":"Not Found"}"#),
    })
    .await;
    // The integration has no token of its own: the template's secret is used.
    let mut s = settings(HostKind::GitHub, "github.com", &server.base);
    s.integrations[0].token = None;
    let catalog = catalog(&db, s).await;
    let ws = workspace();
    let user_token = "gho_userOauthToken456";
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=new-service", "token": user_token}),
        json!({"USER_OAUTH_TOKEN": user_token}),
    )
    .await;
    ran.result.unwrap();
    let requests = server.requests();
    assert_eq!(
        find(&requests, "POST", "/orgs/acme/repos").header("authorization"),
        Some(format!("Bearer {user_token}").as_str())
    );
    assert_eq!(
        find(&requests, "POST", "/orgs/acme/repos").json()["private"],
        json!(true)
    );
    assert!(!ran.log.contains(user_token));
    // Without any token: Backstage's message, before any request.
    server.clear();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=other"}),
        json!({}),
    )
    .await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "No token available for host: github.com, with owner acme, and repo other"
    );
    assert!(server.requests().is_empty());
}

async fn gitlab_creates_in_the_namespace_pushes_and_answers_errors(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let remote = bare_remote(dir.path(), "new-service");
    let created_body = created("gitlab/project-created.json", "http_url_to_repo", &remote);
    let namespace =
        std::fs::read_to_string(forge::testing::fixtures().join("gitlab/namespace-acme.json"))
            .unwrap();
    let (taken, forbidden) = (
        recorded("gitlab-taken-400.json"),
        recorded("gitlab-forbidden-403.json"),
    );
    let server = Server::start(move |req, _| match (req.method.as_str(), req.path()) {
        ("GET", "/namespaces/acme") => Reply::json(200, &namespace),
        ("POST", "/projects") => match req.json()["name"].as_str() {
            Some("new-service") => Reply::json(201, &created_body),
            Some("taken") => Reply::json(400, &taken),
            _ => Reply::json(403, &forbidden),
        },
        _ => Reply::json(404, r#"{"message":"404 Namespace Not Found"}"#),
    })
    .await;
    let catalog = catalog(
        &db,
        settings(HostKind::GitLab, "gitlab.example", &server.base),
    )
    .await;
    let ws = workspace();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:gitlab",
        json!({
            "repoUrl": "gitlab.example?owner=acme&repo=new-service",
            "description": "Takes payments",
            "repoVisibility": "internal",
            "defaultBranch": "trunk",
            "topics": ["rust"],
            "sourcePath": "app",
            "gitCommitMessage": "First"
        }),
        json!({}),
    )
    .await;
    ran.result.unwrap();
    let requests = server.requests();
    let create = find(&requests, "POST", "/projects");
    assert_eq!(
        create.json(),
        json!({"namespace_id": 7, "name": "new-service", "path": "new-service",
               "visibility": "internal", "description": "Takes payments", "topics": ["rust"]})
    );
    assert_eq!(
        create.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(ran.output["projectId"], json!(300));
    let hash = ran.output["commitHash"].as_str().unwrap();
    assert_eq!(git(&remote, &["rev-parse", "refs/heads/trunk"]), hash);
    assert_eq!(
        git(&remote, &["log", "--format=%an|%s", "trunk"]),
        "Scaffolder|First"
    );
    assert_eq!(
        git(&remote, &["ls-tree", "-r", "--name-only", "trunk"]),
        "bin/start\ncatalog-info.yaml"
    );
    let web = remote.display().to_string();
    let web = web.trim_end_matches(".git");
    assert_eq!(ran.output["remoteUrl"], json!(web));
    assert_eq!(
        ran.output["repoContentsUrl"],
        json!(format!("{web}/-/blob/trunk"))
    );

    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:gitlab",
        json!({"repoUrl": "gitlab.example?owner=acme&repo=taken"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err();
    assert_eq!(err.name(), "ConflictError");
    assert_eq!(
        err.to_string(),
        "Failed to create the project acme/taken: a project with this path already exists on gitlab.example"
    );
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:gitlab",
        json!({"repoUrl": "gitlab.example?owner=acme&repo=locked"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err().to_string();
    assert!(
        err.starts_with("Failed to create the project acme/locked, "),
        "{err}"
    );
    assert!(err.contains("403 Forbidden"), "{err}");
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:gitlab",
        json!({"repoUrl": "gitlab.example?owner=nobody&repo=x"}),
        json!({}),
    )
    .await;
    assert_eq!(
        ran.result.unwrap_err().to_string(),
        "The namespace nobody is not found or the user doesn't have permissions to access it"
    );
}

/// A clone URL on another host than the integration's is not pushed to (the token would go
/// there).
async fn a_clone_url_elsewhere_is_refused(db: TestDb) {
    let org = recorded("github-users-acme.json");
    let mut body: Value = serde_json::from_str(
        &std::fs::read_to_string(forge::testing::fixtures().join("github/repo-created.json"))
            .unwrap(),
    )
    .unwrap();
    body["clone_url"] = json!("https://collector.example/acme/new-service.git");
    let body = Arc::new(body.to_string());
    let server = Server::start(move |req, _| match (req.method.as_str(), req.path()) {
        ("GET", "/users/acme") => Reply::json(200, &org),
        ("POST", "/orgs/acme/repos") => Reply::json(201, &body),
        _ => Reply::json(404, "{}"),
    })
    .await;
    let catalog = catalog(&db, settings(HostKind::GitHub, "github.com", &server.base)).await;
    let ws = workspace();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=new-service"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err().to_string();
    assert!(
        err.contains("not on github.com, refusing to push there"),
        "{err}"
    );
}

store::on_each_database!(
    github_creates_pushes_and_answers_errors,
    a_token_given_as_a_secret_is_used_and_masked,
    gitlab_creates_in_the_namespace_pushes_and_answers_errors,
    a_clone_url_elsewhere_is_refused
);

/// Over HTTP the token goes as a Basic `http.extraHeader` (set in git's environment, not its
/// command line), and an error git prints carries no trace of it.
async fn the_push_sends_the_token_only_as_a_header(db: TestDb) {
    let org = recorded("github-users-acme.json");
    let server = Server::start(move |req, base| match (req.method.as_str(), req.path()) {
        ("GET", "/users/acme") => Reply::json(200, &org),
        ("POST", "/orgs/acme/repos") => {
            let text = std::fs::read_to_string(
                forge::testing::fixtures().join("github/repo-created.json"),
            )
            .unwrap();
            let mut v: Value = serde_json::from_str(&text).unwrap();
            v["clone_url"] = json!(format!("{base}/acme/new-service.git"));
            Reply::json(201, &v.to_string())
        }
        // Not a git server: the push fails after sending its first request.
        _ => Reply::json(403, r#"{"message":"no"}"#),
    })
    .await;
    let catalog = catalog(&db, settings(HostKind::GitHub, "github.com", &server.base)).await;
    let ws = workspace();
    let ran = run_action(
        &catalog,
        ws.path(),
        "publish:github",
        json!({"repoUrl": "github.com?owner=acme&repo=new-service"}),
        json!({}),
    )
    .await;
    let err = ran.result.unwrap_err().to_string();
    assert!(err.starts_with("git push to http://127.0.0.1:"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
    let requests = server.requests();
    let info_refs = find(&requests, "GET", "/acme/new-service.git/info/refs");
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    assert_eq!(
        info_refs.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(!err.contains(&basic));
}

store::on_each_database!(the_push_sends_the_token_only_as_a_header);
