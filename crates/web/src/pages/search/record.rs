//! Where searches and opened results are recorded as usage events (`search`, then `discover`
//! with the rank opened), so the adoption dashboard can measure search success: how often a
//! search is followed by opening a result, and at which rank. Only signed-in people are
//! recorded: events count towards a catalog User.

use analytics::{Event, Recorder};
use catalog::Catalog;
use search::Query;

/// A search was made: from the search page (`surface` = `"page"`: loaded, submitted, a tab or
/// page followed) or the API (`"api"`). The header box's suggestions and the page's live
/// updates while typing are not recorded: each pause in typing would count as a search.
pub fn search_made(
    catalog: &Catalog,
    query: &Query,
    results: usize,
    surface: &'static str,
    user: Option<&str>,
) {
    tracing::debug!(target: "stagedoor::search", term = %query.term, results, surface, "search");
    // A later page of the same results is the same search, not another one.
    if query.page > 0 {
        return;
    }
    if let Some(user) = user {
        Recorder::of(catalog).record(
            Event::server(user, "search", &query.term, "search")
                .with_value(results as f64)
                .with_attribute("surface", surface),
        );
    }
}

/// A result was opened: its 1-based `rank` in the results of `term`, and where it led.
pub fn result_opened(catalog: &Catalog, term: &str, rank: usize, to: &str, user: Option<&str>) {
    tracing::debug!(target: "stagedoor::search", term, rank, to, "search result opened");
    if let Some(user) = user {
        Recorder::of(catalog).record(
            Event::server(user, "discover", to, "search")
                .with_value(rank as f64)
                .with_attribute("term", term),
        );
    }
}
