//! The HTTP face of Stagedoor: the route table (`router.rs`), the Backstage-compatible catalog
//! API, the pages by capability (`pages/`), who is asking (`auth.rs`) and error envelopes.

mod api_error;
mod auth;
mod catalog_api;
mod pages;
mod params;
mod router;

use std::sync::Arc;

use catalog::Catalog;

pub use api_error::ApiError;
pub use router::router;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
}

/// Serves the router on `listener` until `shutdown` completes, letting in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
