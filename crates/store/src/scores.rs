//! Scorecard results over time: each entity's result on the days it changed, and each
//! scorecard's totals per day.

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One entity's result under one scorecard, from `day` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreChange {
    pub scorecard: String,
    pub entity_ref: String,
    pub day: String,
    /// Index of the highest level reached; -1 for none.
    pub level: i64,
    /// One character per check in the scorecard's order: `1` passed, `0` failed, `e` exempt.
    pub checks: String,
}

type ScoreTuple = (String, String, String, i64, String);

impl From<ScoreTuple> for ScoreChange {
    fn from((scorecard, entity_ref, day, level, checks): ScoreTuple) -> Self {
        ScoreChange {
            scorecard,
            entity_ref,
            day,
            level,
            checks,
        }
    }
}

/// A scorecard's totals on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardDay {
    pub day: String,
    pub total: i64,
    /// JSON list: entities per level (lowest first), then those with none.
    pub levels: String,
    /// JSON list: entities passing each check, in the scorecard's order.
    pub checks: String,
}

impl Db {
    /// Stores results that changed, in one transaction (a second change on the same day
    /// replaces the first).
    pub async fn put_score_changes(&self, rows: &[ScoreChange]) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO score_changes (scorecard, entity_ref, day, level, checks)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (scorecard, entity_ref, day) DO UPDATE
            SET level = excluded.level, checks = excluded.checks";
        in_transaction!(self, tx => for r in rows {
            sqlx::query(SQL)
                .bind(&r.scorecard)
                .bind(&r.entity_ref)
                .bind(&r.day)
                .bind(r.level)
                .bind(&r.checks)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Every entity's latest result under every scorecard.
    pub async fn latest_scores(&self) -> Result<Vec<ScoreChange>, StoreError> {
        const SQL: &str = "SELECT s.scorecard, s.entity_ref, s.day, s.level, s.checks
            FROM score_changes s
            JOIN (SELECT scorecard, entity_ref, MAX(day) AS day FROM score_changes
                  GROUP BY scorecard, entity_ref) m
              ON s.scorecard = m.scorecard AND s.entity_ref = m.entity_ref AND s.day = m.day
            ORDER BY s.scorecard, s.entity_ref";
        let rows: Vec<ScoreTuple> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(ScoreChange::from).collect())
    }

    /// One entity's results under one scorecard, oldest first.
    pub async fn score_history(
        &self,
        scorecard: &str,
        entity_ref: &str,
    ) -> Result<Vec<ScoreChange>, StoreError> {
        const SQL: &str = "SELECT scorecard, entity_ref, day, level, checks FROM score_changes
            WHERE scorecard = $1 AND entity_ref = $2 ORDER BY day";
        let rows: Vec<ScoreTuple> = on_pool!(self, pool =>
            sqlx::query_as(SQL).bind(scorecard).bind(entity_ref).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(ScoreChange::from).collect())
    }

    /// Sets a scorecard's totals for `day.day`.
    pub async fn put_scorecard_day(
        &self,
        scorecard: &str,
        day: &ScorecardDay,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO scorecard_days (scorecard, day, total, levels, checks)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (scorecard, day) DO UPDATE
            SET total = excluded.total, levels = excluded.levels, checks = excluded.checks";
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(scorecard)
            .bind(&day.day)
            .bind(day.total)
            .bind(&day.levels)
            .bind(&day.checks)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A scorecard's totals per day, oldest first.
    pub async fn scorecard_days(&self, scorecard: &str) -> Result<Vec<ScorecardDay>, StoreError> {
        const SQL: &str = "SELECT day, total, levels, checks FROM scorecard_days
            WHERE scorecard = $1 ORDER BY day";
        let rows: Vec<(String, i64, String, String)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(scorecard).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(day, total, levels, checks)| ScorecardDay {
                day,
                total,
                levels,
                checks,
            })
            .collect())
    }
}
