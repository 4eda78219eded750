//! Campaign progress kept over time: a point per campaign and day for the burndown, and when
//! each team finished. Written by the scorecards recorder, read by the campaign API and pages.

use crate::db::{in_transaction, on_pool};
use crate::{Db, StoreError};

/// One day of one campaign: how many entities it covered and how many still failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub total: i64,
    pub failing: i64,
    /// `"recorded"` when the server measured it, `"demo"` for the demo's generated history.
    pub source: String,
}

impl Db {
    /// Sets `day`'s point of `campaign` to this measurement (the day's last one wins, and a
    /// measurement replaces a generated point).
    pub async fn record_campaign_day(
        &self,
        campaign: &str,
        day: &CampaignDay,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO campaign_days (campaign, day, total, failing, source)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (campaign, day) DO UPDATE
            SET total = excluded.total, failing = excluded.failing, source = excluded.source";
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(campaign)
            .bind(&day.day)
            .bind(day.total)
            .bind(day.failing)
            .bind(&day.source)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Adds points only for days that have none (generated history never hides a measurement).
    pub async fn seed_campaign_days(
        &self,
        campaign: &str,
        days: &[CampaignDay],
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO campaign_days (campaign, day, total, failing, source)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign, day) DO NOTHING";
        in_transaction!(self, tx => for d in days {
            sqlx::query(SQL)
                .bind(campaign)
                .bind(&d.day)
                .bind(d.total)
                .bind(d.failing)
                .bind(&d.source)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Every point of `campaign`, oldest day first.
    pub async fn campaign_days(&self, campaign: &str) -> Result<Vec<CampaignDay>, StoreError> {
        const SQL: &str = "SELECT day, total, failing, source FROM campaign_days
            WHERE campaign = $1 ORDER BY day";
        let rows: Vec<(String, i64, i64, String)> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(campaign).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(day, total, failing, source)| CampaignDay {
                day,
                total,
                failing,
                source,
            })
            .collect())
    }

    /// Makes `finished` the campaign's finished teams: a team new to the set finishes at `now`
    /// (epoch ms), one already in it keeps its time, one no longer in it loses its row.
    /// Returns the teams that finished just now.
    pub async fn update_finished_teams(
        &self,
        campaign: &str,
        finished: &[String],
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let before = self.finished_teams(campaign).await?;
        let mut new = Vec::new();
        for team in finished {
            if !before.iter().any(|(t, _)| t == team) {
                on_pool!(self, pool => sqlx::query(
                    "INSERT INTO campaign_teams_finished (campaign, team, finished_at)
                     VALUES ($1, $2, $3) ON CONFLICT (campaign, team) DO NOTHING",
                )
                .bind(campaign)
                .bind(team)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ()))?;
                new.push(team.clone());
            }
        }
        for (team, _) in before.iter().filter(|(t, _)| !finished.contains(t)) {
            on_pool!(self, pool => sqlx::query(
                "DELETE FROM campaign_teams_finished WHERE campaign = $1 AND team = $2",
            )
            .bind(campaign)
            .bind(team)
            .execute(pool)
            .await
            .map(|_| ()))?;
        }
        Ok(new)
    }

    /// Sets each team's point for `day`: `(team, total, failing)`.
    pub async fn record_campaign_team_days(
        &self,
        campaign: &str,
        day: &str,
        teams: &[(String, i64, i64)],
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO campaign_team_days (campaign, team, day, total, failing)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (campaign, team, day) DO UPDATE
            SET total = excluded.total, failing = excluded.failing";
        in_transaction!(self, tx => for (team, total, failing) in teams {
            sqlx::query(SQL)
                .bind(campaign)
                .bind(team)
                .bind(day)
                .bind(*total)
                .bind(*failing)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Every team's points of `campaign` from `since` (`YYYY-MM-DD`) on: `(team, day, failing)`,
    /// by team, then day.
    pub async fn campaign_team_days(
        &self,
        campaign: &str,
        since: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        const SQL: &str = "SELECT team, day, failing FROM campaign_team_days
            WHERE campaign = $1 AND day >= $2 ORDER BY team, day";
        Ok(
            on_pool!(self, pool => sqlx::query_as(SQL).bind(campaign).bind(since).fetch_all(pool).await)?,
        )
    }

    /// The finished teams of `campaign` with when they finished (epoch ms), earliest first.
    pub async fn finished_teams(&self, campaign: &str) -> Result<Vec<(String, i64)>, StoreError> {
        const SQL: &str = "SELECT team, finished_at FROM campaign_teams_finished
            WHERE campaign = $1 ORDER BY finished_at, team";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(campaign).fetch_all(pool).await)?)
    }
}
