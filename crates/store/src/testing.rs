//! Test support (cargo feature `testing`): a fresh, empty database of each kind, and a macro that
//! runs one async test on both. SQLite lives in a temporary directory; PostgreSQL is a uniquely
//! named database created under `STAGEDOOR_TEST_PG` and dropped when the [`TestDb`] goes, even when
//! the test panics. Without that variable the PostgreSQL half is skipped with a notice, except
//! under `CI=true`, where it fails: CI must never pass by silently testing one database.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use crate::Db;

/// The two databases Stagedoor runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One fresh database, removed on drop.
pub struct TestDb {
    backend: Backend,
    url: String,
    // Kept for its Drop: the SQLite file's directory.
    _dir: Option<tempfile::TempDir>,
    // (admin URL, database name) of a PostgreSQL database to drop.
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database of `backend`, or `None` when PostgreSQL is not configured outside CI
    /// (a notice says so on stderr, past the test harness's capture).
    pub async fn fresh(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                // A directory that does not exist yet: connect must create it.
                let path = dir.path().join("nested").join("stagedoor.db");
                Some(TestDb {
                    backend,
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = unique_database_name();
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to STAGEDOOR_TEST_PG");
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                Some(TestDb {
                    backend,
                    url: with_database(&admin_url, &name),
                    _dir: None,
                    postgres: Some((admin_url, name)),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to give `Db::connect` (or `stagedoor serve --db`); connecting twice reopens the
    /// same database, as a restart does.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects (and migrates) a new pool to this database.
    pub async fn connect(&self) -> Db {
        Db::connect(&self.url)
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own
        // runtime can. FORCE ends connections a pool of the test may still hold.
        let outcome = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        // Never panic here: this may run while a failing test unwinds.
        if !matches!(outcome, Ok(Ok(()))) {
            notice(&format!(
                "warning: could not drop test database {}",
                self.url
            ));
        }
    }
}

/// Declares `<test>::sqlite` and `<test>::postgres` for each `async fn <test>(db: TestDb)`.
#[macro_export]
macro_rules! on_each_database {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::testing::run(super::$name, $crate::testing::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::testing::run(super::$name, $crate::testing::Backend::Postgres).await
                }
            }
        )+
    };
}

/// Runs `test` on a fresh database of `backend` (or skips, see [`TestDb::fresh`]).
pub async fn run<F, Fut>(test: F, backend: Backend)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(db) = TestDb::fresh(backend).await {
        test(db).await;
    }
}

/// `STAGEDOOR_TEST_PG`, or `None` (with a notice) outside CI; a panic under `CI=true`.
fn postgres_admin_url() -> Option<String> {
    match std::env::var("STAGEDOOR_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "CI=true but STAGEDOOR_TEST_PG is unset: the PostgreSQL half of the tests is \
             required in CI. Run `export STAGEDOOR_TEST_PG=$(scripts/pg-test.sh)` first."
        ),
        _ => {
            notice(
                "notice: STAGEDOOR_TEST_PG is unset, skipping a PostgreSQL test \
                 (export STAGEDOOR_TEST_PG=$(scripts/pg-test.sh) to run it)",
            );
            None
        }
    }
}

/// Written past the test harness's capture, so a skip is visible in a passing run.
pub fn notice(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "stagedoor_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The admin URL with its database path replaced, query string kept.
fn with_database(url: &str, database: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = head.find("://").expect("a postgres:// URL") + 3;
    let base = match head[authority_start..].find('/') {
        Some(slash) => &head[..authority_start + slash],
        None => head,
    };
    format!("{base}/{database}{query}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn with_database_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            super::with_database("postgres://u:p@h:5433/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5433/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
