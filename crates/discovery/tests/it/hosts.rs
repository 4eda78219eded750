//! Discovery of GitHub and GitLab repositories against recorded API responses served on
//! loopback (the real `forge` clients), with a live catalog on both databases: every repository
//! becomes the same inventory record as a local one, catalog files are registered, a second scan
//! is all 304s and reads nothing, a restart reads nothing, a token without permission on one
//! repository is an error while the rest goes on, a repository deleted (404) or no longer listed
//! makes its entities orphans, and accepting a proposal opens a pull or merge request.

use std::time::Duration;

use base64::Engine;
use catalog::{Catalog, CatalogSettings, LocationSpec};
use discovery::{HostSource, Limits, Secret, Settings, State};
use forge::testing::{Fake, Reply, fixtures};
use store::testing::TestDb;

store::on_each_database!(
    hosted_repositories_are_read_registered_and_orphaned,
    an_exhausted_rate_limit_stops_reads_and_keeps_records
);

const ORG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: erin}
spec: {profile: {email: erin@example.com}, memberOf: [platform]}
"#;

fn sources(github: &Fake, gitlab: &Fake) -> Vec<HostSource> {
    vec![
        HostSource::github(Some(&github.base), Some(Secret::new("ghp_x")), "acme").unwrap(),
        HostSource::gitlab(Some(&gitlab.base), Some(Secret::new("glpat_x")), "acme").unwrap(),
    ]
}

fn listing_targets(fake: &Fake) -> Vec<String> {
    fake.requests().into_iter().map(|r| r.target).collect()
}

async fn hosted_repositories_are_read_registered_and_orphaned(test: TestDb) {
    let github = Fake::start().await;
    github.github_acme();
    let gitlab = Fake::start().await;
    gitlab.gitlab_acme();
    let tmp = tempfile::tempdir().unwrap();
    let org = tmp.path().join("org.yaml");
    std::fs::write(&org, ORG).unwrap();
    let catalog = Catalog::open(
        CatalogSettings {
            locations: vec![(LocationSpec::new("file", org.to_str().unwrap()), vec![])],
            ..Default::default()
        },
        test.connect().await,
    )
    .await
    .unwrap();
    catalog.round().await.unwrap();
    let state = State::of(&catalog);
    let settings = Settings {
        sources: vec![],
        hosts: sources(&github, &gitlab),
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: Limits::default(),
    };
    state.configure(settings.clone());

    // First scan: both pages of both hosts, every repository read but the one the token may
    // not read, which is a clear error.
    let inv = state.sync_now(&catalog).await.unwrap();
    let names: Vec<&str> = inv.repositories.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "legacy-billing",
            "payments-api",
            "storefront",
            "docs-site",
            "inventory-service"
        ]
    );
    assert_eq!((inv.read, inv.reused), (5, 0));
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.errors);
    assert!(inv.errors[0].path.ends_with("locked-repo"));
    assert!(
        inv.errors[0].message.contains("403 Forbidden")
            && inv.errors[0].message.contains("no permission"),
        "{}",
        inv.errors[0].message
    );
    assert!(!inv.errors[0].message.contains("ghp_x"));

    let payments = &inv.repositories[1];
    assert_eq!(
        payments.path.to_str(),
        Some("https://github.com/acme/payments-api")
    );
    assert_eq!(payments.default_branch, "main");
    assert!(!payments.archived);
    assert_eq!(payments.languages[0], ("Go".to_owned(), 52000));
    assert_eq!(payments.topics, ["payments", "Backend"]);
    assert_eq!(payments.ci, [".github/workflows/ci.yml"]);
    assert_eq!(
        payments.codeowners.as_ref().unwrap().path,
        ".github/CODEOWNERS"
    );
    assert_eq!(
        payments.catalog_files,
        ["catalog-info.yaml"],
        "vendored copies are not the repository's"
    );
    assert_eq!(payments.contributors[0].email, "alice@example.com");
    assert_eq!(payments.contributors[0].commits, 2);
    assert_eq!(
        payments.last_commit,
        chrono::DateTime::parse_from_rfc3339("2026-11-30T09:59:00Z")
            .unwrap()
            .timestamp()
    );
    assert!(payments.markers.contains(&"cmd/server/main.go".to_owned()));
    assert!(inv.repositories[0].archived, "legacy-billing is archived");
    let inventory_service = &inv.repositories[4];
    assert_eq!(
        inventory_service.catalog_files,
        ["deploy/catalog-info.yaml"]
    );
    assert_eq!(inventory_service.ci, [".gitlab-ci.yml"]);
    assert_eq!(inventory_service.languages[0], ("Python".to_owned(), 9153));

    // Catalog files are mirrored and registered; their entities are in the catalog.
    assert_eq!(inv.registered, 2, "{:?}", inv.register_errors);
    let snap = catalog.snapshot();
    assert!(snap.entity("component:default/payments-api").is_some());
    assert!(snap.entity("component:default/inventory-service").is_some());

    // Proposals for the uncataloged ones, with the host's topics as tags and its page as the
    // source location; owners from CODEOWNERS and from recent contributors.
    let c = state.completeness(&snap).unwrap();
    assert_eq!((c.org.found, c.org.cataloged), (5, 2));
    let proposal = |name: &str| {
        let r = c
            .repositories
            .iter()
            .find(|r| r.repository.name == name)
            .unwrap();
        r.proposal.clone().unwrap().unwrap()
    };
    let storefront = proposal("storefront");
    assert_eq!(storefront.entity["spec"]["type"], "website");
    assert_eq!(storefront.entity["spec"]["owner"], "group:default/web-team");
    assert_eq!(
        storefront.entity["metadata"]["tags"],
        serde_json::json!(["typescript", "html", "css", "web"])
    );
    assert_eq!(
        storefront.entity["metadata"]["annotations"]["backstage.io/source-location"],
        "url:https://github.com/acme/storefront/tree/main/"
    );
    let docs = proposal("docs-site");
    assert_eq!(docs.entity["spec"]["owner"], "group:default/platform");
    assert_eq!(
        docs.entity["metadata"]["annotations"]["backstage.io/source-location"],
        "url:https://gitlab.example/acme/docs-site/-/tree/main/"
    );
    assert!(
        docs.guesses.iter().any(|g| g.field == "metadata.tags"
            && g.evidence
                .iter()
                .any(|e| e.contains("hundredths of a percent"))),
        "{:?}",
        docs.guesses
    );

    // Second scan: every listing page is a 304 and no repository is read again.
    github.clear_requests();
    gitlab.clear_requests();
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!((inv.read, inv.reused, inv.registered), (0, 5, 0));
    assert_eq!(
        inv.errors.len(),
        1,
        "the locked repository is still an error"
    );
    let gh = listing_targets(&github);
    assert_eq!(
        gh,
        [
            "/orgs/acme/repos?type=all&per_page=100",
            "/organizations/9919/repos?type=all&per_page=100&page=2",
            "/repos/acme/locked-repo/languages",
        ]
    );
    assert!(
        github.requests()[..2]
            .iter()
            .chain(gitlab.requests().iter())
            .all(|r| r.header("if-none-match").is_some()),
        "listing requests are conditional"
    );
    assert_eq!(gitlab.requests().len(), 2, "{:?}", listing_targets(&gitlab));

    // A restart: new clients (no ETags remembered), the stored records: nothing read again.
    let restarted = Settings {
        hosts: sources(&github, &gitlab),
        ..settings.clone()
    };
    let fresh = discovery::sync(&catalog, &restarted, None).await.unwrap();
    assert_eq!((fresh.read, fresh.reused), (0, 5));

    // payments-api is pushed to and then deleted (its reads answer 404); legacy-billing is no
    // longer listed. Both are missing and payments-api's entity becomes an orphan.
    let mut page1: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("github/orgs-acme-repos-1.json")).unwrap(),
    )
    .unwrap();
    page1[0]["pushed_at"] = "2026-12-03T10:00:00Z".into();
    let mut first = Reply::json(200, &page1.to_string());
    first.headers = github_page_headers(&github);
    github.route("GET", "/orgs/acme/repos?type=all&per_page=100", first);
    github.remove("GET", "/repos/acme/payments-api/languages");
    let page2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("github/orgs-acme-repos-2.json")).unwrap(),
    )
    .unwrap();
    github.route(
        "GET",
        "/organizations/9919/repos?type=all&per_page=100&page=2",
        Reply::json(200, &serde_json::json!([page2[1]]).to_string()),
    );
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!(inv.repositories.len(), 3, "{:?}", inv.errors);
    let mut missing: Vec<&str> = inv.missing.iter().map(|(r, _)| r.name.as_str()).collect();
    missing.sort();
    assert_eq!(missing, ["legacy-billing", "payments-api"]);
    catalog.round().await.unwrap();
    let snap = catalog.snapshot();
    assert_eq!(
        snap.entity("component:default/payments-api")
            .expect("kept as an orphan")
            .annotation("backstage.io/orphan"),
        Some("true")
    );
    let c = state.completeness(&snap).unwrap();
    assert_eq!(c.orphans, ["component:default/payments-api"]);
    assert_eq!(c.missing_repositories.len(), 2);

    // Accepting storefront's proposal opens a pull request through the API.
    let storefront_repo = inv
        .repositories
        .iter()
        .find(|r| r.name == "storefront")
        .unwrap();
    github.clear_requests();
    let pr = discovery::open_change_request(
        &settings.hosts,
        storefront_repo,
        &storefront.to_yaml(),
        "Add catalog-info.yaml",
        "Proposed by Stagedoor",
    )
    .await
    .unwrap();
    assert_eq!(pr.url, "https://github.com/acme/storefront/pull/42");
    let storefront_path = "https://github.com/acme/storefront";
    state
        .note_change_request(&catalog, storefront_path, pr.clone())
        .await
        .unwrap();
    assert_eq!(state.change_request(storefront_path), Some(pr.clone()));
    // It is kept in the stored record: a restart still knows it.
    let fresh = discovery::sync(&catalog, &restarted, None).await.unwrap();
    let stored = fresh
        .repositories
        .iter()
        .find(|r| r.name == "storefront")
        .unwrap();
    assert_eq!(
        stored.host.as_ref().unwrap().change_request.as_ref(),
        Some(&pr)
    );
    // The branch push moves pushed_at, so the repository is read again; the request stays its.
    page1[1]["pushed_at"] = "2026-12-04T11:00:00Z".into();
    let mut first = Reply::json(200, &page1.to_string());
    first.headers = github_page_headers(&github);
    github.route("GET", "/orgs/acme/repos?type=all&per_page=100", first);
    let reread = discovery::sync(&catalog, &restarted, Some(&fresh))
        .await
        .unwrap();
    let storefront_again = reread
        .repositories
        .iter()
        .find(|r| r.name == "storefront")
        .unwrap();
    assert_eq!(
        storefront_again.host.as_ref().unwrap().activity,
        "2026-12-04T11:00:00Z"
    );
    assert_eq!(
        storefront_again
            .host
            .as_ref()
            .unwrap()
            .change_request
            .as_ref(),
        Some(&pr)
    );
    let reqs = github.requests();
    let put = reqs
        .iter()
        .find(|r| r.method == "PUT")
        .expect("the file was put");
    assert_eq!(
        put.path(),
        "/repos/acme/storefront/contents/catalog-info.yaml"
    );
    assert_eq!(put.json()["branch"], discovery::BRANCH);
    let content = base64::engine::general_purpose::STANDARD
        .decode(put.json()["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(content).unwrap(), storefront.to_yaml());
    let pull = reqs
        .iter()
        .find(|r| r.path().ends_with("/pulls"))
        .unwrap()
        .json();
    assert_eq!(
        (pull["head"].as_str(), pull["base"].as_str()),
        (Some(discovery::BRANCH), Some("main"))
    );
    assert_eq!(pull["title"], "Add catalog-info.yaml");

    // A branch left from an earlier proposal is a clear error, not a second request.
    github.route(
        "POST",
        "/repos/acme/storefront/git/refs",
        Reply::json(
            422,
            r#"{"message":"Reference already exists","status":"422"}"#,
        ),
    );
    let e = discovery::open_change_request(&settings.hosts, storefront_repo, "x", "t", "b")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    // A token that may read but not write: a clear error naming the call, not the token.
    github.route(
        "POST",
        "/repos/acme/storefront/git/refs",
        Reply::json(
            403,
            r#"{"message":"Resource not accessible by personal access token","status":"403"}"#,
        ),
    );
    let e = discovery::open_change_request(&settings.hosts, storefront_repo, "x", "t", "b")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/repos/acme/storefront/git/refs")
            && e.contains("no permission")
            && !e.contains("ghp_x"),
        "{e}"
    );

    // And docs-site's opens a merge request on GitLab.
    let docs_repo = inv
        .repositories
        .iter()
        .find(|r| r.name == "docs-site")
        .unwrap();
    let mr = discovery::open_change_request(
        &settings.hosts,
        docs_repo,
        &docs.to_yaml(),
        "Add catalog-info.yaml",
        "b",
    )
    .await
    .unwrap();
    assert_eq!(
        mr.url,
        "https://gitlab.example/acme/docs-site/-/merge_requests/7"
    );
    let commit = gitlab
        .requests()
        .into_iter()
        .find(|r| r.path() == "/projects/102/repository/commits" && r.method == "POST")
        .unwrap()
        .json();
    assert_eq!(commit["actions"][0]["file_path"], "catalog-info.yaml");
}

/// The Link header page 1 of the recorded organisation carries.
fn github_page_headers(github: &Fake) -> Vec<(String, String)> {
    let b = &github.base;
    vec![
        ("content-type".into(), "application/json".into()),
        (
            "link".into(),
            format!("<{b}/organizations/9919/repos?type=all&per_page=100&page=2>; rel=\"next\""),
        ),
    ]
}

/// Ten repositories like `storefront`, all pushed at `pushed_at`.
fn ten_repositories(pushed_at: &str) -> String {
    let page: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("github/orgs-acme-repos-1.json")).unwrap(),
    )
    .unwrap();
    let repos: Vec<serde_json::Value> = (0..10)
        .map(|i| {
            let mut r = page[1].clone();
            r["name"] = format!("app-{i}").into();
            r["full_name"] = format!("acme/app-{i}").into();
            r["html_url"] = format!("https://github.com/acme/app-{i}").into();
            r["pushed_at"] = pushed_at.into();
            r
        })
        .collect();
    serde_json::Value::from(repos).to_string()
}

async fn an_exhausted_rate_limit_stops_reads_and_keeps_records(test: TestDb) {
    let github = Fake::start().await;
    let list = "/orgs/acme/repos?type=all&per_page=100";
    github.route(
        "GET",
        list,
        Reply::json(200, &ten_repositories("2026-11-01T00:00:00Z")),
    );
    for i in 0..10 {
        github.fixture(
            &format!("/repos/acme/app-{i}/languages"),
            "github/storefront-languages.json",
        );
        github.fixture(
            &format!("/repos/acme/app-{i}/git/trees/main?recursive=1"),
            "github/storefront-tree.json",
        );
        github.fixture(
            &format!("/repos/acme/app-{i}/contents/CODEOWNERS?ref=main"),
            "github/storefront-codeowners.json",
        );
        github.route(
            "GET",
            &format!("/repos/acme/app-{i}/commits"),
            Reply::json(200, "[]"),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(CatalogSettings::default(), test.connect().await)
        .await
        .unwrap();
    let state = State::of(&catalog);
    state.configure(Settings {
        sources: vec![],
        hosts: vec![HostSource::github(Some(&github.base), None, "acme").unwrap()],
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: Limits::default(),
    });
    // app-0's tree names a catalog file and CODEOWNERS the host then answers 404 for (gone
    // since the tree was read): problems of that repository, not a deleted repository.
    github.fixture(
        "/repos/acme/app-0/git/trees/main?recursive=1",
        "github/payments-api-tree.json",
    );
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!(
        (inv.read, inv.repositories.len()),
        (10, 10),
        "{:?}",
        inv.errors
    );
    let app0 = inv.repositories.iter().find(|r| r.name == "app-0").unwrap();
    assert_eq!(app0.catalog_files, ["catalog-info.yaml"]);
    assert!(app0.codeowners.is_none());
    assert!(
        app0.problems
            .iter()
            .any(|p| p.starts_with("catalog-info.yaml: ") && p.contains("404"))
            && app0
                .problems
                .iter()
                .any(|p| p.starts_with(".github/CODEOWNERS: ")),
        "{:?}",
        app0.problems
    );
    assert_eq!(inv.registered, 0);
    assert!(inv.register_errors.is_empty(), "{:?}", inv.register_errors);

    // Everything was pushed to, and the listing's answer says no requests remain for an hour:
    // no read is attempted past the limit, nothing is lost, and the errors say why.
    let reset = chrono::Utc::now().timestamp() + 3600;
    github.route(
        "GET",
        list,
        Reply::json(200, &ten_repositories("2026-12-01T00:00:00Z"))
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string()),
    );
    github.clear_requests();
    let started = std::time::Instant::now();
    let inv = state.sync_now(&catalog).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hour-long wait"
    );
    assert_eq!(
        github.requests().len(),
        1,
        "only the listing reached the host"
    );
    assert_eq!(inv.read, 0);
    assert_eq!(inv.repositories.len(), 10, "every record is kept");
    assert!(inv.missing.is_empty());
    let limited = inv
        .errors
        .iter()
        .filter(|e| e.message.contains("rate limit exhausted; it resets in"))
        .count();
    assert_eq!(
        limited, 6,
        "the reads that started fail clearly: {:?}",
        inv.errors
    );
    assert!(
        inv.errors
            .iter()
            .any(|e| e.message.contains("4 repositories were not read this scan")),
        "{:?}",
        inv.errors
    );
}
