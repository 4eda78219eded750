//! The handlers of the search pages and the view models their templates read.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use search::{DocType, Hit, POST_TAG, PRE_TAG, Query, Results};

use docs::blocks::escape_into;

use super::record;
use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view;

/// Results per page on `/search`, and suggestions under the header box.
const PAGE_SIZE: usize = 20;
const SUGGESTIONS: usize = 8;

/// The page's state, as carried by the URL: `q`, `type`, `kind`, `owner`, `page` (1-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub q: String,
    pub doc_type: Option<DocType>,
    pub kind: String,
    pub owner: String,
    pub page: usize,
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        let mut p = Params {
            page: 1,
            ..Default::default()
        };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.trim();
            match &*k {
                "q" => p.q = view::truncate(v, search::MAX_TERM_CHARS),
                "type" => p.doc_type = DocType::parse(v),
                "kind" => p.kind = view::truncate(v, 100),
                "owner" => p.owner = view::truncate(v, 200),
                "page" => p.page = v.parse().unwrap_or(1).clamp(1, 10_000),
                _ => {}
            }
        }
        p
    }

    fn query(&self, limit: usize) -> Query {
        let mut filters = Vec::new();
        if !self.kind.is_empty() {
            filters.push(("kind".to_owned(), vec![self.kind.clone()]));
        }
        if !self.owner.is_empty() {
            filters.push(("owner".to_owned(), vec![self.owner.clone()]));
        }
        Query {
            term: self.q.clone(),
            types: self.doc_type.into_iter().collect(),
            filters,
            page: self.page - 1,
            limit,
        }
    }

    /// This state's URL with another type and page.
    fn href(&self, doc_type: Option<DocType>, page: usize) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("q", &self.q);
        if let Some(t) = doc_type {
            s.append_pair("type", t.as_str());
        }
        if !self.kind.is_empty() {
            s.append_pair("kind", &self.kind);
        }
        if !self.owner.is_empty() {
            s.append_pair("owner", &self.owner);
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        format!("/search?{}", s.finish())
    }
}

/// A tab: one type (or all) with its count.
pub struct Tab {
    pub label: &'static str,
    pub count: usize,
    pub href: String,
    pub current: bool,
}

/// One result as the page shows it.
pub struct Row {
    pub type_label: &'static str,
    pub type_class: &'static str,
    /// Through `/search/open`, so the open is recorded.
    pub href: String,
    /// Escaped HTML with `<mark>` around matches.
    pub title_html: String,
    pub snippet_html: String,
    /// Where it lives: entity ref, kind and owner, operation path.
    pub context: String,
}

#[derive(Template)]
#[template(path = "search/results.html")]
pub struct ResultsView {
    pub q: String,
    pub total: usize,
    pub tabs: Vec<Tab>,
    pub rows: Vec<Row>,
    pub first: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "search/search.html")]
struct SearchPage {
    layout: Layout,
    p: Params,
    type_value: &'static str,
    results: ResultsView,
}

#[derive(Template)]
#[template(path = "search/suggest.html")]
struct Suggestions {
    q: String,
    all_href: String,
    rows: Vec<Row>,
}

/// Escaped `s` with the index's highlight tags turned into `<mark>`.
pub fn highlight_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for (i, open) in s.split(PRE_TAG).enumerate() {
        if i == 0 {
            escape_into(&mut out, open);
            continue;
        }
        match open.split_once(POST_TAG) {
            Some((marked, rest)) => {
                out.push_str("<mark>");
                escape_into(&mut out, marked);
                out.push_str("</mark>");
                escape_into(&mut out, rest);
            }
            None => escape_into(&mut out, open),
        }
    }
    out
}

/// The link a result opens through: `/search/open?q=…&rank=…&to=…`.
pub fn open_href(term: &str, rank: usize, to: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", term);
    s.append_pair("rank", &rank.to_string());
    s.append_pair("to", to);
    format!("/search/open?{}", s.finish())
}

fn row(term: &str, h: &Hit) -> Row {
    let d = &h.document;
    let field = |f: &str| {
        h.highlight
            .iter()
            .find(|(k, _)| *k == f)
            .map(|(_, v)| v.as_str())
    };
    let title_html = highlight_html(field("title").unwrap_or(&d.title));
    let snippet_html = match field("text") {
        Some(t) => highlight_html(t),
        None => highlight_html(&view::truncate(&d.text, 200)),
    };
    let facet = |k: &str| d.facet(k).unwrap_or_default();
    let context = match d.doc_type {
        DocType::SoftwareCatalog => {
            let mut c = format!("{} · {}", facet("kind"), facet("type"));
            if !facet("owner").is_empty() {
                c.push_str(&format!(" · owned by {}", facet("owner")));
            }
            c
        }
        DocType::ApiDefinition => {
            let what = match (facet("method"), facet("path")) {
                ("", "") => facet("what").to_owned(),
                ("", p) => p.to_owned(),
                (m, p) => format!("{m} {p}"),
            };
            format!("{what} · in API {}", facet("name"))
        }
        // The entity's title when the docs feed gave it (`entityTitle`), else its ref.
        DocType::Techdocs => match facet("entityTitle") {
            "" => format!("Docs of {}", d.entity),
            title => format!("Docs of {title}"),
        },
    };
    let (type_label, type_class) = match d.doc_type {
        DocType::SoftwareCatalog => ("Entity", "entity"),
        DocType::Techdocs => ("Docs", "docs"),
        DocType::ApiDefinition => ("API", "api"),
    };
    Row {
        type_label,
        type_class,
        href: open_href(term, h.rank, &d.location),
        title_html,
        snippet_html,
        context,
    }
}

fn results_view(p: &Params, r: &Results) -> ResultsView {
    let all: usize = r.by_type.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![Tab {
        label: "All",
        count: all,
        href: p.href(None, 1),
        current: p.doc_type.is_none(),
    }];
    for (t, n) in &r.by_type {
        tabs.push(Tab {
            label: t.label(),
            count: *n,
            href: p.href(Some(*t), 1),
            current: p.doc_type == Some(*t),
        });
    }
    ResultsView {
        q: p.q.clone(),
        total: r.total,
        tabs,
        rows: r.hits.iter().map(|h| row(&p.q, h)).collect(),
        first: r.page * PAGE_SIZE + 1,
        prev: r.previous_page.map(|pg| p.href(p.doc_type, pg + 1)),
        next: r.next_page.map(|pg| p.href(p.doc_type, pg + 1)),
    }
}

fn no_results() -> Results {
    Results {
        hits: Vec::new(),
        total: 0,
        by_type: Vec::new(),
        page: 0,
        next_page: None,
        previous_page: None,
    }
}

fn run(s: &AppState, q: &Query) -> Results {
    // Only an over-long term or limit fails, and the page bounds both.
    catalog::off_async_workers(|| search::index(&s.catalog).search(q))
        .unwrap_or_else(|_| no_results())
}

/// `GET /search`.
pub async fn page(
    State(state): State<AppState>,
    me: Identity,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = Params::parse(raw.as_deref().unwrap_or(""));
    let q = p.query(PAGE_SIZE);
    // An empty box searches nothing: the page shows the form alone.
    let r = if p.q.trim().is_empty() {
        no_results()
    } else {
        let r = run(&state, &q);
        if is_submitted(&headers) {
            let user = me.user.as_ref().map(|u| u.key());
            record::search_made(&state.catalog, &q, r.total, "page", user.as_deref());
        }
        r
    };
    let results = results_view(&p, &r);
    if crate::pages::wants_partial(&headers, "search-results") {
        return crate::pages::render(&results);
    }
    let snap = state.catalog.snapshot();
    let title = if p.q.is_empty() {
        "Search".to_owned()
    } else {
        format!("“{}” · Search", p.q)
    };
    crate::pages::render(&SearchPage {
        layout: Layout::new(&title, "search", &snap, &me),
        type_value: p.doc_type.map(DocType::as_str).unwrap_or(""),
        p,
        results,
    })
}

/// Whether a request for the search page is a search someone made (a page load, the form
/// submitted, a tab or page of results followed) rather than the live update while they type
/// (htmx, triggered by the box itself): only those are recorded, so a search typed letter by
/// letter counts once.
pub fn is_submitted(headers: &HeaderMap) -> bool {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    !(h("hx-request") == Some("true") && h("hx-trigger") == Some("search-q"))
}

/// `GET /search/suggest?q=`: the header box's suggestions, a fragment for htmx.
pub async fn suggest(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = Params::parse(raw.as_deref().unwrap_or(""));
    let rows = if p.q.trim().is_empty() {
        Vec::new()
    } else {
        let r = run(&state, &p.query(SUGGESTIONS));
        r.hits.iter().map(|h| row(&p.q, h)).collect()
    };
    crate::pages::render(&Suggestions {
        all_href: p.href(None, 1),
        q: p.q,
        rows,
    })
}

/// A path on this site: `/` then anything but a second `/` or `\` (which browsers read as
/// another host), with no whitespace or control characters.
pub fn local_path(to: &str) -> Option<&str> {
    let ok = to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && to.len() <= 2048
        && !to.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(to)
}

/// `GET /search/open?q=&rank=&to=`: records the opened result, then sends the browser there.
pub async fn open(
    State(state): State<AppState>,
    me: Identity,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = crate::params::pairs(raw.as_deref());
    let q = crate::params::one(&pairs, "q").unwrap_or_default();
    let rank = crate::params::one(&pairs, "rank").and_then(|r| r.parse::<usize>().ok());
    let to = crate::params::one(&pairs, "to").and_then(local_path);
    let (Some(rank), Some(to)) = (rank, to) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "`to` must be a path on this site and `rank` a number",
        )
            .into_response();
    };
    let user = me.user.as_ref().map(|u| u.key());
    record::result_opened(&state.catalog, q, rank, to, user.as_deref());
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_escaped_and_marked() {
        let s = format!("a <b> {PRE_TAG}pay&{POST_TAG} c");
        assert_eq!(highlight_html(&s), "a &lt;b&gt; <mark>pay&amp;</mark> c");
        assert_eq!(highlight_html("<script>"), "&lt;script&gt;");
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path("/catalog/default/component/a"),
            Some("/catalog/default/component/a")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:x",
            "/a b",
            "",
            "/a\n",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn live_updates_while_typing_are_not_recorded() {
        let mut h = HeaderMap::new();
        assert!(is_submitted(&h));
        h.insert("hx-request", "true".parse().unwrap());
        h.insert("hx-trigger", "search-form".parse().unwrap());
        assert!(is_submitted(&h));
        h.insert("hx-trigger", "search-q".parse().unwrap());
        assert!(!is_submitted(&h));
    }

    #[test]
    fn params_round_trip_through_links() {
        let p = Params::parse("q=pay+api&type=techdocs&kind=Component&page=3");
        assert_eq!(p.doc_type, Some(DocType::Techdocs));
        assert_eq!(p.page, 3);
        assert_eq!(
            Params::parse(p.href(p.doc_type, 3).trim_start_matches("/search?")),
            p
        );
        assert_eq!(Params::parse("type=bogus&page=x").doc_type, None);
    }
}
