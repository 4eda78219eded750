//! Discovery over 2,000 generated local repositories: the first scan (every repository read from
//! its object store) and a scan when nothing changed (each repository opened, its tip compared,
//! nothing read). Ignored by default; run with
//! `cargo test -p discovery --test it bench:: -- --ignored --nocapture` and see docs/benchmarks.md.
//! With `STAGEDOOR_BENCH_KEEP=<dir>` the repositories are generated there and kept, so a server
//! can be pointed at them (`discovery.sources`) to time the completeness page over HTTP.

use std::time::{Duration, Instant};

use discovery::{Directory, Limits, generate, propose, scan};

const REPOSITORIES: usize = 2_000;

#[test]
#[ignore = "benchmark: prints figures"]
fn discovery_over_2000_local_repositories() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("STAGEDOOR_BENCH_KEEP").map(std::path::PathBuf::from);
    let root = keep.as_deref().unwrap_or(tmp.path());
    let started = Instant::now();
    let src = "fn main() {\n    println!(\"hello\");\n}\n".repeat(20);
    for i in 0..REPOSITORIES {
        let catalog = format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{}\n",
            i % 40
        );
        let codeowners = format!("* @acme/team-{}\n/docs/ @acme/writers\n", i % 40);
        let mut files: Vec<(&str, &str)> = vec![
            ("README.md", "# A service\n"),
            ("Dockerfile", "FROM scratch\n"),
            ("src/main.rs", &src),
            ("src/lib.rs", &src),
            ("src/util/mod.rs", &src),
            ("web/app.ts", "export const x = 1;\n"),
            (".github/workflows/ci.yml", "on: push\n"),
            (".github/CODEOWNERS", &codeowners),
            ("docs/index.md", "# Docs\n"),
        ];
        // Every third repository is cataloged, some with a nested file too.
        if i % 3 == 0 {
            files.push(("catalog-info.yaml", &catalog));
        }
        if i % 9 == 0 {
            files.push(("services/api/catalog-info.yaml", &catalog));
        }
        let dir = root
            .join(format!("org-{}", i % 20))
            .join(format!("repo-{i}.git"));
        generate::bare_repository(
            &dir,
            &files,
            ("Dev", &format!("dev{}@example.com", i % 50)),
            1_790_000_000,
        )
        .unwrap();
    }
    let generated = started.elapsed();
    let now = 1_790_000_000 + 86_400;
    let limits = Limits::default();

    let t = Instant::now();
    let first = scan(&[root.to_path_buf()], &[], &limits, now);
    let first_time = t.elapsed();
    assert_eq!(
        first.repositories.len(),
        REPOSITORIES,
        "{:?}",
        first.errors.first()
    );
    assert_eq!(first.read, REPOSITORIES);

    let t = Instant::now();
    let again = scan(&[root.to_path_buf()], &first.repositories, &limits, now);
    let unchanged_time = t.elapsed();
    assert_eq!(again.reused, REPOSITORIES);

    let t = Instant::now();
    let directory = Directory::default();
    let proposals = first
        .repositories
        .iter()
        .filter(|r| !r.is_cataloged())
        .filter(|r| propose(r, &directory).is_ok())
        .count();
    let propose_time = t.elapsed();

    println!(
        "discovery bench: {REPOSITORIES} repositories generated in {:.1} s; first scan {:.2} s ({:.2} ms each); unchanged {:.2} s; {proposals} proposals in {:.0} ms",
        generated.as_secs_f64(),
        first_time.as_secs_f64(),
        first_time.as_secs_f64() * 1000.0 / REPOSITORIES as f64,
        unchanged_time.as_secs_f64(),
        propose_time.as_secs_f64() * 1000.0
    );
    let (sync_time, unchanged_sync, completeness_cold, completeness_warm) = with_catalog(root);
    println!(
        "discovery bench: first sync with registration {:.1} s; unchanged sync {:.2} s; completeness {:.0} ms cold, {:.3} ms cached",
        sync_time.as_secs_f64(),
        unchanged_sync.as_secs_f64(),
        completeness_cold.as_secs_f64() * 1000.0,
        completeness_warm.as_secs_f64() * 1000.0
    );
    assert!(first_time.as_secs() < 30, "first scan over the 30 s target");
    assert!(
        unchanged_time.as_secs() < 2,
        "unchanged scan over the 2 s target"
    );
}

/// The same repositories through a live catalog (SQLite): the first sync registers every catalog
/// file as a location (a processing round each), the second finds nothing to do; then the
/// completeness computation the page and API use, cold and cached.
fn with_catalog(root: &std::path::Path) -> (Duration, Duration, Duration, Duration) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db_dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", db_dir.path().join("bench.db").display());
        let catalog = catalog::Catalog::connect(Default::default(), &url)
            .await
            .unwrap();
        catalog.round().await.unwrap();
        let state = discovery::State::of(&catalog);
        state.configure(discovery::Settings {
            sources: vec![root.to_path_buf()],
            hosts: vec![],
            interval: Duration::from_secs(3600),
            mirror: db_dir.path().join("mirror"),
            limits: Limits::default(),
        });
        let t = Instant::now();
        let inv = state.sync_now(&catalog).await.unwrap();
        let first = t.elapsed();
        assert_eq!(inv.registered, 890, "{:?}", inv.register_errors.first());
        let t = Instant::now();
        let inv = state.sync_now(&catalog).await.unwrap();
        let unchanged = t.elapsed();
        assert_eq!((inv.read, inv.registered), (0, 0));
        let snap = catalog.snapshot();
        let t = Instant::now();
        let c = discovery::Completeness::compute(&snap, &inv, &state.settings().unwrap());
        let cold = t.elapsed();
        assert_eq!(c.org.found, REPOSITORIES as u32);
        let t = Instant::now();
        state.completeness(&snap).unwrap();
        (first, unchanged, cold, t.elapsed())
    })
}
