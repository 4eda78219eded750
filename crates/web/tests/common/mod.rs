//! Shared by the web crate's integration tests: a catalog on a test database, served over real
//! HTTP on a free loopback port.

use std::sync::Arc;

use catalog::CatalogSettings;
use store::testing::TestDb;

/// Opens a catalog with `settings` on `db` and serves it; returns the base URL and the catalog.
pub async fn serve(settings: CatalogSettings, db: &TestDb) -> (String, Arc<catalog::Catalog>) {
    let catalog = catalog::Catalog::connect(settings, db.url()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = web::AppState {
        catalog: catalog.clone(),
    };
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    (base, catalog)
}
