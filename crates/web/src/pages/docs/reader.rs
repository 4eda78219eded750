//! The TechDocs reader at Backstage's route, `/docs/{namespace}/{kind}/{name}/{*path}` (so
//! existing Backstage links keep working), and the docs folder's files at Backstage's static
//! route, `/api/techdocs/static/docs/{namespace}/{kind}/{name}/{*path}`: from the docs folder
//! only, with a policy that keeps an SVG or HTML file from running script on our origin.

use ::docs::{Docs, EntityDocs, Heading, NavNode, Page, Site};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use model::EntityRef;

use super::{ProblemLine, ago};
use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use crate::pages::view::RefLink;

/// Largest file served from a docs folder.
const MAX_ASSET_BYTES: u64 = 20 * 1024 * 1024;

/// A nav entry laid out flat, with its depth (askama has no recursion).
pub struct NavRow {
    pub depth: usize,
    pub title: String,
    pub href: Option<String>,
    pub current: bool,
    pub external: bool,
}

#[derive(askama::Template)]
#[template(path = "docs/reader.html")]
struct ReaderPage {
    layout: Layout,
    entity: RefLink,
    site_name: String,
    home: String,
    nav: Vec<NavRow>,
    page: Option<std::sync::Arc<Page>>,
    toc: Vec<Heading>,
    freshness: String,
    error: Option<ProblemLine>,
    page_problems: Vec<ProblemLine>,
    prev: Option<(String, String)>,
    next: Option<(String, String)>,
    /// Set when no page answers the path.
    missing: Option<String>,
}

/// `/docs/{namespace}/{kind}/{name}`: the site's root; Backstage's URLs end in a slash.
pub async fn root(Path((namespace, kind, name)): Path<(String, String, String)>) -> Response {
    Redirect::permanent(&format!(
        "/docs/{}/{}/{}/",
        segment(&namespace),
        segment(&kind),
        segment(&name)
    ))
    .into_response()
}

/// `/docs/{namespace}/{kind}/{name}/`: the root page.
pub async fn index(
    state: State<AppState>,
    me: Identity,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Response {
    read(state, me, (namespace, kind, name, String::new()))
}

/// `/docs/{namespace}/{kind}/{name}/{*path}`: a page, by its route.
pub async fn page(
    state: State<AppState>,
    me: Identity,
    Path(parts): Path<(String, String, String, String)>,
) -> Response {
    read(state, me, parts)
}

fn read(
    State(state): State<AppState>,
    me: Identity,
    (namespace, kind, name, path): (String, String, String, String),
) -> Response {
    let snap = state.catalog.snapshot();
    let r = EntityRef::new(&kind, &namespace, &name);
    let entry = Docs::of(&state.catalog).entity(&r.key());
    let Some(entry) = entry else {
        let layout = Layout::new("Docs not found", "docs", &snap, &me);
        let what = if snap.get(&r.key()).is_some() {
            format!(
                "{} has no docs. Add the backstage.io/techdocs-ref annotation (dir:. next to an mkdocs.yml) to its catalog-info.yaml.",
                r.key()
            )
        } else {
            format!("There is no {kind} named “{name}” in namespace “{namespace}”.")
        };
        return crate::pages::not_found(layout, what);
    };
    let Some(site) = entry.site.clone() else {
        let page = frame(&snap, &me, &r, &entry, None, None);
        return crate::pages::render_status(StatusCode::NOT_FOUND, &page);
    };
    // MkDocs writes `page/index.html`; Backstage links may carry it.
    let route = path.strip_suffix("index.html").unwrap_or(&path).to_owned();
    if let Some(found) = site.page(&route) {
        if !route.is_empty() && !route.ends_with('/') {
            // Relative links inside the page resolve against a directory URL.
            return Redirect::permanent(&found.url).into_response();
        }
        let page = frame(
            &snap,
            &me,
            &r,
            &entry,
            Some((&site, Some(found.clone()))),
            None,
        );
        return crate::pages::render(&page);
    }
    // A file of the docs folder linked from raw HTML relative to the site root.
    if site.asset(&route).is_ok() {
        return Redirect::temporary(&format!("{}{route}", site.urls.assets)).into_response();
    }
    let page = frame(&snap, &me, &r, &entry, Some((&site, None)), Some(route));
    crate::pages::render_status(StatusCode::NOT_FOUND, &page)
}

fn frame(
    snap: &catalog::read::Snapshot,
    me: &Identity,
    r: &EntityRef,
    entry: &EntityDocs,
    shown: Option<(&Site, Option<std::sync::Arc<Page>>)>,
    missing: Option<String>,
) -> ReaderPage {
    let entity = RefLink::new(snap, r);
    let (site_name, home, nav, prev, next) = match &shown {
        Some((site, page)) => {
            let current = page.as_ref().map_or("", |p| p.url.as_str());
            let mut rows = Vec::new();
            flatten(&site.nav, 0, current, &mut rows);
            let order: Vec<(String, String)> = rows
                .iter()
                .filter(|n| !n.external)
                .filter_map(|n| Some((n.href.clone()?, n.title.clone())))
                .collect();
            let at = order.iter().position(|(h, _)| h == current);
            let prev = at.and_then(|i| i.checked_sub(1)).map(|i| order[i].clone());
            let next = at.and_then(|i| order.get(i + 1)).cloned();
            (
                site.site_name.clone(),
                site.urls.pages.clone(),
                rows,
                prev,
                next,
            )
        }
        None => (entity.label.clone(), String::new(), Vec::new(), None, None),
    };
    let page = shown.and_then(|(_, p)| p);
    let title = match &page {
        Some(p) => format!("{} · {site_name}", p.title),
        None => site_name.clone(),
    };
    ReaderPage {
        layout: Layout::new(&title, "docs", snap, me),
        toc: page
            .as_ref()
            .map(|p| {
                p.headings
                    .iter()
                    .filter(|h| (2..=3).contains(&h.level))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        page_problems: page
            .as_ref()
            .map(|p| p.problems.iter().map(ProblemLine::of).collect())
            .unwrap_or_default(),
        page,
        entity,
        site_name,
        home,
        nav,
        freshness: entry.source_changed().map(ago).unwrap_or_default(),
        error: entry.error.as_ref().map(ProblemLine::of),
        prev,
        next,
        missing,
    }
}

fn flatten(nav: &[NavNode], depth: usize, current: &str, out: &mut Vec<NavRow>) {
    for n in nav {
        out.push(NavRow {
            depth,
            title: n.title.clone(),
            current: n.url.as_deref() == Some(current),
            external: n.page.is_none() && n.url.is_some(),
            href: n.url.clone(),
        });
        flatten(&n.children, depth + 1, current, out);
    }
}

/// `/api/techdocs/static/docs/{namespace}/{kind}/{name}/{*path}`: a file of the docs folder.
pub async fn asset(
    State(state): State<AppState>,
    Path((namespace, kind, name, path)): Path<(String, String, String, String)>,
) -> Response {
    let key = EntityRef::new(&kind, &namespace, &name).key();
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let Some(site) = Docs::of(&state.catalog)
        .entity(&key)
        .and_then(|e| e.site.clone())
    else {
        return not_found();
    };
    let real = match site.asset(&path) {
        Ok(real) => real,
        Err(::docs::paths::Refused::Missing) => return not_found(),
        Err(_) => return (StatusCode::FORBIDDEN, "outside the docs folder").into_response(),
    };
    let too_big = std::fs::metadata(&real).map_or(true, |m| m.len() > MAX_ASSET_BYTES);
    if too_big {
        return (StatusCode::PAYLOAD_TOO_LARGE, "file too large to serve").into_response();
    }
    let Ok(bytes) = tokio::fs::read(&real).await else {
        return not_found();
    };
    let (mime, inline) = mime_of(&path);
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Opened on its own, an SVG or HTML file may hold script: it runs in a sandbox, not as us.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !inline {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    res
}

/// The content type of a docs file, and whether a browser may show it inline.
fn mime_of(path: &str) -> (&'static str, bool) {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => ("image/png", true),
        "jpg" | "jpeg" => ("image/jpeg", true),
        "gif" => ("image/gif", true),
        "webp" => ("image/webp", true),
        "svg" => ("image/svg+xml", true),
        "ico" => ("image/x-icon", true),
        "pdf" => ("application/pdf", true),
        "txt" | "md" | "yaml" | "yml" | "json" | "csv" => ("text/plain; charset=utf-8", true),
        _ => ("application/octet-stream", false),
    }
}

fn segment(s: &str) -> String {
    crate::pages::view::segment(s)
}
