//! The measures, for the organisation or one group on one day (UTC), each computed from the
//! daily roll-ups over the group's engineers as the catalog has them today:
//!
//! - **DAU / WAU / MAU**: engineers with at least one event that day / in the 7 days / in the
//!   28 days ending that day; shares are of the group's engineers.
//! - **Phase**: from the MAU share: `0-25`, `25-50`, `50-75`, `75+` (%).
//! - **Chasm**: the MAU share was in 25–50 % on that day and on each of the four weekly
//!   checkpoints before it (7, 14, 21, 28 days back): stalled below half for four weeks.
//! - **Features**: engineers who used each feature in the 28 days, and their share.
//! - **Peers' features**: for a group, what teams past the chasm (MAU ≥ 50 %, at least k
//!   engineers) use more than this group does (share of their engineers against this group's).
//! - **Search success**: searches in the 28 days followed the same day by a result opened,
//!   over searches run (each search counted successful at most once); the median rank of
//!   opened results.
//! - **Template reach**: engineers who ran a template in the 90 days, and teams with one.
//! - **Retention**: weekly cohorts of the 8 weeks to the day — engineers first active in that
//!   week (first among the 430 days held) — and the share of each active in every later week.
//!   Cohorts under the k-threshold are withheld like small groups.
//!
//! Groups (and the organisation) with fewer engineers than the k-threshold show none of these:
//! `withheld` says why.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::activity::{Activity, Day, DayUse, active_in, date_of, day_of};

/// Engineers' days, looked up once per question set.
type Rows<'a> = [&'a [(Day, DayUse)]];
use crate::event::feature_label;
use crate::org::Org;
use crate::settings::Settings;

const WEEK: Day = 7;
const MONTH: Day = 28;
const REACH_DAYS: Day = 90;
/// Longest time series one request may ask for.
pub const MAX_SERIES_DAYS: i64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    #[serde(rename = "0-25")]
    Starting,
    #[serde(rename = "25-50")]
    EarlyAdopters,
    #[serde(rename = "50-75")]
    EarlyMajority,
    #[serde(rename = "75+")]
    Majority,
}

impl Phase {
    pub fn of(share: f64) -> Phase {
        match share {
            s if s < 0.25 => Phase::Starting,
            s if s < 0.50 => Phase::EarlyAdopters,
            s if s < 0.75 => Phase::EarlyMajority,
            _ => Phase::Majority,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "0-25",
            Phase::EarlyAdopters => "25-50",
            Phase::EarlyMajority => "50-75",
            Phase::Majority => "75+",
        }
    }

    /// 0…3, for the pages' colours.
    pub fn rank(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureUse {
    pub label: String,
    pub users: usize,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerFeature {
    pub feature: String,
    pub label: String,
    /// Share of the peers' engineers who used it in the 28 days.
    pub peer_share: f64,
    /// Share of this group's engineers who did.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchSuccess {
    pub searches: u64,
    pub successful: u64,
    /// `successful / searches`; null without searches.
    pub share: Option<f64>,
    pub median_rank: Option<u16>,
}

/// Engineers first active in the week starting `week`, and the share of them active in each
/// later week (first: the week after).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cohort {
    pub week: NaiveDate,
    pub size: Option<usize>,
    pub retained: Vec<f64>,
    pub withheld: bool,
}

/// How soon engineers who started using the portal recently first used one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstUse {
    pub feature: String,
    pub label: String,
    /// Newcomers (first active in the last 90 days) who have used the feature.
    pub users: usize,
    /// Their share of all newcomers.
    pub share: f64,
    /// Median days from a newcomer's first day in the portal to their first use of it (0: the
    /// same day).
    pub median_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateReach {
    pub engineers: usize,
    pub share: f64,
    pub teams: usize,
    pub teams_total: usize,
}

/// The measures of one group (or the organisation) on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The group's ref; null for the organisation.
    pub group: Option<String>,
    pub name: String,
    pub date: NaiveDate,
    pub engineers: Option<usize>,
    pub dau: Option<usize>,
    pub wau: Option<usize>,
    pub mau: Option<usize>,
    pub dau_share: Option<f64>,
    pub wau_share: Option<f64>,
    pub mau_share: Option<f64>,
    pub phase: Option<Phase>,
    pub chasm: Option<bool>,
    pub features: BTreeMap<String, FeatureUse>,
    pub peer_features: Vec<PeerFeature>,
    pub search_success: Option<SearchSuccess>,
    pub template_reach: Option<TemplateReach>,
    pub retention: Vec<Cohort>,
    /// Engineers first active in the 90 days up to the date (withheld under the k-threshold).
    pub newcomers: Option<usize>,
    /// For newcomers, per feature: how many used it and how soon (most used first).
    pub first_use: Vec<FirstUse>,
    /// Why the figures are not shown (fewer engineers than the k-threshold).
    pub withheld: Option<String>,
}

/// One day of a time series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub date: NaiveDate,
    pub dau: usize,
    pub wau: usize,
    pub mau: usize,
    pub mau_share: f64,
    pub phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub group: Option<String>,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub engineers: Option<usize>,
    pub points: Vec<Point>,
    pub withheld: Option<String>,
}

/// A group's row in the adoption-by-team table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamRow {
    pub group: String,
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub engineers: Option<usize>,
    pub mau: Option<usize>,
    pub mau_share: Option<f64>,
    pub phase: Option<Phase>,
    pub chasm: Option<bool>,
    pub withheld: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("No group named '{0}' found")]
    UnknownGroup(String),
    #[error("{0}")]
    Range(String),
    #[error("reading usage failed: {0}")]
    Store(#[from] store::StoreError),
}

/// What one measurement reads: the roll-ups, the org and the settings.
pub struct Measures<'a> {
    pub activity: &'a Activity,
    pub org: &'a Org,
    pub settings: &'a Settings,
}

/// None when `n` engineers may be shown at threshold `k`; otherwise the reason they are not.
pub(crate) fn withheld(k: usize, n: usize) -> Option<String> {
    (n < k).then(|| {
        format!("fewer than {k} engineers: figures for small groups are never shown (k-threshold)")
    })
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        ((n as f64 / of as f64) * 1000.0).round() / 1000.0
    }
}

impl Measures<'_> {
    fn members(&self, group: Option<&str>) -> Result<&[String], MeasureError> {
        self.org
            .members(group)
            .ok_or_else(|| MeasureError::UnknownGroup(group.unwrap_or_default().to_owned()))
    }

    fn name(&self, group: Option<&str>) -> String {
        match group {
            None => "Organisation".to_owned(),
            Some(g) => self
                .org
                .groups
                .get(g)
                .map_or_else(|| g.to_owned(), |g| g.name.clone()),
        }
    }

    fn withheld(&self, n: usize) -> Option<String> {
        withheld(self.settings.k_threshold, n)
    }

    fn mau_share(&self, rows: &Rows, day: Day) -> f64 {
        share(active_in(rows, day - MONTH + 1, day, None), rows.len())
    }

    /// In 25–50 % on `day` and on the four weekly checkpoints before it.
    fn chasm(&self, rows: &Rows, day: Day) -> bool {
        (0..=4).all(|w| Phase::of(self.mau_share(rows, day - w * WEEK)) == Phase::EarlyAdopters)
    }

    fn feature_shares(&self, rows: &Rows, day: Day) -> Vec<(String, usize, f64)> {
        let members = rows;
        let users = self.activity.feature_users_in(rows, day - MONTH + 1, day);
        self.activity
            .feature_names()
            .iter()
            .zip(users)
            .map(|(f, n)| (f.clone(), n, share(n, members.len())))
            .collect()
    }

    pub fn summary(&self, group: Option<&str>, date: NaiveDate) -> Result<Summary, MeasureError> {
        let members = self.members(group)?;
        let n = members.len();
        let mut s = Summary {
            group: group.map(str::to_owned),
            name: self.name(group),
            date,
            engineers: None,
            dau: None,
            wau: None,
            mau: None,
            dau_share: None,
            wau_share: None,
            mau_share: None,
            phase: None,
            chasm: None,
            features: BTreeMap::new(),
            peer_features: Vec::new(),
            search_success: None,
            template_reach: None,
            retention: Vec::new(),
            newcomers: None,
            first_use: Vec::new(),
            withheld: self.withheld(n),
        };
        if s.withheld.is_some() {
            return Ok(s);
        }
        let day = day_of(date);
        let a = self.activity;
        let rows = a.rows(members);
        let (dau, wau, mau) = (
            active_in(&rows, day, day, None),
            active_in(&rows, day - WEEK + 1, day, None),
            active_in(&rows, day - MONTH + 1, day, None),
        );
        s.engineers = Some(n);
        (s.dau, s.wau, s.mau) = (Some(dau), Some(wau), Some(mau));
        s.dau_share = Some(share(dau, n));
        s.wau_share = Some(share(wau, n));
        s.mau_share = Some(share(mau, n));
        s.phase = Some(Phase::of(share(mau, n)));
        s.chasm = Some(self.chasm(&rows, day));
        let own = self.feature_shares(&rows, day);
        s.features = own
            .iter()
            .filter(|(_, users, _)| *users > 0)
            .map(|(f, users, sh)| {
                (
                    f.clone(),
                    FeatureUse {
                        label: feature_label(f),
                        users: *users,
                        share: *sh,
                    },
                )
            })
            .collect();
        s.peer_features = self.peer_features(group, &own, day);
        let c = a.search(members, day - MONTH + 1, day);
        s.search_success = Some(SearchSuccess {
            searches: c.searches,
            successful: c.opened,
            share: (c.searches > 0)
                .then(|| ((c.opened as f64 / c.searches as f64) * 1000.0).round() / 1000.0),
            median_rank: c.median_rank(),
        });
        s.template_reach = Some(self.template_reach(group, members, day));
        s.retention = self.cohorts(members, day);
        let newcomers = self.first_use(&rows, day);
        if newcomers.0 >= self.settings.k_threshold {
            (s.newcomers, s.first_use) = (Some(newcomers.0), newcomers.1);
        }
        Ok(s)
    }

    /// Newcomers — engineers whose first active day is in the 90 days up to `day` — and per
    /// feature how many of them used it and the median days from their first day to its first
    /// use: how quickly people who join find each part of the portal.
    fn first_use(&self, rows: &Rows, day: Day) -> (usize, Vec<FirstUse>) {
        let names = self.activity.feature_names();
        let mut waits: Vec<Vec<i64>> = vec![Vec::new(); names.len()];
        let mut newcomers = 0;
        for days in rows.iter() {
            let Some(&(first, _)) = days.first() else {
                continue;
            };
            if first > day || day - first >= REACH_DAYS {
                continue;
            }
            newcomers += 1;
            let mut seen = 0u64;
            for (d, used) in days.iter().take_while(|(d, _)| *d <= day) {
                let new = used.features & !seen;
                seen |= used.features;
                for (bit, wait) in waits.iter_mut().enumerate() {
                    if new & (1 << bit) != 0 {
                        wait.push(i64::from(*d - first));
                    }
                }
            }
        }
        let mut out: Vec<FirstUse> = waits
            .into_iter()
            .enumerate()
            .filter(|(_, w)| !w.is_empty())
            .map(|(bit, mut w)| {
                w.sort_unstable();
                FirstUse {
                    feature: names[bit].clone(),
                    label: feature_label(&names[bit]),
                    users: w.len(),
                    share: share(w.len(), newcomers),
                    median_days: w[w.len() / 2],
                }
            })
            .collect();
        out.sort_by(|a, b| b.users.cmp(&a.users).then(a.feature.cmp(&b.feature)));
        (newcomers, out)
    }

    /// Weekly cohorts: weeks end on `day`, 7 days back each, oldest first.
    fn cohorts(&self, members: &[String], day: Day) -> Vec<Cohort> {
        const WEEKS: Day = 8;
        let week_of = |d: Day| -> Option<Day> {
            let back = day - d;
            (0..WEEKS * WEEK)
                .contains(&back)
                .then_some(WEEKS - 1 - back / WEEK)
        };
        let mut cohorts: Vec<Vec<&String>> = vec![Vec::new(); WEEKS as usize];
        for u in members {
            if let Some(w) = self.activity.first_day(u).and_then(week_of) {
                cohorts[w as usize].push(u);
            }
        }
        cohorts
            .into_iter()
            .enumerate()
            .map(|(w, users)| {
                let start = day - (WEEKS - w as Day) * WEEK + 1;
                let withheld = users.len() < self.settings.k_threshold;
                let retained = if withheld {
                    Vec::new()
                } else {
                    (w as Day + 1..WEEKS)
                        .map(|later| {
                            let from = day - (WEEKS - later) * WEEK + 1;
                            let users: Vec<String> = users.iter().map(|u| (*u).clone()).collect();
                            share(
                                self.activity.active(&users, from, from + WEEK - 1, None),
                                users.len(),
                            )
                        })
                        .collect()
                };
                Cohort {
                    week: date_of(start),
                    size: (!withheld).then_some(users.len()),
                    retained,
                    withheld,
                }
            })
            .collect()
    }

    /// Teams past the chasm other than `group` and those it contains or sits in.
    fn peers(&self, group: Option<&str>, day: Day) -> BTreeSet<&str> {
        let k = self.settings.k_threshold;
        let related = |g: &str| {
            group.is_some_and(|own| {
                own == g
                    || self.org.ancestors(g).iter().any(|a| a.key == own)
                    || self.org.ancestors(own).iter().any(|a| a.key == g)
            })
        };
        self.org
            .groups
            .values()
            .filter(|g| g.kind == "team" && g.members.len() >= k && !related(&g.key))
            .filter(|g| self.mau_share(&self.activity.rows(&g.members), day) >= 0.5)
            .flat_map(|g| g.members.iter().map(String::as_str))
            .collect()
    }

    fn peer_features(
        &self,
        group: Option<&str>,
        own: &[(String, usize, f64)],
        day: Day,
    ) -> Vec<PeerFeature> {
        let peers: Vec<String> = self
            .peers(group, day)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if peers.len() < self.settings.k_threshold {
            return Vec::new();
        }
        let theirs = self.feature_shares(&self.activity.rows(&peers), day);
        let mut out: Vec<PeerFeature> = theirs
            .into_iter()
            .zip(own)
            .filter(|((f, _, p), (_, _, s))| p > s && !matches!(f.as_str(), "sign-in" | "home"))
            .map(|((f, _, p), (_, _, s))| PeerFeature {
                label: feature_label(&f),
                feature: f,
                peer_share: p,
                share: *s,
            })
            .collect();
        out.sort_by(|a, b| {
            (b.peer_share - b.share)
                .total_cmp(&(a.peer_share - a.share))
                .then_with(|| a.feature.cmp(&b.feature))
        });
        out.truncate(5);
        out
    }

    fn template_reach(&self, group: Option<&str>, members: &[String], day: Day) -> TemplateReach {
        let from = day - REACH_DAYS + 1;
        let mask = self.activity.feature_bit("template-run").map(|b| 1u64 << b);
        let ran =
            |m: &[String]| mask.map_or(0, |mask| self.activity.active(m, from, day, Some(mask)));
        let teams: Vec<&crate::org::Group> = self
            .org
            .groups
            .values()
            .filter(|g| g.kind == "team" && !g.members.is_empty())
            .filter(|g| {
                group.is_none_or(|own| {
                    g.key == own || self.org.ancestors(&g.key).iter().any(|a| a.key == own)
                })
            })
            .collect();
        let engineers = ran(members);
        TemplateReach {
            engineers,
            share: share(engineers, members.len()),
            teams: teams.iter().filter(|g| ran(&g.members) > 0).count(),
            teams_total: teams.len(),
        }
    }

    pub fn series(
        &self,
        group: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Series, MeasureError> {
        if to < from {
            return Err(MeasureError::Range("`to` is before `from`".into()));
        }
        if (to - from).num_days() >= MAX_SERIES_DAYS {
            return Err(MeasureError::Range(format!(
                "a series covers at most {MAX_SERIES_DAYS} days"
            )));
        }
        let members = self.members(group)?;
        let n = members.len();
        let withheld = self.withheld(n);
        let points = if withheld.is_some() {
            Vec::new()
        } else {
            let (a, b) = (day_of(from), day_of(to));
            self.activity
                .series(members, a, b)
                .into_iter()
                .enumerate()
                .map(|(i, [dau, wau, mau])| Point {
                    date: date_of(a + i as Day),
                    dau,
                    wau,
                    mau,
                    mau_share: share(mau, n),
                    phase: Phase::of(share(mau, n)),
                })
                .collect()
        };
        Ok(Series {
            group: group.map(str::to_owned),
            name: self.name(group),
            from,
            to,
            engineers: withheld.is_none().then_some(n),
            points,
            withheld,
        })
    }

    /// Every group with engineers, most adopted first (withheld ones last).
    pub fn teams(&self, date: NaiveDate) -> Vec<TeamRow> {
        let day = day_of(date);
        let mut rows: Vec<TeamRow> = self
            .org
            .groups
            .values()
            .filter(|g| !g.members.is_empty())
            .map(|g| {
                let n = g.members.len();
                let withheld = self.withheld(n);
                let shown = withheld.is_none();
                let mau =
                    shown.then(|| self.activity.active(&g.members, day - MONTH + 1, day, None));
                TeamRow {
                    group: g.key.clone(),
                    name: g.name.clone(),
                    kind: g.kind.clone(),
                    parent: g.parent.clone(),
                    engineers: shown.then_some(n),
                    mau,
                    mau_share: mau.map(|m| share(m, n)),
                    phase: mau.map(|m| Phase::of(share(m, n))),
                    chasm: shown.then(|| self.chasm(&self.activity.rows(&g.members), day)),
                    withheld,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.mau_share
                .unwrap_or(-1.0)
                .total_cmp(&a.mau_share.unwrap_or(-1.0))
                .then_with(|| a.name.cmp(&b.name))
        });
        rows
    }
}
