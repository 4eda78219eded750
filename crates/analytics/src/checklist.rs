//! The onboarding checklist: features a person unlocks, each detected from their recorded use
//! (a feature used at least once in the 430 days held) or from the catalog (they, or a team
//! they are a member of, own something), with the next step to take; and per group, the share
//! of engineers who have unlocked each step. Configurable (`analytics.checklist`).

use serde::Serialize;

use crate::activity::Activity;
use crate::org::Org;

/// How a step is detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detect {
    /// The person used this feature (as events count it: `catalog`, `docs`, `template-run`, …).
    Feature(String),
    /// The person, or a group they are a direct member of, owns an entity.
    Owns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// What to do to unlock it.
    pub how: String,
    /// Where to start.
    pub href: String,
    pub detect: Detect,
}

fn step(id: &str, title: &str, how: &str, href: &str, detect: Detect) -> Step {
    Step {
        id: id.into(),
        title: title.into(),
        how: how.into(),
        href: href.into(),
        detect,
    }
}

/// The checklist when none is configured: the adoption path, catalog → docs and search →
/// scorecards → templates, and owning something.
pub fn default_steps() -> Vec<Step> {
    let f = |s: &str| Detect::Feature(s.into());
    vec![
        step(
            "sign-in",
            "Sign in",
            "Sign in so the portal knows your teams.",
            "/sign-in",
            f("sign-in"),
        ),
        step(
            "catalog",
            "Find a service in the catalog",
            "Open the catalog and look up a service you work with.",
            "/catalog",
            f("catalog"),
        ),
        step(
            "owns",
            "Own something in the catalog",
            "Make sure your team's software names your team as owner in its catalog-info.yaml.",
            "/ownership",
            Detect::Owns,
        ),
        step(
            "search",
            "Search",
            "Search for a service, an API or a docs page.",
            "/catalog",
            f("search"),
        ),
        step(
            "docs",
            "Read the docs",
            "Open the docs of a service your team depends on.",
            "/catalog?kind=component",
            f("docs"),
        ),
        step(
            "scorecards",
            "Check your team's scorecard",
            "See what your team must fix to reach the next level.",
            "/scorecards",
            f("scorecards"),
        ),
        step(
            "template-run",
            "Create something from a template",
            "Start a new service from a software template.",
            "/create",
            f("template-run"),
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStatus {
    pub id: String,
    pub title: String,
    pub how: String,
    pub href: String,
    pub done: bool,
}

/// One person's checklist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checklist {
    pub user: String,
    pub steps: Vec<StepStatus>,
    pub done: usize,
    pub total: usize,
    /// The first step not yet done.
    pub next: Option<StepStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepShare {
    pub id: String,
    pub title: String,
    pub engineers: Option<usize>,
    pub share: Option<f64>,
}

/// A group's (or the organisation's) progress through the checklist.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupChecklist {
    pub group: Option<String>,
    pub engineers: Option<usize>,
    pub steps: Vec<StepShare>,
    /// Engineers who have done every step.
    pub complete: Option<usize>,
    pub complete_share: Option<f64>,
    pub withheld: Option<String>,
}

/// Which steps `user` has done.
pub fn done(steps: &[Step], activity: &Activity, org: &Org, user: &str) -> Vec<bool> {
    let used = activity
        .users
        .get(user)
        .map_or(0u64, |days| days.iter().fold(0, |m, (_, d)| m | d.features));
    steps
        .iter()
        .map(|s| match &s.detect {
            Detect::Feature(f) => activity
                .feature_bit(f)
                .is_some_and(|b| used & (1 << b) != 0),
            Detect::Owns => org.owns(user),
        })
        .collect()
}

pub fn of_user(steps: &[Step], activity: &Activity, org: &Org, user: &str) -> Checklist {
    let flags = done(steps, activity, org, user);
    let statuses: Vec<StepStatus> = steps
        .iter()
        .zip(&flags)
        .map(|(s, d)| StepStatus {
            id: s.id.clone(),
            title: s.title.clone(),
            how: s.how.clone(),
            href: s.href.clone(),
            done: *d,
        })
        .collect();
    Checklist {
        user: user.to_owned(),
        done: flags.iter().filter(|d| **d).count(),
        total: steps.len(),
        next: statuses.iter().find(|s| !s.done).cloned(),
        steps: statuses,
    }
}

pub fn of_group(
    steps: &[Step],
    activity: &Activity,
    org: &Org,
    group: Option<&str>,
    members: &[String],
    withheld: Option<String>,
) -> GroupChecklist {
    let n = members.len();
    let shown = withheld.is_none();
    let mut counts = vec![0usize; steps.len()];
    let mut complete = 0;
    if shown {
        for u in members {
            let flags = done(steps, activity, org, u);
            for (c, d) in counts.iter_mut().zip(&flags) {
                *c += usize::from(*d);
            }
            complete += usize::from(flags.iter().all(|d| *d));
        }
    }
    let share = |c: usize| ((c as f64 / n.max(1) as f64) * 1000.0).round() / 1000.0;
    GroupChecklist {
        group: group.map(str::to_owned),
        engineers: shown.then_some(n),
        steps: steps
            .iter()
            .zip(counts)
            .map(|(s, c)| StepShare {
                id: s.id.clone(),
                title: s.title.clone(),
                engineers: shown.then_some(c),
                share: shown.then(|| share(c)),
            })
            .collect(),
        complete: shown.then_some(complete),
        complete_share: shown.then(|| share(complete)),
        withheld,
    }
}
