//! The docs pages over real HTTP on both databases: the reader at Backstage's routes (root,
//! pages, trailing-slash redirects, unknown pages), files from the docs folder only (traversal
//! and symlinks refused), the Docs card on the entity page with problems at file and line, the
//! docs home with freshness and what each team has left undocumented, and a failed build that
//! keeps the last good one served. The first test builds with `Docs::update`, as each runner
//! pass does; the second runs the runner (`docs::Docs::run`) and edits a file under it.

use std::path::Path;

use catalog::settings::{CatalogSettings, LocationSpec};
use docs::{Docs, DocsSettings};
use store::testing::TestDb;

use crate::common;

store::on_each_database!(
    docs_are_read_through_the_portal,
    an_edited_page_is_served_without_waiting_for_the_periodic_pass,
);

const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: pay
  annotations: { backstage.io/techdocs-ref: 'dir:./pay' }
spec: { type: service, lifecycle: production, owner: team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: team-a }
";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

async fn text(http: &reqwest::Client, url: String) -> (u16, String) {
    let resp = http.get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn docs_are_read_through_the_portal(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    write(&root.join("all.yaml"), CATALOG);
    write(
        &root.join("pay/mkdocs.yml"),
        "site_name: Pay docs\nnav:\n  - Home: index.md\n  - Ops:\n      - Runbook: ops/runbook.md\n",
    );
    write(
        &root.join("pay/docs/index.md"),
        "# Pay\n\nSee the [runbook](ops/runbook.md#restart).\n\n![flow](img/flow.png)\n\n[gone](gone.md)\n",
    );
    write(
        &root.join("pay/docs/ops/runbook.md"),
        "# Runbook\n\n## Restart\n\nBack [home](../index.md).\n",
    );
    write(&root.join("pay/docs/img/flow.png"), "\u{89}PNG fake");
    write(&dir.path().join("secret.txt"), "top secret");
    std::os::unix::fs::symlink(
        dir.path().join("secret.txt"),
        root.join("pay/docs/leak.txt"),
    )
    .unwrap();

    let settings = CatalogSettings {
        locations: vec![(
            LocationSpec::new("file", &root.join("all.yaml").to_string_lossy()),
            vec![],
        )],
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    catalog.round().await.unwrap();
    let docs = Docs::of(&catalog);
    docs.update(&catalog.snapshot(), &DocsSettings::default());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The reader: root page with nav and table of contents; links rewritten to the reader.
    let (status, body) = text(&http, format!("{base}/docs/default/component/pay/")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<h1 id="pay">Pay</h1>"#), "{body}");
    assert!(body.contains(r#"href="/docs/default/component/pay/ops/runbook/#restart""#));
    assert!(body.contains(r#"src="/api/techdocs/static/docs/default/component/pay/img/flow.png""#));
    assert!(
        body.contains(r#"<span class="docs-section">Ops</span>"#),
        "{body}"
    );
    assert!(
        body.contains("docs/index.md:7"),
        "page problems listed: {body}"
    );
    let (status, body) = text(
        &http,
        format!("{base}/docs/default/Component/pay/ops/runbook/"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r##"<a href="#restart">Restart</a>"##),
        "toc: {body}"
    );
    assert!(
        body.contains(r#"href="/docs/default/component/pay/" rel="prev""#),
        "{body}"
    );

    // Backstage's URLs end in a slash: the others are redirected there.
    let resp = http
        .get(format!("{base}/docs/default/component/pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(resp.headers()["location"], "/docs/default/component/pay/");
    let resp = http
        .get(format!("{base}/docs/default/component/pay/ops/runbook"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(
        resp.headers()["location"],
        "/docs/default/component/pay/ops/runbook/"
    );
    let (status, body) = text(&http, format!("{base}/docs/default/component/pay/nope/")).await;
    assert_eq!(status, 404);
    assert!(body.contains("has no page at"), "{body}");
    let (status, body) = text(&http, format!("{base}/docs/default/component/ledger/")).await;
    assert_eq!(status, 404);
    assert!(body.contains("has no docs"), "{body}");

    // Files: from the docs folder only.
    let asset = format!("{base}/api/techdocs/static/docs/default/component/pay");
    let resp = http
        .get(format!("{asset}/img/flow.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(resp.text().await.unwrap(), "\u{89}PNG fake");
    for bad in [
        "%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "..%2F..%2F..%2Fsecret.txt",
        "img/..%2F..%2Fmkdocs.yml",
        "leak.txt",
        "%2Fetc%2Fpasswd",
    ] {
        let (status, body) = text(&http, format!("{asset}/{bad}")).await;
        assert!(status == 403 || status == 404, "{bad}: {status}");
        assert!(
            !body.contains("top secret") && !body.contains("site_name"),
            "{bad}"
        );
    }
    let (status, _) = text(&http, format!("{asset}/img/none.png")).await;
    assert_eq!(status, 404);

    // The entity page's Docs card, with the broken link at file and line.
    let (status, body) = text(&http, format!("{base}/catalog/default/component/pay")).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"id="docs""#), "{body}");
    assert!(body.contains(r#"href="/docs/default/component/pay/""#));
    assert!(
        body.contains("docs/index.md:7</code> broken link: gone.md"),
        "{body}"
    );

    // The docs home: documented entities with owner and freshness; what is missing per team.
    let (status, body) = text(&http, format!("{base}/docs")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Pay docs"), "{body}");
    assert!(body.contains("just now"), "{body}");
    assert!(
        body.contains(r#"href="/catalog/default/component/ledger""#),
        "{body}"
    );
    let (_, body) = text(&http, format!("{base}/docs?owner=group:default/nobody")).await;
    assert!(!body.contains("Pay docs"), "{body}");
    let (_, body) = text(&http, format!("{base}/docs?owner=team-a")).await;
    assert!(body.contains("Pay docs"), "{body}");
    // The team page leads to its docs and to what it has left undocumented.
    let (_, body) = text(&http, format!("{base}/catalog/default/group/team-a")).await;
    assert!(
        body.contains(r#"href="/docs?owner=group%3Adefault/team-a#missing""#),
        "{body}"
    );

    // A broken config: the error shows, the last good build stays served.
    write(&root.join("pay/mkdocs.yml"), "site_name: [\n");
    docs.update(&catalog.snapshot(), &DocsSettings::default());
    let (status, body) = text(&http, format!("{base}/docs/default/component/pay/")).await;
    assert_eq!(status, 200);
    assert!(body.contains("The latest docs build failed"), "{body}");
    assert!(body.contains("mkdocs.yml:1"), "{body}");
    assert!(body.contains(r#"<h1 id="pay">Pay</h1>"#));
    let (_, body) = text(&http, format!("{base}/catalog/default/component/pay")).await;
    assert!(body.contains("The latest build failed"), "{body}");

    // Fixed and edited: the new text is served.
    write(&root.join("pay/mkdocs.yml"), "site_name: Pay docs\n");
    write(
        &root.join("pay/docs/ops/runbook.md"),
        "# Runbook\n\nNew words.\n",
    );
    docs.update(&catalog.snapshot(), &DocsSettings::default());
    let (_, body) = text(
        &http,
        format!("{base}/docs/default/component/pay/ops/runbook/"),
    )
    .await;
    assert!(body.contains("New words."), "{body}");
    assert!(!body.contains("The latest docs build failed"));
}

/// With the periodic pass a minute away, an edited page is served within seconds: the runner
/// hears the file change (inotify) and rebuilds at once.
async fn an_edited_page_is_served_without_waiting_for_the_periodic_pass(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("catalog");
    write(&root.join("all.yaml"), CATALOG);
    write(&root.join("pay/mkdocs.yml"), "site_name: Pay docs\n");
    write(&root.join("pay/docs/index.md"), "# Pay\n\nVersion one.\n");
    let settings = CatalogSettings {
        locations: vec![(
            LocationSpec::new("file", &root.join("all.yaml").to_string_lossy()),
            vec![],
        )],
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, &db).await;
    catalog.round().await.unwrap();
    let docs_settings = DocsSettings {
        watch_interval: std::time::Duration::from_secs(60),
        ..Default::default()
    };
    tokio::spawn(Docs::of(&catalog).run(catalog.clone(), docs_settings));
    let http = reqwest::Client::new();
    let url = format!("{base}/docs/default/component/pay/");
    let served = |needle: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            for _ in 0..200 {
                let (status, body) = text(&http, url.clone()).await;
                if status == 200 && body.contains(needle) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(served("Version one.").await, "the first build is served");
    // A different size too, so the change is seen whatever the clock's granularity.
    write(
        &root.join("pay/docs/index.md"),
        "# Pay\n\nVersion two, edited.\n",
    );
    assert!(
        served("Version two, edited.").await,
        "the edit is served within 10 s, long before the 60 s periodic pass"
    );
}
