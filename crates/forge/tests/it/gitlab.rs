//! GitLab's typed calls against recorded responses on loopback: a group's projects with
//! subgroups over two pages, languages, a tree over two pages, raw files, commits, a merge
//! request (with the requests it made) and a project created in a namespace.

use base64::Engine;
use forge::Secret;
use forge::gitlab::GitLab;
use forge::testing::{Fake, Reply, fixtures};

async fn acme() -> (Fake, GitLab) {
    let fake = Fake::start().await;
    fake.gitlab_acme();
    let gl = GitLab::new(Some(&fake.base), Some(Secret::new("glpat-test"))).unwrap();
    (fake, gl)
}

#[tokio::test]
async fn lists_a_group_with_subgroups_and_reads_projects() {
    let (fake, gl) = acme().await;
    let list = gl.group_projects("acme").await.unwrap();
    let paths: Vec<&str> = list
        .items
        .iter()
        .map(|p| p.path_with_namespace.as_str())
        .collect();
    assert_eq!(paths, ["acme/platform/inventory-service", "acme/docs-site"]);
    assert!(fake.requests()[0].target.contains("include_subgroups=true"));
    assert_eq!(list.items[0].topics, ["inventory"]);
    assert!(gl.group_projects("acme").await.unwrap().unchanged);
    let langs = gl.languages("101").await.unwrap();
    assert_eq!(langs[0].0, "Python");
    assert!((langs[0].1 - 91.53).abs() < 1e-9);
    let tree = gl.tree("101", "main").await.unwrap();
    let files: Vec<&str> = tree
        .entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(
        files,
        [
            ".gitlab-ci.yml",
            "CODEOWNERS",
            "deploy/catalog-info.yaml",
            "pyproject.toml",
            "app.py"
        ]
    );
    let raw = gl
        .raw_file("101", "deploy/catalog-info.yaml", "main")
        .await
        .unwrap();
    assert!(
        String::from_utf8(raw)
            .unwrap()
            .contains("inventory-service")
    );
    let commits = gl
        .commits_since("102", "main", "2026-09-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0].author_email, "erin@example.com");
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer glpat-test"))
    );
}

#[tokio::test]
async fn opens_a_merge_request_with_a_commit_on_a_new_branch() {
    let (fake, gl) = acme().await;
    gl.create_branch("102", "stagedoor/catalog-info", "main")
        .await
        .unwrap();
    gl.commit_file(
        "102",
        "stagedoor/catalog-info",
        "catalog-info.yaml",
        b"kind: Component\n",
        "Add it",
    )
    .await
    .unwrap();
    let mr = gl
        .open_merge_request(
            "102",
            "stagedoor/catalog-info",
            "main",
            "Add catalog-info.yaml",
            "Guessed",
        )
        .await
        .unwrap();
    assert_eq!(mr.number, 7);
    assert_eq!(
        mr.url,
        "https://gitlab.example/acme/docs-site/-/merge_requests/7"
    );
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].target,
        "/projects/102/repository/branches?branch=stagedoor%2Fcatalog-info&ref=main"
    );
    let commit = reqs[1].json();
    assert_eq!(commit["branch"], "stagedoor/catalog-info");
    assert_eq!(commit["actions"][0]["action"], "create");
    assert_eq!(commit["actions"][0]["file_path"], "catalog-info.yaml");
    assert_eq!(commit["actions"][0]["encoding"], "base64");
    let content = base64::engine::general_purpose::STANDARD
        .decode(commit["actions"][0]["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"kind: Component\n");
    let mr = reqs[2].json();
    assert_eq!(
        (mr["source_branch"].as_str(), mr["target_branch"].as_str()),
        (Some("stagedoor/catalog-info"), Some("main"))
    );
    assert_eq!(mr["description"], "Guessed");
}

#[tokio::test]
async fn creates_a_project_in_a_namespace() {
    let (fake, gl) = acme().await;
    fake.fixture("/namespaces/acme", "gitlab/namespace-acme.json");
    let mut created = Reply::fixture(&fixtures(), "gitlab/project-created.json");
    created.status = 201;
    fake.route("POST", "/projects", created);
    let p = gl
        .create_project(Some("acme"), "new-service", "", "private")
        .await
        .unwrap();
    assert_eq!(p.id, 300);
    let body = fake.requests()[1].json();
    assert_eq!(body["namespace_id"], 7);
    assert_eq!(body["visibility"], "private");
}

#[tokio::test]
async fn a_large_tree_stops_at_the_bound() {
    let (fake, gl) = acme().await;
    let tree = gl.tree_bounded("101", "main", 3).await.unwrap();
    assert!(tree.truncated);
    assert_eq!(tree.entries.len(), 3);
    assert_eq!(fake.requests().len(), 1, "the second page is not asked for");
    let whole = gl.tree_bounded("101", "main", 100).await.unwrap();
    assert!(!whole.truncated);
    assert_eq!(whole.entries.len(), 6);
}
