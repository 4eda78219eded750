//! The entity page: header, about (description, links, tool annotations), relations graph,
//! APIs, dependencies, an API's definition, processing errors and the raw entity. Groups and
//! users get their own views at the same address ([`super::group`], [`super::user`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use catalog::read::{Snapshot, Stitched};
use model::EntityRef;
use model::relations as rel;
use serde_json::Value;

use super::graph::{self, Graph, Neighbour};
use super::highlight::{self, Lang, Tok};
use super::identity::{Identity, Recent};
use super::layout::Layout;
use super::openapi::{self, ApiDoc};
use super::view::{self, ExtLink, ProblemView, RefLink, Row};
use super::yaml_out;
use crate::AppState;

/// Related entities listed per section before the rest are counted.
pub const SECTION_LIMIT: usize = 100;

/// The top of every entity-like page.
pub struct Header {
    pub title: String,
    pub me: RefLink,
    pub kind: String,
    pub type_: String,
    pub lifecycle: String,
    pub namespace: String,
    pub owner: Option<RefLink>,
    pub system: Option<RefLink>,
    pub domain: Option<RefLink>,
    pub tags: Vec<String>,
    pub description: String,
    pub problems: usize,
}

impl Header {
    pub fn new(snap: &Snapshot, st: &Stitched, e: &Value) -> Header {
        let row = Row::from_value(snap, st, e);
        let domain = view::targets(e, rel::PART_OF)
            .find(|t| t.starts_with("domain:"))
            .and_then(|t| RefLink::parse(snap, t, None));
        Header {
            title: row.title,
            namespace: view::str_at(e, "/metadata/namespace")
                .unwrap_or("default")
                .to_owned(),
            me: row.link,
            kind: row.kind,
            type_: row.type_,
            lifecycle: row.lifecycle,
            owner: row.owner,
            system: row.system,
            domain,
            tags: row.tags,
            description: row.description,
            problems: row.errors,
        }
    }
}

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

/// The entity's relations as graph neighbours. Targets are chosen per side (in relation, then
/// ref order) before any is looked up, so an owner of thousands costs no more than a leaf.
pub fn graph_of(snap: &Snapshot, header: &Header, e: &Value) -> Graph {
    let mut by_target: Vec<(&str, &str)> = e
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("type")?.as_str()?, r.get("targetRef")?.as_str()?)))
        .collect();
    by_target.sort_unstable_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    // Each target once, with the first of its relations deciding its side and place.
    let mut targets: Vec<(&str, &str)> = Vec::new();
    for (relation, target) in &by_target {
        if targets.last().is_none_or(|(_, t)| t != target) {
            targets.push((relation, target));
        }
    }
    targets.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
    let mut shown: Vec<&str> = Vec::new();
    let mut counts = [0usize; 2];
    let mut hidden = [0usize; 2];
    for (relation, target) in &targets {
        let side = usize::from(!graph::on_left(relation));
        counts[side] += 1;
        if counts[side] > graph::MAX_PER_SIDE {
            hidden[side] += 1;
        } else {
            shown.push(target);
        }
    }
    let neighbours = by_target
        .iter()
        .filter(|(_, t)| shown.contains(t))
        .filter_map(|(relation, target)| {
            let link = RefLink::parse(snap, target, None)?;
            Some(Neighbour {
                relation: (*relation).to_owned(),
                label: link.label.clone(),
                kind: link.kind.clone(),
                href: link.exists.then(|| link.href.clone()),
                full: link.full,
            })
        })
        .collect();
    graph::layout_with_hidden(
        &header.title,
        &header.me.kind,
        &header.me.full,
        neighbours,
        hidden,
    )
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
        return super::not_found(
            layout,
            format!("There is no {kind} named “{name}” in namespace “{namespace}”."),
        );
    };
    let mut res = render(&snap, &st, &me);
    res.headers_mut()
        .append(header::SET_COOKIE, recent.set_cookie(&st.key));
    res
}

/// The page for one entity, by kind.
pub fn render(snap: &Arc<Snapshot>, st: &Arc<Stitched>, me: &Identity) -> Response {
    let e = view::parse(st);
    match view::str_at(&e, "/kind").map(str::to_lowercase).as_deref() {
        Some("group") => return super::group::render(snap, st, &e, me),
        Some("user") => return super::user::render(snap, st, &e, me),
        _ => {}
    }
    let page = entity_page(snap, st, &e, me);
    super::render(&page).into_response()
}

fn entity_page(snap: &Arc<Snapshot>, st: &Stitched, e: &Value, me: &Identity) -> EntityPage {
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
        source: view::source_file(e),
        raw: yaml_out::to_yaml(e),
        header,
    }
}
