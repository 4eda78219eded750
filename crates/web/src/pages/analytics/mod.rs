//! The adoption dashboard (`/adoption`, "Adoption" in the main navigation): active engineers
//! over time, adoption by team with phase and the chasm, use per feature, what teams past the
//! chasm use, search success and template reach — each chart beside a table of the same
//! figures, each figure with how it is computed. `?group=<ref>` shows one group. And
//! [`record`], the middleware that records page views.

mod charts;
pub mod record;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{Days, Utc};

use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view::RefLink;

/// Days the activity chart covers.
const DAYS: u64 = 90;

pub struct SeriesRow {
    pub date: String,
    pub dau: usize,
    pub wau: usize,
    pub mau: usize,
}

pub struct TeamView {
    pub name: String,
    pub href: String,
    pub kind: String,
    pub engineers: String,
    pub mau: String,
    pub percent: String,
    pub phase: String,
    pub chasm: bool,
}

pub struct FeatureView {
    pub label: String,
    pub users: usize,
    pub percent: String,
}

pub struct CohortView {
    pub week: String,
    pub size: String,
    pub cells: Vec<String>,
}

/// A feature newcomers found: how many of them, and after how many days (median).
pub struct FirstUseView {
    pub label: String,
    pub users: usize,
    pub percent: String,
    pub median_days: i64,
}

pub struct StepView {
    pub title: String,
    pub engineers: usize,
    pub percent: String,
}

pub struct PeerView {
    pub label: String,
    pub peer: String,
    pub own: String,
}

#[derive(askama::Template)]
#[template(path = "analytics/adoption.html")]
struct Dashboard {
    layout: Layout,
    name: String,
    group_link: Option<RefLink>,
    date: String,
    series_from: String,
    k: usize,
    population: String,
    demo: Option<(String, String)>,
    summary: analytics::Summary,
    mau_percent: String,
    dau_percent: String,
    wau_percent: String,
    lines_svg: Option<String>,
    series: Vec<SeriesRow>,
    teams_svg: Option<String>,
    teams: Vec<TeamView>,
    features_svg: Option<String>,
    features: Vec<FeatureView>,
    peers: Vec<PeerView>,
    cohorts: Vec<CohortView>,
    newcomers: Option<usize>,
    first_use: Vec<FirstUseView>,
    steps: Vec<StepView>,
    complete: String,
    search_percent: Option<String>,
    reach_percent: Option<String>,
}

fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// `GET /adoption[?group=<ref>]`.
pub async fn page(State(s): State<AppState>, me: Identity, RawQuery(q): RawQuery) -> Response {
    let snap = s.catalog.snapshot();
    let layout = Layout::new("Adoption", "adoption", &snap, &me);
    let pairs = crate::params::pairs(q.as_deref());
    let group = crate::params::one(&pairs, "group")
        .filter(|g| !g.is_empty())
        .and_then(|g| model::EntityRef::parse(g, Some("group"), "default").ok());
    let key = group.as_ref().map(|g| g.key());
    let recorder = analytics::Recorder::of(&s.catalog);
    let today = Utc::now().date_naive();
    let settings = recorder.settings();
    let summary = match recorder.summary(&snap, key.as_deref(), today).await {
        Ok(sum) => sum,
        Err(analytics::MeasureError::UnknownGroup(g)) => {
            return crate::pages::not_found(layout, format!("No group named {g}"));
        }
        Err(e) => {
            tracing::error!(error = %e, "adoption dashboard");
            return crate::pages::not_found(layout, "Adoption figures are unavailable".into());
        }
    };
    let from = today - Days::new(DAYS - 1);
    let series = recorder
        .series(&snap, key.as_deref(), from, today)
        .await
        .ok();
    let points = series.as_ref().map(|s| s.points.as_slice()).unwrap_or(&[]);
    let lines_svg = charts::lines(
        "Active engineers per day (DAU), 7 days (WAU) and 28 days (MAU)",
        from,
        &[
            ("DAU", "level-1", points.iter().map(|p| p.dau).collect()),
            ("WAU", "level-2", points.iter().map(|p| p.wau).collect()),
            ("MAU", "level-3", points.iter().map(|p| p.mau).collect()),
        ],
        summary.engineers,
    )
    .filter(|_| !points.is_empty());
    // The table beside the chart: one row a week, newest first.
    let series_rows = points
        .iter()
        .rev()
        .step_by(7)
        .map(|p| SeriesRow {
            date: p.date.to_string(),
            dau: p.dau,
            wau: p.wau,
            mau: p.mau,
        })
        .collect();
    let team_rows = recorder.teams(&snap, today).await.unwrap_or_default();
    let teams: Vec<TeamView> = team_rows
        .iter()
        .filter(|t| {
            key.as_deref()
                .is_none_or(|k| t.parent.as_deref() == Some(k) || t.group == k)
        })
        .map(|t| TeamView {
            name: t.name.clone(),
            href: format!(
                "/adoption?group={}",
                form_urlencoded::byte_serialize(t.group.as_bytes()).collect::<String>()
            ),
            kind: t.kind.clone(),
            engineers: t.engineers.map_or("–".into(), |n| n.to_string()),
            mau: t.mau.map_or("–".into(), |n| n.to_string()),
            percent: t.mau_share.map_or("withheld".into(), pct),
            phase: t.phase.map_or("–".into(), |p| format!("{} %", p.as_str())),
            chasm: t.chasm == Some(true),
        })
        .collect();
    let shown: Vec<(String, f64, String)> = team_rows
        .iter()
        .filter(|t| {
            key.as_deref()
                .is_none_or(|k| t.parent.as_deref() == Some(k) || t.group == k)
        })
        .filter_map(|t| {
            let share = t.mau_share?;
            let class = format!(
                "phase-{}{}",
                t.phase.map_or(0, analytics::Phase::rank),
                if t.chasm == Some(true) { " chasm" } else { "" }
            );
            Some((t.name.clone(), share, class))
        })
        .collect();
    let teams_svg = (!shown.is_empty()).then(|| {
        charts::bars(
            "Monthly active share per group",
            &shown,
            Some((0.5, "50 % — the chasm")),
        )
    });
    let mut feature_rows: Vec<(&String, &analytics::FeatureUse)> =
        summary.features.iter().collect();
    feature_rows.sort_by(|a, b| b.1.users.cmp(&a.1.users).then_with(|| a.0.cmp(b.0)));
    let features_svg = (!feature_rows.is_empty()).then(|| {
        let rows: Vec<(String, f64, String)> = feature_rows
            .iter()
            .map(|(_, u)| (u.label.clone(), u.share, "feature".to_owned()))
            .collect();
        charts::bars(
            "Share of engineers using each feature in 28 days",
            &rows,
            None,
        )
    });
    let features = feature_rows
        .iter()
        .map(|(_, u)| FeatureView {
            label: u.label.clone(),
            users: u.users,
            percent: pct(u.share),
        })
        .collect();
    let peers = summary
        .peer_features
        .iter()
        .map(|p| PeerView {
            label: p.label.clone(),
            peer: pct(p.peer_share),
            own: pct(p.share),
        })
        .collect();
    let cohorts = summary
        .retention
        .iter()
        .map(|c| CohortView {
            week: c.week.to_string(),
            size: c.size.map_or("withheld".into(), |n| n.to_string()),
            cells: c.retained.iter().map(|s| pct(*s)).collect(),
        })
        .collect();
    let newcomers = summary.newcomers;
    let first_use = summary
        .first_use
        .iter()
        .map(|f| FirstUseView {
            label: f.label.clone(),
            users: f.users,
            percent: pct(f.share),
            median_days: f.median_days,
        })
        .collect();
    let checklist = recorder.group_checklist(&snap, key.as_deref()).await.ok();
    let steps = checklist
        .iter()
        .flat_map(|c| &c.steps)
        .filter_map(|s| {
            Some(StepView {
                title: s.title.clone(),
                engineers: s.engineers?,
                percent: pct(s.share?),
            })
        })
        .collect();
    let complete = checklist
        .as_ref()
        .and_then(|c| Some(format!("{} ({})", c.complete?, pct(c.complete_share?))))
        .unwrap_or_default();
    let page = Dashboard {
        layout,
        name: summary.name.clone(),
        group_link: group.as_ref().map(|g| RefLink::new(&snap, g)),
        date: today.to_string(),
        series_from: from.to_string(),
        k: settings.k_threshold,
        population: if settings.population_text.is_empty() {
            "every User in the catalog".into()
        } else {
            format!("catalog Users matching {}", settings.population_text)
        },
        demo: recorder.demo_range(),
        mau_percent: summary.mau_share.map_or_else(String::new, pct),
        dau_percent: summary.dau_share.map_or_else(String::new, pct),
        wau_percent: summary.wau_share.map_or_else(String::new, pct),
        search_percent: summary
            .search_success
            .as_ref()
            .and_then(|s| s.share)
            .map(pct),
        reach_percent: summary.template_reach.as_ref().map(|t| pct(t.share)),
        summary,
        lines_svg,
        series: series_rows,
        teams_svg,
        teams,
        features_svg,
        features,
        peers,
        cohorts,
        newcomers,
        first_use,
        steps,
        complete,
    };
    crate::pages::render(&page)
}
