//! GitHub's typed calls against recorded responses on loopback: an organisation's repositories
//! over two pages and again as 304s, languages, the tree, files, commits, a pull request (with
//! the requests it made), a repository created, and a token without permission.

use base64::Engine;
use forge::github::GitHub;
use forge::testing::Fake;
use forge::{Error, Secret};

async fn acme() -> (Fake, GitHub) {
    let fake = Fake::start().await;
    fake.github_acme();
    let gh = GitHub::new(Some(&fake.base), Some(Secret::new("ghp_test"))).unwrap();
    (fake, gh)
}

#[tokio::test]
async fn lists_an_organisation_over_pages_then_as_304s() {
    let (fake, gh) = acme().await;
    let first = gh.org_repos("acme").await.unwrap();
    let names: Vec<&str> = first.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "payments-api",
            "storefront",
            "legacy-billing",
            "locked-repo"
        ]
    );
    assert!(!first.unchanged);
    let p = &first.items[0];
    assert_eq!(p.full_name, "acme/payments-api");
    assert_eq!(p.default_branch.as_deref(), Some("main"));
    assert_eq!(p.topics, ["payments", "Backend"]);
    assert_eq!(p.pushed_at.as_deref(), Some("2026-11-30T10:00:00Z"));
    assert!(first.items[2].archived);
    let again = gh.org_repos("acme").await.unwrap();
    assert!(again.unchanged, "both pages answered 304");
    assert_eq!(again.items, first.items);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(
        reqs[1].target,
        "/organizations/9919/repos?type=all&per_page=100&page=2"
    );
    assert!(reqs[2].header("if-none-match").is_some() && reqs[3].header("if-none-match").is_some());
    assert!(reqs.iter().all(
        |r| r.header("accept") == Some("application/vnd.github+json")
            && r.header("x-github-api-version") == Some("2022-11-28")
            && r.header("authorization") == Some("Bearer ghp_test")
    ));
}

#[tokio::test]
async fn reads_languages_tree_files_and_commits() {
    let (_fake, gh) = acme().await;
    let langs = gh.languages("acme/payments-api").await.unwrap();
    assert_eq!(langs[0], ("Go".to_owned(), 52000));
    assert_eq!(langs.len(), 3);
    let tree = gh.tree("acme/payments-api", "main").await.unwrap();
    assert!(!tree.truncated);
    assert!(
        tree.entries
            .iter()
            .any(|e| e.path == ".github/workflows/ci.yml" && !e.is_dir && e.size == Some(512))
    );
    assert!(
        tree.entries
            .iter()
            .any(|e| e.path == "cmd/server" && e.is_dir)
    );
    let text = gh
        .file("acme/payments-api", "catalog-info.yaml", "main")
        .await
        .unwrap();
    assert!(
        String::from_utf8(text)
            .unwrap()
            .contains("name: payments-api")
    );
    let commits = gh
        .commits_since("acme/payments-api", "main", "2026-09-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(commits.len(), 3);
    assert_eq!(commits[0].author_email, "Alice@Example.com");
    assert_eq!(commits[0].author_login.as_deref(), Some("alice"));
    assert_eq!(commits[2].author_login, None);
}

#[tokio::test]
async fn opens_a_pull_request_on_a_new_branch() {
    let (fake, gh) = acme().await;
    let tip = gh.branch_head("acme/storefront", "main").await.unwrap();
    gh.create_branch("acme/storefront", "stagedoor/catalog-info", &tip)
        .await
        .unwrap();
    gh.put_file(
        "acme/storefront",
        "stagedoor/catalog-info",
        "catalog-info.yaml",
        b"kind: Component\n",
        "Add it",
    )
    .await
    .unwrap();
    let pr = gh
        .open_pull_request(
            "acme/storefront",
            "stagedoor/catalog-info",
            "main",
            "Add catalog-info.yaml",
            "Guessed: owner",
        )
        .await
        .unwrap();
    assert_eq!(pr.number, 42);
    assert_eq!(pr.url, "https://github.com/acme/storefront/pull/42");
    let reqs = fake.requests();
    let sent: Vec<(&str, &str)> = reqs.iter().map(|r| (r.method.as_str(), r.path())).collect();
    assert_eq!(
        sent,
        [
            ("GET", "/repos/acme/storefront/git/ref/heads/main"),
            ("POST", "/repos/acme/storefront/git/refs"),
            ("PUT", "/repos/acme/storefront/contents/catalog-info.yaml"),
            ("POST", "/repos/acme/storefront/pulls"),
        ]
    );
    assert_eq!(reqs[1].json()["ref"], "refs/heads/stagedoor/catalog-info");
    assert_eq!(reqs[1].json()["sha"], "4".repeat(40));
    let put = reqs[2].json();
    assert_eq!(put["branch"], "stagedoor/catalog-info");
    let content = base64::engine::general_purpose::STANDARD
        .decode(put["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"kind: Component\n");
    let pull = reqs[3].json();
    assert_eq!(
        (pull["head"].as_str(), pull["base"].as_str()),
        (Some("stagedoor/catalog-info"), Some("main"))
    );
    assert_eq!(pull["title"], "Add catalog-info.yaml");
    assert_eq!(pull["body"], "Guessed: owner");
}

#[tokio::test]
async fn creates_repositories_in_an_org_or_for_the_user() {
    let (fake, gh) = acme().await;
    let mut created =
        forge::testing::Reply::fixture(&forge::testing::fixtures(), "github/repo-created.json");
    created.status = 201;
    fake.route("POST", "/orgs/acme/repos", created.clone());
    fake.route("POST", "/user/repos", created);
    let r = gh
        .create_repository(Some("acme"), "new-service", "A new one", true)
        .await
        .unwrap();
    assert_eq!(r.full_name, "acme/new-service");
    gh.create_repository(None, "new-service", "", false)
        .await
        .unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs[0].json()["private"], true);
    assert_eq!(reqs[1].path(), "/user/repos");
}

#[tokio::test]
async fn a_token_without_permission_is_a_clear_error() {
    let (_fake, gh) = acme().await;
    let e = gh.languages("acme/locked-repo").await.unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("/repos/acme/locked-repo/languages") && msg.contains("no permission"),
        "{msg}"
    );
    assert!(!msg.contains("ghp_test"));
    let gone = gh.tree("acme/deleted", "main").await.unwrap_err();
    assert!(gone.is_not_found());
}
