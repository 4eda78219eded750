//! The pages over HTTP against a real catalog: escaping of hostile catalog data, htmx
//! partials, guest sign-in, and a render benchmark (ignored by default).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use catalog::Catalog;
use catalog::settings::{CatalogSettings, LocationSpec};

use crate::AppState;

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

async fn catalog_of(file: &Path) -> Arc<Catalog> {
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        ..Default::default()
    };
    let c = Catalog::connect(settings, "sqlite::memory:").await.unwrap();
    c.round().await.unwrap();
    c
}

struct Server {
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(catalog: Arc<Catalog>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, crate::router(AppState { catalog }))
                .await
                .unwrap()
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server { base, http }
    }

    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    }
}

/// Markup from the fixture that must never reach a page unescaped.
const RAW_MARKUP: [&str; 8] = [
    "<script>window",
    "<img src=x",
    "<svg onload",
    "<iframe",
    "</textarea><script",
    "<b>bold</b>",
    "</code><script",
    "</span><script",
];

fn assert_escaped(path: &str, html: &str) {
    for raw in RAW_MARKUP {
        assert!(!html.contains(raw), "{path}: raw {raw:?} in page");
    }
    let lower = html.to_lowercase();
    for bad in [
        "href=\"javascript:",
        "href=\" javascript:",
        "href=\"data:",
        "src=\"javascript:",
    ] {
        assert!(!lower.contains(bad), "{path}: {bad} in page");
    }
    // The only script is htmx, from our own origin.
    assert_eq!(lower.matches("<script").count(), 1, "{path}");
    assert!(
        lower.contains("<script src=\"/assets/htmx.min.js?v="),
        "{path}"
    );
}

#[tokio::test]
async fn hostile_catalog_data_is_escaped_on_every_page() {
    let c = catalog_of(&repo_path("tests/node/fixtures/xss/catalog-info.yaml")).await;
    let s = Server::start(c.clone()).await;
    let snap = c.snapshot();
    assert!(
        snap.get("component:default/xss-probe").is_some(),
        "fixture loaded"
    );

    let mut paths: Vec<String> = vec![
        "/".into(),
        "/catalog".into(),
        "/catalog?q=%3Cscript%3E".into(),
        "/catalog?kind=%3Cscript%3Ealert(1)%3C%2Fscript%3E&tag=%22%3E%3Cimg".into(),
        "/ownership".into(),
        "/sign-in".into(),
        "/catalog/default/component/%3Cscript%3E".into(),
    ];
    // Every entity's own page, including the generated location that carries the errors.
    for st in snap.iter() {
        let r = model::EntityRef::parse(st.entity_ref(), None, "default").unwrap();
        paths.push(super::view::entity_href(&r));
    }
    let mut saw_escaped = 0;
    for path in &paths {
        let (status, headers, html) = s.get(path).await;
        assert!(status == 200 || status == 404, "{path}: {status}");
        assert_escaped(path, &html);
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}");
        if html.contains("&lt;script&gt;window.__xss")
            || html.contains("&#60;script&#62;window.__xss")
        {
            saw_escaped += 1;
        }
    }
    // The markup is shown (as text), not dropped.
    assert!(
        saw_escaped >= 5,
        "escaped markup visible on {saw_escaped} pages"
    );

    let (_, _, probe) = s.get("/catalog/default/component/xss-probe").await;
    // Unsafe links stay as text; the safe one is a link.
    assert!(probe.contains("https://example.com/?q="));
    assert!(
        !probe.contains("href=\"https://github.com/&"),
        "bad slug is not linked"
    );
    let (_, _, api) = s.get("/catalog/default/api/hostile-api").await;
    assert!(
        api.contains("class=\"method m-get\""),
        "operations rendered"
    );
}

#[tokio::test]
async fn demo_pages_partials_and_sign_in() {
    let c = catalog_of(&repo_path("crates/stagedoor/demo/all.yaml")).await;
    let s = Server::start(c).await;

    // Catalog: facets with counts, and the whole state round-trips through the URL.
    let (status, _, html) = s.get("/catalog?kind=component&sort=owner").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html"));
    assert!(html.contains("id=\"f-kind-") && html.contains("checked"));
    assert!(html.contains("aria-sort=\"ascending\""));
    assert!(
        html.contains(" of <strong>24</strong> entities"),
        "24 demo components (the engineering handbook included)"
    );

    // htmx asking for the results gets the fragment alone.
    let r = s
        .http
        .get(format!("{}/catalog?kind=api", s.base))
        .header("HX-Request", "true")
        .header("HX-Target", "catalog-results")
        .send()
        .await
        .unwrap();
    let fragment = r.text().await.unwrap();
    assert!(!fragment.contains("<html") && fragment.contains("class=\"catalog-grid\""));
    assert!(fragment.contains(" of <strong>8</strong> entities"));

    // Errors facet finds the location carrying the demo's deliberate mistakes.
    let (_, _, errs) = s.get("/catalog?errors=yes").await;
    assert!(errs.contains("ridgeline-demo"), "{errs}");
    let (_, _, loc) = s.get("/catalog/default/location/ridgeline-demo").await;
    assert!(loc.contains("invalid-name.yaml:10:3"));
    assert!(loc.contains("yaml-syntax-error.yaml:16:9"));

    // Entity page: owner link, graph, dangling API.
    let (_, headers, web) = s.get("/catalog/default/component/account-web").await;
    assert!(web.contains("href=\"/catalog/default/group/storefront\""));
    assert!(web.contains("<svg viewBox="));
    assert!(web.contains("api:default/loyalty-points-api"));
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("stagedoor_recent=component%3Adefault%2Faccount-web"));

    // Ownership: unknown owner, grouped under it.
    let (_, _, own) = s.get("/ownership").await;
    assert!(own.contains("group:default/loyalty") && own.contains("gift-card-service"));

    // Sign in as Priya; the home page shows her team and the recently viewed entity.
    let r = s
        .http
        .post(format!("{}/sign-in", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=user%3Adefault%2Fpriya.raman")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let guest = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let recent = cookie.split(';').next().unwrap();
    let home = s
        .http
        .get(format!("{}/", s.base))
        .header("cookie", format!("{guest}; {recent}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Welcome back, Priya"));
    assert!(home.contains("href=\"/catalog/default/group/storefront\""));
    assert!(home.contains("My Account pages"), "recently viewed");

    // A made-up user cannot sign in.
    let r = s
        .http
        .post(format!("{}/sign-in", s.base))
        .body("user=user%3Adefault%2Fnobody")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Group page: tree, members, owned by kind.
    let (_, _, group) = s.get("/catalog/default/group/storefront").await;
    assert!(
        group.contains("aria-current=\"page\""),
        "the group in its tree"
    );
    assert!(group.contains("Priya Raman"));
    assert!(group.contains("kind-component"));
    // Maturity: a department owning nothing scored counts what its teams own.
    assert!(group.contains("href=\"/scorecards/production-readiness\""));
    let (_, _, dept) = s.get("/catalog/default/group/digital-commerce").await;
    assert!(
        dept.contains(
            "Production readiness</a> <span class=\"count\" title=\"11 entities scored\">11</span>"
        ),
        "{dept}"
    );
    // The heat map nests teams under their department and organisation.
    let (_, _, heat) = s.get("/scorecards/production-readiness").await;
    assert!(heat.contains(
        "<th scope=\"row\" class=\"depth-2\"><a href=\"/catalog/default/group/checkout\">"
    ));

    let (status, _, _) = s.get("/catalog/default/component/no-such-thing").await;
    assert_eq!(status, 404);
    let (status, headers, _) = s.get(&super::assets::url("style.css")).await;
    assert_eq!(status, 200);
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

/// Page render times against a generated catalog (`../shared/tools/gen-catalog.py`, N = 50,000
/// components, generated to ~/.cache/stagedoor/bench/50000 if missing). Run with
/// `cargo test --release -p web -- --ignored --nocapture page_render_bench`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn page_render_bench() {
    let n: usize = std::env::var("STAGEDOOR_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let home = std::env::var("HOME").unwrap();
    let dir = PathBuf::from(home).join(format!(".cache/stagedoor/bench/{n}"));
    if !dir.join("all.yaml").exists() {
        let status = std::process::Command::new("python3")
            .arg(repo_path("../shared/tools/gen-catalog.py"))
            .args(["--components", &n.to_string(), "--out"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let t = std::time::Instant::now();
    let c = catalog_of(&dir.join("all.yaml")).await;
    let snap = c.snapshot();
    eprintln!(
        "catalog of {} entities ready in {:?}",
        snap.len(),
        t.elapsed()
    );

    // A busy team and one of its components.
    let owners = catalog::read::facets(&snap, &["relations.ownedby".to_owned()], None);
    let (team, _) = owners[0].1.iter().max_by_key(|(_, n)| *n).unwrap().clone();
    let component = snap
        .iter()
        .find(|st| st.key().starts_with("component:") && st.body().contains(&format!("\"{team}\"")))
        .unwrap()
        .clone();
    let group = snap.get(&team).unwrap().clone();
    let me = crate::auth::Identity::default();
    eprintln!("group {team}, component {}", component.key());

    type Render = Box<dyn Fn() -> usize>;
    let pages: Vec<(&str, Render)> = vec![
        ("catalog index", {
            let snap = snap.clone();
            Box::new(move || {
                let p = super::catalog::index::Params::parse("");
                let r = super::catalog::index::results(&snap, p);
                askama::Template::render(&r).unwrap().len()
            })
        }),
        ("catalog, kind=component, text 'pay', sorted by owner", {
            let snap = snap.clone();
            Box::new(move || {
                let p =
                    super::catalog::index::Params::parse("kind=component&q=pay&sort=owner&page=3");
                let r = super::catalog::index::results(&snap, p);
                askama::Template::render(&r).unwrap().len()
            })
        }),
        ("entity page", {
            let snap = snap.clone();
            let me = me.clone();
            let eval = ::scorecards::Evaluation::build(&snap, chrono::Utc::now().fixed_offset());
            Box::new(move || {
                super::catalog::entity::render(&snap, &component, &me, &eval, None)
                    .status()
                    .as_u16() as usize
            })
        }),
        ("group page", {
            let snap = snap.clone();
            let me = me.clone();
            let eval = ::scorecards::Evaluation::build(&snap, chrono::Utc::now().fixed_offset());
            Box::new(move || {
                super::catalog::entity::render(&snap, &group, &me, &eval, None)
                    .status()
                    .as_u16() as usize
            })
        }),
    ];
    // First call builds the per-snapshot derived index; report it apart.
    let t = std::time::Instant::now();
    (pages[0].1)();
    eprintln!("first render (builds derived index): {:?}", t.elapsed());
    for (name, f) in &pages {
        let mut times: Vec<f64> = (0..30)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        eprintln!(
            "{name:<55} p50 {:>7.2} ms  p90 {:>7.2} ms  max {:>7.2} ms",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            times[times.len() - 1]
        );
    }
}
