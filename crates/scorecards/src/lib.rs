//! Scorecards and campaigns: maturity checks written as CEL over catalog entities, the levels
//! entities reach, counts per team rolled up along the group hierarchy, campaigns with deadlines,
//! and results and progress over time. Reads the catalog through `catalog::read`, keeps its state
//! in `Catalog::state` and its tables in `Catalog::database`; no HTTP, no HTML.
//!
//! A Scorecard entity (kind `Scorecard`, validated in `model::validate::stagedoor_kinds`) says
//! which entities it applies to (a Backstage filter), its ordered levels, its checks and its
//! exemptions; a Campaign names checks every team must pass by a date. The evaluation of every
//! scorecard and campaign over one snapshot is an [`Evaluation`]; the latest is kept per catalog
//! ([`State`]) until the catalog, the pushed facts or the day change, and the next is built from
//! it, evaluating only what changed. [`Progress`] writes what must outlive the process.

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
pub use progress::{CampaignEvent, CampaignReport, DayTotals, Progress};
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
