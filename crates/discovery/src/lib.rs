//! Discovery: finding the organisation's repositories, what each holds, which are in the
//! catalog, and a proposed catalog entity for each that is not. Reads local git repositories
//! with gix from their object stores (no checkout), registers the catalog files it finds through
//! the catalog's public operations, and counts catalog completeness per team. No HTTP, no HTML.

pub mod codeowners;
mod directory;
mod inventory;
pub mod languages;
mod propose;
mod scan;
#[cfg(feature = "testing")]
pub mod testing;
mod write;
mod yaml;

pub use directory::Directory;
pub use inventory::{Contributor, Repository};
pub use propose::{Guess, Proposal, ProposalError, guess_type, propose, sanitise_name};
pub use scan::{Limits, Scan, ScanError, find_repositories, scan};
pub use write::{BRANCH, WriteError, Written, commit_proposal};
