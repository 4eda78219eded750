//! Discovery's tables: the repositories found (their inventory records, and since when a
//! repository is missing) and catalog completeness per scope and day.

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One discovered repository as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredRow {
    pub path: String,
    /// Default-branch commit the record was read at.
    pub head: String,
    /// The inventory record, JSON.
    pub record: String,
    pub seen_at: i64,
    /// Epoch ms since the repository was last not found; `None` while it is there.
    pub missing_since: Option<i64>,
}

type RowTuple = (String, String, String, i64, Option<i64>);

/// Completeness of one scope on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletenessDay {
    /// `org`, or a group's ref.
    pub scope: String,
    pub day: String,
    pub found: i64,
    pub cataloged: i64,
}

impl Db {
    /// Inserts or replaces repositories (a present repository clears `missing_since`).
    pub async fn put_discovered(&self, rows: &[DiscoveredRow]) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO discovered_repositories (path, head, record, seen_at, missing_since)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (path) DO UPDATE SET head = excluded.head, record = excluded.record,
                seen_at = excluded.seen_at, missing_since = excluded.missing_since";
        in_transaction!(self, tx => for r in rows {
            sqlx::query(SQL)
                .bind(&r.path)
                .bind(&r.head)
                .bind(&r.record)
                .bind(r.seen_at)
                .bind(r.missing_since)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Marks repositories missing from `at` on, keeping an earlier `missing_since`.
    pub async fn mark_discovered_missing(
        &self,
        paths: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE discovered_repositories SET missing_since = $2
            WHERE path = $1 AND missing_since IS NULL";
        in_transaction!(self, tx => for p in paths {
            sqlx::query(SQL).bind(p).bind(at).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Every repository ever discovered and not forgotten, by path.
    pub async fn discovered(&self) -> Result<Vec<DiscoveredRow>, StoreError> {
        const SQL: &str = "SELECT path, head, record, seen_at, missing_since
            FROM discovered_repositories ORDER BY path";
        let rows: Vec<RowTuple> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(path, head, record, seen_at, missing_since)| DiscoveredRow {
                    path,
                    head,
                    record,
                    seen_at,
                    missing_since,
                },
            )
            .collect())
    }

    /// Sets the completeness of each scope for its day (one transaction).
    pub async fn put_completeness(&self, days: &[CompletenessDay]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO completeness_days (scope, day, found, cataloged)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (scope, day) DO UPDATE SET found = excluded.found, cataloged = excluded.cataloged";
        in_transaction!(self, tx => for d in days {
            sqlx::query(SQL)
                .bind(&d.scope)
                .bind(&d.day)
                .bind(d.found)
                .bind(d.cataloged)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// One scope's completeness per day, oldest first, from `since` (a `YYYY-MM-DD` day) on.
    pub async fn completeness_days(
        &self,
        scope: &str,
        since: &str,
    ) -> Result<Vec<CompletenessDay>, StoreError> {
        const SQL: &str = "SELECT scope, day, found, cataloged FROM completeness_days
            WHERE scope = $1 AND day >= $2 ORDER BY day";
        let rows: Vec<(String, String, i64, i64)> = on_pool!(self, pool =>
            sqlx::query_as(SQL).bind(scope).bind(since).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(scope, day, found, cataloged)| CompletenessDay {
                scope,
                day,
                found,
                cataloged,
            })
            .collect())
    }
}
