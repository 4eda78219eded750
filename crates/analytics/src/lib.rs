//! Adoption analytics: usage events (the portal's own, and Backstage frontends' analytics
//! events), attributed to catalog Users and through `memberOf` and the group hierarchy to teams;
//! daily roll-ups; and the measures leaders read — active engineers as a share of the
//! population, use per feature, adoption phase and the chasm per team, search success and
//! template reach. Reads the catalog through `catalog::read`, keeps its state in
//! `Catalog::state` and its tables in `Catalog::database`; no HTTP, no HTML.
//!
//! Other capabilities record use with `Recorder::of(&catalog).record(Event::server(…))`; the
//! event kinds they send are listed in [`event`].

mod activity;
pub mod checklist;
pub mod demo;
pub mod event;
mod ingest;
mod measures;
mod org;
mod recorder;
mod settings;

pub use event::{Context, Event, Source, feature_label};
pub use ingest::{BatchError, Outcome, Rejected};
pub use measures::{
    Cohort, FeatureUse, FirstUse, MAX_SERIES_DAYS, MeasureError, PeerFeature, Phase, Point,
    SearchSuccess, Series, Summary, TeamRow, TemplateReach,
};
pub use org::{Group, Org};
pub use recorder::{Counters, Recorder, State};
pub use settings::Settings;

use chrono::NaiveDate;

impl Recorder {
    /// Runs `f` over the roll-ups, the org of the catalog's current snapshot and the settings.
    async fn measure<T>(
        &self,
        snap: &catalog::read::Snapshot,
        f: impl FnOnce(&measures::Measures) -> T,
    ) -> Result<T, MeasureError> {
        self.ensure_loaded().await?;
        let org = self.org(snap);
        let settings = self.settings();
        let activity = self
            .state
            .activity
            .read()
            .unwrap_or_else(|e| e.into_inner());
        Ok(f(&measures::Measures {
            activity: &activity,
            org: &org,
            settings: &settings,
        }))
    }

    /// The measures of `group` (the organisation for `None`) on `date`.
    pub async fn summary(
        &self,
        snap: &catalog::read::Snapshot,
        group: Option<&str>,
        date: NaiveDate,
    ) -> Result<Summary, MeasureError> {
        self.measure(snap, |m| m.summary(group, date)).await?
    }

    /// DAU/WAU/MAU of `group` for each day of `[from, to]`.
    pub async fn series(
        &self,
        snap: &catalog::read::Snapshot,
        group: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Series, MeasureError> {
        self.measure(snap, |m| m.series(group, from, to)).await?
    }

    /// One person's onboarding checklist.
    pub async fn checklist(
        &self,
        snap: &catalog::read::Snapshot,
        user: &str,
    ) -> Result<checklist::Checklist, MeasureError> {
        self.measure(snap, |m| {
            checklist::of_user(&m.settings.checklist, m.activity, m.org, user)
        })
        .await
    }

    /// How far a group's (or the organisation's) engineers are through the checklist.
    pub async fn group_checklist(
        &self,
        snap: &catalog::read::Snapshot,
        group: Option<&str>,
    ) -> Result<checklist::GroupChecklist, MeasureError> {
        self.measure(snap, |m| {
            let members = m
                .org
                .members(group)
                .ok_or_else(|| MeasureError::UnknownGroup(group.unwrap_or_default().to_owned()))?;
            let withheld = measures::withheld(m.settings.k_threshold, members.len());
            Ok(checklist::of_group(
                &m.settings.checklist,
                m.activity,
                m.org,
                group,
                members,
                withheld,
            ))
        })
        .await?
    }

    /// Every group's adoption on `date`, most adopted first.
    pub async fn teams(
        &self,
        snap: &catalog::read::Snapshot,
        date: NaiveDate,
    ) -> Result<Vec<TeamRow>, MeasureError> {
        self.measure(snap, |m| m.teams(date)).await
    }
}
