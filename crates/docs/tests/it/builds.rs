//! Docs builds for a catalog snapshot: entities with `backstage.io/techdocs-ref` get a site, a
//! failing build keeps the last good site beside its error, unchanged sources are not rebuilt,
//! and the page data the search index reads follows every change.

use std::path::Path;
use std::sync::Arc;

use catalog::read::{Snapshot, Stitched};
use docs::{Docs, DocsSettings};
use serde_json::{Value, json};

fn stitched(v: Value) -> Arc<Stitched> {
    let kind = v["kind"].as_str().unwrap();
    let name = v["metadata"]["name"].as_str().unwrap();
    let body = v.to_string();
    Arc::new(Stitched::from_json(
        format!("{kind}:default/{name}").to_lowercase(),
        format!("uid-{name}"),
        format!("etag-{}", body.len()),
        &body,
    ))
}

fn component(name: &str, techdocs: Option<&str>, file: &Path) -> Value {
    let mut annotations = json!({
        "backstage.io/managed-by-location": format!("file:{}", file.display()),
    });
    if let Some(t) = techdocs {
        annotations["backstage.io/techdocs-ref"] = json!(t);
    }
    json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
           "metadata": {"name": name, "namespace": "default", "annotations": annotations},
           "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}})
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn builds_follow_the_catalog_and_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("pay");
    write(
        &repo.join("mkdocs.yml"),
        "site_name: Pay\nnav:\n  - index.md\n",
    );
    write(
        &repo.join("docs/index.md"),
        "# Pay\n\nAuthorises payments.\n",
    );
    let file = repo.join("catalog-info.yaml");
    let settings = DocsSettings::default();
    let docs = Docs::default();

    let snap = Snapshot::of(vec![
        stitched(component("pay", Some("dir:."), &file)),
        stitched(component("plain", None, &file)),
        stitched(component("far", Some("url:https://evil.test/docs"), &file)),
    ]);
    assert_eq!(docs.update(&snap, &settings), 2);
    let g1 = docs.generation();
    assert_eq!(g1, 1);
    let pay = docs.entity("Component:default/PAY").unwrap();
    let site = pay.site.clone().unwrap();
    assert_eq!(site.site_name, "Pay");
    assert!(pay.error.is_none());
    assert!(docs.entity("component:default/plain").is_none());
    let far = docs.entity("component:default/far").unwrap();
    assert!(
        far.error
            .as_ref()
            .unwrap()
            .message
            .contains("not in the read allow-list")
    );

    let pages = docs.pages();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].entity_ref, "component:default/pay");
    assert_eq!(pages[0].url, "/docs/default/component/pay/");
    assert_eq!(pages[0].title, "Pay");
    assert!(pages[0].text.contains("Authorises payments."));

    // Nothing changed: no new generation, the same site.
    assert_eq!(docs.update(&snap, &settings), 0);
    assert_eq!(docs.generation(), g1);

    // A broken config: the error is shown, the last good site stays served.
    write(&repo.join("mkdocs.yml"), "site_name: [\n");
    assert_eq!(docs.update(&snap, &settings), 1);
    let pay = docs.entity("component:default/pay").unwrap();
    assert!(Arc::ptr_eq(pay.site.as_ref().unwrap(), &site));
    let error = pay.error.clone().unwrap();
    assert_eq!(error.file, "mkdocs.yml");
    assert_eq!(error.line, Some(1));
    assert_eq!(docs.pages().len(), 1);

    // Fixed, with an edited page: the new text is what search sees.
    write(&repo.join("mkdocs.yml"), "site_name: Pay\n");
    write(&repo.join("docs/index.md"), "# Pay\n\nRefunds too.\n");
    write(&repo.join("docs/ops.md"), "# Ops\n");
    assert_eq!(docs.update(&snap, &settings), 1);
    let pay = docs.entity("component:default/pay").unwrap();
    assert!(pay.error.is_none());
    let texts: Vec<String> = docs.pages().into_iter().map(|p| p.text).collect();
    assert!(
        texts.iter().any(|t| t.contains("Refunds too.")),
        "{texts:?}"
    );
    assert_eq!(texts.len(), 2);
    assert!(docs.generation() > g1);

    // The annotation removed: the docs go.
    let snap = Snapshot::of(vec![stitched(component("pay", None, &file))]);
    assert_eq!(docs.update(&snap, &settings), 2);
    assert!(docs.entities().is_empty());
    assert!(docs.pages().is_empty());
}

#[tokio::test]
async fn waiting_for_a_change_returns_the_new_generation() {
    let docs = Arc::new(Docs::default());
    let waiter = {
        let docs = Arc::clone(&docs);
        tokio::spawn(async move { docs.changed_since(0).await })
    };
    tokio::task::yield_now().await;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("catalog-info.yaml");
    let snap = Snapshot::of(vec![stitched(component("x", Some("dir:missing"), &file))]);
    docs.update(&snap, &DocsSettings::default());
    let generation = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(generation, 1);
    let x = docs.entity("component:default/x").unwrap();
    assert!(x.site.is_none());
    assert!(x.error.as_ref().unwrap().message.contains("no mkdocs.yml"));
}

/// What the state derives from the ref instead of keeping (the default site name, the URLs)
/// is what the entity says, and a new snapshot of the same entities changes nothing.
#[test]
fn names_and_urls_follow_the_entity() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo.join("mkdocs.yml"), "nav:\n  - index.md\n");
    write(&repo.join("docs/index.md"), "# Home\n");
    let file = repo.join("catalog-info.yaml");
    let mut titled = component("ledger", Some("dir:."), &file);
    titled["metadata"]["title"] = json!("The Ledger");
    // A key that is not the entity's own ref: the URLs still follow the entity.
    let aliased = {
        let body = component("real", Some("dir:."), &file).to_string();
        Arc::new(Stitched::from_json(
            "component:default/alias".to_owned(),
            "uid-alias".to_owned(),
            "etag-alias".to_owned(),
            &body,
        ))
    };
    let entities = || {
        vec![
            stitched(component("plain", Some("dir:."), &file)),
            stitched(component("Billing", Some("dir:."), &file)),
            stitched(titled.clone()),
            Arc::clone(&aliased),
        ]
    };
    let settings = DocsSettings::default();
    let docs = Docs::default();
    assert_eq!(docs.update(&Snapshot::of(entities()), &settings), 4);
    let generation = docs.generation();

    let expect = |key: &str, name: &str, pages: &str| {
        let entry = docs.entity(key).unwrap();
        let site = entry.site.clone().unwrap();
        assert_eq!(site.site_name, name, "{key}");
        assert_eq!(site.urls.pages, pages, "{key}");
        assert_eq!(entry.urls(), site.urls, "{key}");
        assert_eq!(entry.entity_ref(), key);
        assert_eq!(entry.reference(), "dir:.");
        assert_eq!(entry.source(), Some(&docs::Source::Dir(repo.clone())));
        site
    };
    // (name in the key, site name, name in the URLs)
    let cases = [
        ("plain", "plain", "plain"),
        ("billing", "Billing", "billing"),
        ("ledger", "The Ledger", "ledger"),
        ("alias", "real", "real"),
    ];
    let sites: Vec<_> = cases
        .iter()
        .map(|(k, n, u)| {
            let pages = format!("/docs/default/component/{u}/");
            expect(&format!("component:default/{k}"), n, &pages)
        })
        .collect();

    // The catalog changed elsewhere: the same entities in a new snapshot keep their builds.
    assert_eq!(docs.update(&Snapshot::of(entities()), &settings), 0);
    assert_eq!(docs.generation(), generation);
    for (site, (k, _, _)) in sites.iter().zip(cases) {
        let key = format!("component:default/{k}");
        let entry = docs.entity(&key).unwrap();
        assert!(Arc::ptr_eq(entry.site.as_ref().unwrap(), site), "{key}");
        assert_eq!(entry.urls(), site.urls, "{key}");
    }
}
