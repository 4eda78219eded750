//! Scorecards: maturity checks written as CEL over catalog entities, levels reached per entity,
//! and counts per owning team. Reads the catalog only through `catalog::read`; no HTTP, no HTML.
//!
//! A Scorecard entity (kind `Scorecard`, validated in `model::validate::stagedoor_kinds`) says
//! which entities it applies to (a Backstage filter), its ordered levels and its checks. The
//! evaluation of every scorecard over one snapshot is an [`Evaluation`], kept in
//! `Snapshot::derived` so it is computed once per published catalog state and dropped with it.

mod campaign;
mod definition;
mod evaluate;
mod facts;
mod progress;
mod summary;

pub use campaign::{Campaign, CampaignCheck, CampaignEntity, CampaignStatus, CampaignTeam, Phase};
pub use definition::{CheckDef, Scorecard};
pub use evaluate::{CheckResult, EntityScore, Evaluation};
pub use facts::Facts;
pub use progress::{CampaignEvent, Progress, point};
pub use store::CampaignDay;
pub use summary::{Counts, PassFail, Summary, TeamCounts};

/// The evaluation of every scorecard over this snapshot, built on first use.
pub fn evaluation(snapshot: &catalog::read::Snapshot) -> std::sync::Arc<Evaluation> {
    snapshot.derived(|s| Evaluation::build(s, chrono::Utc::now().fixed_offset()))
}

#[cfg(test)]
mod tests;
