//! The catalog table: server-side paging, facets with counts, a text filter and sorting, with
//! the whole state in the URL so a view can be shared and the back button works.
//!
//! Facet counts follow the usual faceted-search rule: a facet's counts apply every other
//! selection but not its own, so picking one kind still shows how many of each other kind
//! there are. Counting is bitmap AND + popcount over [`derived`] facet bitmaps.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use catalog::read::{self, FullText, QueryRequest};
use catalog::read::{Bits, Snapshot};
use model::filter::Filter;

use crate::AppState;
use crate::auth::Identity;
use crate::pages::derived::{self, Derived};
use crate::pages::layout::Layout;
use crate::pages::view::{self, Row};

/// (URL parameter, search key, heading) of each facet, in sidebar order.
const FACETS: [(&str, &str, &str); 6] = [
    ("kind", "kind", "Kind"),
    ("type", "spec.type", "Type"),
    ("owner", "relations.ownedby", "Owner"),
    ("lifecycle", "spec.lifecycle", "Lifecycle"),
    ("tag", "metadata.tags", "Tags"),
    ("namespace", "metadata.namespace", "Namespace"),
];

/// (URL value, search key, column heading) of the sortable columns.
const SORTS: [(&str, &str, &str); 5] = [
    ("name", "metadata.name", "Name"),
    ("kind", "kind", "Kind"),
    ("type", "spec.type", "Type"),
    ("owner", "relations.ownedby", "Owner"),
    ("lifecycle", "spec.lifecycle", "Lifecycle"),
];

/// Fields the text filter looks in.
const TEXT_FIELDS: [&str; 4] = [
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "spec.profile.displayname",
];

const PAGE_SIZES: [usize; 4] = [10, 25, 50, 100];
const DEFAULT_PAGE_SIZE: usize = 25;
/// Facet values shown before the rest fold away behind "more".
const FACET_SHOWN: usize = 8;

/// The page's whole state, as carried by the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub q: String,
    /// Selected values per facet, lower-cased, in [`FACETS`] order.
    pub selected: [Vec<String>; 6],
    /// `Some(true)`: only entities with processing errors; `Some(false)`: only those without.
    pub errors: Option<bool>,
    pub sort: usize,
    pub desc: bool,
    pub page: usize,
    pub size: usize,
}

impl Params {
    pub fn parse(raw: &str) -> Params {
        let mut p = Params {
            size: DEFAULT_PAGE_SIZE,
            page: 1,
            ..Default::default()
        };
        let mut errors = (false, false);
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.trim();
            if let Some(i) = FACETS.iter().position(|f| f.0 == k) {
                let v = v.to_lowercase();
                if !v.is_empty() && !p.selected[i].contains(&v) && p.selected[i].len() < 50 {
                    p.selected[i].push(v);
                }
                continue;
            }
            match &*k {
                "q" => p.q = view::truncate(v, 200),
                "errors" if v == "yes" => errors.0 = true,
                "errors" if v == "no" => errors.1 = true,
                "sort" => p.sort = SORTS.iter().position(|s| s.0 == v).unwrap_or(0),
                "dir" => p.desc = v == "desc",
                "page" => p.page = v.parse().unwrap_or(1).clamp(1, 1_000_000),
                "size" => {
                    p.size = v
                        .parse()
                        .ok()
                        .filter(|n| PAGE_SIZES.contains(n))
                        .unwrap_or(DEFAULT_PAGE_SIZE)
                }
                _ => {}
            }
        }
        // Both boxes ticked means no restriction.
        p.errors = match errors {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        };
        p
    }

    /// The query string of this state; `page` 1, default size and default sort are left out.
    pub fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        for (i, f) in FACETS.iter().enumerate() {
            for v in &self.selected[i] {
                s.append_pair(f.0, v);
            }
        }
        match self.errors {
            Some(true) => {
                s.append_pair("errors", "yes");
            }
            Some(false) => {
                s.append_pair("errors", "no");
            }
            None => {}
        }
        if self.sort != 0 || self.desc {
            s.append_pair("sort", SORTS[self.sort].0);
        }
        if self.desc {
            s.append_pair("dir", "desc");
        }
        if self.size != DEFAULT_PAGE_SIZE {
            s.append_pair("size", &self.size.to_string());
        }
        if self.page > 1 {
            s.append_pair("page", &self.page.to_string());
        }
        s.finish()
    }

    pub fn href(&self) -> String {
        let q = self.query();
        if q.is_empty() {
            "/catalog".into()
        } else {
            format!("/catalog?{q}")
        }
    }
}

pub struct FacetOption {
    pub id: String,
    pub value: String,
    pub label: String,
    pub count: usize,
    pub checked: bool,
}

pub struct FacetView {
    pub param: &'static str,
    pub title: &'static str,
    pub shown: Vec<FacetOption>,
    pub more: Vec<FacetOption>,
}

pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub state: &'static str,
}

#[derive(askama::Template)]
#[template(path = "catalog_results.html")]
pub struct Results {
    pub params: Params,
    pub sort_param: &'static str,
    pub facets: Vec<FacetView>,
    pub headers: Vec<SortHeader>,
    pub rows: Vec<Row>,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub pages: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub clear: Option<String>,
    pub sizes: Vec<(usize, String, bool)>,
}

#[derive(askama::Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    layout: Layout,
    q: String,
    results: Results,
}

pub async fn page(
    State(state): State<AppState>,
    me: Identity,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let snap = state.catalog.snapshot();
    let params = Params::parse(raw.as_deref().unwrap_or(""));
    let results = results(&snap, params);
    if crate::pages::wants_partial(&headers, "catalog-results") {
        return crate::pages::render(&results);
    }
    let title = if results.params.q.is_empty() {
        "Catalog".to_owned()
    } else {
        format!("“{}” in the catalog", results.params.q)
    };
    crate::pages::render(&CatalogPage {
        layout: Layout::new(&title, "catalog", &snap, &me),
        q: results.params.q.clone(),
        results,
    })
}

/// Entities whose name, title, description or display name contain `term`.
fn text_bits(snap: &Snapshot, d: &Derived, term: &str) -> Bits {
    let page = read::query(
        snap,
        QueryRequest {
            full_text: Some(FullText {
                term: term.to_owned(),
                fields: TEXT_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            }),
            limit: usize::MAX,
            ..Default::default()
        },
    );
    match page {
        Ok(p) => d.bits_of(p.items.iter()),
        Err(_) => Bits::empty(d.len()),
    }
}

/// The selection of one facet as a bitmap (`None`: nothing selected, no restriction).
fn facet_selection(snap: &Snapshot, d: &Derived, facet: usize, values: &[String]) -> Option<Bits> {
    if values.is_empty() {
        return None;
    }
    let key = FACETS[facet].1;
    let table = d.facet(snap, key);
    let mut acc = Bits::empty(d.len());
    for v in values {
        match table.iter().find(|f| &f.key == v) {
            Some(f) => acc.or_with(&f.bits),
            // A value beyond the facet cap still filters correctly.
            None => acc.or_with(&snap.matching(Some(&Filter::Eq {
                key: key.to_owned(),
                values: vec![v.clone()],
            }))),
        }
    }
    Some(acc)
}

pub fn results(snap: &Arc<Snapshot>, params: Params) -> Results {
    let d = derived::of(snap);
    let n = d.len();
    let text = (!params.q.trim().is_empty()).then(|| text_bits(snap, &d, params.q.trim()));
    let errors = params.errors.map(|want| {
        let mut b = d.errors.clone();
        if !want {
            b.invert();
        }
        b
    });
    let selections: Vec<Option<Bits>> = (0..FACETS.len())
        .map(|i| facet_selection(snap, &d, i, &params.selected[i]))
        .collect();

    // Everything but one restriction (`skip`), for that facet's counts.
    let base_without = |skip: Option<usize>, skip_errors: bool| -> Bits {
        let mut acc = text.clone().unwrap_or_else(|| Bits::full(n));
        for (i, s) in selections.iter().enumerate() {
            if Some(i) != skip
                && let Some(s) = s
            {
                acc.and_with(s);
            }
        }
        if !skip_errors && let Some(e) = &errors {
            acc.and_with(e);
        }
        acc
    };
    let cand = base_without(None, false);
    let total = cand.count();

    let mut facets = Vec::with_capacity(FACETS.len() + 1);
    for (i, (param, key, title)) in FACETS.iter().enumerate() {
        let base = base_without(Some(i), false);
        let table = d.facet(snap, key);
        let mut opts: Vec<FacetOption> = table
            .iter()
            .enumerate()
            .filter_map(|(j, f)| {
                let checked = params.selected[i].contains(&f.key);
                let count = derived::and_count(&base, &f.bits);
                (count > 0 || checked).then(|| FacetOption {
                    id: format!("f-{param}-{j}"),
                    value: f.key.clone(),
                    label: facet_label(param, &f.label),
                    count,
                    checked,
                })
            })
            .collect();
        // Most common first, so the few shown are the useful ones; selected ones always show.
        opts.sort_by(|a, b| {
            b.checked
                .cmp(&a.checked)
                .then(b.count.cmp(&a.count))
                .then(a.label.cmp(&b.label))
        });
        let more = if opts.len() > FACET_SHOWN + 2 {
            opts.split_off(FACET_SHOWN)
        } else {
            Vec::new()
        };
        facets.push(FacetView {
            param,
            title,
            shown: opts,
            more,
        });
    }
    {
        let base = base_without(None, true);
        let with = derived::and_count(&base, &d.errors);
        let without = base.count() - with;
        facets.push(FacetView {
            param: "errors",
            title: "Processing errors",
            shown: vec![
                FacetOption {
                    id: "f-errors-yes".into(),
                    value: "yes".into(),
                    label: "Has errors".into(),
                    count: with,
                    checked: params.errors == Some(true),
                },
                FacetOption {
                    id: "f-errors-no".into(),
                    value: "no".into(),
                    label: "No errors".into(),
                    count: without,
                    checked: params.errors == Some(false),
                },
            ],
            more: Vec::new(),
        });
    }

    let pages = total.div_ceil(params.size).max(1);
    let page = params.page.min(pages);
    let offset = (page - 1) * params.size;
    let order = d.order(snap, SORTS[params.sort].1);
    let pick = |id: &u32| cand.contains(*id);
    let ids: Vec<u32> = if params.desc {
        order
            .iter()
            .rev()
            .filter(|id| pick(id))
            .skip(offset)
            .take(params.size)
            .copied()
            .collect()
    } else {
        order
            .iter()
            .filter(|id| pick(id))
            .skip(offset)
            .take(params.size)
            .copied()
            .collect()
    };
    let rows: Vec<Row> = ids
        .iter()
        .map(|&id| Row::of(snap, &d.ents[id as usize]))
        .collect();

    let with = |f: &dyn Fn(&mut Params)| {
        let mut p = params.clone();
        f(&mut p);
        p.href()
    };
    let headers = SORTS
        .iter()
        .enumerate()
        .map(|(i, (_, _, label))| {
            let current = params.sort == i;
            SortHeader {
                label,
                href: with(&|p| {
                    p.desc = current && !params.desc;
                    p.sort = i;
                    p.page = 1;
                }),
                state: match (current, params.desc) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
            }
        })
        .collect();
    let any_filter = !params.q.is_empty()
        || params.errors.is_some()
        || params.selected.iter().any(|s| !s.is_empty());
    let sizes = PAGE_SIZES
        .iter()
        .map(|&s| {
            (
                s,
                with(&|p| {
                    p.size = s;
                    p.page = 1;
                }),
                s == params.size,
            )
        })
        .collect();
    Results {
        sort_param: SORTS[params.sort].0,
        prev: (page > 1).then(|| with(&|p| p.page = page - 1)),
        next: (page < pages).then(|| with(&|p| p.page = page + 1)),
        clear: any_filter.then(|| "/catalog".to_owned()),
        first: if total == 0 { 0 } else { offset + 1 },
        last: offset + rows.len(),
        params: Params { page, ..params },
        facets,
        headers,
        rows,
        total,
        pages,
        sizes,
    }
}

/// Owner refs read better without the default kind and namespace.
fn facet_label(param: &str, value: &str) -> String {
    if param == "owner" {
        let v = value.strip_prefix("group:").unwrap_or(value);
        v.strip_prefix("default/").unwrap_or(v).to_owned()
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_through_the_url() {
        let p = Params::parse(
            "q=pay&kind=Component&kind=api&owner=group%3Adefault%2Fcheckout&errors=yes&sort=owner&dir=desc&page=3&size=50",
        );
        assert_eq!(p.q, "pay");
        assert_eq!(p.selected[0], vec!["component", "api"]);
        assert_eq!(p.selected[2], vec!["group:default/checkout"]);
        assert_eq!(p.errors, Some(true));
        assert_eq!(SORTS[p.sort].0, "owner");
        assert!(p.desc);
        assert_eq!((p.page, p.size), (3, 50));
        assert_eq!(Params::parse(&p.query()), p);
    }

    #[test]
    fn bad_params_fall_back_to_defaults() {
        let p = Params::parse("page=-4&size=7&sort=nonsense&errors=yes&errors=no");
        assert_eq!(
            (p.page, p.size, p.sort, p.errors),
            (1, DEFAULT_PAGE_SIZE, 0, None)
        );
        assert_eq!(p.href(), "/catalog");
    }
}
