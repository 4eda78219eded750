//! The stitched final entities: the catalog's durable read model, written in bulk after each
//! processing round and read back whole at start-up.

use std::collections::HashSet;

use sqlx::Connection;

use crate::db::on_pool;
use crate::{Db, StoreError};

/// Bytes of entity bodies above which a PostgreSQL write closes its connection afterwards.
const BULK_BYTES: usize = 1024 * 1024;

/// One final entity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    /// Lower-cased `kind:namespace/name`; the primary key.
    pub entity_ref: String,
    pub uid: String,
    pub etag: String,
    /// Hash of the processing result, so unchanged input can skip the write.
    pub hash: String,
    pub location_key: Option<String>,
    /// The final entity as JSON text, stored byte for byte.
    /// Shared, so the catalog can persist the text it serves without copying it.
    pub body: std::sync::Arc<str>,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

type Tuple = (String, String, String, String, Option<String>, String, i64);

const COLUMNS: &str = "entity_ref, uid, etag, hash, location_key, body, updated_at";
const COLUMN_COUNT: usize = 7;

/// Shared by both dialects' bulk inserts.
const ON_CONFLICT: &str = "ON CONFLICT (entity_ref) DO UPDATE SET \
     uid = excluded.uid, etag = excluded.etag, hash = excluded.hash, \
     location_key = excluded.location_key, body = excluded.body, updated_at = excluded.updated_at";

/// 500 rows × 7 columns = 3,500 bound values, far under SQLite's 32,766 limit. Measured on
/// 120,000 rows of 1.5 KB: 100 and 500 rows per statement take about the same time, 2,000
/// is several times slower.
const SQLITE_BATCH_ROWS: usize = 500;

/// Bounds one UNNEST statement to about 7 MB of 1.5 KB bodies, so a 120,000-row apply does not
/// build one 180 MB message.
const PG_BATCH_ROWS: usize = 5_000;

impl Db {
    /// Every stored entity, ordered by `entity_ref`.
    pub async fn load_entities(&self) -> Result<Vec<EntityRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM final_entities ORDER BY entity_ref");
        let rows: Vec<Tuple> = on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(entity_ref, uid, etag, hash, location_key, body, updated_at)| EntityRow {
                    entity_ref,
                    uid,
                    etag,
                    hash,
                    location_key,
                    body: body.into(),
                    updated_at,
                },
            )
            .collect())
    }

    /// In one transaction, deletes `deletes` and then upserts `upserts` by `entity_ref`: a ref
    /// in both ends up stored, and when a ref appears twice in `upserts` the last row wins.
    /// Deleting a ref that is not stored is not an error.
    pub async fn apply_entity_changes(
        &self,
        upserts: &[EntityRow],
        deletes: &[String],
    ) -> Result<(), StoreError> {
        if upserts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        // PostgreSQL refuses an ON CONFLICT that touches one row twice in a statement, and the
        // two dialects would disagree on which duplicate wins; settle it before either sees it.
        let upserts = last_wins(upserts);

        // The bulk paths differ: SQLite has no arrays, so it takes multi-row VALUES of one
        // prepared size; PostgreSQL takes seven arrays through UNNEST, one statement per chunk
        // whatever the chunk size.
        match self {
            Db::Sqlite(pool) => {
                // Take the write lock up front: a deferred transaction that must upgrade fails
                // at once when another writer holds it, instead of waiting out busy_timeout.
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                let full_delete = delete_in_sql(SQLITE_BATCH_ROWS);
                for chunk in deletes.chunks(SQLITE_BATCH_ROWS) {
                    let partial;
                    let sql = if chunk.len() == SQLITE_BATCH_ROWS {
                        &full_delete
                    } else {
                        partial = delete_in_sql(chunk.len());
                        &partial
                    };
                    let mut query = sqlx::query(sql);
                    for entity_ref in chunk {
                        query = query.bind(entity_ref);
                    }
                    query.execute(&mut *tx).await?;
                }
                let full_upsert = upsert_values_sql(SQLITE_BATCH_ROWS);
                for chunk in upserts.chunks(SQLITE_BATCH_ROWS) {
                    let partial;
                    let sql = if chunk.len() == SQLITE_BATCH_ROWS {
                        &full_upsert
                    } else {
                        partial = upsert_values_sql(chunk.len());
                        &partial
                    };
                    let mut query = sqlx::query(sql);
                    for row in chunk {
                        query = query
                            .bind(&row.entity_ref)
                            .bind(&row.uid)
                            .bind(&row.etag)
                            .bind(&row.hash)
                            .bind(&row.location_key)
                            .bind(&*row.body)
                            .bind(row.updated_at);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                // The write filled this connection's page cache (2 MiB) with pages nobody reads
                // again soon; the served catalog lives in memory. Give them back, and the
                // prepared statements too: one of 500 rows is a 300 KB program, and each
                // connection that ever wrote kept its own, one for every chunk size it met
                // (1.25 MiB at N = 10,000). Preparing one again costs about a millisecond.
                conn.clear_cached_statements().await?;
                sqlx::query("PRAGMA shrink_memory")
                    .execute(&mut *conn)
                    .await?;
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin().await?;
                if !deletes.is_empty() {
                    sqlx::query("DELETE FROM final_entities WHERE entity_ref = ANY($1)")
                        .bind(deletes)
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = format!(
                    "INSERT INTO final_entities ({COLUMNS}) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::int8[]) {ON_CONFLICT}"
                );
                for chunk in upserts.chunks(PG_BATCH_ROWS) {
                    let column = |f: fn(&EntityRow) -> &str| -> Vec<&str> {
                        chunk.iter().map(|r| f(r)).collect()
                    };
                    sqlx::query(&sql)
                        .bind(column(|r| &r.entity_ref))
                        .bind(column(|r| &r.uid))
                        .bind(column(|r| &r.etag))
                        .bind(column(|r| &r.hash))
                        .bind(
                            chunk
                                .iter()
                                .map(|r| r.location_key.as_deref())
                                .collect::<Vec<_>>(),
                        )
                        .bind(column(|r| r.body.as_ref()))
                        .bind(chunk.iter().map(|r| r.updated_at).collect::<Vec<_>>())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                // A connection keeps its send buffer at the largest message it sent: after a
                // bulk write, megabytes per pooled connection (50 MiB at 23,000 entities). Such
                // a connection is closed rather than pooled; the next one costs a connect.
                let bytes: usize = upserts.iter().map(|r| r.body.len()).sum();
                if bytes > BULK_BYTES {
                    conn.close().await?;
                }
            }
        }
        Ok(())
    }
}

/// The rows to write, keeping only the last of each `entity_ref`, in their original order.
fn last_wins(rows: &[EntityRow]) -> Vec<&EntityRow> {
    let mut seen = HashSet::with_capacity(rows.len());
    let mut kept: Vec<&EntityRow> = rows
        .iter()
        .rev()
        .filter(|r| seen.insert(r.entity_ref.as_str()))
        .collect();
    kept.reverse();
    kept
}

/// `?, ?, …`: the SQLite bulk statements use anonymous placeholders because SQLite looks a
/// named one (`$7`) up in a linear list on every bind, which made a 500-row batch 2.5× slower.
fn anonymous_placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

fn delete_in_sql(rows: usize) -> String {
    format!(
        "DELETE FROM final_entities WHERE entity_ref IN ({})",
        anonymous_placeholders(rows)
    )
}

fn upsert_values_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|_| format!("({})", anonymous_placeholders(COLUMN_COUNT)))
        .collect();
    format!(
        "INSERT INTO final_entities ({COLUMNS}) VALUES {} {ON_CONFLICT}",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(entity_ref: &str, body: &str) -> EntityRow {
        EntityRow {
            entity_ref: entity_ref.into(),
            uid: String::new(),
            etag: String::new(),
            hash: String::new(),
            location_key: None,
            body: body.into(),
            updated_at: 0,
        }
    }

    #[test]
    fn last_duplicate_wins_and_order_is_kept() {
        let rows = [row("a", "1"), row("b", "2"), row("a", "3"), row("c", "4")];
        let kept: Vec<(&str, &str)> = last_wins(&rows)
            .iter()
            .map(|r| (r.entity_ref.as_str(), r.body.as_ref()))
            .collect();
        assert_eq!(kept, [("b", "2"), ("a", "3"), ("c", "4")]);
    }

    #[test]
    fn values_sql_has_one_placeholder_per_column_per_row() {
        let sql = upsert_values_sql(2);
        assert!(
            sql.contains("VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?) ON CONFLICT"),
            "{sql}"
        );
        assert_eq!(sql.matches('?').count(), 2 * COLUMN_COUNT);
        assert_eq!(delete_in_sql(3).matches('?').count(), 3);
    }
}
