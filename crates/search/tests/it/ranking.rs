//! Search over a fixed corpus: entities and an API definition from a catalog snapshot, and
//! docs-like pages handed in as another source. Ranking order, prefixes, typos, filters,
//! highlighted snippets, paging with cursors, and keeping up with catalog changes.

use std::sync::Arc;

use catalog::read::{Snapshot, Stitched};
use search::{
    DocType, Document, POST_TAG, PRE_TAG, Query, QueryError, Results, Search, decode_cursor,
    encode_cursor,
};
use serde_json::json;

fn entity(
    kind: &str,
    name: &str,
    spec: serde_json::Value,
    meta: serde_json::Value,
) -> Arc<Stitched> {
    let mut metadata = json!({"name": name, "namespace": "default"});
    for (k, v) in meta.as_object().unwrap() {
        metadata[k] = v.clone();
    }
    let owner = spec
        .get("owner")
        .and_then(|o| o.as_str())
        .map(|o| json!([{"type": "ownedBy", "targetRef": format!("group:default/{o}")}]));
    let body = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
        "relations": owner.unwrap_or(json!([])),
    });
    let key = format!("{}:default/{}", kind.to_lowercase(), name);
    let etag = format!(
        "{:x}",
        body.to_string().len() * 31 + body.to_string().bytes().map(u64::from).sum::<u64>() as usize
    );
    Arc::new(Stitched::from_json(
        key,
        format!("uid-{name}"),
        etag,
        &body.to_string(),
    ))
}

const OPENAPI: &str = "openapi: 3.0.3
info: {title: Payments API, version: '1'}
paths:
  /payments:
    get:
      operationId: listPayments
      summary: List payments made with a card
  /refunds:
    post:
      operationId: createRefund
      summary: Create a refund for a payment
";

fn corpus(payments_description: &str) -> Vec<Arc<Stitched>> {
    vec![
        entity(
            "Component",
            "payments",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a"}),
            json!({"title": "Payments", "description": payments_description, "tags": ["java", "tier-1"]}),
        ),
        entity(
            "Component",
            "payment-gateway",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a"}),
            json!({"description": "Routes payment requests to card providers."}),
        ),
        entity(
            "Component",
            "ledger",
            json!({"type": "library", "lifecycle": "production", "owner": "team-b"}),
            json!({"description": "Double-entry ledger; records payments for accounting."}),
        ),
        entity(
            "Component",
            "inventory",
            json!({"type": "service", "lifecycle": "experimental", "owner": "team-b"}),
            json!({"description": "Stock levels per warehouse."}),
        ),
        entity(
            "API",
            "payments-api",
            json!({"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": OPENAPI}),
            json!({"description": "The public payments API."}),
        ),
        entity(
            "Group",
            "team-a",
            json!({"type": "team", "children": []}),
            json!({"title": "Team A"}),
        ),
        entity(
            "Group",
            "team-b",
            json!({"type": "team", "children": []}),
            json!({}),
        ),
    ]
}

/// A docs page as the docs capability hands it in.
fn page(entity: &str, path: &str, title: &str, headings: &[&str], text: &str) -> Document {
    let (kind, rest) = entity.split_once(':').unwrap();
    let (ns, name) = rest.split_once('/').unwrap();
    Document {
        doc_type: DocType::Techdocs,
        source: "docs".into(),
        entity: entity.into(),
        name: path.into(),
        title: title.into(),
        keywords: headings.iter().map(|h| h.to_string()).collect(),
        owner: String::new(),
        text: text.into(),
        location: format!("/docs/{ns}/{kind}/{name}/{path}"),
        facets: vec![
            ("kind".into(), kind.into()),
            ("namespace".into(), ns.into()),
            ("name".into(), name.into()),
            ("path".into(), path.into()),
        ],
    }
}

fn search_over(entities: Vec<Arc<Stitched>>) -> Search {
    let s = Search::default();
    s.refresh(&Snapshot::of(entities));
    s.replace_source(
        "docs",
        vec![
            page(
                "component:default/payments",
                "getting-started/",
                "Getting started",
                &["Install", "Nightly settlement"],
                "Run the reconciliation job nightly. It reads the settlement file from the bank and matches every line against the ledger.",
            ),
            page("component:default/ledger", "", "Ledger", &["Overview"], "How accounts are kept."),
        ],
    );
    s
}

fn run(s: &Search, q: Query) -> Results {
    s.current().search(&q).unwrap()
}

fn titles(r: &Results) -> Vec<String> {
    r.hits
        .iter()
        .map(|h| format!("{}:{}", h.document.doc_type.as_str(), h.document.title))
        .collect()
}

#[test]
fn names_and_titles_rank_above_text() {
    let s = search_over(corpus("Takes card payments and refunds."));
    let r = run(&s, Query::new("payments"));
    let t = titles(&r);
    assert_eq!(
        t[..3],
        [
            "software-catalog:Payments",
            "software-catalog:payments-api",
            "api-definition:listPayments"
        ],
        "{t:?}"
    );
    let pos = |x: &str| {
        t.iter()
            .position(|y| y == x)
            .unwrap_or_else(|| panic!("{x} in {t:?}"))
    };
    // A name one edit away beats a description that has the word.
    assert!(
        pos("software-catalog:payment-gateway") < pos("software-catalog:ledger"),
        "{t:?}"
    );
    assert_eq!(r.total, t.len());
    assert!(r.hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(
        r.hits.iter().map(|h| h.rank).collect::<Vec<_>>(),
        (1..=t.len()).collect::<Vec<_>>()
    );
}

#[test]
fn prefixes_match_as_you_type() {
    let s = search_over(corpus("Takes card payments."));
    for typed in ["p", "pa", "pay", "paym", "payme"] {
        let t = titles(&run(&s, Query::new(typed)));
        for want in [
            "software-catalog:Payments",
            "software-catalog:payment-gateway",
            "software-catalog:payments-api",
        ] {
            assert!(t[..4].contains(&want.to_owned()), "{typed}: {t:?}");
        }
    }
    // Several words: every one must match, the last as a prefix.
    let t = titles(&run(&s, Query::new("payment gat")));
    assert_eq!(t, ["software-catalog:payment-gateway"]);
    // A camelCase operation id is found by its parts and whole.
    assert_eq!(
        titles(&run(&s, Query::new("createRef")))[0],
        "api-definition:createRefund"
    );
    assert_eq!(
        titles(&run(&s, Query::new("createrefund")))[0],
        "api-definition:createRefund"
    );
}

#[test]
fn names_tolerate_typos_by_length() {
    let s = search_over(corpus("x"));
    assert_eq!(
        titles(&run(&s, Query::new("ledgr")))[0],
        "software-catalog:ledger"
    );
    assert_eq!(
        titles(&run(&s, Query::new("invetory")))[0],
        "software-catalog:inventory"
    );
    // Two edits in a long word.
    assert_eq!(
        titles(&run(&s, Query::new("paimentss")))[0],
        "software-catalog:Payments"
    );
    // Words under 4 characters get no typos; from 4, one.
    assert_eq!(run(&s, Query::new("ldg")).total, 0);
    assert_eq!(
        titles(&run(&s, Query::new("lexg")))[0],
        "software-catalog:ledger"
    );
    // Typos count in names and titles only: "stck" does not find "Stock" in a description.
    assert_eq!(run(&s, Query::new("levls")).total, 0);
}

#[test]
fn filters_by_type_kind_and_owner() {
    let s = search_over(corpus("Takes card payments."));
    let mut q = Query::new("payments");
    q.types = vec![DocType::ApiDefinition];
    // createRefund's summary says "payment": a text word is not matched with typos.
    assert_eq!(titles(&run(&s, q.clone())), ["api-definition:listPayments"]);
    q.term = "payment".into();
    let r = run(&s, q.clone());
    assert_eq!(
        titles(&r),
        ["api-definition:listPayments", "api-definition:createRefund"]
    );
    // Counts of the other types come along for the page's tabs.
    assert_eq!(r.by_type[1], (DocType::ApiDefinition, 2));
    assert_eq!(r.by_type[0].0, DocType::SoftwareCatalog);
    q.term = "payments".into();
    q.types = vec![];
    q.filters = vec![("kind".into(), vec!["component".into()])];
    let r = run(&s, q.clone());
    assert!(
        r.hits
            .iter()
            .all(|h| h.document.facet("kind") == Some("Component")),
        "{:?}",
        titles(&r)
    );
    assert!(r.hits.iter().any(|h| h.document.title == "ledger"));
    q.filters.push(("owner".into(), vec!["team-a".into()]));
    let t = titles(&run(&s, q.clone()));
    assert_eq!(
        t,
        [
            "software-catalog:Payments",
            "software-catalog:payment-gateway"
        ]
    );
    // Any of several values; a facet nothing has matches nothing.
    q.filters = vec![("name".into(), vec!["ledger".into(), "inventory".into()])];
    q.term = String::new();
    let r = run(&s, q.clone());
    assert_eq!(r.total, 3, "{:?}", titles(&r)); // two entities, a docs page of ledger
    q.filters = vec![("nope".into(), vec!["x".into()])];
    assert_eq!(run(&s, q).total, 0);
}

#[test]
fn snippets_highlight_matches_in_docs_pages() {
    let s = search_over(corpus("x"));
    let r = run(&s, Query::new("settlement"));
    assert_eq!(r.total, 1);
    let hit = &r.hits[0];
    assert_eq!(hit.document.doc_type, DocType::Techdocs);
    assert_eq!(
        hit.document.location,
        "/docs/default/component/payments/getting-started/"
    );
    let text = &hit.highlight.iter().find(|(f, _)| *f == "text").unwrap().1;
    assert!(
        text.contains(&format!("the {PRE_TAG}settlement{POST_TAG} file")),
        "{text}"
    );
    // Titles are highlighted whole, typos included.
    let r = run(&s, Query::new("ledgr"));
    let title = &r.hits[0]
        .highlight
        .iter()
        .find(|(f, _)| *f == "title")
        .unwrap()
        .1;
    assert_eq!(title, &format!("{PRE_TAG}ledger{POST_TAG}"));
}

#[test]
fn pages_follow_cursors_to_the_end() {
    let s = search_over(corpus("Takes card payments."));
    let all = run(
        &s,
        Query {
            limit: 100,
            ..Query::new("p")
        },
    );
    assert!(all.total >= 7, "{:?}", titles(&all));
    let mut seen = Vec::new();
    let mut q = Query {
        limit: 2,
        ..Query::new("p")
    };
    loop {
        let r = run(&s, q.clone());
        assert_eq!(r.total, all.total);
        assert_eq!(r.previous_page, q.page.checked_sub(1));
        seen.extend(r.hits.iter().map(|h| {
            (
                h.rank,
                h.document.location.clone(),
                h.document.title.clone(),
            )
        }));
        match r.next_page {
            // Through the cursor encoding, as a client would.
            Some(p) => q.page = decode_cursor(&encode_cursor(p)).unwrap(),
            None => break,
        }
    }
    let whole: Vec<_> = all
        .hits
        .iter()
        .map(|h| {
            (
                h.rank,
                h.document.location.clone(),
                h.document.title.clone(),
            )
        })
        .collect();
    assert_eq!(seen, whole);
    // Past the end: empty, with the total.
    let r = run(
        &s,
        Query {
            page: 99,
            limit: 2,
            ..Query::new("p")
        },
    );
    assert!(r.hits.is_empty());
    assert_eq!(r.next_page, None);
}

#[test]
fn keeps_up_with_catalog_changes_and_other_sources() {
    let s = search_over(corpus("Takes card payments."));
    assert_eq!(run(&s, Query::new("chargebacks")).total, 0);
    let before = s.current();
    // One entity edited, one removed: only they change; the docs pages stay.
    let mut next = corpus("Takes card payments and handles chargebacks.");
    next.retain(|e| e.key() != "component:default/inventory");
    s.refresh(&Snapshot::of(next.clone()));
    assert_eq!(
        titles(&run(&s, Query::new("chargebacks"))),
        ["software-catalog:Payments"]
    );
    assert_eq!(run(&s, Query::new("inventory")).total, 0);
    assert_eq!(run(&s, Query::new("settlement")).total, 1);
    assert_eq!(s.current().len(), before.len() - 1);
    // Rebuilt incrementally, it answers as one built from scratch over the same documents.
    let cur = s.current();
    let fresh = search::Index::build(cur.ids().map(|d| cur.document(d)));
    for term in [
        "pay",
        "payments",
        "settlement",
        "ledgr",
        "team",
        "chargebacks",
        "p",
    ] {
        let (a, b) = (
            cur.search(&Query::new(term)).unwrap(),
            fresh.search(&Query::new(term)).unwrap(),
        );
        assert_eq!(a, b, "{term}");
    }
    // The same snapshot again keeps the index as is.
    let same = s.current();
    s.refresh(&Snapshot::of(next));
    assert!(Arc::ptr_eq(&same, &s.current()));
    // One entity's pages replaced, then removed.
    s.replace_entity(
        "docs",
        "Component:default/payments",
        vec![page(
            "component:default/payments",
            "runbook/",
            "Runbook",
            &[],
            "Page the on-call engineer.",
        )],
    );
    assert_eq!(run(&s, Query::new("settlement")).total, 0);
    assert_eq!(
        titles(&run(&s, Query::new("engineer"))),
        ["techdocs:Runbook"]
    );
    assert_eq!(
        titles(&run(&s, Query::new("accounts"))),
        ["techdocs:Ledger"]
    );
    s.replace_entity("docs", "component:default/payments", vec![]);
    assert_eq!(run(&s, Query::new("engineer")).total, 0);
    assert_eq!(run(&s, Query::new("accounts")).total, 1);
}

#[test]
fn long_texts_are_searchable_but_kept_short() {
    let s = search_over(corpus("x"));
    let long = format!("{} zanzibar", "filler ".repeat(2_000));
    s.replace_source(
        "docs",
        vec![page(
            "component:default/ledger",
            "long/",
            "Long page",
            &[],
            &long,
        )],
    );
    let r = run(&s, Query::new("zanzibar"));
    assert_eq!(r.total, 1);
    assert!(r.hits[0].document.text.len() <= search::MAX_STORED_TEXT);
    // The match lies past the kept text: no snippet, but the page is found.
    assert!(r.hits[0].highlight.iter().all(|(f, _)| *f != "text"));
}

#[test]
fn bad_queries_are_refused() {
    let s = search_over(corpus("x"));
    let q = Query::new("x".repeat(search::MAX_TERM_CHARS + 1));
    assert_eq!(s.current().search(&q), Err(QueryError::TermTooLong));
}
