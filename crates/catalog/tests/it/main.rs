//! The catalog crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

#[allow(dead_code)] // each suite uses its own part
mod common;
mod engine;
mod outage;
mod read_seam;
mod source_safety;
