//! Docs pages: the docs home (documented entities with owner and freshness, and what each team
//! has left undocumented), the TechDocs reader at Backstage's route
//! (`/docs/{namespace}/{kind}/{name}/{*path}`) with its nav and table of contents, the docs'
//! files at Backstage's static route, and the Docs card on the entity page.

pub mod home;
pub mod reader;

use std::time::SystemTime;

use ::docs::{Docs, EntityDocs};
use catalog::Catalog;
use catalog::read::Snapshot;

/// A build problem as pages show it: `file:line` and what is wrong.
pub struct ProblemLine {
    pub place: String,
    pub message: String,
}

impl ProblemLine {
    fn of(p: &::docs::Problem) -> Self {
        ProblemLine {
            place: match p.line {
                Some(l) => format!("{}:{l}", p.file),
                None => p.file.clone(),
            },
            message: p.message.clone(),
        }
    }
}

/// At most this many problems are listed on a page; the count says how many there are.
const SHOWN_PROBLEMS: usize = 20;

/// The Docs card of an entity page.
pub struct DocsSection {
    /// The reader URL, when a build exists.
    pub href: Option<String>,
    pub site_name: String,
    pub pages: usize,
    pub freshness: String,
    /// The latest build's failure (the last good build stays served).
    pub error: Option<ProblemLine>,
    pub problems: Vec<ProblemLine>,
    pub problem_count: usize,
    /// The techdocs-ref as written.
    pub reference: String,
}

impl DocsSection {
    /// The card for the entity with this key, when it has docs (or a techdocs-ref that failed).
    pub fn of(catalog: &Catalog, key: &str) -> Option<DocsSection> {
        let entry = Docs::of(catalog).entity(key)?;
        Some(Self::from_entry(&entry))
    }

    fn from_entry(entry: &EntityDocs) -> DocsSection {
        let site = entry.site.as_ref();
        let problems = site.map(|s| s.problems.as_slice()).unwrap_or_default();
        DocsSection {
            href: site.map(|s| s.urls.pages.clone()),
            site_name: site.map(|s| s.site_name.clone()).unwrap_or_default(),
            pages: site.map_or(0, |s| s.pages.len()),
            freshness: entry.source_changed().map(ago).unwrap_or_default(),
            error: entry.error.as_ref().map(ProblemLine::of),
            problem_count: problems.len(),
            problems: problems
                .iter()
                .take(SHOWN_PROBLEMS)
                .map(ProblemLine::of)
                .collect(),
            reference: entry.reference().to_owned(),
        }
    }
}

/// The tag that marks docs for newcomers: the home page links the first such entity's docs.
const ONBOARDING_TAG: &str = "onboarding";

/// (reader URL, site name) of the first built docs whose entity is tagged `onboarding`.
pub fn onboarding(catalog: &Catalog, snap: &Snapshot) -> Option<(String, String)> {
    Docs::of(catalog).entities().into_iter().find_map(|entry| {
        let site = entry.site.as_ref()?;
        let entity = snap.entity(entry.entity_ref())?;
        entity
            .tags()
            .any(|t| t.eq_ignore_ascii_case(ONBOARDING_TAG))
            .then(|| (site.urls.pages.clone(), site.site_name.clone()))
    })
}

/// "3 days ago", "just now": how long since `t`.
pub fn ago(t: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (n, unit) = match secs {
        0..60 => return "just now".to_owned(),
        60..3_600 => (secs / 60, "minute"),
        3_600..86_400 => (secs / 3_600, "hour"),
        86_400..2_592_000 => (secs / 86_400, "day"),
        2_592_000..31_536_000 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}
