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
mod push;
mod state;
mod summary;

pub use campaign::{Campaign, CampaignCheck, CampaignEntity, CampaignStatus, CampaignTeam, Phase};
pub use definition::{CheckDef, Exemption, Scorecard};
pub use evaluate::{CheckResult, EntityScore, Evaluation};
pub use facts::Facts;
pub use progress::{CampaignEvent, CampaignReport, Progress, point};
pub use push::{MAX_BATCH, PushError, PushOutcome, Rejected, push};
pub use state::{Pushed, State};
pub use store::CampaignDay;
pub use summary::{Counts, GroupCounts, PassFail, RollUp, Summary, TeamCounts};

/// The evaluation of every scorecard of `catalog` over `snapshot` (one of its snapshots), now:
/// kept until the catalog, the pushed facts or the day change, and then built again from the
/// previous one, so only what changed is evaluated. Can take seconds on a large catalog the
/// first time: call it off the async workers.
pub fn evaluation(
    catalog: &catalog::Catalog,
    snapshot: &std::sync::Arc<catalog::read::Snapshot>,
) -> std::sync::Arc<Evaluation> {
    state::State::of(catalog).evaluation(snapshot, chrono::Utc::now().fixed_offset())
}

#[cfg(test)]
mod tests;
