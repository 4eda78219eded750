//! Adoption analytics: raw usage events, their daily roll-ups per user and feature (and per user
//! and search rank), expiry of raw events, and small notes about the data (the demo's range).

use std::collections::{BTreeMap, HashSet};

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One usage event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    /// Epoch milliseconds.
    pub ts: i64,
    /// The UTC day of `ts`, `YYYY-MM-DD`.
    pub day: String,
    pub user_ref: String,
    pub action: String,
    pub subject: String,
    /// What the event counts towards in the roll-ups; extra ones (e.g. a template run also
    /// counts as `template-run`) in `also`.
    pub feature: String,
    pub also: Option<String>,
    pub value: Option<f64>,
    /// JSON object text.
    pub attributes: Option<String>,
    /// JSON object text.
    pub context: String,
    pub source: String,
    /// `Some(0)` for a search run, `Some(rank)` for a search result opened at `rank`.
    pub search_rank: Option<i64>,
}

/// One roll-up row: `events` events of `feature` by `user_ref` on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDay {
    pub day: String,
    pub user_ref: String,
    pub feature: String,
    pub events: i64,
}

/// One search roll-up row: on `day`, `user_ref` ran `n` searches (`rank` 0) or opened `n`
/// results at `rank`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDay {
    pub day: String,
    pub user_ref: String,
    pub rank: i64,
    pub n: i64,
}

/// Rows per multi-row statement: 11 parameters each stays far below SQLite's limit of 32,766.
const CHUNK: usize = 500;

/// Highest search rank kept apart; later ones count as this.
pub const MAX_RANK: i64 = 100;

impl Db {
    /// Stores the events whose id is new (one transaction), adds them to the daily roll-ups,
    /// and returns the ids that were new. An id seen before (or twice in `rows`) is stored once
    /// and counted once.
    pub async fn insert_events(&self, rows: &[EventRow]) -> Result<HashSet<String>, StoreError> {
        const HEAD: &str = "INSERT INTO analytics_events \
            (id, ts, day, user_ref, action, subject, feature, value, attributes, context, source) ";
        let mut fresh: HashSet<String> = HashSet::with_capacity(rows.len());
        let mut seen: HashSet<&str> = HashSet::with_capacity(rows.len());
        let unique: Vec<&EventRow> = rows.iter().filter(|r| seen.insert(&r.id)).collect();
        if unique.is_empty() {
            return Ok(fresh);
        }
        in_transaction!(self, tx => {
            for chunk in unique.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(HEAD);
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.id)
                        .push_bind(r.ts)
                        .push_bind(&r.day)
                        .push_bind(&r.user_ref)
                        .push_bind(&r.action)
                        .push_bind(&r.subject)
                        .push_bind(&r.feature)
                        .push_bind(r.value)
                        .push_bind(&r.attributes)
                        .push_bind(&r.context)
                        .push_bind(&r.source);
                });
                q.push(" ON CONFLICT (id) DO NOTHING RETURNING id");
                let ids: Vec<(String,)> = q.build_query_as().fetch_all(&mut *tx).await?;
                fresh.extend(ids.into_iter().map(|(id,)| id));
            }
            let new: Vec<&EventRow> = unique.iter().copied().filter(|r| fresh.contains(&r.id)).collect();
            let (days, searches) = roll_up(&new);
            for chunk in days.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO analytics_user_days (day, user_ref, feature, events) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.day).push_bind(&r.user_ref).push_bind(&r.feature).push_bind(r.events);
                });
                q.push(" ON CONFLICT (day, user_ref, feature) DO UPDATE \
                    SET events = analytics_user_days.events + excluded.events");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in searches.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO analytics_search_days (day, user_ref, rank, n) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.day).push_bind(&r.user_ref).push_bind(r.rank).push_bind(r.n);
                });
                q.push(" ON CONFLICT (day, user_ref, rank) DO UPDATE \
                    SET n = analytics_search_days.n + excluded.n");
                q.build().execute(&mut *tx).await?;
            }
        });
        Ok(fresh)
    }

    /// Adds roll-up rows as they are (increments on conflict), without raw events: for imports
    /// and benchmarks of a year of use.
    pub async fn add_user_days(&self, days: &[UserDay]) -> Result<(), StoreError> {
        in_transaction!(self, tx => for chunk in days.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO analytics_user_days (day, user_ref, feature, events) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&r.day).push_bind(&r.user_ref).push_bind(&r.feature).push_bind(r.events);
            });
            q.push(" ON CONFLICT (day, user_ref, feature) DO UPDATE \
                SET events = analytics_user_days.events + excluded.events");
            q.build().execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Roll-up rows from `from_day` (inclusive) on.
    pub async fn user_days_since(&self, from_day: &str) -> Result<Vec<UserDay>, StoreError> {
        const SQL: &str = "SELECT day, user_ref, feature, events FROM analytics_user_days
            WHERE day >= $1";
        let rows: Vec<(String, String, String, i64)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(from_day).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(day, user_ref, feature, events)| UserDay {
                day,
                user_ref,
                feature,
                events,
            })
            .collect())
    }

    /// Search roll-up rows from `from_day` (inclusive) on.
    pub async fn search_days_since(&self, from_day: &str) -> Result<Vec<SearchDay>, StoreError> {
        const SQL: &str = "SELECT day, user_ref, rank, n FROM analytics_search_days
            WHERE day >= $1";
        let rows: Vec<(String, String, i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(from_day).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(day, user_ref, rank, n)| SearchDay {
                day,
                user_ref,
                rank,
                n,
            })
            .collect())
    }

    /// Deletes raw events older than `before_ms`; the roll-ups stay. Returns how many went.
    pub async fn expire_events(&self, before_ms: i64) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM analytics_events WHERE ts < $1";
        let done = on_pool!(self, pool => sqlx::query(SQL)
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// How many raw events are stored.
    pub async fn count_events(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM analytics_events";
        let (n,): (i64,) = on_pool!(self, pool => sqlx::query_as(SQL).fetch_one(pool).await)?;
        Ok(n)
    }

    /// A note about the analytics data, if set.
    pub async fn analytics_note(&self, name: &str) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT value FROM analytics_notes WHERE name = $1";
        let row: Option<(String,)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(name).fetch_optional(pool).await)?;
        Ok(row.map(|(v,)| v))
    }

    pub async fn set_analytics_note(&self, name: &str, value: &str) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO analytics_notes (name, value) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(name)
            .bind(value)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// The roll-up increments of newly stored events, one row per key (PostgreSQL refuses an upsert
/// that touches the same row twice in one statement).
fn roll_up(rows: &[&EventRow]) -> (Vec<UserDay>, Vec<SearchDay>) {
    let mut days: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    let mut searches: BTreeMap<(&str, &str, i64), i64> = BTreeMap::new();
    for r in rows {
        for feature in std::iter::once(r.feature.as_str()).chain(r.also.as_deref()) {
            *days.entry((&r.day, &r.user_ref, feature)).or_default() += 1;
        }
        if let Some(rank) = r.search_rank {
            *searches
                .entry((&r.day, &r.user_ref, rank.clamp(0, MAX_RANK)))
                .or_default() += 1;
        }
    }
    (
        days.into_iter()
            .map(|((day, user, feature), events)| UserDay {
                day: day.to_owned(),
                user_ref: user.to_owned(),
                feature: feature.to_owned(),
                events,
            })
            .collect(),
        searches
            .into_iter()
            .map(|((day, user, rank), n)| SearchDay {
                day: day.to_owned(),
                user_ref: user.to_owned(),
                rank,
                n,
            })
            .collect(),
    )
}
