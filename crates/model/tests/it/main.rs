//! The model crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

mod node_corpus;
mod stagedoor_kinds;
