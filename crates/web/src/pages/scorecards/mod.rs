//! Scorecard pages: the section on every entity page (for each scorecard that applies, the level
//! reached as a badge, how many checks pass, every failing check with how to fix it), and the
//! scorecard and campaign pages in [`pages`].

pub(crate) mod charts;
pub mod pages;

/// One scorecard as shown on an entity page.
pub struct ScorecardView {
    pub title: String,
    /// The highest level reached, if any.
    pub level: Option<String>,
    /// 1-based rank of `level` among the scorecard's levels (0: none), for the badge's colour.
    pub rank: usize,
    pub levels: Vec<String>,
    pub passing: usize,
    pub total: usize,
    pub failing: Vec<FailingCheck>,
    /// Checks the entity fails but is exempt from: (check title, reason, last day).
    pub exempt: Vec<(String, String, String)>,
}

/// A check the entity does not pass.
pub struct FailingCheck {
    pub title: String,
    pub level: String,
    /// The fix as text, or as a link when it is an http(s) URL.
    pub fix: Option<String>,
    pub fix_is_link: bool,
    /// Why it could not be evaluated, when that is the reason it fails.
    pub error: Option<String>,
}

impl ScorecardView {
    /// `level-1` … for the badge; `level-0` when no level is reached.
    pub fn badge_class(&self) -> String {
        format!("level-{}", self.rank.min(3))
    }
}

/// True when a check's fix is a web address a page may link to (http or https, refused by
/// `safe_href` otherwise), not text to show.
pub(crate) fn fix_is_link(fix: Option<&str>) -> bool {
    fix.and_then(crate::pages::view::safe_href)
        .is_some_and(|url| url.contains("://"))
}

/// Every scorecard that applies to the entity with this key.
pub fn for_entity(eval: &scorecards::Evaluation, key: &str) -> Vec<ScorecardView> {
    eval.for_entity(key)
        .into_iter()
        .map(|(card, score)| {
            let failing = card
                .checks
                .iter()
                .zip(&score.checks)
                .filter(|(_, r)| !r.passed)
                .map(|(c, r)| FailingCheck {
                    title: c.title.clone(),
                    level: c.level.clone(),
                    fix_is_link: fix_is_link(c.fix.as_deref()),
                    fix: c.fix.clone(),
                    error: r.error.clone(),
                })
                .collect::<Vec<_>>();
            let exempt = card
                .checks
                .iter()
                .zip(&score.checks)
                .filter_map(|(c, r)| {
                    let x = r.exempt.as_ref()?;
                    Some((c.title.clone(), x.reason.clone(), x.until.to_string()))
                })
                .collect();
            ScorecardView {
                title: card.display_name().to_owned(),
                level: score.level.map(|l| card.levels[l].clone()),
                rank: score.level.map_or(0, |l| l + 1),
                levels: card.levels.clone(),
                passing: score.checks.len() - failing.len(),
                total: score.checks.len(),
                failing,
                exempt,
            }
        })
        .collect()
}
