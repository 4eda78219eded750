//! Tests of the query layer against Backstage's semantics.

use super::*;
use crate::index::stitched_from;
use serde_json::json;

fn snap(values: &[Value]) -> Snapshot {
    Snapshot::build(values.iter().map(|v| (stitched_from(v), Some(v))).collect())
}

fn eq(key: &str, values: &[&str]) -> Filter {
    Filter::Eq {
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn order(field: &str, descending: bool) -> Order {
    Order {
        field: field.into(),
        descending,
    }
}

fn names(items: &[Arc<Stitched>]) -> Vec<String> {
    items
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.body()).unwrap()["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// 40 entities: every 4th has no spec.type; types cycle; every 5th has two tags.
fn catalog() -> Snapshot {
    let types = ["service", "website", "library"];
    let values: Vec<Value> = (0..40)
        .map(|i| {
            let mut spec = json!({"owner": format!("team-{}", i % 3)});
            if i % 4 != 0 {
                spec["type"] = json!(types[i % 3]);
            }
            let tags = if i % 5 == 0 { json!(["alpha", "beta"]) } else { json!(["gamma"]) };
            json!({
                "kind": if i % 2 == 0 { "Component" } else { "API" },
                "metadata": {"name": format!("e{:02}", 39 - i), "uid": format!("uid-{i}"), "tags": tags,
                             "title": if i % 7 == 0 { format!("Payments {i}") } else { format!("Other {i}") }},
                "spec": spec,
            })
        })
        .collect();
    snap(&values)
}

#[test]
fn list_default_order_is_by_ref_with_paging() {
    let s = catalog();
    let comp = eq("kind", &["component"]);
    let (all, more) = list(&s, Some(&comp), &[], 0, None);
    assert_eq!(all.len(), 20);
    assert!(!more);
    assert!(all.windows(2).all(|w| w[0].key() < w[1].key()));
    let (page, more) = list(&s, Some(&comp), &[], 15, Some(5));
    assert_eq!(names(&page), names(&all[15..]));
    assert!(!more);
    let (page, more) = list(&s, Some(&comp), &[], 14, Some(5));
    assert_eq!(page.len(), 5);
    assert!(more);
}

#[test]
fn list_single_order_puts_missing_last_and_repeats_array_rows() {
    let s = catalog();
    let (asc, _) = list(&s, None, &[order("spec.type", false)], 0, None);
    assert_eq!(asc.len(), 40);
    let types: Vec<Option<String>> = asc
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.body()).unwrap()["spec"]["type"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    // Values ascending, then the ten without a type, those in ref order.
    assert!(
        types[..30]
            .windows(2)
            .all(|w| w[0] <= w[1] && w[0].is_some())
    );
    assert!(types[30..].iter().all(Option::is_none));
    assert!(asc[30..].windows(2).all(|w| w[0].key() < w[1].key()));
    // Within equal values, ref order in both directions.
    let (desc, _) = list(&s, None, &[order("spec.type", true)], 0, None);
    assert!(desc[0].body().contains("website"));
    let websites: Vec<&str> = desc
        .iter()
        .take_while(|e| e.body().contains("website"))
        .map(|e| e.key())
        .collect();
    assert!(websites.windows(2).all(|w| w[0] < w[1]));
    assert!(desc[30..].iter().all(|e| !e.body().contains("\"type\"")));
    // An entity with two tags is listed once per tag.
    let (by_tag, _) = list(&s, None, &[order("metadata.tags", false)], 0, None);
    assert_eq!(by_tag.len(), 48);
    assert_eq!(names(&by_tag[..8]), names(&by_tag[8..16]));
    // Backstage does not lower-case the field here: nothing matches, all are "missing".
    let (upper, _) = list(&s, None, &[order("Spec.Type", true)], 0, Some(3));
    assert!(upper.windows(2).all(|w| w[0].key() < w[1].key()));
}

#[test]
fn list_multi_order() {
    let s = catalog();
    let (rows, more) = list(
        &s,
        None,
        &[order("spec.type", false), order("metadata.name", true)],
        0,
        Some(12),
    );
    assert!(more);
    let (all, _) = list(
        &s,
        None,
        &[order("spec.type", false), order("metadata.name", true)],
        0,
        None,
    );
    assert_eq!(all.len(), 40);
    assert_eq!(names(&rows), names(&all[..12]));
    // First group: libraries, names descending.
    let libs: Vec<String> = names(&all).into_iter().take(10).collect();
    let mut sorted = libs.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(libs, sorted);
    assert!(all[..10].iter().all(|e| e.body().contains("library")));
    // Missing type last, still by name descending.
    let tail = names(&all[30..]);
    let mut sorted = tail.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(tail, sorted);
}

#[test]
fn after_cursor_round_trips_in_backstage_format() {
    let after = encode_after(50, 100);
    assert_eq!(decode_after(&after).unwrap(), (Some(50), Some(100)));
    let raw = base64::engine::general_purpose::STANDARD.encode(r#"{"limit":2}"#);
    assert_eq!(decode_after(&raw).unwrap(), (Some(2), None));
    assert!(decode_after("!!!").is_err());
    let bad = base64::engine::general_purpose::STANDARD.encode(r#"{"offset":"x"}"#);
    assert!(matches!(decode_after(&bad), Err(QueryError::BadAfter(_))));
}

/// Follows next cursors to the end, then prev cursors back to the start, checking that
/// the pages line up exactly both ways.
fn page_through(s: &Snapshot, first: QueryRequest) -> (Vec<Arc<Stitched>>, usize) {
    let limit = first.limit;
    let mut pages: Vec<QueryPage> = vec![query(s, first).unwrap()];
    assert!(pages[0].prev_cursor.is_none(), "first page has no previous");
    while let Some(next) = pages.last().unwrap().next_cursor.clone() {
        let page = query(
            s,
            QueryRequest {
                cursor: Some(next),
                limit,
                ..QueryRequest::default()
            },
        )
        .unwrap();
        assert_eq!(page.total_items, pages[0].total_items, "total is carried");
        assert!(page.prev_cursor.is_some(), "later pages go back");
        pages.push(page);
        assert!(pages.len() < 100);
    }
    let mut index = pages.len() - 1;
    let mut prev = pages[index].prev_cursor.clone();
    while let Some(cursor) = prev {
        let page = query(
            s,
            QueryRequest {
                cursor: Some(cursor),
                limit,
                ..QueryRequest::default()
            },
        )
        .unwrap();
        index -= 1;
        assert_eq!(
            names(&page.items),
            names(&pages[index].items),
            "page {index} backwards"
        );
        assert!(page.next_cursor.is_some());
        prev = page.prev_cursor;
    }
    assert_eq!(index, 0, "walked back to the first page");
    let all: Vec<Arc<Stitched>> = pages.iter().flat_map(|p| p.items.iter().cloned()).collect();
    (all, pages[0].total_items)
}

#[test]
fn cursor_paging_sorted_ascending_and_descending() {
    let s = catalog();
    for descending in [false, true] {
        let (rows, total) = page_through(
            &s,
            QueryRequest {
                order: vec![order("metadata.name", descending)],
                limit: 7,
                ..QueryRequest::default()
            },
        );
        assert_eq!(total, 40);
        let got = names(&rows);
        let mut want: Vec<String> = (0..40).map(|i| format!("e{i:02}")).collect();
        if descending {
            want.reverse();
        }
        assert_eq!(got, want);
    }
}

#[test]
fn cursor_paging_excludes_entities_without_sort_value_and_handles_ties() {
    let s = catalog();
    let (rows, total) = page_through(
        &s,
        QueryRequest {
            filter: Some(eq("kind", &["component"])),
            order: vec![order("Spec.Type", true)],
            limit: 4,
            ..QueryRequest::default()
        },
    );
    // 20 components, 10 of them (i % 4 == 0) without a type.
    assert_eq!(total, 10);
    assert_eq!(rows.len(), 10);
    let mut seen = std::collections::HashSet::new();
    assert!(
        rows.iter().all(|e| seen.insert(e.key().to_owned())),
        "no duplicates"
    );
    // Ties (same type) are broken by ref in the sort direction.
    let keyed: Vec<(String, String)> = rows
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(&e.body()).unwrap();
            (
                v["spec"]["type"].as_str().unwrap().to_owned(),
                e.key().to_owned(),
            )
        })
        .collect();
    assert!(keyed.windows(2).all(|w| w[0] > w[1]));
}

#[test]
fn cursor_paging_unsorted_is_ref_order_with_offset() {
    let s = catalog();
    let (rows, total) = page_through(
        &s,
        QueryRequest {
            limit: 6,
            ..QueryRequest::default()
        },
    );
    assert_eq!(total, 40);
    assert_eq!(rows.len(), 40);
    assert!(rows.windows(2).all(|w| w[0].key() < w[1].key()));
    let page = query(
        &s,
        QueryRequest {
            limit: 6,
            offset: Some(37),
            ..QueryRequest::default()
        },
    )
    .unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.next_cursor.is_none());
    assert_eq!(page.items[0].key(), rows[37].key());
}

#[test]
fn array_sort_field_pages_rows_not_entities() {
    let s = catalog();
    let (rows, total) = page_through(
        &s,
        QueryRequest {
            order: vec![order("metadata.tags", false)],
            limit: 5,
            ..QueryRequest::default()
        },
    );
    assert_eq!(total, 40, "totalItems counts entities");
    assert_eq!(rows.len(), 48, "rows repeat per array value");
}

#[test]
fn full_text_filters_and_counts() {
    let s = catalog();
    let req = |fields: Vec<&str>, term: &str| QueryRequest {
        order: vec![order("metadata.name", false)],
        full_text: Some(FullText {
            term: term.into(),
            fields: fields.into_iter().map(str::to_owned).collect(),
        }),
        limit: 3,
        ..QueryRequest::default()
    };
    // Titles "Payments 0/7/14/21/28/35"; the term is trimmed and case-insensitive.
    let (rows, total) = page_through(
        &s,
        req(vec!["metadata.name", "metadata.title"], "  PAYMENTS "),
    );
    assert_eq!(total, 6);
    assert_eq!(names(&rows), ["e04", "e11", "e18", "e25", "e32", "e39"]);
    // Without fields, the sort field is searched.
    let page = query(&s, req(vec![], "e3")).unwrap();
    assert_eq!(page.total_items, 10);
    assert_eq!(names(&page.items), ["e30", "e31", "e32"]);
    // `_` is a single-character wildcard, as in SQL LIKE.
    let page = query(&s, req(vec!["metadata.name"], "e_9")).unwrap();
    assert_eq!(page.total_items, 4);
    let page = query(&s, req(vec!["metadata.title"], "nothing-like-this")).unwrap();
    assert_eq!(page.total_items, 0);
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    // Unsorted full text defaults to metadata.uid.
    let page = query(
        &s,
        QueryRequest {
            full_text: Some(FullText {
                term: "UID-3".into(),
                fields: vec![],
            }),
            ..QueryRequest::default()
        },
    )
    .unwrap();
    assert_eq!(page.total_items, 11);
}

#[test]
fn like_matching() {
    assert!(like_contains("payments-api", "ments"));
    assert!(!like_contains("payments-api", "mentz"));
    assert!(like_contains("payments-api", "pay%api"));
    assert!(!like_contains("payments-api", "api%pay"));
    assert!(like_contains("payments_api", "s_a"));
    assert!(like_contains("paymentsxapi", "s_a"));
    assert!(like_contains("é-x", "_-x"));
    assert!(!like_contains("ab", "a__"));
    assert!(like_contains("anything", "%"));
}

#[test]
fn cursor_carries_filter_and_rejects_garbage() {
    let s = catalog();
    let filter = Filter::Any(vec![
        Filter::All(vec![
            eq("kind", &["component"]),
            Filter::Not(Box::new(Filter::Exists {
                key: "spec.type".into(),
            })),
        ]),
        Filter::HasPrefix {
            key: "metadata.name".into(),
            prefix: "e3".into(),
        },
    ]);
    let first = query(
        &s,
        QueryRequest {
            filter: Some(filter.clone()),
            limit: 2,
            ..QueryRequest::default()
        },
    )
    .unwrap();
    let expected = s.matching(Some(&filter)).count();
    assert_eq!(first.total_items, expected);
    let (rows, _) = page_through(
        &s,
        QueryRequest {
            filter: Some(filter),
            limit: 2,
            ..QueryRequest::default()
        },
    );
    assert_eq!(rows.len(), expected);
    for bad in [
        "%%%",
        "e30=",
        &base64::engine::general_purpose::STANDARD.encode("{\"values\":1}"),
    ] {
        let err = query(
            &s,
            QueryRequest {
                cursor: Some(bad.to_owned()),
                ..QueryRequest::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, QueryError::BadCursor(_)), "{bad}: {err:?}");
    }
    // A cursor is URL-safe-tolerant: '+' mangled into ' ' still decodes.
    let next = first.next_cursor.unwrap();
    let page = query(
        &s,
        QueryRequest {
            cursor: Some(next.replace('+', " ")),
            limit: 2,
            ..QueryRequest::default()
        },
    );
    assert!(page.is_ok());
}

#[test]
fn limit_zero_counts_only() {
    let s = catalog();
    let page = query(
        &s,
        QueryRequest {
            limit: 0,
            ..QueryRequest::default()
        },
    )
    .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total_items, 40);
    assert!(page.next_cursor.is_none() && page.prev_cursor.is_none());
}

#[test]
fn list_all_follows_by_query_rules() {
    let s = catalog();
    assert_eq!(list_all(&s, None, &[]).len(), 40);
    let by_type = list_all(
        &s,
        None,
        &[order("SPEC.TYPE", false), order("metadata.name", false)],
    );
    assert_eq!(by_type.len(), 30);
    assert!(by_type[..10].iter().all(|e| e.body().contains("library")));
}

#[test]
fn facets_count_matching_entities_by_spelling() {
    let s = snap(&[
        json!({"kind": "Component", "metadata": {"name": "a", "tags": ["Java", "go"]}, "spec": {"type": "Service"}}),
        json!({"kind": "Component", "metadata": {"name": "b", "tags": ["java"]}, "spec": {"type": "service"}}),
        json!({"kind": "Component", "metadata": {"name": "c"}, "spec": {"type": "service"}}),
        json!({"kind": "API", "metadata": {"name": "d"}, "spec": {"type": "openapi"}}),
        json!({"kind": "Component", "metadata": {"name": "e"}, "spec": {"type": "x".repeat(201)}}),
        json!({"kind": "Component", "metadata": {"name": "f"}, "spec": {"type": "Ärger"}}),
        json!({"kind": "Component", "metadata": {"name": "g"}, "spec": {"type": "ärger"}}),
    ]);
    let f = facets(
        &s,
        &[
            "spec.type".into(),
            "Kind".into(),
            "metadata.tags".into(),
            "nope".into(),
        ],
        None,
    );
    assert_eq!(f[0].0, "spec.type");
    assert_eq!(
        f[0].1,
        [
            ("Service".to_owned(), 1),
            ("openapi".to_owned(), 1),
            ("service".to_owned(), 2),
            ("Ärger".to_owned(), 1),
            ("ärger".to_owned(), 1)
        ]
    );
    assert_eq!(f[1].0, "Kind");
    assert_eq!(f[1].1, [("API".to_owned(), 1), ("Component".to_owned(), 6)]);
    assert_eq!(
        f[2].1,
        [
            ("Java".to_owned(), 1),
            ("go".to_owned(), 1),
            ("java".to_owned(), 1)
        ]
    );
    assert!(f[3].1.is_empty());
    let comp = eq("kind", &["component"]);
    let f = facets(
        &s,
        &["spec.type".into()],
        Some(&Filter::All(vec![comp, eq("metadata.name", &["b", "c"])])),
    );
    assert_eq!(f[0].1, [("service".to_owned(), 2)]);
    let f = facets(
        &s,
        &["spec.type".into()],
        Some(&eq("metadata.name", &["a"])),
    );
    assert_eq!(f[0].1, [("Service".to_owned(), 1)]);
}

#[test]
fn projection() {
    let body = json!({
        "apiVersion": "v1", "kind": "Component",
        "metadata": {"name": "a", "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "y"}, "tags": ["t0", "t1"]},
        "spec": {"type": "service", "none": null, "deep": {"er": {"est": 1}}},
    })
    .to_string();
    let f = |fields: &[&str]| {
        project(
            &body,
            &fields.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        f(&["kind", "metadata.name"]),
        json!({"kind": "Component", "metadata": {"name": "a"}})
    );
    assert_eq!(
        f(&["kind,metadata.name"]),
        json!({"kind": "Component", "metadata": {"name": "a"}})
    );
    assert_eq!(
        f(&["metadata.annotations.backstage.io/techdocs-ref"]),
        json!({"metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}})
    );
    assert_eq!(
        f(&["spec.deep.er.est", "spec.none", "spec.missing", "nope.x"]),
        json!({"spec": {"deep": {"er": {"est": 1}}, "none": null}})
    );
    assert_eq!(
        f(&["metadata.tags.1"]),
        json!({"metadata": {"tags": [null, "t1"]}})
    );
    assert_eq!(
        f(&["metadata.name", "metadata"])["metadata"]["tags"],
        json!(["t0", "t1"])
    );
    assert_eq!(f(&[]), serde_json::from_str::<Value>(&body).unwrap());
    // Key order follows the requested fields.
    let keys: Vec<String> = f(&["spec.type", "kind"])
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["spec", "kind"]);
}

#[test]
fn projection_deduplicates_many_fields_in_linear_time() {
    let entity = json!({"kind": "Component", "metadata": {"name": "a"}});
    let mut fields: Vec<String> = (0..40_000).map(|i| format!("f{i}")).collect();
    fields.push("kind".into());
    fields.push("kind".into());
    let started = std::time::Instant::now();
    assert_eq!(
        project_value(&entity, &fields),
        json!({"kind": "Component"})
    );
    // Quadratic de-duplication took 4 s here in a debug build.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
