//! The HTTP face of Stagedoor: the route table (`router.rs`), the Backstage-compatible catalog
//! API, the pages by capability (`pages/`), who is asking (`auth.rs`) and error envelopes.

mod analytics_api;
mod api_error;
mod auth;
mod body_deadline;
mod catalog_api;
mod discovery_api;
mod framework_errors;
mod org_api;
mod pages;
mod params;
mod router;
mod scaffolder_api;
mod scorecards_api;
mod search_api;
mod serve;

use std::sync::Arc;

use catalog::Catalog;

pub use api_error::ApiError;
pub use router::router;
pub use serve::{MAX_HEAD_BYTES, ServeLimits, serve_with};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
}

/// Serves the app on `listener` with the default [`ServeLimits`] until `shutdown` completes,
/// letting in-flight requests finish for a few seconds.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, shutdown, ServeLimits::default()).await
}
