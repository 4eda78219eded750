//! The scorecards and campaigns pages: the list of both, one scorecard's heat map of teams by
//! checks, and one campaign's progress (burndown, finished teams, what is left). Campaign pages
//! are read-only and need no sign-in, so a champion can put one on a screen.

use axum::extract::{Path, State};
use axum::response::Response;
use catalog::read::Snapshot;
use chrono::NaiveDate;
use scorecards::{CampaignStatus, Counts, Evaluation, Phase, Progress, RollUp, Scorecard, Summary};

use super::charts::{self, Point};
use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view::{self, RefLink};

fn evaluation(state: &AppState, snap: &std::sync::Arc<Snapshot>) -> std::sync::Arc<Evaluation> {
    catalog::off_async_workers(|| scorecards::evaluation(&state.catalog, snap))
}

/// A team (or "No owner") as the pages name and link it.
#[derive(Clone)]
pub struct Team {
    pub link: Option<RefLink>,
    pub name: String,
}

/// Teams named once per page: a team's name is read from its entity, whose JSON (every
/// `ownerOf` relation) is large, and a page names the same few teams for thousands of entities.
struct Teams<'a> {
    snap: &'a Snapshot,
    named: std::cell::RefCell<std::collections::HashMap<Option<String>, Team>>,
}

impl<'a> Teams<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        Teams {
            snap,
            named: Default::default(),
        }
    }

    fn of(&self, owner: Option<&str>) -> Team {
        let key = owner.map(str::to_owned);
        if let Some(t) = self.named.borrow().get(&key) {
            return t.clone();
        }
        let t = Team::of(self.snap, owner);
        self.named.borrow_mut().insert(key, t.clone());
        t
    }
}

impl Team {
    fn of(snap: &Snapshot, owner: Option<&str>) -> Team {
        let link = owner.and_then(|o| RefLink::parse(snap, o, Some("group")));
        let name = match (&link, owner) {
            (Some(l), _) => view::display_name(snap, &l.full).unwrap_or_else(|| l.label.clone()),
            (None, Some(o)) => o.to_owned(),
            (None, None) => "No owner".to_owned(),
        };
        Team { link, name }
    }
}

/// A share as a whole percentage and the heat class (0–4) its cell is drawn with.
pub struct Share {
    pub passing: usize,
    pub total: usize,
    pub percent: usize,
    pub heat: usize,
}

impl Share {
    fn new(passing: usize, total: usize) -> Share {
        let percent = (passing * 100).checked_div(total).unwrap_or(100);
        Share {
            passing,
            total,
            percent,
            heat: match percent {
                100 => 4,
                75..=99 => 3,
                50..=74 => 2,
                25..=49 => 1,
                _ => 0,
            },
        }
    }
}

// ---- the list -----------------------------------------------------------------------------

pub struct CardRow {
    pub name: String,
    pub title: String,
    pub description: String,
    pub filter: String,
    pub total: usize,
    pub levels: Vec<LevelShare>,
    pub error: Option<String>,
}

pub struct CampaignRow {
    pub name: String,
    pub title: String,
    pub phase: &'static str,
    pub deadline: String,
    pub days_left: Option<i64>,
    pub share: Share,
}

#[derive(askama::Template)]
#[template(path = "scorecards.html")]
struct ListPage {
    layout: Layout,
    cards: Vec<CardRow>,
    campaigns: Vec<CampaignRow>,
}

/// `GET /scorecards`: every scorecard with how far its entities got, every campaign with how
/// far it is from done.
pub async fn list(State(state): State<AppState>, me: Identity) -> Response {
    let snap = state.catalog.snapshot();
    let eval = evaluation(&state, &snap);
    let today = eval.now.date_naive();
    let cards = eval
        .all_scorecards()
        .map(|(card, scores)| {
            let all = Summary::of(card, scores).all;
            CardRow {
                name: card.name.clone(),
                title: card.display_name().to_owned(),
                description: description(&snap, &card.key),
                filter: card.filter_text.clone(),
                total: all.total,
                levels: level_shares(card, &all),
                error: card.error.clone(),
            }
        })
        .collect();
    let campaigns = eval
        .campaigns
        .iter()
        .map(|c| campaign_row(c, today))
        .collect();
    crate::pages::render(&ListPage {
        layout: Layout::new("Scorecards", "scorecards", &snap, &me),
        cards,
        campaigns,
    })
}

/// One level's part of a stacked bar: entities whose highest level it is.
pub struct LevelShare {
    pub label: String,
    pub count: usize,
    pub percent: usize,
    /// Where its segment starts (percent of the bar).
    pub offset: usize,
    /// `level-0` (no level) … `level-3`, the badge colours.
    pub class: String,
}

/// Highest level first, then "no level".
pub(crate) fn level_shares(card: &Scorecard, c: &Counts) -> Vec<LevelShare> {
    let pct = |n: usize| (n * 100).checked_div(c.total).unwrap_or(0);
    let mut parts: Vec<(String, usize, usize)> = card
        .levels
        .iter()
        .zip(&c.levels)
        .enumerate()
        .map(|(i, (l, &n))| (l.clone(), n, (i + 1).min(3)))
        .rev()
        .collect();
    parts.push(("no level".into(), c.none, 0));
    // Segments end at the rounded cumulative share, so they add up to the whole bar.
    let mut before = 0;
    parts
        .into_iter()
        .map(|(label, count, rank)| {
            let (offset, end) = (pct(before), pct(before + count));
            before += count;
            LevelShare {
                label,
                count,
                percent: end - offset,
                offset,
                class: format!("level-{rank}"),
            }
        })
        .collect()
}

fn campaign_row(c: &CampaignStatus, today: NaiveDate) -> CampaignRow {
    CampaignRow {
        name: c.campaign.name.clone(),
        title: c.campaign.display_name().to_owned(),
        phase: c.phase(today).as_str(),
        deadline: c
            .campaign
            .deadline
            .map(|d| d.to_string())
            .unwrap_or_default(),
        days_left: c.campaign.deadline.map(|d| (d - today).num_days()),
        share: Share::new(c.passing, c.total()),
    }
}

fn description(snap: &Snapshot, key: &str) -> String {
    snap.entity(key)
        .and_then(|e| e.description().map(str::to_owned))
        .unwrap_or_default()
}

// ---- one scorecard ------------------------------------------------------------------------

pub struct HeatRow {
    pub team: Team,
    /// `depth-0` … `depth-4`: how far down the group hierarchy the row sits.
    pub depth: String,
    pub total: usize,
    /// What the group owns itself, when sub-groups add to its total.
    pub own: Option<usize>,
    pub levels: Vec<LevelShare>,
    pub checks: Vec<Share>,
}

pub struct CheckColumn {
    pub id: String,
    pub title: String,
    pub level: String,
    pub fix: Option<String>,
    pub error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "scorecard.html")]
struct ScorecardPage {
    layout: Layout,
    title: String,
    description: String,
    filter: String,
    levels: Vec<String>,
    owner: Option<Team>,
    error: Option<String>,
    checks: Vec<CheckColumn>,
    all: HeatRow,
    teams: Vec<HeatRow>,
    /// The share of entities at each level or above per day, as SVG.
    trend: Option<String>,
}

/// `GET /scorecards/{name}`: the scorecard's checks and, per owning team, the share of its
/// entities passing each check (a heat map) and reaching each level. Teams sit under their
/// department and organisation, whose rows count everything below them.
pub async fn scorecard(
    State(state): State<AppState>,
    me: Identity,
    Path(name): Path<String>,
) -> Response {
    let snap = state.catalog.snapshot();
    let eval = evaluation(&state, &snap);
    let Some((card, scores)) = eval.scorecard(model::entity_ref::DEFAULT_NAMESPACE, &name) else {
        let layout = Layout::new("Not found", "scorecards", &snap, &me);
        return crate::pages::not_found(layout, format!("No scorecard named {name}"));
    };
    let rollup = eval
        .rollup(card, &snap)
        .unwrap_or_else(|| std::sync::Arc::new(RollUp::of(card, scores, &snap)));
    let teams_named = Teams::new(&snap);
    let heat = |team: Team, depth: usize, c: &Counts, own: &Counts| HeatRow {
        team,
        depth: format!("depth-{}", depth.min(4)),
        total: c.total,
        own: (own.total != c.total).then_some(own.total),
        levels: level_shares(card, c),
        checks: c
            .checks
            .iter()
            .map(|pf| Share::new(pf.passing, pf.passing + pf.failing))
            .collect(),
    };
    let teams = rollup
        .groups
        .iter()
        .map(|g| {
            heat(
                teams_named.of(g.owner.as_deref()),
                g.depth,
                &g.counts,
                &g.own,
            )
        })
        .collect();
    let all = heat(
        Team {
            link: None,
            name: "Everything".into(),
        },
        0,
        &rollup.all,
        &rollup.all,
    );
    let trend = trend(&state, card, &rollup.all, eval.now.date_naive()).await;
    crate::pages::render(&ScorecardPage {
        trend,
        layout: Layout::new(card.display_name(), "scorecards", &snap, &me),
        title: card.display_name().to_owned(),
        description: description(&snap, &card.key),
        filter: card.filter_text.clone(),
        levels: card.levels.clone(),
        owner: card.owner.as_deref().map(|o| Team::of(&snap, Some(o))),
        error: card.error.clone(),
        checks: card
            .checks
            .iter()
            .map(|c| CheckColumn {
                id: c.id.clone(),
                title: c.title.clone(),
                level: c.level.clone(),
                fix: c.fix.clone(),
                error: c.program.as_ref().err().cloned(),
            })
            .collect(),
        all,
        teams,
    })
}

/// The trend chart from the recorded days and today's live counts.
async fn trend(
    state: &AppState,
    card: &Scorecard,
    today_counts: &Counts,
    today: NaiveDate,
) -> Option<String> {
    let days = match Progress::of(&state.catalog)
        .scorecard_history(card, today_counts, today)
        .await
    {
        Ok(days) => days,
        Err(e) => {
            tracing::error!(error = %e, "reading scorecard history");
            vec![scorecards::DayTotals::live(today, today_counts)]
        }
    };
    let shares: Vec<(NaiveDate, Vec<f64>)> = days
        .into_iter()
        .map(|scorecards::DayTotals { day, levels, .. }| {
            let total = levels.iter().sum::<usize>().max(1) as f64;
            let at_or_above = (0..card.levels.len())
                .map(|i| levels[i..card.levels.len()].iter().sum::<usize>() as f64 * 100.0 / total)
                .collect();
            (day, at_or_above)
        })
        .collect();
    super::charts::trend(&card.levels, &shares)
}

// ---- one campaign -------------------------------------------------------------------------

pub struct TeamProgress {
    pub team: Team,
    pub share: Share,
    pub finished: Option<String>,
}

pub struct Failing {
    pub link: RefLink,
    pub team: Team,
    pub checks: Vec<String>,
}

pub struct CheckAsked {
    pub reference: String,
    pub title: String,
    pub fix: Option<String>,
    pub fix_is_link: bool,
    pub error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    layout: Layout,
    row: CampaignRow,
    description: String,
    owner: Option<Team>,
    start: String,
    checks: Vec<CheckAsked>,
    chart: Option<String>,
    /// The first day of recorded (not generated) history, when generated history precedes it.
    demo_until: Option<String>,
    /// The team that fixed the most in the last seven days, and how many.
    most_improved: Option<(Team, i64)>,
    finished: Vec<TeamProgress>,
    teams: Vec<TeamProgress>,
    failing: Vec<Failing>,
}

/// Failing entities listed on the page; the API has them all.
const FAILING_SHOWN: usize = 200;

/// `GET /campaigns/{name}`: where the campaign stands, its burndown, the teams that finished
/// (first first) and every entity still failing, with how to fix it.
pub async fn campaign(
    State(state): State<AppState>,
    me: Identity,
    Path(name): Path<String>,
) -> Response {
    let snap = state.catalog.snapshot();
    let eval = evaluation(&state, &snap);
    let Some(c) = eval.campaign(model::entity_ref::DEFAULT_NAMESPACE, &name) else {
        let layout = Layout::new("Not found", "scorecards", &snap, &me);
        return crate::pages::not_found(layout, format!("No campaign named {name}"));
    };
    let today = eval.now.date_naive();
    let named = Teams::new(&snap);
    let report = match Progress::of(&state.catalog)
        .report(c, today, eval.now.timestamp_millis())
        .await
    {
        Ok(v) => v,
        Err(e) => {
            // The page still shows today's standing; only the history is missing.
            tracing::error!(error = %e, "reading campaign history");
            scorecards::CampaignReport::default()
        }
    };
    let finished_at = &report.finished;
    let most_improved = report
        .most_improved
        .as_ref()
        .map(|(team, drop)| (named.of(Some(team)), *drop));
    let points: Vec<Point> = report
        .history
        .iter()
        .filter_map(|d| {
            Some(Point {
                day: NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?,
                failing: d.failing,
                demo: d.source == "demo",
            })
        })
        .collect();
    let demo_until = points
        .iter()
        .any(|p| p.demo)
        .then(|| points.iter().find(|p| !p.demo).map(|p| p.day.to_string()))
        .flatten();
    let chart = match (c.campaign.start, c.campaign.deadline) {
        (Some(start), Some(deadline)) if c.phase(today) != Phase::NotStarted => Some(
            charts::burndown(start, deadline, today, c.total() as i64, &points),
        ),
        _ => None,
    };
    let when = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.date_naive().to_string())
            .unwrap_or_default()
    };
    let progress = |t: &scorecards::CampaignTeam| TeamProgress {
        team: named.of(t.owner.as_deref()),
        share: Share::new(t.passing, t.total),
        finished: finished_at
            .iter()
            .find(|(f, _)| Some(f) == t.owner.as_ref())
            .map(|(_, at)| when(*at)),
    };
    let mut teams: Vec<TeamProgress> = c.teams.iter().map(progress).collect();
    // The furthest from done first: that is where help is needed.
    teams.sort_by(|a, b| {
        (a.share.percent, a.team.name.to_lowercase())
            .cmp(&(b.share.percent, b.team.name.to_lowercase()))
    });
    let finished = finished_at
        .iter()
        .filter_map(|(team, at)| {
            let t = c.teams.iter().find(|t| t.owner.as_deref() == Some(team))?;
            Some(TeamProgress {
                finished: Some(when(*at)),
                ..progress(t)
            })
        })
        .collect();
    let failing = c
        .entities
        .iter()
        .filter(|e| !e.passing())
        .take(FAILING_SHOWN)
        .filter_map(|e| {
            Some(Failing {
                link: RefLink::parse(&snap, &e.entity_ref, None)?,
                team: named.of(e.owner.as_deref()),
                checks: c
                    .checks
                    .iter()
                    .zip(&e.checks)
                    .filter(|(_, r)| !r.passed)
                    .map(|(k, _)| k.title.clone())
                    .collect(),
            })
        })
        .collect();
    crate::pages::render(&CampaignPage {
        layout: Layout::new(c.campaign.display_name(), "scorecards", &snap, &me),
        row: campaign_row(c, today),
        description: c.campaign.description.clone().unwrap_or_default(),
        owner: c
            .campaign
            .owner
            .as_deref()
            .map(|o| Team::of(&snap, Some(o))),
        start: c.campaign.start.map(|d| d.to_string()).unwrap_or_default(),
        checks: c
            .checks
            .iter()
            .map(|k| CheckAsked {
                reference: k.reference.clone(),
                title: k.title.clone(),
                fix_is_link: super::fix_is_link(k.fix.as_deref()),
                fix: k.fix.clone(),
                error: k.error.clone(),
            })
            .collect(),
        chart,
        demo_until,
        most_improved,
        finished,
        teams,
        failing,
    })
}
