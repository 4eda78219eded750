//! The web crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

mod analytics_api;
mod api_bad_input;
#[allow(dead_code)] // each suite uses its own part
mod common;
mod discovery_api;
mod discovery_hosts;
mod docs_pages;
mod hardening;
mod org_import_api;
mod repo_url_picker;
mod scaffolder_api;
mod scaffolder_pages;
mod scorecards_api;
mod search_api;
mod server_limits;
