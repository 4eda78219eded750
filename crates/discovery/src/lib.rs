//! Discovery: finding the organisation's repositories, what each holds, which are in the
//! catalog, and a proposed catalog entity for each that is not. Reads local git repositories
//! with gix from their object stores (no checkout) and GitHub organisations and GitLab groups
//! through their REST APIs (crate `forge`, see [`HostSource`]), registers the catalog files it
//! finds through the catalog's public operations, and counts catalog completeness per team. No
//! HTTP server, no HTML.
//!
//! [`scan`] reads repositories ([`Repository`] records); [`propose`] makes a [`Proposal`] for one
//! without a catalog file and [`commit_proposal`] writes it on a new branch (for a hosted
//! repository [`open_change_request`] opens a pull or merge request); [`sync`] keeps the
//! catalog in step with the configured sources ([`run`] on a schedule), and [`Completeness`]
//! counts, per team, what is found and what is cataloged. [`State`] holds the latest of each.

mod analyze;
pub mod codeowners;
mod completeness;
mod directory;
mod docs_mirror;
pub mod generate;
mod hosted;
mod inventory;
pub mod languages;
mod propose;
mod published;
mod scan;
mod state;
mod sync;
#[cfg(feature = "testing")]
pub mod testing;
mod write;
mod yaml;

pub use analyze::{Analysis, AnalyzeError, analyze, analyze_hosted, file_target, location_of};
pub use completeness::{Completeness, Counts, GroupRow, OwnerGap, RepositoryStatus};
pub use directory::Directory;
/// The code-host clients, re-exported so callers configure sources without naming `forge`.
pub use forge::{ChangeRequest, Secret};
pub use hosted::{Host, HostSource, open_change_request};
pub use inventory::{Contributor, Hosted, Repository};
pub use propose::{Guess, Proposal, ProposalError, guess_type, propose, sanitise_name};
pub use published::scan_new_repository;
pub use scan::{Limits, Scan, ScanError, find_repositories, scan};
pub use state::State;
/// One scope's completeness on one day, as recorded (re-exported so `web` never names `store`).
pub use store::CompletenessDay;
pub use sync::{Inventory, Settings, SyncError, mirror_file, run, sync};
pub use write::{BRANCH, WriteError, Written, commit_proposal};
