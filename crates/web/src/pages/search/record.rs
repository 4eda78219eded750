//! Where searches and opened results are recorded, so search success can be measured (found
//! what they looked for, at which rank). Only logged for now.
//!
//! LEAD: wire the analytics recorder (`crates/analytics`) into these two functions; every
//! caller already passes what a search event needs.

use search::Query;

/// A search was made: from the search page (`surface` = `"page"`: loaded, submitted, a tab or
/// page followed) or the API (`"api"`). The header box's suggestions and the page's live
/// updates while typing are not recorded: each pause in typing would count as a search.
pub fn search_made(query: &Query, results: usize, surface: &'static str, user: Option<&str>) {
    tracing::info!(
        target: "stagedoor::search",
        term = %query.term,
        types = ?query.types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        results,
        page = query.page,
        surface,
        user,
        "search"
    );
}

/// A result was opened: its 1-based `rank` in the results of `term`, and where it led.
pub fn result_opened(term: &str, rank: usize, to: &str, user: Option<&str>) {
    tracing::info!(
        target: "stagedoor::search",
        term,
        rank,
        to,
        user,
        "search result opened"
    );
}
