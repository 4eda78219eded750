//! Schema migrations: SQL files per dialect, embedded at compile time and applied by a small
//! runner that records each version in `schema_migrations`. Ours rather than sqlx's macros so
//! building never needs a live database.

use sqlx::Executor;

use crate::{Db, StoreError};

/// One schema step. Both dialects carry the same versions, so one number means one schema.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Append only: a shipped migration is never edited, a change is a new file in both folders.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "scorecards",
        sql: include_str!("../migrations/sqlite/0002_scorecards.sql"),
    },
    Migration {
        version: 3,
        name: "analytics",
        sql: include_str!("../migrations/sqlite/0003_analytics.sql"),
    },
    Migration {
        version: 4,
        name: "scaffolder",
        sql: include_str!("../migrations/sqlite/0004_scaffolder.sql"),
    },
    Migration {
        version: 5,
        name: "discovery",
        sql: include_str!("../migrations/sqlite/0005_discovery.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "scorecards",
        sql: include_str!("../migrations/postgres/0002_scorecards.sql"),
    },
    Migration {
        version: 3,
        name: "analytics",
        sql: include_str!("../migrations/postgres/0003_analytics.sql"),
    },
    Migration {
        version: 4,
        name: "scaffolder",
        sql: include_str!("../migrations/postgres/0004_scaffolder.sql"),
    },
    Migration {
        version: 5,
        name: "discovery",
        sql: include_str!("../migrations/postgres/0005_discovery.sql"),
    },
];

/// Any constant that other applications sharing the database are unlikely to pick.
const PG_MIGRATION_LOCK: i64 = 0x5354_4147_4544_4f4f; // "STAGEDOO"

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY NOT NULL,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Applies every migration the database lacks, all in one transaction: a failure leaves the
/// schema as it was.
pub(crate) async fn run(db: &Db) -> Result<(), StoreError> {
    // The body is the same SQL on both dialects; only how the transaction is opened differs.
    macro_rules! apply {
        ($tx:ident, $migrations:expr) => {{
            // Through the `Executor` trait, whose boxed future is plainly `Send`: awaiting the
            // generic `RawSql::execute` instead makes every caller's future "not general
            // enough" to be `Send` (rust-lang/rust#100013), so `Db` could not be used in
            // `tokio::spawn` or an axum handler. `tests/it/send.rs` guards this.
            (&mut *$tx).execute(sqlx::raw_sql(CREATE_TABLE)).await?;
            let applied: Vec<(i64,)> =
                sqlx::query_as("SELECT version FROM schema_migrations ORDER BY version")
                    .fetch_all(&mut *$tx)
                    .await?;
            let known = $migrations.last().map_or(0, |m| m.version);
            if let Some(&(found,)) = applied.last()
                && found > known
            {
                return Err(StoreError::SchemaTooNew { found, known });
            }
            for m in $migrations {
                if applied.iter().any(|&(v,)| v == m.version) {
                    continue;
                }
                let fail = |source| StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    source,
                };
                (&mut *$tx)
                    .execute(sqlx::raw_sql(m.sql))
                    .await
                    .map_err(fail)?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(now_ms())
                .execute(&mut *$tx)
                .await
                .map_err(fail)?;
                tracing::info!(version = m.version, name = m.name, "applied migration");
            }
            $tx.commit().await?;
        }};
    }

    match db {
        // BEGIN IMMEDIATE takes the write lock before reading the version table, so two
        // processes opening a fresh file queue on the busy timeout instead of both migrating.
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            apply!(tx, SQLITE);
        }
        // PostgreSQL DDL is transactional; an advisory lock held to commit serialises
        // concurrent starters, which CREATE TABLE IF NOT EXISTS alone does not.
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            apply!(tx, POSTGRES);
        }
    }
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_the_same_ascending_versions() {
        let versions =
            |ms: &[Migration]| ms.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE), versions(POSTGRES));
        assert!(SQLITE.windows(2).all(|w| w[0].version < w[1].version));
        assert!(SQLITE.iter().all(|m| !m.sql.trim().is_empty()));
    }
}
