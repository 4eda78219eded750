//! Discovery's tables on both databases: repositories kept across scans (missing ones too) and
//! completeness per scope and day.

use store::testing::TestDb;
use store::{CompletenessDay, DiscoveredRow};

store::on_each_database!(discovered_rows_and_completeness_round_trip);

async fn discovered_rows_and_completeness_round_trip(test: TestDb) {
    let db = test.connect().await;
    let row = |path: &str, head: &str| DiscoveredRow {
        path: path.into(),
        head: head.into(),
        record: format!("{{\"head\":\"{head}\"}}"),
        seen_at: 10,
        missing_since: None,
    };
    db.put_discovered(&[row("/r/a", "1"), row("/r/b", "2")])
        .await
        .unwrap();
    db.put_discovered(&[row("/r/a", "3")]).await.unwrap();
    db.mark_discovered_missing(&["/r/b".into()], 50)
        .await
        .unwrap();
    db.mark_discovered_missing(&["/r/b".into()], 99)
        .await
        .unwrap();
    let rows = db.discovered().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].head.as_str(), rows[0].missing_since), ("3", None));
    assert_eq!(
        rows[1].missing_since,
        Some(50),
        "the first time it went missing stays"
    );
    // Found again: present.
    db.put_discovered(&[row("/r/b", "2")]).await.unwrap();
    assert_eq!(db.discovered().await.unwrap()[1].missing_since, None);

    let day = |d: &str, found, cataloged| CompletenessDay {
        scope: "org".into(),
        day: d.into(),
        found,
        cataloged,
    };
    db.put_completeness(&[day("2026-01-02", 10, 4), day("2026-01-01", 9, 3)])
        .await
        .unwrap();
    db.put_completeness(&[day("2026-01-02", 10, 5)])
        .await
        .unwrap();
    let days = db.completeness_days("org", "2026-01-01").await.unwrap();
    assert_eq!(
        days,
        vec![day("2026-01-01", 9, 3), day("2026-01-02", 10, 5)]
    );
    assert_eq!(
        db.completeness_days("org", "2026-01-02")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        db.completeness_days("group:default/x", "2000-01-01")
            .await
            .unwrap()
            .is_empty()
    );
}
