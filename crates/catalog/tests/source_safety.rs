//! No file a catalog names can harm the server: links and special files, nested Location
//! targets, many failing documents, and a panic while processing one file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog::Catalog;
use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::Value;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    fn settings(&self, roots: &[&str]) -> CatalogSettings {
        CatalogSettings {
            locations: roots
                .iter()
                .map(|r| {
                    (
                        LocationSpec::new("file", &self.path(r).to_string_lossy()),
                        vec![],
                    )
                })
                .collect(),
            ..Default::default()
        }
    }
    async fn open(&self, settings: CatalogSettings) -> Arc<Catalog> {
        let url = format!("sqlite://{}", self.path("catalog.db").display());
        let db = store::Db::connect(&url).await.unwrap();
        Catalog::open(settings, db).await.unwrap()
    }
    /// Errors on the Location entity generated for the file location at `rel`.
    fn root_errors(&self, c: &Catalog, rel: &str) -> Vec<Value> {
        let spec = LocationSpec::new("file", &self.path(rel).to_string_lossy());
        errors(&entity(c, &catalog::engine::generated_location_ref(&spec)).unwrap())
    }
}

fn entity(c: &Catalog, key: &str) -> Option<Value> {
    c.snapshot()
        .get(key)
        .map(|s| serde_json::from_str(&s.body).unwrap())
}

fn errors(e: &Value) -> Vec<Value> {
    e["status"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i["error"].clone())
        .collect()
}

/// Each failing document is placed on its line without re-scanning the file from the top.
#[tokio::test]
async fn many_failing_documents_are_processed_in_linear_time() {
    let n = 20_000;
    let f = Fixture::new();
    f.write("many.yaml", &"---\nkind: X\n".repeat(n));
    let c = f.open(f.settings(&["many.yaml"])).await;
    let started = Instant::now();
    c.round().await.unwrap();
    let took = started.elapsed();
    eprintln!("{n} failing documents: {took:?}");
    let errs = f.root_errors(&c, "many.yaml");
    assert_eq!(errs.len(), n);
    assert_eq!(errs[n - 1]["line"], 2 * n);
    assert!(
        took < Duration::from_secs(10),
        "{n} failing documents took {took:?}"
    );
}
