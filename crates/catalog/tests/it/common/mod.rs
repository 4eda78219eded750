//! Shared by the catalog's integration tests: a directory of catalog files with a fresh database,
//! and reading entities and their errors back.

use std::path::PathBuf;
use std::sync::Arc;

use catalog::Catalog;
use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::Value;
use store::testing::{Backend, TestDb};

/// A directory of catalog files and a fresh database (SQLite or PostgreSQL: every test runs on
/// both, see the end of this file).
pub struct Fixture {
    dir: tempfile::TempDir,
    db: TestDb,
}

impl Fixture {
    pub fn new(db: TestDb) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            db,
        }
    }
    /// Another fixture on a fresh database of the same backend.
    pub async fn another(&self) -> Self {
        Self::new(
            TestDb::fresh(self.db.backend())
                .await
                .expect("backend available"),
        )
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    /// Writes a file, making sure its modification time differs from the previous version's
    /// even on file systems with coarse timestamps.
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let before = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
        std::fs::write(&p, text).unwrap();
        if let Some(before) = before {
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(before + std::time::Duration::from_secs(1))
                .unwrap();
        }
    }
    pub fn db_url(&self) -> String {
        self.db.url().to_owned()
    }
    pub fn settings(&self, roots: &[&str]) -> CatalogSettings {
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
    /// Errors on the Location entity generated for the file location at `rel`.
    pub fn root_errors(&self, c: &Catalog, rel: &str) -> Vec<Value> {
        let spec = LocationSpec::new("file", &self.path(rel).to_string_lossy());
        errors(&entity(c, &catalog::generated_location_ref(&spec)).unwrap())
    }
    pub async fn open(&self, settings: CatalogSettings) -> Arc<Catalog> {
        let db = store::Db::connect(&self.db_url()).await.unwrap();
        Catalog::open(settings, db).await.unwrap()
    }
}

impl Fixture {
    /// A fixture on SQLite only, for tests whose subject is not the database.
    pub async fn sqlite() -> Self {
        Self::new(
            TestDb::fresh(Backend::Sqlite)
                .await
                .expect("SQLite is always there"),
        )
    }
}

pub fn entity(c: &Catalog, key: &str) -> Option<Value> {
    c.snapshot()
        .get(key)
        .map(|s| serde_json::from_str(&s.body()).unwrap())
}

pub fn errors(e: &Value) -> Vec<Value> {
    e["status"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i["error"].clone())
        .collect()
}
