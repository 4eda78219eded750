//! Discovery against a live catalog on both databases: catalog files found in repositories are
//! registered as locations, completeness is counted per team, department and org and recorded
//! for the day, ownership gaps are listed, and a repository that disappears is kept as missing
//! while its entities become orphans.

use std::path::Path;
use std::time::Duration;

use catalog::{Catalog, CatalogSettings, LocationSpec};
use discovery::testing::*;
use discovery::{Limits, Settings, State};
use store::testing::TestDb;

store::on_each_database!(repositories_are_registered_counted_and_orphaned);

const ORG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: dept-x}
spec: {type: department, children: [team-a, team-b]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, parent: dept-x, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, parent: dept-x, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {profile: {email: alice@example.com}, memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lonely}
spec: {type: service, lifecycle: production, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ghostly}
spec: {type: service, lifecycle: production, owner: ghost}
"#;

fn component(name: &str, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

async fn repositories_are_registered_counted_and_orphaned(test: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let orders_file = component("orders", "team-a");
    let orders = repo_with(
        &repos.join("orders"),
        &[
            ("catalog-info.yaml", &orders_file),
            ("main.go", "package main\n"),
        ],
        ("Bob", "bob@example.com"),
    );
    let web_file = component("web", "team-b");
    repo_with(
        &repos.join("web"),
        &[
            ("apps/web/catalog-info.yaml", &web_file),
            ("index.html", "<p>\n"),
        ],
        ("Bob", "bob@example.com"),
    );
    bare_repo_with(
        &repos.join("billing.git"),
        &[
            ("CODEOWNERS", "* @acme/team-a\n"),
            ("Dockerfile", "FROM x\n"),
        ],
    );
    repo_with(
        &repos.join("infra"),
        &[("main.tf", "\n")],
        ("Alice", "alice@example.com"),
    );
    repo_with(
        &repos.join("misc"),
        &[("notes.md", "\n")],
        ("Zed", "zed@example.com"),
    );
    let org = tmp.path().join("org.yaml");
    std::fs::write(&org, ORG).unwrap();

    let settings = CatalogSettings {
        locations: vec![(LocationSpec::new("file", org.to_str().unwrap()), vec![])],
        ..Default::default()
    };
    let catalog = Catalog::open(settings, test.connect().await).await.unwrap();
    catalog.round().await.unwrap();
    let state = State::of(&catalog);
    state.configure(Settings {
        sources: vec![repos.clone()],
        hosts: vec![],
        interval: Duration::from_secs(3600),
        mirror: tmp.path().join("mirror"),
        limits: Limits::default(),
    });

    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!(inv.repositories.len(), 5, "{:?}", inv.errors);
    assert_eq!(inv.registered, 2, "{:?}", inv.register_errors);
    let locations = catalog.locations().await;
    assert_eq!(locations.len(), 2);
    assert!(
        locations
            .iter()
            .any(|l| l.target.ends_with("apps/web/catalog-info.yaml")),
        "nested file registered"
    );
    let snap = catalog.snapshot();
    assert!(snap.entity("component:default/orders").is_some());
    assert!(snap.entity("component:default/web").is_some());

    let c = state.completeness(&snap).unwrap();
    assert_eq!((c.org.found, c.org.cataloged), (5, 2));
    let row = |g: &str| {
        c.groups
            .iter()
            .find(|r| r.group == g)
            .unwrap_or_else(|| panic!("{g}: {:#?}", c.groups))
    };
    // team-a: orders (cataloged), billing (CODEOWNERS), infra (alice's commits).
    assert_eq!(
        row("group:default/team-a").own,
        discovery::Counts {
            found: 3,
            cataloged: 1
        }
    );
    assert_eq!(
        row("group:default/team-b").own,
        discovery::Counts {
            found: 1,
            cataloged: 1
        }
    );
    let dept = row("group:default/dept-x");
    assert_eq!(
        (
            dept.total.found,
            dept.total.cataloged,
            dept.depth,
            dept.kind.as_str()
        ),
        (4, 2, 0, "department")
    );
    assert_eq!(
        row("group:default/team-a").parent.as_deref(),
        Some("group:default/dept-x")
    );
    assert_eq!(c.groups[0].group, "group:default/dept-x", "parents first");
    assert_eq!(
        (c.unowned.found, c.unowned.cataloged),
        (1, 0),
        "misc has no owner"
    );
    let uncatalogued: Vec<&str> = c
        .uncatalogued(Some("group:default/dept-x"))
        .map(|r| r.repository.name.as_str())
        .collect();
    assert_eq!(uncatalogued, vec!["billing", "infra"]);
    let gaps: Vec<(&str, &str)> = c
        .owner_gaps
        .iter()
        .map(|g| (g.entity.as_str(), g.problem))
        .collect();
    assert!(
        gaps.contains(&("component:default/ghostly", "missing")),
        "{gaps:?}"
    );
    assert!(
        gaps.contains(&("component:default/lonely", "empty group")),
        "{gaps:?}"
    );
    assert!(
        gaps.contains(&("component:default/web", "empty group")),
        "{gaps:?}"
    );
    assert!(
        !gaps.iter().any(|(e, _)| *e == "component:default/orders"),
        "team-a has alice"
    );

    let db = catalog.database();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let days = db.completeness_days("org", "2000-01-01").await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        (days[0].day.as_str(), days[0].found, days[0].cataloged),
        (today.as_str(), 5, 2)
    );
    assert_eq!(
        db.completeness_days("group:default/dept-x", "2000-01-01")
            .await
            .unwrap()[0]
            .found,
        4
    );

    // Nothing changed: nothing read, nothing registered.
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!((inv.read, inv.reused, inv.registered), (0, 5, 0));

    // A new process starts from the stored inventory and reads nothing either.
    let fresh = discovery::sync(&catalog, &state.settings().unwrap(), None)
        .await
        .unwrap();
    assert_eq!((fresh.read, fresh.reused), (0, 5));

    // The orders repository disappears: kept as missing, its entity orphaned, not dropped.
    std::fs::remove_dir_all(&orders).unwrap();
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!(inv.repositories.len(), 4);
    assert_eq!(inv.missing.len(), 1);
    assert!(inv.missing[0].0.path.ends_with("orders"));
    catalog.round().await.unwrap();
    let snap = catalog.snapshot();
    let orders_entity = snap
        .entity("component:default/orders")
        .expect("kept as an orphan");
    assert_eq!(
        orders_entity.annotation("backstage.io/orphan"),
        Some("true")
    );
    let c = state.completeness(&snap).unwrap();
    assert_eq!(c.orphans, vec!["component:default/orders"]);
    assert_eq!(c.missing_repositories.len(), 1);
    assert_eq!((c.org.found, c.org.cataloged), (4, 1));
    let stored = db.discovered().await.unwrap();
    let gone = stored
        .iter()
        .find(|r| Path::new(&r.path).ends_with("orders"))
        .unwrap();
    assert!(gone.missing_since.is_some());

    // It comes back: present again, and its entity is no longer an orphan.
    repo_with(
        &orders,
        &[("catalog-info.yaml", &orders_file)],
        ("Bob", "bob@example.com"),
    );
    let inv = state.sync_now(&catalog).await.unwrap();
    assert!(inv.missing.is_empty());
    catalog.round().await.unwrap();
    let snap = catalog.snapshot();
    assert_eq!(
        snap.entity("component:default/orders")
            .unwrap()
            .annotation("backstage.io/orphan"),
        None
    );
}

store::on_each_database!(a_cataloged_repositorys_docs_are_mirrored_beside_its_catalog_file);

/// The docs a catalog file points at (`techdocs-ref: dir:.`) are copied from the default branch
/// next to the mirrored file, so the docs builder finds them; a page deleted on the branch goes.
async fn a_cataloged_repositorys_docs_are_mirrored_beside_its_catalog_file(test: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let repos = tmp.path().join("repos");
    let catalog_file = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: guide\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: website\n  lifecycle: production\n  owner: team-a\n";
    let dir = repo_with(
        &repos.join("guide"),
        &[
            ("svc/catalog-info.yaml", catalog_file),
            ("svc/mkdocs.yml", "site_name: Guide\ndocs_dir: pages\n"),
            ("svc/pages/index.md", "# Guide\n"),
            ("svc/pages/old.md", "# Old\n"),
            ("svc/pages/deep/more.md", "# More\n"),
            ("svc/src/main.rs", "fn main() {}\n"),
        ],
        ("Bob", "bob@example.com"),
    );
    let catalog = Catalog::open(CatalogSettings::default(), test.connect().await)
        .await
        .unwrap();
    catalog.round().await.unwrap();
    let state = State::of(&catalog);
    let mirror = tmp.path().join("mirror");
    state.configure(Settings {
        sources: vec![repos.clone()],
        hosts: vec![],
        interval: Duration::from_secs(3600),
        mirror: mirror.clone(),
        limits: Limits::default(),
    });
    let inv = state.sync_now(&catalog).await.unwrap();
    assert_eq!(inv.registered, 1, "{:?}", inv.register_errors);
    assert!(inv.register_errors.is_empty(), "{:?}", inv.register_errors);
    let location = catalog.locations().await.remove(0).target;
    let site = Path::new(&location).parent().unwrap().to_path_buf();
    let read = |p: &str| std::fs::read_to_string(site.join(p)).ok();
    assert_eq!(
        read("mkdocs.yml").as_deref(),
        Some("site_name: Guide\ndocs_dir: pages\n")
    );
    assert_eq!(read("pages/index.md").as_deref(), Some("# Guide\n"));
    assert_eq!(read("pages/deep/more.md").as_deref(), Some("# More\n"));
    assert_eq!(read("src/main.rs"), None, "only the docs are mirrored");

    git(&dir, &["rm", "-q", "svc/pages/old.md"]);
    commit_files(
        &dir,
        &[("svc/pages/index.md", "# Guide, edited\n")],
        ("Bob", "bob@example.com"),
        "docs: drop the old page",
    );
    state.sync_now(&catalog).await.unwrap();
    assert_eq!(read("pages/index.md").as_deref(), Some("# Guide, edited\n"));
    assert_eq!(
        read("pages/old.md"),
        None,
        "a page deleted on the branch goes"
    );
}
