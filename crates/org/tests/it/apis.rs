//! Okta and GitHub team imports against recorded responses in the platforms' real shapes,
//! served on loopback by `forge::testing::Fake` (the client code is the real one): pagination by
//! `Link: rel="next"`, Okta's `SSWS` token (sent, never shown), a token refused, GitHub team
//! parents as hierarchy and profiles from `/users/{login}`; then both imported into a catalog
//! on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use catalog::{Catalog, CatalogSettings};
use forge::Secret;
use forge::testing::{Fake, Reply};
use org::config::{GitHubSource, OktaSource};
use org::{Settings, Source, SourceKind};
use serde_json::{Value, json};
use store::testing::TestDb;

const TOKEN: &str = "00aTestOktaTokenNeverShown";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> Reply {
    Reply::fixture(&fixtures(), name)
}

/// Okta as recorded: users and one group's members on two pages each.
async fn okta() -> Fake {
    let f = Fake::start().await;
    let next = |path: &str| format!("<{}{path}>; rel=\"next\"", f.base);
    f.route(
        "GET",
        "/api/v1/users?limit=200",
        fixture("okta/users-1.json")
            .header(
                "link",
                format!("<{}/api/v1/users?limit=200>; rel=\"self\"", f.base),
            )
            .header(
                "link",
                next("/api/v1/users?after=00u2bob00AbCdEfG697&limit=200"),
            )
            .header("x-rate-limit-remaining", "599"),
    );
    f.route(
        "GET",
        "/api/v1/users?after=00u2bob00AbCdEfG697&limit=200",
        fixture("okta/users-2.json"),
    );
    f.route(
        "GET",
        "/api/v1/groups?limit=200",
        fixture("okta/groups.json"),
    );
    f.route(
        "GET",
        "/api/v1/groups/00g1eng00000000697/users?limit=200",
        fixture("okta/group-eng-users-1.json").header(
            "link",
            next("/api/v1/groups/00g1eng00000000697/users?after=00u2bob00AbCdEfG697&limit=200"),
        ),
    );
    f.route(
        "GET",
        "/api/v1/groups/00g1eng00000000697/users?after=00u2bob00AbCdEfG697&limit=200",
        fixture("okta/group-eng-users-2.json"),
    );
    f.route(
        "GET",
        "/api/v1/groups/00g2plat0000000697/users?limit=200",
        fixture("okta/group-plat-users.json"),
    );
    f
}

/// GitHub organisation `acme` as recorded: teams and members on two pages each.
async fn github() -> Fake {
    let f = Fake::start().await;
    let next = |path: &str| format!("<{}{path}>; rel=\"next\"", f.base);
    f.route(
        "GET",
        "/orgs/acme/teams?per_page=100",
        fixture("github/teams-1.json").header("link", next("/orgs/acme/teams?per_page=100&page=2")),
    );
    f.route(
        "GET",
        "/orgs/acme/teams?per_page=100&page=2",
        fixture("github/teams-2.json"),
    );
    for t in ["engineering", "platform", "payments"] {
        f.route(
            "GET",
            &format!("/orgs/acme/teams/{t}/members?per_page=100"),
            fixture(&format!("github/team-{t}-members.json")),
        );
    }
    f.route(
        "GET",
        "/orgs/acme/members?per_page=100",
        fixture("github/members-1.json")
            .header("link", next("/orgs/acme/members?per_page=100&page=2"))
            .header("x-ratelimit-remaining", "4990")
            .header("x-ratelimit-reset", "4102444800"),
    );
    f.route(
        "GET",
        "/orgs/acme/members?per_page=100&page=2",
        fixture("github/members-2.json"),
    );
    for u in ["octo-alice", "BobB", "mona"] {
        f.route(
            "GET",
            &format!("/users/{u}"),
            fixture(&format!("github/user-{u}.json")),
        );
    }
    f
}

fn okta_source(base: &str, token: &str) -> Source {
    Source {
        id: "okta".into(),
        kind: SourceKind::Okta(OktaSource {
            org_url: base.into(),
            token: Secret::new(token),
        }),
    }
}

fn github_source(base: &str) -> Source {
    Source {
        id: "github-acme".into(),
        kind: SourceKind::GitHub(GitHubSource {
            api_base: base.into(),
            org: "acme".into(),
            token: Some(Secret::new("ghp_test")),
        }),
    }
}

fn find<'a>(entities: &'a [Value], kind: &str, name: &str) -> &'a Value {
    entities
        .iter()
        .find(|e| e["kind"] == kind && e["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} not in {entities:#?}"))
}

#[tokio::test]
async fn okta_users_groups_and_memberships() {
    let f = okta().await;
    let a = org::read_source(&okta_source(&f.base, TOKEN))
        .await
        .unwrap();
    let names: Vec<String> = a
        .entities
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    // Everyone (built in) and the deprovisioned user are not imported; the second "alice"
    // (alice@partner.example) is a duplicate.
    assert_eq!(
        names,
        [
            "Group:Engineering",
            "Group:platform_team",
            "User:alice",
            "User:bob",
            "User:carol.chen"
        ]
    );
    let alice = find(&a.entities, "User", "alice");
    assert_eq!(
        alice["spec"]["memberOf"],
        json!(["Engineering", "platform_team"])
    );
    assert_eq!(
        alice["spec"]["profile"],
        json!({"displayName": "Alice Adams", "email": "alice@acme.example"})
    );
    assert_eq!(alice["metadata"]["description"], "Platform lead");
    assert_eq!(
        alice["metadata"]["annotations"]["okta.com/id"],
        "00u1alice0AbCdEfG697"
    );
    // Carol is on the second page of both lists.
    assert_eq!(
        find(&a.entities, "User", "carol.chen")["spec"]["memberOf"],
        json!(["Engineering", "platform_team"])
    );
    let plat = find(&a.entities, "Group", "platform_team");
    assert_eq!(plat["spec"]["profile"]["displayName"], "Platform Team");
    assert_eq!(plat["metadata"]["description"], "Runs the platform");
    assert_eq!(a.errors.len(), 1, "{:?}", a.errors);
    assert!(
        a.errors[0].contains(
            "user 00u5alice2bCdEfG697: name \"alice\" is already used by 00u1alice0AbCdEfG697"
        ),
        "{:?}",
        a.errors
    );

    let requests = f.requests();
    assert_eq!(requests.len(), 6, "{requests:#?}");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(&*format!("SSWS {TOKEN}")))
    );
    assert!(
        requests
            .iter()
            .any(|r| r.target.contains("after=00u2bob00AbCdEfG697"))
    );
}

#[tokio::test]
async fn okta_refused_token_is_a_clear_error_without_the_token() {
    let f = okta().await;
    f.route(
        "GET",
        "/api/v1/users?limit=200",
        Reply::json(401, r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeX","errorCauses":[]}"#),
    );
    let e = org::read_source(&okta_source(&f.base, TOKEN))
        .await
        .unwrap_err();
    assert!(
        e.contains("/api/v1/users?limit=200: 401 Unauthorized"),
        "{e}"
    );
    assert!(!e.contains(TOKEN), "{e}");
}

#[tokio::test]
async fn github_teams_hierarchy_members_and_profiles() {
    let f = github().await;
    let a = org::read_source(&github_source(&f.base)).await.unwrap();
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let eng = find(&a.entities, "Group", "engineering");
    assert_eq!(eng["spec"]["children"], json!(["payments", "platform"]));
    assert_eq!(
        eng["metadata"]["annotations"]["github.com/team-slug"],
        "acme/engineering"
    );
    let payments = find(&a.entities, "Group", "payments");
    assert_eq!(payments["spec"]["parent"], "engineering");
    assert_eq!(payments["spec"]["type"], "team");
    assert!(payments["metadata"].get("description").is_none());
    let alice = find(&a.entities, "User", "octo-alice");
    assert_eq!(
        alice["spec"]["profile"],
        json!({"displayName": "Alice Octo", "email": "alice@acme.example", "picture": "https://avatars.github.example/u/501?v=4"})
    );
    assert_eq!(alice["spec"]["memberOf"], json!(["platform"]));
    assert_eq!(
        alice["metadata"]["annotations"]["github.com/user-login"],
        "octo-alice"
    );
    // Logins keep their case, as Backstage's GitHub provider keeps them.
    assert_eq!(
        find(&a.entities, "User", "BobB")["spec"]["memberOf"],
        json!(["payments"])
    );
    assert_eq!(
        find(&a.entities, "User", "mona")["spec"]["profile"],
        json!({"picture": "https://avatars.github.example/u/503?v=4"})
    );
    let requests = f.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer ghp_test"))
    );
    assert!(
        requests
            .iter()
            .any(|r| r.target == "/orgs/acme/members?per_page=100&page=2")
    );

    // A token without access to the organisation's teams: the source fails, clearly.
    f.route(
        "GET",
        "/orgs/acme/teams?per_page=100",
        Reply::json(
            403,
            r#"{"message":"Must have admin rights to Repository."}"#,
        ),
    );
    f.remove("GET", "/orgs/acme/teams?per_page=100&page=2");
    let e = org::read_source(&github_source(&f.base)).await.unwrap_err();
    assert!(
        e.contains("github org acme") && e.contains("403 Forbidden"),
        "{e}"
    );
}

store::on_each_database!(okta_and_github_imported_into_the_catalog);

async fn okta_and_github_imported_into_the_catalog(test: TestDb) {
    let (o, g) = (okta().await, github().await);
    let tmp = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(CatalogSettings::default(), test.connect().await)
        .await
        .unwrap();
    catalog.round().await.unwrap();
    let state = org::OrgImport::of(&catalog);
    // Files of at most 2 KiB: each source's entities spread over several parts.
    let settings = Settings {
        sources: vec![okta_source(&o.base, TOKEN), github_source(&g.base)],
        max_file_bytes: 2048,
        ..Default::default()
    };
    state.configure(settings, tmp.path().to_path_buf());
    let r = state.run_now(&catalog, false).await.unwrap();
    assert!(
        r.sources
            .iter()
            .all(|s| s.written && s.registered && s.failed.is_none()),
        "{r:#?}"
    );
    assert_eq!(r.sources[0].added.len(), 5);
    // Okta's "Engineering" and GitHub's "engineering" are one catalog name: registering Okta's
    // file put it in the catalog first, so GitHub's is reported, not proposed.
    assert_eq!(r.sources[1].added.len(), 5);
    assert_eq!(r.sources[1].errors.len(), 1, "{r:#?}");
    let file = std::fs::read_to_string(tmp.path().join("okta.yaml")).unwrap();
    assert!(file.starts_with("# Generated by Stagedoor's org import from source \"okta\""));
    assert!(!file.contains(TOKEN));
    let snap = catalog.snapshot();
    for r in [
        "user:default/alice",
        "group:default/platform_team",
        "user:default/octo-alice",
        "group:default/engineering",
    ] {
        let e = snap
            .entity(r)
            .unwrap_or_else(|| panic!("{r} not in the catalog"));
        assert!(e.problems().is_empty(), "{r}: {:?}", e.problems());
    }
    let payments = snap.entity("group:default/payments").unwrap();
    assert!(
        payments
            .targets("childOf")
            .any(|t| t == "group:default/engineering")
    );
    let parts = r.sources.iter().map(|s| s.files.len()).sum::<usize>();
    assert!(r.sources.iter().all(|s| s.files.len() > 1), "{r:#?}");
    assert_eq!(catalog.locations().await.len(), parts);
    assert!(r.sources[1].files[1].ends_with("github-acme--part2.yaml"));
    for f in r.sources.iter().flat_map(|s| &s.files) {
        assert!(std::fs::metadata(f).unwrap().len() <= 2048, "{f}");
    }

    // Run again: the clients are kept, so every page is asked for with its ETag and the
    // recorded API answers 304 (free of GitHub's rate limit); nothing changes.
    g.clear_requests();
    let r = state.run_now(&catalog, true).await.unwrap();
    assert_eq!(r.sources[1].unchanged, 5);
    let requests = g.requests();
    assert_eq!(requests.len(), 10, "{requests:#?}");
    assert!(
        requests.iter().all(|r| r.header("if-none-match").is_some()),
        "{requests:#?}"
    );

    // Payments and mona leave GitHub: removed from the catalog; parts no longer needed are
    // emptied but stay registered.
    g.route(
        "GET",
        "/orgs/acme/teams?per_page=100&page=2",
        Reply::json(200, "[]"),
    );
    g.route(
        "GET",
        "/orgs/acme/members?per_page=100&page=2",
        Reply::json(200, "[]"),
    );
    let r = state.run_now(&catalog, false).await.unwrap();
    let gh = &r.sources[1];
    let removed: Vec<&str> = gh.removed.iter().map(|c| c.entity_ref.as_str()).collect();
    assert_eq!(
        removed,
        ["group:default/payments", "user:default/mona"],
        "{gh:#?}"
    );
    let snap = catalog.snapshot();
    assert!(
        snap.entity("user:default/mona").is_none()
            && snap.entity("group:default/payments").is_none()
    );
    assert_eq!(
        catalog.locations().await.len(),
        parts,
        "no part registered twice, none dropped"
    );
    assert_eq!(
        snap.entity("user:default/bobb").unwrap().spec("memberOf"),
        Some(&json!([])),
        "BobB's only team is gone"
    );

    // Okta now refuses the token: that source fails and its people stay; GitHub goes on.
    o.route("GET", "/api/v1/users?limit=200", Reply::json(401, "{}"));
    let r = state.run_now(&catalog, false).await.unwrap();
    assert!(
        r.sources[0].failed.is_some() && r.sources[1].failed.is_none(),
        "{r:#?}"
    );
    // The catalog kept Okta's "Engineering"; the conflict is reported again, not proposed.
    let gh = &r.sources[1];
    assert_eq!((gh.unchanged, gh.added.len()), (3, 0), "{gh:#?}");
    assert_eq!(gh.errors.len(), 1, "{gh:#?}");
    assert!(
        gh.errors[0].starts_with("group:default/engineering is already in the catalog from file:")
    );
    assert!(
        gh.errors[0].ends_with("okta.yaml; the catalog keeps that one"),
        "{gh:#?}"
    );
    assert!(catalog.snapshot().entity("user:default/alice").is_some());
}
