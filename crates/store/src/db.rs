//! Opening the database: which dialect a URL names, how each pool is tuned, and a `Debug` that
//! never prints a password.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{StoreError, migrate};

/// Runs one query body against whichever pool is live, binding `$pool` to `&SqlitePool` or
/// `&PgPool`: the way the same SQL is written once for both dialects. Placeholders are `$1…`,
/// which both sqlx drivers accept.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` with `$tx` bound to a transaction on whichever pool is live, and commits it:
/// batches of writes that must land together (or not at all).
macro_rules! in_transaction {
    ($db:expr, $tx:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite(pool) => {
                let mut $tx = pool.begin().await?;
                $body;
                $tx.commit().await?;
            }
            $crate::Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                $body;
                $tx.commit().await?;
            }
        }
    };
}
pub(crate) use in_transaction;

/// The live database. Cheap to clone: both pools are handles.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// SQLite waits this long for another writer before failing; a bulk apply of the whole catalog
/// holds the write lock for a few seconds, so the default of 5 s is too tight.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a URL names, parsed before any IO so a typo fails with `BadUrl`, not a network error.
#[derive(Debug)]
enum Target {
    Postgres(PgConnectOptions),
    Sqlite {
        options: SqliteConnectOptions,
        in_memory: bool,
    },
}

impl Target {
    fn parse(url: &str) -> Result<Target, StoreError> {
        let bad = |reason: String| StoreError::BadUrl {
            url: model::redact::url(url),
            reason,
        };
        if url.trim().is_empty() {
            return Err(bad("the URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            return Ok(Target::Postgres(options));
        }
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            return Ok(Target::Sqlite { options, in_memory });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(bad(format!(
                "unsupported scheme `{scheme}` (use postgres://, sqlite:// or a file path)"
            )));
        }
        Ok(Target::Sqlite {
            options: SqliteConnectOptions::new().filename(url),
            in_memory: false,
        })
    }
}

impl Db {
    /// `postgres://…`/`postgresql://…` → PostgreSQL; `sqlite://path`, `sqlite::memory:` or a
    /// plain file path → SQLite (file and its directory created if missing, WAL,
    /// synchronous=NORMAL, foreign keys, busy timeout). Runs migrations before returning.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let connect_err = |source| StoreError::Connect {
            url: model::redact::url(url),
            source,
        };
        let db = match Target::parse(url)? {
            Target::Postgres(options) => {
                let pool = PgPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Db::Postgres(pool)
            }
            Target::Sqlite { options, in_memory } => {
                let options = options
                    .create_if_missing(true)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let pool = if in_memory {
                    // An in-memory database lives only as long as a connection to it, and
                    // shared-cache connections fail on table locks instead of waiting: one
                    // connection, never retired.
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                        .connect_with(options)
                        .await
                } else {
                    if let Some(dir) = options.get_filename().parent()
                        && !dir.as_os_str().is_empty()
                    {
                        create_dir(dir)
                            .await
                            .map_err(|e| connect_err(sqlx::Error::Io(e)))?;
                    }
                    // WAL lets the web readers run while the catalog writes; NORMAL is durable
                    // across application crashes, which is all a rebuildable read model needs.
                    let options = options
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal);
                    SqlitePoolOptions::new()
                        .max_connections(4)
                        .connect_with(options)
                        .await
                };
                Db::Sqlite(pool.map_err(connect_err)?)
            }
        };
        migrate::run(&db).await?;
        Ok(db)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn dialect(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Where this database is, with any password masked: safe to log at start-up.
    pub fn describe(&self) -> String {
        match self {
            Db::Sqlite(pool) => format!(
                "sqlite://{}",
                pool.connect_options().get_filename().display()
            ),
            Db::Postgres(pool) => {
                let o = pool.connect_options();
                format!(
                    "postgres://{}:***@{}:{}/{}",
                    o.get_username(),
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("")
                )
            }
        }
    }

    /// Waits for running queries, then closes every connection (needed before a PostgreSQL
    /// database can be dropped, or to reopen a SQLite file cleanly).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// Hand-written so the password in the connect options (which sqlx's own `Debug` prints)
/// never reaches a log.
impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Db::Sqlite(_) => "Sqlite",
            Db::Postgres(_) => "Postgres",
        };
        f.debug_tuple(variant).field(&self.describe()).finish()
    }
}

async fn create_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_dialect() {
        for url in [
            "postgres://u:p@localhost/db",
            "postgresql://u@localhost:5433/db?sslmode=disable",
        ] {
            assert!(
                matches!(Target::parse(url), Ok(Target::Postgres(_))),
                "{url}"
            );
        }
        for (url, memory) in [
            ("sqlite://data/stagedoor.db", false),
            ("sqlite:stagedoor.db", false),
            ("sqlite::memory:", true),
            ("/var/lib/stagedoor/catalog.db", false),
            ("stagedoor.db", false),
        ] {
            match Target::parse(url) {
                Ok(Target::Sqlite { in_memory, .. }) => assert_eq!(in_memory, memory, "{url}"),
                other => panic!("{url} parsed as {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_schemes_and_empty_urls_are_bad_urls() {
        for url in ["mysql://root:secret@db/x", "", "   "] {
            match Target::parse(url) {
                Err(StoreError::BadUrl { url: shown, .. }) => {
                    assert!(!shown.contains("secret"), "{shown}")
                }
                other => panic!("{url:?} parsed as {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn errors_name_the_database_with_secrets_masked() {
        let Err(err) = Db::connect("mysql://app:s3cret@db/x?token=s3cret&sslmode=require").await
        else {
            panic!("an unsupported scheme is an error");
        };
        let text = err.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(
            text.contains("mysql://app:***@db/x?token=***&sslmode=require"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn debug_never_prints_the_password() {
        let options = PgConnectOptions::from_str("postgres://app:hunter2@db.internal:6543/cat")
            .expect("valid url");
        let db = Db::Postgres(PgPoolOptions::new().connect_lazy_with(options));
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            shown,
            r#"Postgres("postgres://app:***@db.internal:6543/cat")"#
        );
        assert_eq!(db.dialect(), "postgres");
    }

    #[tokio::test]
    async fn in_memory_sqlite_is_migrated_and_usable() {
        let db = Db::connect("sqlite::memory:").await.expect("connect");
        assert_eq!(db.dialect(), "sqlite");
        let row = crate::LocationRow {
            id: "l1".into(),
            kind: "url".into(),
            target: "https://example.com/catalog-info.yaml".into(),
            created_at: 1,
        };
        db.add_location(&row).await.expect("add");
        // A second pool connection would see an empty database; the pool must stay at one.
        let (a, b) = tokio::join!(db.list_locations(), db.list_locations());
        assert_eq!(a.expect("list"), vec![row.clone()]);
        assert_eq!(b.expect("list"), vec![row]);
    }
}
