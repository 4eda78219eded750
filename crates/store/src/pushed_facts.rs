//! Facts pushed by other systems for scorecard checks: one JSON object per entity and source,
//! replaced by each push, gone once expired.

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One entity's facts from one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedFactsRow {
    /// Lower-cased entity ref.
    pub entity_ref: String,
    pub source: String,
    /// A JSON object, as text.
    pub facts: String,
    /// Epoch ms.
    pub expires_at: i64,
    pub updated_at: i64,
}

impl Db {
    /// Stores each row, replacing what its entity and source had, in one transaction.
    pub async fn put_pushed_facts(&self, rows: &[PushedFactsRow]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO pushed_facts (entity_ref, source, facts, expires_at, updated_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (entity_ref, source) DO UPDATE
            SET facts = excluded.facts, expires_at = excluded.expires_at, updated_at = excluded.updated_at";
        in_transaction!(self, tx => for r in rows {
            sqlx::query(SQL)
                .bind(&r.entity_ref)
                .bind(&r.source)
                .bind(&r.facts)
                .bind(r.expires_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Every row not expired at `now` (epoch ms), after deleting the expired ones.
    pub async fn live_pushed_facts(&self, now: i64) -> Result<Vec<PushedFactsRow>, StoreError> {
        on_pool!(self, pool => sqlx::query("DELETE FROM pushed_facts WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        const SQL: &str = "SELECT entity_ref, source, facts, expires_at, updated_at
            FROM pushed_facts ORDER BY entity_ref, source";
        let rows: Vec<(String, String, String, i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(entity_ref, source, facts, expires_at, updated_at)| PushedFactsRow {
                    entity_ref,
                    source,
                    facts,
                    expires_at,
                    updated_at,
                },
            )
            .collect())
    }
}
