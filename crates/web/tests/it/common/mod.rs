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

/// GET `url` and read the body as JSON; any failure fails the test. (Not every test file uses
/// every helper.)
#[allow(dead_code)]
pub async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// GET `url` and read the body as text; any failure fails the test.
#[allow(dead_code)]
pub async fn get_text(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}
