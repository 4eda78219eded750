//! Tests of the read index: layout, filters, updates against whole builds, and a benchmark.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn snap(values: &[Value]) -> Snapshot {
    Snapshot::build(values.iter().map(|v| (stitched_from(v), Some(v))).collect())
}

fn names(s: &Snapshot, bits: &Bits) -> Vec<String> {
    bits.iter_from(0)
        .map(|id| s.entity(id).entity_ref().to_owned())
        .collect()
}

fn eq(key: &str, values: &[&str]) -> Filter {
    Filter::Eq {
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn sample() -> Snapshot {
    snap(&[
        json!({"kind": "Component", "metadata": {"name": "b-svc", "uid": "u2", "tags": ["Java"]},
               "spec": {"type": "service", "owner": "team-a"},
               "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]}),
        json!({"kind": "Component", "metadata": {"name": "A-Web", "uid": "u1"},
               "spec": {"type": "website", "none": null}}),
        json!({"kind": "API", "metadata": {"name": "c-api", "namespace": "Prod", "uid": "u3"},
               "spec": {"type": "openapi"}}),
        json!({"kind": "Group", "metadata": {"name": "team-a", "uid": "u0", "description": "d".repeat(300)}}),
    ])
}

#[test]
fn entities_sorted_by_key_and_looked_up_case_insensitively() {
    let s = sample();
    let refs: Vec<&str> = s.iter().map(|e| e.key()).collect();
    assert_eq!(
        refs,
        [
            "api:prod/c-api",
            "component:default/a-web",
            "component:default/b-svc",
            "group:default/team-a"
        ]
    );
    assert_eq!(
        s.get("Component:Default/A-WEB").unwrap().entity_ref(),
        "component:default/a-web"
    );
    assert!(s.get("component:default/nope").is_none());
    assert_eq!(s.get_by_uid("u3").unwrap().key(), "api:prod/c-api");
    assert!(s.get_by_uid("U3").is_none());
    assert_eq!(s.len(), 4);
    assert!(Snapshot::empty().is_empty());
}

#[test]
fn values_longer_than_backstage_indexes_still_match_a_filter() {
    let s = sample();
    let long = eq("metadata.description", &[&"D".repeat(300)]);
    assert_eq!(
        names(&s, &s.matching(Some(&long))),
        ["group:default/team-a"]
    );
    let shorter = eq("metadata.description", &[&"d".repeat(299)]);
    assert_eq!(s.matching(Some(&shorter)).count(), 0);
    // Still a null row for everything else: present for exists, absent from values.
    let exists = Filter::Exists {
        key: "metadata.description".into(),
    };
    assert_eq!(s.matching(Some(&exists)).count(), 1);
}

#[test]
fn later_duplicate_wins() {
    let a = json!({"kind": "Component", "metadata": {"name": "x", "uid": "1"}, "spec": {"type": "old"}});
    let b = json!({"kind": "Component", "metadata": {"name": "X", "uid": "2"}, "spec": {"type": "new"}});
    let s = snap(&[a, b]);
    assert_eq!(s.len(), 1);
    assert_eq!(s.get("component:default/x").unwrap().uid(), "2");
    assert_eq!(s.matching(Some(&eq("spec.type", &["old"]))).count(), 0);
    assert_eq!(s.matching(Some(&eq("spec.type", &["new"]))).count(), 1);
}

#[test]
fn filter_forms() {
    let s = sample();
    let m = |f: Filter| names(&s, &s.matching(Some(&f)));
    assert_eq!(
        m(eq("kind", &["component"])),
        ["component:default/a-web", "component:default/b-svc"]
    );
    // Case-insensitive on key and value.
    assert_eq!(m(eq("KIND", &["ComPonent"])).len(), 2);
    // Several values for one key are ORed.
    assert_eq!(
        m(eq("spec.type", &["service", "openapi"])),
        ["api:prod/c-api", "component:default/b-svc"]
    );
    assert_eq!(
        m(Filter::All(vec![
            eq("kind", &["component"]),
            eq("spec.type", &["service"])
        ])),
        ["component:default/b-svc"]
    );
    assert_eq!(
        m(Filter::Any(vec![
            eq("kind", &["group"]),
            eq("metadata.namespace", &["prod"])
        ])),
        ["api:prod/c-api", "group:default/team-a"]
    );
    assert_eq!(
        m(Filter::Not(Box::new(eq("kind", &["component"])))),
        ["api:prod/c-api", "group:default/team-a"]
    );
    // Existence counts null values and values too long to index.
    assert_eq!(
        m(Filter::Exists {
            key: "spec.none".into()
        }),
        ["component:default/a-web"]
    );
    assert_eq!(
        m(Filter::Exists {
            key: "metadata.description".into()
        }),
        ["group:default/team-a"]
    );
    // Too long for the index, but still matched (Backstage never matches it).
    assert_eq!(
        m(eq("metadata.description", &[&"d".repeat(300)])),
        ["group:default/team-a"]
    );
    // Arrays: per element, and the `<path>.<element>` flag key.
    assert_eq!(
        m(eq("metadata.tags", &["java"])),
        ["component:default/b-svc"]
    );
    assert_eq!(
        m(Filter::Exists {
            key: "metadata.tags.java".into()
        }),
        ["component:default/b-svc"]
    );
    assert_eq!(
        m(eq("relations.ownedby", &["group:default/team-a"])),
        ["component:default/b-svc"]
    );
    assert_eq!(
        m(Filter::HasPrefix {
            key: "metadata.name".into(),
            prefix: "A-".into()
        }),
        ["component:default/a-web"]
    );
    assert_eq!(
        m(Filter::HasPrefix {
            key: "spec.type".into(),
            prefix: "".into()
        })
        .len(),
        3
    );
    assert_eq!(m(Filter::All(vec![])).len(), 4);
    assert!(m(Filter::Any(vec![])).is_empty());
    assert!(m(eq("kind", &[])).is_empty());
    assert!(m(eq("no.such.key", &["x"])).is_empty());
    assert_eq!(
        m(Filter::Not(Box::new(Filter::Exists {
            key: "no.such".into()
        })))
        .len(),
        4
    );
}

#[test]
fn unparsed_bodies_index_the_same() {
    let values = [
        json!({"kind": "Component", "metadata": {"name": "a", "uid": "1", "title": "Hello"}}),
        json!({"kind": "Component", "metadata": {"name": "b", "uid": "2"}}),
    ];
    let parsed = snap(&values);
    let unparsed = Snapshot::build(values.iter().map(|v| (stitched_from(v), None)).collect());
    for f in [
        eq("metadata.title", &["hello"]),
        eq("metadata.name", &["b"]),
    ] {
        assert_eq!(parsed.matching(Some(&f)), unparsed.matching(Some(&f)));
        assert_eq!(parsed.matching(Some(&f)).count(), 1);
    }
}

#[test]
fn many_batches_keep_ids_sorted() {
    // More than one extraction batch, so the worker/merge path is exercised.
    let values: Vec<Value> = (0..2500)
        .map(|i| json!({"kind": "Component", "metadata": {"name": format!("n{i:05}"), "uid": format!("u{i}")},
                        "spec": {"type": if i % 3 == 0 { "service" } else { "library" }}}))
        .collect();
    let s = snap(&values);
    let k = s.key_id("spec.type").unwrap();
    let e = s.find_entry(k, "service").unwrap();
    let ids = s.entry_ids(e);
    assert_eq!(ids.len(), 834);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(
        ids.iter()
            .all(|&id| s.entity(id).body().contains("\"service\""))
    );
    assert_eq!(s.with_key(k).count(), 2500);
}

#[test]
fn bit_iteration() {
    let mut b = Bits::empty(130);
    for i in [0u32, 5, 63, 64, 65, 127, 128, 129] {
        b.insert(i);
    }
    assert_eq!(
        b.iter_from(0).collect::<Vec<_>>(),
        [0, 5, 63, 64, 65, 127, 128, 129]
    );
    assert_eq!(b.iter_from(64).collect::<Vec<_>>(), [64, 65, 127, 128, 129]);
    assert_eq!(b.iter_from(66).collect::<Vec<_>>(), [127, 128, 129]);
    assert_eq!(
        b.iter_rev_below(130).collect::<Vec<_>>(),
        [129, 128, 127, 65, 64, 63, 5, 0]
    );
    assert_eq!(b.iter_rev_below(64).collect::<Vec<_>>(), [63, 5, 0]);
    assert_eq!(b.iter_rev_below(6).collect::<Vec<_>>(), [5, 0]);
    assert_eq!(b.iter_rev_below(0).count(), 0);
    let mut full = Bits::full(130);
    assert_eq!(full.count(), 130);
    full.invert();
    assert_eq!(full.count(), 0);
    b.invert();
    assert_eq!(b.count(), 122);
}

// ---- incremental update ----

/// A synthetic entity for the update equivalence test: colliding keys (names differing
/// only in case), mixed-case and non-ASCII values, arrays, relations, nulls, values too
/// long to index, keys few entities have, and now and then a body that is not JSON.
fn arb_entity() -> impl Strategy<Value = Arc<Stitched>> {
    (
        (0usize..5, 0usize..24, 0usize..4, 0usize..3),
        prop::option::of(0usize..7),
        prop::collection::vec(0usize..6, 0..4),
        prop::option::of(0usize..5),
        prop::option::of(0usize..6),
        prop::collection::vec((0usize..4, 0usize..8), 0..4),
        prop::collection::vec(0usize..9, 0..3),
    )
        .prop_map(
            |((kind, name, ns, version), ty, tags, owner, title, relations, extras)| {
                let kind = ["Component", "component", "API", "Group", "System"][kind];
                let name = format!("{}-{}", ["svc", "Svc", "SVC", "web"][name % 4], name / 4);
                let long = |c: &str, n: usize| c.repeat(n);
                let mut v = json!({"kind": kind, "metadata": {"name": name}, "spec": {}});
                if let Some(ns) = [None, Some("default"), Some("Prod"), Some("prod")][ns] {
                    v["metadata"]["namespace"] = json!(ns);
                }
                let key = {
                    let s = stitched_from(&v);
                    s.key().to_owned()
                };
                v["metadata"]["uid"] = json!(format!("u-{key}-{version}"));
                if let Some(t) = ty {
                    v["spec"]["type"] = [
                        json!("service"),
                        json!("Service"),
                        json!("SERVICE"),
                        json!("website"),
                        Value::Null,
                        json!(long("x", 250)),
                        json!("Ünï-Type"),
                    ][t]
                        .clone();
                }
                if !tags.is_empty() {
                    let tags: Vec<&str> = tags
                        .iter()
                        .map(|&t| ["java", "Java", "go", "GO", "rust", "Ærø"][t])
                        .collect();
                    v["metadata"]["tags"] = json!(tags);
                }
                if let Some(o) = owner {
                    v["spec"]["owner"] = json!(
                        [
                            "team-a",
                            "Team-A",
                            "team-b",
                            "TEAM-B",
                            "group:default/Team-A"
                        ][o]
                    );
                }
                if let Some(t) = title {
                    let long_title = long("T", 220);
                    let titles = [
                        "Hello World",
                        "hello world",
                        "HELLO WORLD",
                        "Ünïcode",
                        "ÜNÏCODE",
                        &long_title,
                    ];
                    v["metadata"]["title"] = json!(titles[t]);
                }
                if !relations.is_empty() {
                    let relations: Vec<Value> = relations
                        .iter()
                        .map(|&(t, target)| {
                            let ty = ["ownedBy", "dependsOn", "partOf", "OwnedBy"][t];
                            let target = [
                                "group:default/team-a",
                                "group:default/Team-A",
                                "component:default/svc-0",
                                "resource:prod/DB-1",
                                "system:default/x",
                                "api:default/y",
                                // Targets that are often entities of the set (held by id).
                                "system:default/svc-1",
                                "api:prod/web-0",
                            ][target];
                            json!({"type": ty, "targetRef": target})
                        })
                        .collect();
                    v["relations"] = json!(relations);
                }
                let mut broken = false;
                for x in extras {
                    match x {
                        0..=2 => v["spec"][format!("rare{x}")] = json!(["R", "r", "Rare"][x]),
                        3 => v["metadata"]["description"] = json!(long("d", 300)),
                        4 => v["spec"]["port"] = json!(8080),
                        5 => v["spec"]["enabled"] = json!(true),
                        6 => v["spec"]["none"] = Value::Null,
                        7 => v["metadata"]["labels"] = json!({"tier": "Gold"}),
                        _ => broken = true,
                    }
                }
                let mut s = (*stitched_from(&v)).clone();
                if broken {
                    // Still listed and fetchable; no rows.
                    s = Stitched::from_json(
                        s.key().to_owned(),
                        s.uid().to_owned(),
                        s.etag().to_owned(),
                        &format!("{{not json {name}"),
                    );
                }
                Arc::new(s)
            },
        )
}

/// (pick an existing entity?, which one, upper-case the key?)
fn arb_removal() -> impl Strategy<Value = (bool, prop::sample::Index, bool)> {
    (
        prop::bool::weighted(0.8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
}

fn update_filters() -> Vec<Filter> {
    let exists = |key: &str| Filter::Exists { key: key.into() };
    let prefix = |key: &str, prefix: &str| Filter::HasPrefix {
        key: key.into(),
        prefix: prefix.into(),
    };
    vec![
        eq("kind", &["component"]),
        eq("KIND", &["API", "group"]),
        eq("spec.type", &["service"]),
        eq("spec.type", &["ünï-type", "website"]),
        eq("metadata.tags", &["java"]),
        eq("metadata.tags", &["ærø", "GO"]),
        eq("relations.ownedby", &["group:default/team-a"]),
        eq("metadata.namespace", &["default"]),
        eq("metadata.title", &["hello world"]),
        eq("spec.port", &["8080"]),
        eq("metadata.name", &["svc-1", "web-3"]),
        exists("spec.type"),
        exists("metadata.description"),
        exists("spec.none"),
        exists("metadata.tags.java"),
        exists("spec.rare1"),
        exists("no.such.key"),
        Filter::Not(Box::new(exists("spec.type"))),
        Filter::Not(Box::new(eq("kind", &["component"]))),
        Filter::Any(vec![eq("kind", &["system"]), eq("spec.owner", &["team-b"])]),
        Filter::All(vec![
            eq("kind", &["component"]),
            Filter::Not(Box::new(eq("spec.type", &["website"]))),
        ]),
        Filter::All(vec![]),
        Filter::Any(vec![]),
        prefix("metadata.name", "SVC"),
        prefix("spec.owner", "team"),
        prefix("spec.type", ""),
        prefix("relations.dependson", "resource:"),
    ]
}

/// (value, ids, first spelling, variants) of an index entry.
type DumpedEntry = (String, Vec<u32>, String, Vec<(u32, String)>);

/// Everything a reader can observe, compared between two snapshots, plus the index's
/// own layout (keys, entries, spellings, variants, nulls) so a difference shows early.
fn assert_same(want: &Snapshot, got: &Snapshot) {
    use crate::query::{self, FullText, Order, QueryRequest};
    assert_eq!(want.len(), got.len());
    assert_eq!(want.is_empty(), got.is_empty());
    let want_all: Vec<&Stitched> = want.iter().map(|e| &**e).collect();
    let got_all: Vec<&Stitched> = got.iter().map(|e| &**e).collect();
    assert_eq!(want_all, got_all);
    for e in &want_all {
        assert_eq!(
            got.get(&e.entity_ref().to_uppercase()).map(|x| &**x),
            Some(*e)
        );
        assert_eq!(got.get_by_uid(e.uid()).map(|x| &**x), Some(*e));
    }
    assert_eq!(want.by_uid.len(), got.by_uid.len());

    // The index layout.
    let names = |s: &Snapshot| -> Vec<String> {
        s.keys
            .iter()
            .map(|k| s.text(k.name_off, k.name_len as usize).to_owned())
            .collect()
    };
    assert_eq!(names(want), names(got));
    for name in names(want) {
        let (kw, kg) = (want.key_id(&name).unwrap(), got.key_id(&name).unwrap());
        let dump = |s: &Snapshot, k: KeyId| -> Vec<DumpedEntry> {
            s.entry_range(k)
                .map(|e| {
                    (
                        s.entry_value(e).to_owned(),
                        s.entry_ids(e).to_vec(),
                        s.entry_spelling(e).into_owned(),
                        s.entry_variants(e)
                            .map(|(id, v)| (id, v.to_owned()))
                            .collect(),
                    )
                })
                .collect()
        };
        assert_eq!(dump(want, kw), dump(got, kg), "key {name}");
        assert_eq!(want.with_key(kw), got.with_key(kg), "key {name}");
        assert_eq!(want.with_value(kw), got.with_value(kg), "key {name}");
    }

    let filters = update_filters();
    for f in &filters {
        assert_eq!(want.matching(Some(f)), got.matching(Some(f)), "{f:?}");
    }
    assert_eq!(want.matching(None), got.matching(None));

    let order = |field: &str, descending: bool| Order {
        field: field.into(),
        descending,
    };
    let orders = [
        vec![],
        vec![order("metadata.name", false)],
        vec![order("spec.type", true)],
        vec![order("metadata.tags", false)],
        vec![order("spec.owner", false), order("metadata.title", true)],
    ];
    let some_filters = [
        None,
        Some(&filters[0]),
        Some(&filters[17]),
        Some(&filters[19]),
    ];
    for o in &orders {
        for f in some_filters {
            for (offset, limit) in [(0, None), (0, Some(3)), (2, Some(4))] {
                assert_eq!(
                    query::list(want, f, o, offset, limit),
                    query::list(got, f, o, offset, limit),
                    "{f:?} {o:?}"
                );
            }
            assert_eq!(query::list_all(want, f, o), query::list_all(got, f, o));
        }
    }

    let facet_fields: Vec<String> = [
        "kind",
        "spec.type",
        "metadata.tags",
        "spec.owner",
        "metadata.title",
        "relations.ownedby",
        "metadata.description",
        "spec.rare0",
        "Metadata.Namespace",
    ]
    .map(str::to_owned)
    .to_vec();
    for f in some_filters {
        assert_eq!(
            query::facets(want, &facet_fields, f),
            query::facets(got, &facet_fields, f)
        );
    }

    let full_texts = [
        None,
        Some(FullText {
            term: "hello".into(),
            fields: vec!["metadata.title".into()],
        }),
        Some(FullText {
            term: "SVC".into(),
            fields: vec![],
        }),
        Some(FullText {
            term: "ü".into(),
            fields: vec!["metadata.title".into(), "spec.type".into()],
        }),
        Some(FullText {
            term: "team".into(),
            fields: vec!["spec.owner".into(), "relations.ownedby".into()],
        }),
    ];
    for full_text in &full_texts {
        for o in &orders[..4] {
            for f in some_filters {
                let req = QueryRequest {
                    filter: f.cloned(),
                    order: o.clone(),
                    full_text: full_text.clone(),
                    limit: 4,
                    ..QueryRequest::default()
                };
                let (a, b) = (
                    query::query(want, req.clone()).unwrap(),
                    query::query(got, req).unwrap(),
                );
                let page = |p: &query::QueryPage| {
                    (
                        p.items.clone(),
                        p.total_items,
                        p.next_cursor.clone(),
                        p.prev_cursor.clone(),
                    )
                };
                assert_eq!(page(&a), page(&b), "{full_text:?} {o:?} {f:?}");
                if let Some(cursor) = a.next_cursor {
                    let next = QueryRequest {
                        cursor: Some(cursor),
                        limit: 4,
                        ..QueryRequest::default()
                    };
                    assert_eq!(
                        page(&query::query(want, next.clone()).unwrap()),
                        page(&query::query(got, next).unwrap())
                    );
                }
            }
        }
    }
}

/// The arena scan of [`Snapshot::entries_containing`] finds exactly the entries whose value
/// contains the needle, as a search in each value would, for every key of `s`: values that
/// end where the next begins, spellings stored after a value, needles longer than a value.
fn assert_scan_finds_each_value(s: &Snapshot) {
    let needles = "svc|-|s|hello world|ü|ünï|team-a|1|0s|ice|ldh|wo|xxxxxxxxxx|ag|service|default/";
    for k in 0..s.keys.len() as u32 {
        let k = KeyId(k);
        for needle in needles.split('|') {
            let finder = memchr::memmem::Finder::new(needle);
            let mut scanned = Vec::new();
            s.entries_containing(k, &finder, |e| scanned.push(e));
            let each: Vec<u32> = s
                .entry_range(k)
                .filter(|&e| s.entry_value(e).contains(needle))
                .collect();
            assert_eq!(scanned, each, "needle {needle:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A chain of updates answers exactly like building the resulting entity set afresh,
    /// on the incremental path, the rebuild path and whichever `update` picks.
    #[test]
    fn update_answers_like_build(
        initial in prop::collection::vec(arb_entity(), 0..40),
        steps in prop::collection::vec(
            (prop::collection::vec(arb_entity(), 0..10), prop::collection::vec(arb_removal(), 0..8)),
            1..4,
        ),
    ) {
        let mut current = Snapshot::build(initial.into_iter().map(|e| (e, None)).collect());
        for (upserts, removals) in steps {
            let removals: Vec<String> = removals
                .into_iter()
                .enumerate()
                .map(|(i, (existing, pick, upper))| {
                    let key = match current.len() {
                        n if existing && n > 0 => current.entity(pick.index(n) as u32).key().to_owned(),
                        _ => format!("component:default/svc-{i}"),
                    };
                    if upper { key.to_uppercase() } else { key }
                })
                .collect();
            let gone: std::collections::HashSet<String> =
                removals.iter().map(|r| search::lower(r).into_owned()).collect();
            let want = Snapshot::build(
                current
                    .iter()
                    .filter(|e| !gone.contains(e.key()))
                    .chain(upserts.iter())
                    .map(|e| (e.clone(), None))
                    .collect(),
            );
            let incremental = current.update_with(upserts.clone(), &removals, |_, _| false);
            assert_same(&want, &incremental);
            assert_scan_finds_each_value(&want);
            assert_scan_finds_each_value(&incremental);
            assert_same(&want, &current.update_with(upserts.clone(), &removals, |_, _| true));
            assert_same(&want, &current.update(upserts, &removals));
            // The removed and replaced uids are gone unless an entity still has them.
            for e in current.iter() {
                let still = want.iter().any(|w| w.uid() == e.uid());
                prop_assert_eq!(incremental.get_by_uid(e.uid()).is_some(), still);
            }
            current = incremental;
        }
    }
}

#[test]
fn update_examples() {
    let s = sample();
    // An upsert of an existing key with a new body, a new entity first in ref order, and
    // a removal, in one change.
    let changed = stitched_from(
        &json!({"kind": "Component", "metadata": {"name": "B-SVC", "uid": "u2"},
                                        "spec": {"type": "Website"}}),
    );
    let first = stitched_from(
        &json!({"kind": "API", "metadata": {"name": "a", "uid": "u9"},
                                      "spec": {"type": "service"}}),
    );
    let u = s.update(vec![changed, first], &["Group:Default/Team-A".to_owned()]);
    assert_eq!(
        u.iter().map(|e| e.entity_ref()).collect::<Vec<_>>(),
        [
            "api:default/a",
            "api:prod/c-api",
            "component:default/a-web",
            "component:default/b-svc"
        ]
    );
    assert_eq!(
        u.get_by_uid("u2").unwrap().entity_ref(),
        "component:default/b-svc"
    );
    assert!(u.get_by_uid("u0").is_none());
    let m = |f: Filter| names(&u, &u.matching(Some(&f)));
    assert_eq!(m(eq("spec.type", &["service"])), ["api:default/a"]);
    assert_eq!(
        m(eq("spec.type", &["website"])),
        ["component:default/a-web", "component:default/b-svc"]
    );
    assert!(m(eq("metadata.tags", &["java"])).is_empty());
    assert!(u.key_id("metadata.tags").is_none());
    assert!(u.key_id("metadata.description").is_none());
    // Facets see the new spelling next to the old one.
    let f = crate::query::facets(&u, &["spec.type".to_owned()], None);
    assert_eq!(
        f[0].1,
        [
            ("Website".to_owned(), 1),
            ("openapi".to_owned(), 1),
            ("service".to_owned(), 1),
            ("website".to_owned(), 1)
        ]
    );
    // Nothing changes: an equal snapshot.
    let same = s.update(vec![], &[]);
    assert_same(&s, &same);
    // Everything removed.
    let keys: Vec<String> = s.iter().map(|e| e.key().to_owned()).collect();
    let none = s.update(vec![], &keys);
    assert!(none.is_empty());
    assert_same(&Snapshot::empty(), &none);
}

// ---- benchmark ----

/// A synthetic catalog shaped like a real one: ~1.3 KB per entity, URLs in annotations,
/// relations, tags, a handful of kinds and types, 1 in 100 names (all components) about payments.
pub(crate) fn synthetic(n: usize) -> Vec<Value> {
    let kinds = [
        "Component",
        "Component",
        "Component",
        "API",
        "Resource",
        "System",
        "Group",
        "User",
        "User",
        "Location",
    ];
    let types = [
        "service", "website", "library", "openapi", "grpc", "database",
    ];
    let words = [
        "billing", "search", "ledger", "auth", "profile", "catalog", "ingest", "report", "notify",
    ];
    (0..n)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            let word = if i % 100 == 10 { "payments" } else { words[i % words.len()] };
            let name = format!("{word}-{}-{i}", words[(i / 7) % words.len()]);
            let team = format!("team-{}", i % 300);
            json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": kind,
                "metadata": {
                    "name": name,
                    "namespace": "default",
                    "uid": format!("{:08x}-1c2d-4e5f-8a9b-{:012x}", i.wrapping_mul(2654435761) % 0xffff_ffff, i),
                    "etag": format!("{:040x}", i * 7919),
                    "title": format!("The {} {} ({i})", word.to_uppercase(), kind),
                    "description": format!("{word} handles {} for the {team} squad. Owned and run in production.", words[(i / 3) % words.len()]),
                    "annotations": {
                        "backstage.io/managed-by-location": format!("url:https://github.com/Acme/{name}/blob/main/catalog-info.yaml"),
                        "backstage.io/managed-by-origin-location": format!("url:https://github.com/Acme/{name}/blob/main/catalog-info.yaml"),
                        "backstage.io/source-location": format!("url:https://github.com/Acme/{name}/tree/main/"),
                        "github.com/project-slug": format!("Acme/{name}"),
                    },
                    "tags": [word, if i % 2 == 0 { "java" } else { "go" }],
                    "links": [{"url": format!("https://runbooks.acme.io/{name}"), "title": "Runbook"}],
                },
                "spec": {
                    "type": types[i % types.len()],
                    "lifecycle": if i % 5 == 0 { "experimental" } else { "production" },
                    "owner": format!("group:{team}"),
                    "system": format!("system-{}", i % 120),
                    "dependsOn": [format!("resource:default/db-{}", i % 500)],
                },
                "relations": [
                    {"type": "ownedBy", "targetRef": format!("group:default/{team}"), "target": {"kind": "group", "namespace": "default", "name": team}},
                    {"type": "partOf", "targetRef": format!("system:default/system-{}", i % 120), "target": {"kind": "system", "namespace": "default", "name": format!("system-{}", i % 120)}},
                    {"type": "dependsOn", "targetRef": format!("resource:default/db-{}", i % 500), "target": {"kind": "resource", "namespace": "default", "name": format!("db-{}", i % 500)}},
                ],
                "status": {"items": []},
            })
        })
        .collect()
}

/// User+system CPU time of this process so far, so build figures can be read apart from
/// load on a shared machine.
fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    std::time::Duration::from_millis(ticks * 10)
}

fn p50(mut f: impl FnMut()) -> std::time::Duration {
    let mut times: Vec<std::time::Duration> = (0..101)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[50]
}

#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn index_benchmark() {
    use crate::query::{self, FullText, Order, QueryRequest};
    for n in [23_000usize, 117_000] {
        let values = synthetic(n);
        let stitched: Vec<Arc<Stitched>> = values.iter().map(stitched_from).collect();
        let body_bytes: usize = stitched.iter().map(|s| s.body().len()).sum();

        let (t, c) = (std::time::Instant::now(), cpu_time());
        let s = Snapshot::build(stitched.iter().map(|e| (e.clone(), None)).collect());
        let build_unparsed = (t.elapsed(), cpu_time() - c);
        drop(s);
        let (t, c) = (std::time::Instant::now(), cpu_time());
        let s = Snapshot::build(
            stitched
                .iter()
                .cloned()
                .zip(values.iter().map(Some))
                .collect(),
        );
        let build_parsed = (t.elapsed(), cpu_time() - c);
        drop(values);

        let filter = Filter::All(vec![
            eq("kind", &["component"]),
            eq("spec.type", &["service"]),
        ]);
        let list = p50(|| {
            let (page, _) = query::list(&s, Some(&filter), &[], 0, Some(50));
            assert_eq!(page.len(), 50);
        });
        let comp = eq("kind", &["component"]);
        let facets = p50(|| {
            let f = query::facets(&s, &["spec.type".to_owned()], Some(&comp));
            assert!(!f[0].1.is_empty());
        });
        let mut total = 0;
        let full_text = p50(|| {
            let page = query::query(
                &s,
                QueryRequest {
                    filter: Some(comp.clone()),
                    order: vec![Order {
                        field: "metadata.name".into(),
                        descending: false,
                    }],
                    full_text: Some(FullText {
                        term: "payments".into(),
                        fields: vec!["metadata.name".into(), "metadata.title".into()],
                    }),
                    limit: 20,
                    ..QueryRequest::default()
                },
            )
            .unwrap();
            total = page.total_items;
            assert_eq!(page.items.len(), 20);
        });
        let ordered = p50(|| {
            let (page, _) = query::list(
                &s,
                Some(&comp),
                &[Order {
                    field: "metadata.name".into(),
                    descending: true,
                }],
                0,
                Some(50),
            );
            assert_eq!(page.len(), 50);
        });
        let by_ref = p50(|| {
            assert!(s.get("Component:default/payments-search-10").is_some());
        });

        // Incremental updates: a third of the changed entities get a new title, a third
        // are new, a third are removed (a change of 1 is one new title).
        let mut update_times = Vec::new();
        for count in [1usize, 100, 2000, n / 4] {
            let (mut upserts, mut removals) = (Vec::new(), Vec::new());
            for c in 0..count {
                let old = s.entity(((c * 7919 + 13) % s.len()) as u32);
                let mut v: Value = serde_json::from_str(&old.body()).unwrap();
                match c % 3 {
                    0 => {
                        v["metadata"]["title"] = json!(format!("Changed title {c}"));
                        upserts.push(stitched_from(&v));
                    }
                    1 => {
                        v["metadata"]["name"] = json!(format!("new-{c}"));
                        v["metadata"]["uid"] = json!(format!("new-uid-{c}"));
                        upserts.push(stitched_from(&v));
                    }
                    _ => removals.push(old.key().to_owned()),
                }
            }
            let mut times: Vec<std::time::Duration> = (0..5)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let u = s.update_with(upserts.clone(), &removals, |_, _| false);
                    let elapsed = t.elapsed();
                    assert!(u.len().abs_diff(s.len()) <= count);
                    elapsed
                })
                .collect();
            times.sort();
            update_times.push((count, times[2]));
        }
        println!(
            "n={n}: bodies {:.1} MiB, index {:.1} MiB; build (wall, cpu) {:?} parsing bodies / {:?} parsed given; \
             p50 list kind+type limit 50 {:?}; facets spec.type|kind {:?}; full text (total {total}) {:?}; \
             list order desc name limit 50 {:?}; get by ref {:?}; \
             update (changed entities, median wall) {update_times:?}",
            body_bytes as f64 / 1048576.0,
            s.index_bytes() as f64 / 1048576.0,
            build_unparsed,
            build_parsed,
            list,
            facets,
            full_text,
            ordered,
            by_ref,
        );
    }
}
