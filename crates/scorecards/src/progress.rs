//! Scorecard results and campaign progress over time, kept in the database: each entity's
//! result on the days it changed and each scorecard's totals per day (for trends), a point per
//! campaign, team and day for the burndown, and when each team finished. [`Progress::run`] records a point whenever the catalog
//! changes and at least every few minutes (so a quiet day still gets its point, and pushed facts
//! taken by other replicas are read), and says what
//! happened as campaign events in the log (started, deadline in 7 days, team finished, deadline
//! passed) for digests and notifications to build on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use catalog::Catalog;
use chrono::{NaiveDate, Utc};
use store::{CampaignDay, Db, StoreError};

use crate::campaign::{CampaignStatus, Phase};
use crate::definition::Scorecard;
use crate::evaluate::Evaluation;
use crate::summary::Counts;

/// A recorded point when nothing changed, so each day has one however quiet the catalog is.
const QUIET_INTERVAL: Duration = Duration::from_secs(300);

/// The campaign tables of the database the catalog lives in.
#[derive(Clone)]
pub struct Progress {
    db: Db,
}

/// Something that happened to a campaign, worth telling people about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignEvent {
    Started { campaign: String },
    DeadlineInSevenDays { campaign: String },
    TeamFinished { campaign: String, team: String },
    DeadlinePassed { campaign: String, failing: usize },
}

/// A scorecard's totals on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotals {
    pub day: NaiveDate,
    pub total: usize,
    /// Entities whose highest level is each level (lowest first), then those with none.
    pub levels: Vec<usize>,
    /// Entities passing each check, in the scorecard's order; `None` for a recorded day whose
    /// checks differ from the scorecard's current ones.
    pub passing: Option<Vec<usize>>,
}

impl DayTotals {
    /// The totals of `counts`, as they stand on `day`.
    pub fn live(day: NaiveDate, counts: &Counts) -> DayTotals {
        let mut levels = counts.levels.clone();
        levels.push(counts.none);
        DayTotals {
            day,
            total: counts.total,
            levels,
            passing: Some(counts.checks.iter().map(|c| c.passing).collect()),
        }
    }
}

/// What the campaign page and API show beyond today's standing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignReport {
    /// A point per day, oldest first; today's is the live one.
    pub history: Vec<CampaignDay>,
    /// Teams finished now, with when (epoch ms), first first.
    pub finished: Vec<(String, i64)>,
    /// The team with the largest drop in failing entities over the last seven days, and the drop.
    pub most_improved: Option<(String, i64)>,
}

impl CampaignEvent {
    /// The event as one log line with its fields, for digests and notifications to read.
    pub fn log(&self) {
        match self {
            CampaignEvent::Started { campaign } => {
                tracing::info!(event = "campaign.started", campaign, "campaign event")
            }
            CampaignEvent::DeadlineInSevenDays { campaign } => {
                tracing::info!(
                    event = "campaign.deadline_in_7_days",
                    campaign,
                    "campaign event"
                )
            }
            CampaignEvent::TeamFinished { campaign, team } => {
                tracing::info!(
                    event = "campaign.team_finished",
                    campaign,
                    team,
                    "campaign event"
                )
            }
            CampaignEvent::DeadlinePassed { campaign, failing } => {
                tracing::info!(
                    event = "campaign.deadline_passed",
                    campaign,
                    failing,
                    "campaign event"
                )
            }
        }
    }
}

impl Progress {
    pub fn new(db: Db) -> Progress {
        Progress { db }
    }

    /// The campaign tables of `catalog`'s database.
    pub fn of(catalog: &Catalog) -> Progress {
        Progress::new(catalog.database().clone())
    }

    /// Every recorded day of `campaign` (by key), oldest first.
    pub async fn history(&self, campaign: &str) -> Result<Vec<CampaignDay>, StoreError> {
        self.db.campaign_days(campaign).await
    }

    /// The finished teams of `campaign` with when they finished (epoch ms).
    pub async fn finished(&self, campaign: &str) -> Result<Vec<(String, i64)>, StoreError> {
        self.db.finished_teams(campaign).await
    }

    /// The campaign's history with today's point taken from `status` (what is served now), the
    /// teams finished now with when they finished (epoch ms; `now_ms` for a team that finished
    /// since the last recording), and the team that cut its failing entities most in the last
    /// seven days.
    pub async fn report(
        &self,
        status: &CampaignStatus,
        today: NaiveDate,
        now_ms: i64,
    ) -> Result<CampaignReport, StoreError> {
        let key = &status.campaign.key;
        let started = status.phase(today) != Phase::NotStarted;
        let mut history = self.db.campaign_days(key).await?;
        let today_s = today.to_string();
        history.retain(|d| d.day < today_s);
        if started {
            history.push(point(status, today, "recorded"));
        }
        let stored = self.db.finished_teams(key).await?;
        let mut finished: Vec<(String, i64)> = if started {
            status
                .finished_teams()
                .into_iter()
                .map(|team| {
                    let at = stored
                        .iter()
                        .find(|(t, _)| *t == team)
                        .map_or(now_ms, |s| s.1);
                    (team, at)
                })
                .collect()
        } else {
            Vec::new()
        };
        finished.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let week_ago = (today - chrono::Days::new(7)).to_string();
        let mut most_improved: Option<(String, i64)> = None;
        let past = if started {
            self.db.campaign_team_days(key, &week_ago).await?
        } else {
            Vec::new()
        };
        for t in &status.teams {
            let Some(team) = &t.owner else { continue };
            // The team's earliest point of the week: where it stood seven days ago.
            let Some((_, _, then)) = past
                .iter()
                .find(|(name, day, _)| name == team && *day < today_s)
            else {
                continue;
            };
            let drop = then - (t.total - t.passing) as i64;
            if drop > 0 && most_improved.as_ref().is_none_or(|(_, best)| drop > *best) {
                most_improved = Some((team.clone(), drop));
            }
        }
        Ok(CampaignReport {
            history,
            finished,
            most_improved,
        })
    }

    /// Records today's point of every campaign that has started, and of each of its teams, and
    /// updates its finished teams. The once-a-day events are told on the first recording of the
    /// day, as the database knows it (a restart does not tell them again).
    pub async fn record(
        &self,
        eval: &Evaluation,
        today: NaiveDate,
    ) -> Result<Vec<CampaignEvent>, StoreError> {
        let mut events = Vec::new();
        let today_s = today.to_string();
        for status in &eval.campaigns {
            let c = &status.campaign;
            if status.phase(today) == Phase::NotStarted {
                continue;
            }
            let key = c.key.clone();
            let new_day = !self
                .db
                .campaign_days(&key)
                .await?
                .iter()
                .any(|d| d.day == today_s && d.source == "recorded");
            if new_day && c.start == Some(today) {
                events.push(CampaignEvent::Started {
                    campaign: key.clone(),
                });
            }
            if let Some(deadline) = c.deadline
                && new_day
            {
                if deadline - chrono::Days::new(7) == today {
                    events.push(CampaignEvent::DeadlineInSevenDays {
                        campaign: key.clone(),
                    });
                }
                if deadline.succ_opt() == Some(today) && status.failing() > 0 {
                    events.push(CampaignEvent::DeadlinePassed {
                        campaign: key.clone(),
                        failing: status.failing(),
                    });
                }
            }
            self.db
                .record_campaign_day(&key, &point(status, today, "recorded"))
                .await?;
            let teams: Vec<(String, i64, i64)> = status
                .teams
                .iter()
                .filter_map(|t| {
                    let team = t.owner.clone()?;
                    Some((team, t.total as i64, (t.total - t.passing) as i64))
                })
                .collect();
            self.db
                .record_campaign_team_days(&key, &today_s, &teams)
                .await?;
            let now = Utc::now().timestamp_millis();
            for team in self
                .db
                .update_finished_teams(&key, &status.finished_teams(), now)
                .await?
            {
                events.push(CampaignEvent::TeamFinished {
                    campaign: key.clone(),
                    team,
                });
            }
        }
        Ok(events)
    }

    /// Records every scorecard's totals for `today`, and each entity result that differs from
    /// the last one recorded (`last`, by scorecard and entity; loaded from the database when
    /// empty). Returns how many results changed.
    pub async fn record_scores(
        &self,
        eval: &Evaluation,
        today: NaiveDate,
        last: &mut HashMap<(String, String), (i64, String)>,
    ) -> Result<usize, StoreError> {
        if last.is_empty() {
            for r in self.db.latest_scores().await? {
                last.insert((r.scorecard, r.entity_ref), (r.level, r.checks));
            }
        }
        let day = today.to_string();
        let mut changes = Vec::new();
        for (card, scores) in eval.all_scorecards() {
            for s in scores {
                let level = s.level.map_or(-1, |l| l as i64);
                let checks: String = s
                    .checks
                    .iter()
                    .map(|c| match (c.passed, &c.exempt) {
                        (true, Some(_)) => 'e',
                        (true, None) => '1',
                        (false, _) => '0',
                    })
                    .collect();
                let key = (card.key.clone(), s.entity_key.clone());
                if last.get(&key) != Some(&(level, checks.clone())) {
                    changes.push(store::ScoreChange {
                        scorecard: card.key.clone(),
                        entity_ref: s.entity_key.clone(),
                        day: day.clone(),
                        level,
                        checks: checks.clone(),
                    });
                    last.insert(key, (level, checks));
                }
            }
            let totals = DayTotals::live(today, &crate::Summary::of(card, scores).all);
            self.db
                .put_scorecard_day(
                    &card.key,
                    &store::ScorecardDay {
                        day: day.clone(),
                        total: totals.total as i64,
                        levels: serde_json::to_string(&totals.levels).unwrap_or_default(),
                        checks: serde_json::to_string(&totals.passing).unwrap_or_default(),
                    },
                )
                .await?;
        }
        self.db.put_score_changes(&changes).await?;
        Ok(changes.len())
    }

    /// A scorecard's totals per day, oldest first: the recorded days before `today` that fit
    /// its current levels, then `today`'s live totals (`counts`).
    pub async fn scorecard_history(
        &self,
        card: &Scorecard,
        counts: &Counts,
        today: NaiveDate,
    ) -> Result<Vec<DayTotals>, StoreError> {
        let mut days: Vec<DayTotals> = self
            .db
            .scorecard_days(&card.key)
            .await?
            .iter()
            .filter_map(|d| {
                let day = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?;
                let levels: Vec<usize> = serde_json::from_str(&d.levels).ok()?;
                let passing = serde_json::from_str::<Vec<usize>>(&d.checks)
                    .ok()
                    .filter(|p| p.len() == card.checks.len());
                (day < today && levels.len() == card.levels.len() + 1).then(|| DayTotals {
                    day,
                    total: usize::try_from(d.total).unwrap_or_default(),
                    levels,
                    passing,
                })
            })
            .collect();
        days.push(DayTotals::live(today, counts));
        Ok(days)
    }

    /// A scorecard's totals per day as stored, oldest first.
    pub async fn scorecard_days(
        &self,
        scorecard: &str,
    ) -> Result<Vec<store::ScorecardDay>, StoreError> {
        self.db.scorecard_days(scorecard).await
    }

    /// Generated history for the demo: a point per day from each campaign's start to yesterday,
    /// falling from everything failing to today's count, stored as `demo` so pages label it.
    /// Days that already have a point keep it.
    pub async fn seed_demo_history(
        &self,
        eval: &Evaluation,
        today: NaiveDate,
    ) -> Result<(), StoreError> {
        for status in &eval.campaigns {
            let Some(start) = status.campaign.start else {
                continue;
            };
            let days = (today - start).num_days();
            if days <= 0 {
                continue;
            }
            let (total, now) = (status.total() as f64, status.failing() as f64);
            let points: Vec<CampaignDay> = (0..days)
                .map(|d| {
                    let left = 1.0 - d as f64 / days as f64;
                    let failing = now + (total - now) * left.powf(1.4);
                    CampaignDay {
                        day: (start + chrono::Days::new(d as u64)).to_string(),
                        total: status.total() as i64,
                        failing: failing.round() as i64,
                        source: "demo".into(),
                    }
                })
                .collect();
            self.db
                .seed_campaign_days(&status.campaign.key, &points)
                .await?;
        }
        Ok(())
    }

    /// Records progress after every catalog change and every five minutes (`QUIET_INTERVAL`)
    /// until the catalog is gone. A failed write is logged and tried again at the next change.
    pub async fn run(self, catalog: Arc<Catalog>) {
        let mut changes = catalog.subscribe();
        let mut last_scores = HashMap::new();
        loop {
            // Other replicas may have taken pushes: the database is the truth. (A SQLite file
            // has one server, through which every push arrives; it was read at start-up.)
            if matches!(self.db, store::Db::Postgres(_))
                && let Err(e) = crate::State::of(&catalog).reload(&self.db).await
            {
                tracing::warn!(error = %e, "reading pushed facts failed");
            }
            if catalog.is_ready() {
                let snap = catalog.snapshot();
                let eval = catalog::off_async_workers(|| crate::evaluation(&catalog, &snap));
                let today = eval.now.date_naive();
                // A catalog without scorecards or campaigns has nothing to record: leave the
                // database (and the memory a connection's page cache takes) alone.
                let nothing = eval.scorecards.is_empty() && eval.campaigns.is_empty();
                if !nothing {
                    if let Err(e) = self.record_scores(&eval, today, &mut last_scores).await {
                        // Known results may be half written: start over from the database.
                        last_scores.clear();
                        tracing::warn!(error = %e, "recording scorecard results failed");
                    }
                    match self.record(&eval, today).await {
                        Ok(events) => events.iter().for_each(CampaignEvent::log),
                        Err(e) => tracing::warn!(error = %e, "recording campaign progress failed"),
                    }
                }
            }
            tokio::select! {
                change = changes.next() => if change.is_none() { return },
                () = tokio::time::sleep(QUIET_INTERVAL) => {}
            }
        }
    }
}

/// A campaign's point for `day`.
fn point(status: &CampaignStatus, day: NaiveDate, source: &str) -> CampaignDay {
    CampaignDay {
        day: day.to_string(),
        total: status.total() as i64,
        failing: status.failing() as i64,
        source: source.into(),
    }
}
