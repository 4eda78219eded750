//! Search over real HTTP on both databases: `GET /api/search/query` in Backstage's shape (types,
//! filters, highlights, ranks, cursors), docs pages handed in as another source, bad parameters
//! refused in the catalog's envelope, a file edit followed; and the pages: `/search`, the header
//! box's suggestions and `/search/open`'s redirect.

use std::sync::Arc;
use std::time::Duration;

use catalog::settings::{CatalogSettings, LocationSpec};
use serde_json::Value;
use store::testing::TestDb;

use crate::common;

fn catalog_yaml(payments_description: &str) -> String {
    format!(
        "\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: team-a }}
spec: {{ type: team, children: [] }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  title: Payments
  description: {payments_description}
  tags: [java]
spec: {{ type: service, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payment-gateway
  description: Routes payment requests to card providers.
spec: {{ type: service, lifecycle: experimental, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  description: Records payments for accounting.
spec: {{ type: library, lifecycle: production, owner: team-a }}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: payments-api
  description: The public payments API.
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: |
    openapi: 3.0.3
    info: {{ title: Payments, version: '1' }}
    paths:
      /payments:
        get:
          operationId: listPayments
          summary: List payments made with a card
"
    )
}

async fn start(dir: &std::path::Path, db: &TestDb) -> (String, Arc<catalog::Catalog>) {
    std::fs::write(
        dir.join("catalog.yaml"),
        catalog_yaml("Takes card payments."),
    )
    .unwrap();
    let settings = CatalogSettings {
        locations: vec![(
            LocationSpec::new("file", &dir.join("catalog.yaml").to_string_lossy()),
            vec![],
        )],
        watch_interval: Duration::from_millis(200),
        ..Default::default()
    };
    let (base, catalog) = common::serve(settings, db).await;
    catalog.round().await.unwrap();
    // A docs build hands in its pages, as the docs capability will.
    catalog.state::<search::Search>().replace_source(
        "docs",
        vec![search::Document {
            doc_type: search::DocType::Techdocs,
            source: "docs".into(),
            entity: "component:default/payments".into(),
            name: "getting-started/".into(),
            title: "Getting started".into(),
            keywords: vec!["Nightly settlement".into()],
            owner: "group:default/team-a".into(),
            text: "Run the reconciliation job nightly: it reads the settlement file from the bank."
                .into(),
            location: "/docs/default/component/payments/getting-started/".into(),
            facets: vec![
                ("kind".into(), "Component".into()),
                ("namespace".into(), "default".into()),
                ("name".into(), "payments".into()),
                ("path".into(), "getting-started/".into()),
            ],
        }],
    );
    (base, catalog)
}

async fn get(http: &reqwest::Client, url: String) -> (u16, Value) {
    let resp = http.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn titles(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["type"].as_str().unwrap(),
                r["document"]["title"].as_str().unwrap()
            )
        })
        .collect()
}

async fn search_api_answers_in_backstage_shape(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, catalog) = start(dir.path(), &db).await;
    let http = reqwest::Client::new();
    let api = format!("{base}/api/search/query");

    let (status, body) = get(&http, format!("{api}?term=payments")).await;
    assert_eq!(status, 200, "{body}");
    let t = titles(&body);
    assert_eq!(
        t[..3],
        [
            "software-catalog:Payments",
            "software-catalog:payments-api",
            "api-definition:listPayments"
        ],
        "{t:?}"
    );
    assert_eq!(body["numberOfResults"], t.len());
    assert!(body.get("nextPageCursor").is_none() && body.get("previousPageCursor").is_none());
    let first = &body["results"][0];
    assert_eq!(first["rank"], 1);
    let doc = &first["document"];
    assert_eq!(doc["location"], "/catalog/default/component/payments");
    assert_eq!(doc["text"], "Takes card payments.");
    for (field, value) in [
        ("kind", "Component"),
        ("namespace", "default"),
        ("lifecycle", "production"),
        ("owner", "team-a"),
        ("componentType", "service"),
        ("type", "service"),
    ] {
        assert_eq!(doc[field], value, "{field} in {doc}");
    }
    let hl = &first["highlight"];
    let (pre, post) = (
        hl["preTag"].as_str().unwrap(),
        hl["postTag"].as_str().unwrap(),
    );
    assert_eq!(hl["fields"]["title"], format!("{pre}Payments{post}"));
    assert_eq!(
        hl["fields"]["text"],
        format!("Takes card {pre}payments{post}.")
    );

    // types[] and filters[...], as Backstage's client writes them.
    let (_, body) = get(
        &http,
        format!("{api}?term=payments&types%5B%5D=api-definition"),
    )
    .await;
    assert_eq!(titles(&body), ["api-definition:listPayments"]);
    let op = &body["results"][0]["document"];
    assert_eq!(
        op["location"],
        "/catalog/default/api/payments-api#definition"
    );
    assert_eq!(
        (op["method"].as_str(), op["path"].as_str()),
        (Some("GET"), Some("/payments"))
    );
    let (_, body) = get(
        &http,
        format!("{api}?term=pay&filters%5Bkind%5D=component&filters%5Blifecycle%5D=experimental"),
    )
    .await;
    assert_eq!(titles(&body), ["software-catalog:payment-gateway"]);
    let (_, body) = get(&http, format!("{api}?term=pay&filters[lifecycle][]=experimental&filters[lifecycle][]=production&types[0]=software-catalog")).await;
    assert_eq!(body["numberOfResults"], 4, "{body}");

    // A typo in a name.
    let (_, body) = get(&http, format!("{api}?term=ledgr")).await;
    assert_eq!(titles(&body)[0], "software-catalog:ledger");

    // A docs page: found by a word only it has, located at its reader URL.
    let (_, body) = get(&http, format!("{api}?term=settlement")).await;
    assert_eq!(titles(&body), ["techdocs:Getting started"]);
    assert_eq!(
        body["results"][0]["document"]["location"],
        "/docs/default/component/payments/getting-started/"
    );
    assert!(
        body["results"][0]["highlight"]["fields"]["text"]
            .as_str()
            .unwrap()
            .contains("settlement")
    );

    // Paging: one result a page, following the cursors there and back.
    let (_, all) = get(&http, format!("{api}?term=pay")).await;
    let (_, p1) = get(&http, format!("{api}?term=pay&pageLimit=1")).await;
    assert_eq!(p1["results"][0]["rank"], 1);
    assert_eq!(p1["nextPageCursor"], "MQ==");
    let (_, p2) = get(
        &http,
        format!(
            "{api}?term=pay&pageLimit=1&pageCursor={}",
            p1["nextPageCursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(p2["results"][0]["rank"], 2);
    assert_eq!(p2["results"][0]["document"], all["results"][1]["document"]);
    assert_eq!(p2["previousPageCursor"], "MA==");
    assert_eq!(p2["numberOfResults"], all["numberOfResults"]);

    // Bad parameters: 400 in the catalog's envelope.
    let long = "x".repeat(search::MAX_TERM_CHARS + 1);
    for bad in [
        "types[]=nope",
        "pageCursor=%21%21",
        "pageLimit=0",
        "pageLimit=x",
        "filters[]=x",
        &format!("term={long}"),
    ] {
        let (status, body) = get(&http, format!("{api}?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["name"], "InputError", "{bad}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid query string"),
            "{body}"
        );
        assert_eq!(body["response"]["statusCode"], 400);
    }

    // A file edit is searchable once the catalog has it.
    std::fs::write(
        dir.path().join("catalog.yaml"),
        catalog_yaml("Takes card payments and chargebacks."),
    )
    .unwrap();
    catalog.round().await.unwrap();
    let (_, body) = get(&http, format!("{api}?term=chargebacks")).await;
    assert_eq!(titles(&body), ["software-catalog:Payments"]);
    // The docs pages outlive the catalog's rebuild.
    let (_, body) = get(&http, format!("{api}?term=settlement")).await;
    assert_eq!(body["numberOfResults"], 1);
}

async fn search_pages_link_through_open(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (base, _catalog) = start(dir.path(), &db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{base}/search?q=settlement"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("the <mark>settlement</mark> file"), "{html}");
    assert!(html.contains("href=\"/search/open?q=settlement&#38;rank=1&#38;to=%2Fdocs%2Fdefault%2Fcomponent%2Fpayments%2Fgetting-started%2F\""), "{html}");
    // Tabs per type, and a type selected.
    let html = common::get_text(
        &http,
        format!("{base}/search?q=payments&type=api-definition"),
    )
    .await;
    assert!(
        html.contains("list<mark>Payments</mark>") && !html.contains("Records payments"),
        "{html}"
    );
    assert!(
        html.contains("API definitions <span class=\"count\">1</span>"),
        "{html}"
    );
    // htmx asks for the results alone.
    let part = http
        .get(format!("{base}/search?q=ledger"))
        .header("HX-Request", "true")
        .header("HX-Target", "search-results")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !part.contains("<html") && part.contains("<mark>ledger</mark>"),
        "{part}"
    );
    // The header box's suggestions.
    let sug = common::get_text(&http, format!("{base}/search/suggest?q=paym")).await;
    assert!(
        sug.contains("/search/open?q=paym&#38;rank=1&#38;to=%2Fcatalog%2Fdefault%2F"),
        "{sug}"
    );
    assert!(sug.contains("All results for"), "{sug}");
    // Opening a result redirects to a local path only.
    let r = http
        .get(format!(
            "{base}/search/open?q=pay&rank=2&to=%2Fcatalog%2Fdefault%2Fcomponent%2Fledger"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/catalog/default/component/ledger");
    for bad in [
        "to=%2F%2Fevil.example&rank=1",
        "to=https%3A%2F%2Fevil.example&rank=1",
        "to=%2F%5Cevil.example&rank=1",
        "to=%2Fok",
    ] {
        let r = http
            .get(format!("{base}/search/open?q=x&{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

store::on_each_database!(
    search_api_answers_in_backstage_shape,
    search_pages_link_through_open,
);
