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
        thread_caches_mib = mib(thread_cache_bytes()),
        rss_mib = rss_kib() / 1024,
        "memory"
    );
}

/// Freed blocks that threads keep for reuse, all threads together.
fn thread_cache_bytes() -> tikv_jemalloc_ctl::Result<usize> {
    use tikv_jemalloc_ctl::{Access, AsName};
    // 4096 is MALLCTL_ARENAS_ALL: the sum over arenas.
    b"stats.arenas.4096.tcache_bytes\0".name().read()
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

/// Gives this thread's cached freed blocks back to the allocator if it has not done so for a
/// second; called when a runtime thread runs out of work. A thread only sorts out its cache
/// while it allocates, so the runtime's threads kept what a round or a burst of requests freed
/// through them for as long as they stayed idle (2-3 MiB at N = 10,000). Once a second at most,
/// so a busy server pays nothing measurable.
pub fn release_thread_cache() {
    use std::cell::Cell;
    use std::time::Instant;
    use tikv_jemalloc_ctl::{Access, AsName};
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    let now = Instant::now();
    if LAST
        .get()
        .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
    {
        return;
    }
    LAST.set(Some(now));
    // Turning the cache off flushes it; turning it back on starts an empty one. A thread
    // without one (`MALLOC_CONF=tcache:false`) is left so.
    let enabled = b"thread.tcache.enabled\0".name();
    if enabled.read() == Ok(true) {
        let _ = enabled.write(false);
        let _ = enabled.write(true);
    }
}
