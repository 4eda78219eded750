//! ${{ values.description }}

use axum::{routing::get, Router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let kit = rust_service_kit::init("${{ values.name }}")?;

    let app = Router::new()
        .route("/", get(|| async { "${{ values.name }} is running" }))
        .merge(kit.health_routes());

    kit.serve(app, ${{ values.port }}).await
}
