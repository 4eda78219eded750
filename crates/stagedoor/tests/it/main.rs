//! The stagedoor crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

mod cli;
#[allow(dead_code)] // each suite uses its own part
mod common;
mod discover_cli;
mod durability;
mod org_import_cli;
mod shutdown;
