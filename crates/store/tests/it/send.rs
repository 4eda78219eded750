//! Compile-time guard: every `Db` method's future must be `Send` when its borrows live inside
//! the caller's own future, as in `tokio::spawn` or an axum handler. A regression here
//! (rust-lang/rust#100013 with sqlx's generic executors) fails the build of this test.

use std::future::Future;

use store::{Db, EntityRow, LocationRow};

fn spawnable<F: Future + Send + 'static>(future: F) -> F {
    future
}

#[test]
fn every_db_future_is_spawnable() {
    // Built, never polled: the check is that this compiles.
    let futures = (spawnable(async {
        let db = Db::connect("sqlite::memory:").await?;
        let loc = LocationRow {
            id: "id".into(),
            kind: "url".into(),
            target: "https://example.com/catalog-info.yaml".into(),
            created_at: 0,
        };
        db.add_location(&loc).await?;
        db.list_locations().await?;
        let id = String::from("id");
        db.get_location(&id).await?;
        db.delete_location(&id).await?;
        let rows: Vec<EntityRow> = db.load_entities().await?;
        let deletes: Vec<String> = rows.iter().map(|r| r.entity_ref.clone()).collect();
        db.apply_entity_changes(&rows, &deletes).await?;
        db.close().await;
        Ok::<_, store::StoreError>(db.dialect())
    }),);
    drop(futures);
}
