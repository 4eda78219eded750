//! The entity page: header, about (description, links, tool annotations), relations graph,
//! APIs, dependencies, an API's definition, processing errors, scorecards and the raw entity. Groups and
//! users get their own views at the same address ([`super::group`], [`super::user`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use catalog::read::{Snapshot, Stitched};
use model::EntityRef;
use model::relations as rel;
use serde_json::Value;

use super::graph::Graph;
use super::header::{Header, graph_of};
use super::openapi::{self, ApiDoc};
use super::yaml_out;
use crate::AppState;
use crate::auth::Identity;
use crate::pages::docs::DocsSection;
use crate::pages::highlight::{self, Lang, Tok};
use crate::pages::layout::Layout;
use crate::pages::recent::Recent;
use crate::pages::scorecards::{self, ScorecardView};
use crate::pages::view::{self, ExtLink, ProblemView, RefLink, Row};

/// Related entities listed per section before the rest are counted.
pub const SECTION_LIMIT: usize = 100;

/// A list of related entities: those in the catalog as rows, dangling references apart.
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    pub missing: Vec<RefLink>,
    pub more: usize,
    pub empty: &'static str,
}

impl Section {
    pub fn build(
        snap: &Snapshot,
        e: &Value,
        relation: &str,
        id: &'static str,
        title: &'static str,
        empty: &'static str,
    ) -> Section {
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        let mut more = 0;
        for t in view::targets(e, relation) {
            if rows.len() + missing.len() >= SECTION_LIMIT {
                more += 1;
                continue;
            }
            match snap.get(t) {
                Some(st) => rows.push(Row::of(snap, st)),
                None => {
                    if let Ok(r) = EntityRef::parse(t, None, "default") {
                        missing.push(RefLink::with(&r, false))
                    }
                }
            }
        }
        Section {
            id,
            title,
            rows,
            missing,
            more,
            empty,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.missing.is_empty()
    }
}

/// The API definition, as operations (OpenAPI) or highlighted text.
pub struct Definition {
    pub lang: &'static str,
    pub doc: Option<ApiDoc>,
    pub code: Vec<Tok>,
    pub lines: usize,
}

#[derive(askama::Template)]
#[template(path = "entity.html")]
struct EntityPage {
    layout: Layout,
    header: Header,
    links: Vec<ExtLink>,
    tools: Vec<ExtLink>,
    graph: Graph,
    sections: Vec<Section>,
    has_empty_sections: bool,
    definition: Option<Definition>,
    problems: Vec<ProblemView>,
    scorecards: Vec<ScorecardView>,
    docs: Option<DocsSection>,
    source: Option<String>,
    raw: String,
}

pub async fn page(
    State(state): State<AppState>,
    me: Identity,
    recent: Recent,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    let snap = state.catalog.snapshot();
    let key = EntityRef::new(&kind, &namespace, &name).key();
    let Some(st) = snap.get(&key).cloned() else {
        let layout = Layout::new("Not found", "catalog", &snap, &me);
        return crate::pages::not_found(
            layout,
            format!("There is no {kind} named “{name}” in namespace “{namespace}”."),
        );
    };
    let eval = catalog::off_async_workers(|| ::scorecards::evaluation(&state.catalog, &snap));
    let docs = DocsSection::of(&state.catalog, st.key());
    let mut res = render(&snap, &st, &me, &eval, docs);
    res.headers_mut()
        .append(header::SET_COOKIE, recent.set_cookie(st.key()));
    res
}

/// The page for one entity, by kind.
/// The page of `st`: a group's or user's page for those kinds. `eval` gives the scorecards,
/// `docs` the Docs card.
pub fn render(
    snap: &Arc<Snapshot>,
    st: &Arc<Stitched>,
    me: &Identity,
    eval: &::scorecards::Evaluation,
    docs: Option<DocsSection>,
) -> Response {
    let e = view::parse(st);
    match view::str_at(&e, "/kind").map(str::to_lowercase).as_deref() {
        Some("group") => return super::group::render(snap, st, &e, me, eval),
        Some("user") => return super::user::render(snap, st, &e, me),
        _ => {}
    }
    let page = entity_page(snap, st, &e, me, eval, docs);
    crate::pages::render(&page).into_response()
}

fn entity_page(
    snap: &Arc<Snapshot>,
    st: &Stitched,
    e: &Value,
    me: &Identity,
    eval: &::scorecards::Evaluation,
    docs: Option<DocsSection>,
) -> EntityPage {
    let header = Header::new(snap, st, e);
    let kind = header.kind.to_lowercase();
    let mut sections = Vec::new();
    let mut add = |relation: &str, id, title, empty| {
        let s = Section::build(snap, e, relation, id, title, empty);
        sections.push(s);
    };
    match kind.as_str() {
        "api" => {
            add(
                rel::API_PROVIDED_BY,
                "providers",
                "Provided by",
                "No component provides this API.",
            );
            add(
                rel::API_CONSUMED_BY,
                "consumers",
                "Consumed by",
                "No component consumes this API.",
            );
        }
        "system" | "domain" => {
            add(
                rel::HAS_PART,
                "parts",
                "Parts",
                "Nothing is part of this yet.",
            );
            add(rel::DEPENDS_ON, "depends-on", "Depends on", "");
            add(rel::PROVIDES_API, "provided-apis", "Provided APIs", "");
        }
        _ => {
            add(
                rel::PROVIDES_API,
                "provided-apis",
                "Provided APIs",
                "Provides no APIs.",
            );
            add(
                rel::CONSUMES_API,
                "consumed-apis",
                "Consumed APIs",
                "Consumes no APIs.",
            );
            add(
                rel::DEPENDS_ON,
                "depends-on",
                "Depends on",
                "Depends on nothing in the catalog.",
            );
            add(
                rel::DEPENDENCY_OF,
                "dependents",
                "Depended on by",
                "Nothing depends on this.",
            );
            add(rel::HAS_PART, "parts", "Parts", "");
        }
    }
    // Sections that say nothing useful when empty are dropped.
    sections.retain(|s| !s.is_empty() || !s.empty.is_empty());

    let definition = (kind == "api")
        .then(|| view::str_at(e, "/spec/definition"))
        .flatten()
        .map(|text| {
            let lang = Lang::of(&header.type_, text);
            let doc = if header.type_.eq_ignore_ascii_case("openapi") {
                openapi::parse(text)
            } else {
                None
            };
            Definition {
                lang: lang.name(),
                code: highlight::highlight(lang, text),
                lines: text.lines().count(),
                doc,
            }
        });
    EntityPage {
        layout: Layout::new(&header.title, "catalog", snap, me),
        links: view::links(e),
        tools: view::tool_links(e),
        graph: graph_of(snap, &header, e),
        has_empty_sections: sections.iter().any(Section::is_empty),
        sections,
        definition,
        problems: view::problems(e),
        scorecards: scorecards::for_entity(eval, st.key()),
        docs,
        source: view::source_file(e),
        raw: yaml_out::to_yaml(e),
        header,
    }
}
