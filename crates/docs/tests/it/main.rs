//! The docs crate's integration tests, one binary for all of them: each module below was its
//! own test binary once, and linking each against the whole stack cost minutes and gigabytes.

mod bench;
mod builds;
mod memory;
mod mkdocs_config;
mod render;
mod url_sources;

// The server's allocator (crates/stagedoor/src/main.rs), whose statistics `memory` reads: the
// heap it reports is counted as the server's `memory` log line counts it.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
