//! The scaffolder crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

mod corpus;
mod expressions;
mod http_request;
mod memory_workspace;
mod publish_git;
mod publish_hosted;
mod security;
mod step_conditions;
#[allow(dead_code)] // each suite uses its own part
mod support;
