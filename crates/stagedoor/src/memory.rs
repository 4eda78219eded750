//! A `memory` log line some seconds after each catalog change: what the allocator holds for
//! live data against what the process keeps resident, so an operator (or a benchmark) can tell
//! live data from pages the allocator has not given back.

use std::sync::Arc;
use std::time::Duration;

use tikv_jemalloc_ctl::{epoch, stats};

/// Long enough for the work a change starts (the search index, docs, scorecards) to finish and
/// for the allocator's background thread to return what it freed.
const SETTLE: Duration = Duration::from_secs(10);

/// Logs after the first round and after every later change, once things have settled.
pub async fn run(catalog: Arc<catalog::Catalog>) {
    let mut changes = catalog.subscribe();
    while changes.next().await.is_some() {
        tokio::time::sleep(SETTLE).await;
        log();
    }
}

fn log() {
    // jemalloc's statistics are a snapshot taken when the epoch advances.
    if epoch::advance().is_err() {
        return;
    }
    let mib = |r: Result<usize, _>| r.map(|b| b / (1024 * 1024)).unwrap_or(0);
    tracing::info!(
        allocated_mib = mib(stats::allocated::read()),
        active_mib = mib(stats::active::read()),
        resident_mib = mib(stats::resident::read()),
        metadata_mib = mib(stats::metadata::read()),
        rss_mib = rss_kib() / 1024,
        "memory"
    );
}

/// `VmRSS` of this process, from `/proc` (0 where there is none).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
