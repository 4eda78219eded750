//! The accept loop: bounded connections, a deadline for request headers, graceful shutdown.
//!
//! `axum::serve` reads headers without a deadline and accepts until the process runs out of file
//! descriptors, so a few thousand silent sockets stop every other client. Here each connection
//! must send its request headers within [`ServeLimits::header_read_timeout`] (also between
//! keep-alive requests), and at most [`ServeLimits::max_connections`] are open: when full, the
//! oldest connection that has not sent a request yet makes room, and if every connection is busy
//! the new one is closed at once.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::AppState;
use crate::body_deadline::Deadline;
use crate::framework_errors::Enveloped;

/// How much the server lets clients hold.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Time a connection has to send a request's headers, from when it opens or its previous
    /// response was written.
    pub header_read_timeout: Duration,
    /// Time a request's body has to arrive in full, from when its headers did.
    pub body_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Time in-flight requests get to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: default_max_connections(),
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// Leaves room under the process's descriptor limit for the database, files and URL reads: an
/// `accept` failing for want of descriptors would refuse everyone, a full cap only the idle.
fn default_max_connections() -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    (soft_limit.saturating_sub(256) * 3 / 4).clamp(64, 10_000)
}

/// Connections shed beyond the cap may still be closing; past this many more, new ones are refused.
const SHED_SLACK: usize = 64;

/// Open connections, and those that have not sent a request yet (oldest first).
#[derive(Default)]
struct Slots {
    open: usize,
    next_id: u64,
    unused: BTreeMap<u64, oneshot::Sender<()>>,
}

/// Gives a connection's slot back however its task ends.
struct SlotGuard {
    slots: Arc<Mutex<Slots>>,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut s = self.slots.lock().expect("slots lock");
        s.open -= 1;
        s.unused.remove(&self.id);
    }
}

/// Takes a slot for a new connection, shedding the oldest unused one when full; `None` when
/// every connection is busy.
fn admit(slots: &Arc<Mutex<Slots>>, cap: usize) -> Option<(SlotGuard, oneshot::Receiver<()>)> {
    let mut s = slots.lock().expect("slots lock");
    if s.open >= cap {
        if s.open >= cap + SHED_SLACK {
            return None;
        }
        let (_, tx) = s.unused.pop_first()?;
        let _ = tx.send(());
    }
    s.open += 1;
    s.next_id += 1;
    let id = s.next_id;
    let (tx, rx) = oneshot::channel();
    s.unused.insert(id, tx);
    Some((
        SlotGuard {
            slots: slots.clone(),
            id,
        },
        rx,
    ))
}

/// The router as a hyper service that marks its connection as used at the first request.
#[derive(Clone)]
struct Tracked {
    inner: TowerToHyperService<axum::Router>,
    slots: Arc<Mutex<Slots>>,
    id: u64,
    used: Arc<AtomicBool>,
    body_timeout: Duration,
}

type Inner = TowerToHyperService<axum::Router>;
type Request = hyper::Request<Deadline<hyper::body::Incoming>>;

/// The most a request's head (target and headers) may hold. hyper's own limit is on its read
/// buffer, so a head that arrives in one large read can pass it (a 500 KB header was sometimes
/// served): this limit is exact, and below hyper's (about 400 KiB), so either gives a 431.
pub const MAX_HEAD_BYTES: usize = 256 * 1024;

/// The size of a request's head as sent: its target and each header line.
fn head_bytes<B>(req: &hyper::Request<B>) -> usize {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    req.headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + target
}

/// 431 in Backstage's error envelope, closing the connection as hyper does for its own 431.
fn head_too_large(method: &str, url: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let e = crate::ApiError::new(
        hyper::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "InputError",
        format!("Request headers are too large (at most 100 headers and {MAX_HEAD_BYTES} bytes)"),
    );
    let mut response = (e.status, axum::Json(e.envelope(method, url))).into_response();
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Tracked {
    type Response = <Inner as hyper::service::Service<Request>>::Response;
    type Error = <Inner as hyper::service::Service<Request>>::Error;
    type Future = futures_util::future::Either<
        std::future::Ready<Result<Self::Response, Self::Error>>,
        <Inner as hyper::service::Service<Request>>::Future,
    >;

    fn call(&self, req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        if !self.used.swap(true, Ordering::AcqRel) {
            self.slots
                .lock()
                .expect("slots lock")
                .unused
                .remove(&self.id);
        }
        if head_bytes(&req) > MAX_HEAD_BYTES {
            let (method, url) = (req.method().to_string(), req.uri().to_string());
            return futures_util::future::Either::Left(std::future::ready(Ok(head_too_large(
                &method, &url,
            ))));
        }
        futures_util::future::Either::Right(
            self.inner
                .call(req.map(|body| Deadline::new(body, self.body_timeout))),
        )
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets
/// in-flight requests finish for up to `limits.shutdown_grace`, and drops what is left.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    let slots = Arc::new(Mutex::new(Slots::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to be given back.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((guard, shed)) = admit(&slots, limits.max_connections) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = Tracked {
            inner: TowerToHyperService::new(router.clone()),
            slots: slots.clone(),
            id: guard.id,
            used: Arc::new(AtomicBool::new(false)),
            body_timeout: limits.body_read_timeout,
        };
        let conn = builder.serve_connection(TokioIo::new(Enveloped::new(stream)), service);
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _guard = guard;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                // Err: the sender was dropped because the connection was used; not a shed.
                Ok(()) = shed => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            // Closes at once when idle, after the current response otherwise.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = tasks.len(),
            "shutdown grace over; closing connections with requests still running"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// Serves the whole app with `limits`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServeLimits,
) -> std::io::Result<()> {
    serve_router(listener, crate::router(state), shutdown, limits).await
}
