//! The read seam as a capability uses it: typed entities, change notifications that name what
//! changed, and a per-snapshot cache that is built once and dropped with its snapshot.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use catalog::Catalog;
use catalog::read::{Change, Snapshot};
use catalog::settings::{CatalogSettings, LocationSpec, OrphanStrategy};

const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Checkout-Web
  title: Checkout web
  description: The shop front.
  tags: [web, typescript]
  labels: { tier: front }
  annotations: { github.com/project-slug: acme/checkout-web }
spec: { type: website, lifecycle: production, owner: Team-A }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments }
spec: { type: service, lifecycle: experimental, owner: team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
";

async fn catalog(dir: &tempfile::TempDir, text: &str) -> Arc<Catalog> {
    let file = dir.path().join("catalog-info.yaml");
    std::fs::write(&file, text).unwrap();
    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", &file.to_string_lossy()), vec![])],
        // Gone means gone, so a removal is a removal rather than an orphan's update.
        orphan_strategy: OrphanStrategy::Delete,
        ..Default::default()
    };
    Catalog::connect(settings, "sqlite::memory:").await.unwrap()
}

/// Rewrites the file with a modification time that differs from the previous version's.
fn rewrite(dir: &tempfile::TempDir, text: &str) {
    let file = dir.path().join("catalog-info.yaml");
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, text).unwrap();
    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(before + std::time::Duration::from_secs(1))
        .unwrap();
}

fn sorted(keys: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = keys.iter().map(String::as_str).collect();
    v.sort();
    v
}

#[tokio::test]
async fn entities_read_through_typed_accessors() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog(&dir, CATALOG).await;
    c.round().await.unwrap();
    let snap = c.snapshot();
    let e = snap
        .entity("component:default/checkout-web")
        .expect("found in any case");
    // Refs are lower case, as Backstage writes them; the name keeps its spelling.
    assert_eq!(e.entity_ref(), "component:default/checkout-web");
    assert_eq!(e.key(), "component:default/checkout-web");
    assert_eq!(e.kind(), "Component");
    assert_eq!(e.namespace(), "default");
    assert_eq!(e.name(), "Checkout-Web");
    assert_eq!(e.title(), Some("Checkout web"));
    assert_eq!(e.description(), Some("The shop front."));
    assert_eq!(e.spec_type(), Some("website"));
    assert_eq!(e.lifecycle(), Some("production"));
    assert_eq!(e.tags().collect::<Vec<_>>(), ["web", "typescript"]);
    assert_eq!(e.labels().collect::<Vec<_>>(), [("tier", "front")]);
    assert_eq!(
        e.annotation("github.com/project-slug"),
        Some("acme/checkout-web")
    );
    assert!(
        e.owner()
            .unwrap()
            .eq_ignore_ascii_case("group:default/team-a")
    );
    assert!(e.problems().is_empty());

    let group = snap.entity("group:default/team-a").unwrap();
    let mut owned: Vec<&str> = group.targets("ownerOf").collect();
    owned.sort();
    assert_eq!(owned.len(), 2, "{owned:?}");

    let filter = model::filter::parse_query(&["kind=component,spec.lifecycle=production".into()])
        .unwrap()
        .unwrap();
    let names: Vec<String> = snap
        .entities(Some(&filter))
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(names, ["Checkout-Web"]);
    assert_eq!(snap.entities(None).count(), snap.len());
}

#[tokio::test]
async fn subscribers_hear_which_entities_changed() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog(&dir, CATALOG).await;
    let mut sub = c.subscribe();
    c.round().await.unwrap();
    let first: Change = sub.next().await.unwrap();
    assert!(!first.missed);
    assert!(first.removed.is_empty());
    assert!(
        first
            .changed
            .iter()
            .any(|k| k == "component:default/checkout-web")
    );
    assert_eq!(first.snapshot.generation(), c.snapshot().generation());

    // A round with no change publishes nothing.
    c.round().await.unwrap();
    // One entity edited, one gone: exactly those two are named.
    let edited = CATALOG
        .split_once("---\n")
        .unwrap()
        .1
        .replace("lifecycle: experimental", "lifecycle: production");
    rewrite(&dir, &edited);
    c.round().await.unwrap();
    let second = tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
        .await
        .expect("a change was published")
        .unwrap();
    assert!(second.snapshot.generation() > first.snapshot.generation());
    assert_eq!(sorted(&second.removed), ["component:default/checkout-web"]);
    // The group lost an ownerOf relation, the edited component changed.
    assert_eq!(
        sorted(&second.changed),
        ["component:default/payments", "group:default/team-a"]
    );
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_catches_up_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog(&dir, CATALOG).await;
    let mut sub = c.subscribe();
    c.round().await.unwrap();
    rewrite(&dir, &CATALOG.replace("The shop front.", "The shop."));
    c.round().await.unwrap();
    // Two changes waited; they arrive merged, ending at the newest snapshot.
    let change = sub.next().await.unwrap();
    assert_eq!(change.snapshot.generation(), c.snapshot().generation());
    assert!(
        change
            .changed
            .iter()
            .any(|k| k == "component:default/payments")
    );
    assert!(!change.missed);
}

struct Counted(usize);

#[tokio::test]
async fn derived_data_is_built_once_per_snapshot_and_dies_with_it() {
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let build = |s: &Snapshot| {
        BUILDS.fetch_add(1, Ordering::SeqCst);
        Counted(s.len())
    };
    let dir = tempfile::tempdir().unwrap();
    let c = catalog(&dir, CATALOG).await;
    c.round().await.unwrap();
    let snap = c.snapshot();
    let a = snap.derived(build);
    let b = c.snapshot().derived(build);
    assert!(Arc::ptr_eq(&a, &b), "same snapshot, same value");
    assert_eq!(BUILDS.load(Ordering::SeqCst), 1);
    assert_eq!(a.0, snap.len());

    rewrite(&dir, &CATALOG.replace("The shop front.", "The shop."));
    c.round().await.unwrap();
    let next = c.snapshot();
    assert!(next.generation() > snap.generation());
    let weak = Arc::downgrade(&a);
    drop((a, b));
    let _ = next.derived(build);
    assert_eq!(
        BUILDS.load(Ordering::SeqCst),
        2,
        "a new snapshot builds anew"
    );
    drop(snap);
    assert!(
        weak.upgrade().is_none(),
        "the old snapshot's derived data is freed with it"
    );
}
