//! Locations registered through the API (`POST /locations`); locations from the config file are
//! not stored, they are re-read at every start.

use crate::db::on_pool;
use crate::{Db, StoreError};

/// One registered location.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationRow {
    pub id: String,
    /// `"url"` or `"file"`.
    pub kind: String,
    pub target: String,
    /// Epoch milliseconds.
    pub created_at: i64,
}

type Tuple = (String, String, String, i64);

impl From<Tuple> for LocationRow {
    fn from((id, kind, target, created_at): Tuple) -> Self {
        LocationRow {
            id,
            kind,
            target,
            created_at,
        }
    }
}

impl Db {
    /// Stores a new location; one with the same `(kind, target)` or the same id is a
    /// `StoreError::Conflict`.
    pub async fn add_location(&self, loc: &LocationRow) -> Result<(), StoreError> {
        let result = on_pool!(self, pool => sqlx::query(
            "INSERT INTO locations (id, kind, target, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&loc.id)
        .bind(&loc.kind)
        .bind(&loc.target)
        .bind(loc.created_at)
        .execute(pool)
        .await
        .map(|_| ()));
        result.map_err(|e| {
            StoreError::conflict_or(e, || {
                format!("Location {}:{} already exists", loc.kind, loc.target)
            })
        })
    }

    /// Every stored location, oldest registration first.
    pub async fn list_locations(&self) -> Result<Vec<LocationRow>, StoreError> {
        const SQL: &str = "SELECT id, kind, target, created_at FROM locations ORDER BY seq";
        let rows: Vec<Tuple> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(LocationRow::from).collect())
    }

    pub async fn get_location(&self, id: &str) -> Result<Option<LocationRow>, StoreError> {
        const SQL: &str = "SELECT id, kind, target, created_at FROM locations WHERE id = $1";
        let row: Option<Tuple> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)?;
        Ok(row.map(LocationRow::from))
    }

    /// `false` when there was no such location.
    pub async fn delete_location(&self, id: &str) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM locations WHERE id = $1";
        let deleted = on_pool!(self, pool => sqlx::query(SQL)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(deleted > 0)
    }
}
