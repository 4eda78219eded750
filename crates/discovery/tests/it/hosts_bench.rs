//! Discovery of a GitHub organisation of 2,000 repositories served on loopback (recorded
//! response shapes, 20 listing pages): the first sync reads every repository through the API
//! (languages, tree, CODEOWNERS, commits: four requests each), the second finds nothing changed
//! (20 conditional listing requests answered 304, nothing read). Ignored by default; run with
//! `cargo test -p discovery --test it hosts_bench:: -- --ignored --nocapture` (docs/benchmarks.md).

use std::time::{Duration, Instant};

use discovery::{HostSource, Limits, Settings, State};
use forge::testing::{Fake, Reply, fixtures};

const REPOSITORIES: usize = 2_000;
const PER_PAGE: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints figures"]
async fn discovery_over_a_2000_repository_github_organisation() {
    let github = Fake::start().await;
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("github/orgs-acme-repos-1.json")).unwrap(),
    )
    .unwrap();
    let pages = REPOSITORIES / PER_PAGE;
    for p in 0..pages {
        let repos: Vec<serde_json::Value> = (p * PER_PAGE..(p + 1) * PER_PAGE)
            .map(|i| {
                let mut r = template[1].clone();
                r["name"] = format!("app-{i}").into();
                r["full_name"] = format!("acme/app-{i}").into();
                r["html_url"] = format!("https://github.com/acme/app-{i}").into();
                r
            })
            .collect();
        let target = if p == 0 {
            "/orgs/acme/repos?type=all&per_page=100".to_owned()
        } else {
            format!(
                "/organizations/9919/repos?type=all&per_page=100&page={}",
                p + 1
            )
        };
        let mut reply = Reply::json(200, &serde_json::Value::from(repos).to_string());
        if p + 1 < pages {
            reply = reply.header(
                "link",
                format!(
                    "<{}/organizations/9919/repos?type=all&per_page=100&page={}>; rel=\"next\"",
                    github.base,
                    p + 2
                ),
            );
        }
        github.route("GET", &target, reply);
    }
    for i in 0..REPOSITORIES {
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
        github.fixture(
            &format!("/repos/acme/app-{i}/commits"),
            "github/storefront-commits.json",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("bench.db").display());
    let catalog = catalog::Catalog::connect(Default::default(), &url)
        .await
        .unwrap();
    catalog.round().await.unwrap();
    let state = State::of(&catalog);
    state.configure(Settings {
        sources: vec![],
        hosts: vec![HostSource::github(Some(&github.base), None, "acme").unwrap()],
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: Limits::default(),
    });
    let t = Instant::now();
    let inv = state.sync_now(&catalog).await.unwrap();
    let first = t.elapsed();
    assert_eq!(
        (inv.read, inv.errors.len()),
        (REPOSITORIES, 0),
        "{:?}",
        inv.errors.first()
    );
    let requests = github.requests().len();
    github.clear_requests();
    let t = Instant::now();
    let inv = state.sync_now(&catalog).await.unwrap();
    let unchanged = t.elapsed();
    assert_eq!((inv.read, inv.reused), (0, REPOSITORIES));
    assert_eq!(github.requests().len(), pages, "only the listing, as 304s");
    println!(
        "first sync: {first:?} ({requests} requests); nothing changed: {unchanged:?} ({pages} requests, all 304)"
    );
}
