//! The "Create" pages: templates to choose from (with their usage), a form built from a
//! template's parameter schema with our own widgets (entity pickers filled from the catalog,
//! per-field messages from server-side validation, no JavaScript needed), a review, and the
//! task page with its live log (server-sent events; without JavaScript it refreshes itself).

mod form;
mod repo_url;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaffolder::Scaffolder;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;
use form::FormPage;

/// One template on the Create page.
pub struct TemplateCard {
    pub href: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub owner: String,
    pub runs: i64,
    pub completed: i64,
    /// Actions its steps use that this server lacks (the template cannot run here).
    pub missing: String,
    /// What this server needs before the template can run (a code host token), if anything.
    pub setup: String,
}

#[derive(askama::Template)]
#[template(path = "scaffolder/create.html")]
struct CreatePage {
    layout: Layout,
    templates: Vec<TemplateCard>,
    q: String,
    /// Components in the catalog, and how many of them came from a template.
    components: usize,
    templated: usize,
    /// The same per owning team: (owner, templated, components), most components first.
    teams: Vec<(String, usize, usize)>,
}

impl CreatePage {
    fn share(&self) -> usize {
        (self.templated * 100)
            .checked_div(self.components)
            .unwrap_or(0)
    }
}

#[derive(Deserialize)]
pub struct CreateQuery {
    #[serde(default)]
    q: String,
}

/// `GET /create`: every template, filtered by `q` (title, description, tags, owner).
pub async fn list(
    State(s): State<AppState>,
    me: Identity,
    Query(query): Query<CreateQuery>,
) -> Response {
    let snap = s.catalog.snapshot();
    let counts = s.catalog.database().task_counts().await.unwrap_or_default();
    let needle = query.q.trim().to_lowercase();
    let publish_settings = scaffolder::publishing::Publishing::of(&s.catalog).settings();
    let templates = Scaffolder::templates(&s.catalog)
        .into_iter()
        .map(|(e, t)| {
            let (runs, completed) = counts
                .iter()
                .find(|(r, _, _)| *r == t.entity_ref)
                .map_or((0, 0), |(_, n, c)| (*n, *c));
            TemplateCard {
                href: format!("/create/templates/{}/{}", e.namespace(), e.name()),
                title: t.title.clone().unwrap_or_else(|| e.name().to_owned()),
                description: t.description.clone().unwrap_or_default(),
                tags: e.tags().map(str::to_owned).collect(),
                owner: e
                    .spec("owner")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                runs,
                completed,
                missing: t.unavailable_actions().join(", "),
                setup: t.needs_setup(&publish_settings).unwrap_or_default(),
            }
        })
        .filter(|c| {
            needle.is_empty()
                || c.title.to_lowercase().contains(&needle)
                || c.description.to_lowercase().contains(&needle)
                || c.owner.to_lowercase().contains(&needle)
                || c.tags.iter().any(|t| t.to_lowercase() == needle)
        })
        .collect();
    let (mut components, mut templated) = (0, 0);
    let mut per_team: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for e in snap.entities(None).filter(|e| e.kind() == "Component") {
        let from_template = e
            .annotation(scaffolder::ANNOTATION_SOURCE_TEMPLATE)
            .is_some();
        components += 1;
        templated += usize::from(from_template);
        let team = per_team
            .entry(e.owner().unwrap_or("(no owner)").to_owned())
            .or_default();
        team.0 += usize::from(from_template);
        team.1 += 1;
    }
    let mut teams: Vec<(String, usize, usize)> = per_team
        .into_iter()
        .map(|(t, (n, all))| (t, n, all))
        .collect();
    teams.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    crate::pages::render(&CreatePage {
        layout: Layout::new("Create", "create", &snap, &me),
        templates,
        q: query.q,
        components,
        templated,
        teams,
    })
}

/// A component created from the template, with the template version it came from.
pub struct Created {
    pub href: String,
    pub name: String,
    pub owner: String,
    pub version: String,
    /// Made from an older version of the template than its current one.
    pub lagging: bool,
}

/// Components created from `t` (`backstage.io/source-template`), lagging ones first.
fn created_from(snap: &catalog::read::Snapshot, t: &scaffolder::Template) -> Vec<Created> {
    let mut out: Vec<Created> = snap
        .entities(None)
        .filter(|e| {
            e.annotation(scaffolder::ANNOTATION_SOURCE_TEMPLATE)
                .is_some_and(|r| r.eq_ignore_ascii_case(&t.entity_ref))
        })
        .map(|e| {
            let version = e
                .annotation(scaffolder::ANNOTATION_TEMPLATE_VERSION)
                .unwrap_or_default()
                .to_owned();
            Created {
                href: format!(
                    "/catalog/{}/{}/{}",
                    e.namespace(),
                    e.kind().to_lowercase(),
                    e.name()
                ),
                name: e.name().to_owned(),
                owner: e.owner().unwrap_or_default().to_owned(),
                lagging: t.version.as_deref().is_some_and(|v| v != version),
                version,
            }
        })
        .collect();
    out.sort_by(|a, b| b.lagging.cmp(&a.lagging).then_with(|| a.name.cmp(&b.name)));
    out
}

#[derive(askama::Template)]
#[template(path = "scaffolder/form.html")]
struct TemplateForm {
    layout: Layout,
    /// The template's current version, and what was created from it.
    version: String,
    created: Vec<Created>,
    action: String,
    title: String,
    description: String,
    pages: Vec<FormPage>,
    /// Errors that name no single field.
    errors: Vec<String>,
    /// Review: the values as entered, before creating.
    review: bool,
    hidden: Vec<(String, String)>,
    /// The script that shows conditional fields as their condition changes; empty when the form
    /// has none.
    script: String,
}

/// The form's script, when some page has conditional fields.
fn form_script(pages: &[FormPage]) -> String {
    if pages.iter().any(|p| !p.groups.is_empty()) {
        crate::pages::assets::url("scaffolder-form.js")
    } else {
        String::new()
    }
}

fn not_found(s: &AppState, me: &Identity, what: &str) -> Response {
    let snap = s.catalog.snapshot();
    (
        StatusCode::NOT_FOUND,
        crate::pages::render(&CreatePage {
            layout: Layout::new(what, "create", &snap, me),
            templates: Vec::new(),
            q: String::new(),
            components: 0,
            templated: 0,
            teams: Vec::new(),
        }),
    )
        .into_response()
}

/// `GET /create/templates/{namespace}/{name}`: the form with each field's default.
pub async fn form(
    State(s): State<AppState>,
    me: Identity,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    let Ok((_, t)) = Scaffolder::template(&s.catalog, &namespace, "template", &name) else {
        return not_found(&s, &me, "Template not found");
    };
    let snap = s.catalog.snapshot();
    let mut pages = form::pages(&t, &snap, None);
    repo_url::attach(&t, &mut pages, None, &publish_hosts(&s));
    let script = form_script(&pages);
    crate::pages::render(&TemplateForm {
        layout: Layout::new(t.title.as_deref().unwrap_or(&name), "create", &snap, &me),
        version: t.version.clone().unwrap_or_default(),
        created: created_from(&snap, &t),
        action: format!("/create/templates/{namespace}/{name}"),
        title: t.title.clone().unwrap_or(name),
        description: t.description.clone().unwrap_or_default(),
        pages,
        errors: Vec::new(),
        review: false,
        hidden: Vec::new(),
        script,
    })
}

/// `POST /create/templates/{namespace}/{name}`: validates; answers the form again with each
/// field's message, or the review, or (from the review) creates the task and goes to it.
pub async fn submit(
    State(s): State<AppState>,
    me: Identity,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
    body: String,
) -> Response {
    if !crate::auth::same_origin(&headers) {
        return crate::auth::cross_site();
    }
    let Ok((_, t)) = Scaffolder::template(&s.catalog, &namespace, "template", &name) else {
        return not_found(&s, &me, "Template not found");
    };
    let snap = s.catalog.snapshot();
    let posted: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .take(1000)
        .collect();
    let stage = posted
        .iter()
        .find(|(k, _)| k == "stage")
        .map(|(_, v)| v.as_str())
        .unwrap_or("review");
    let hosts = publish_hosts(&s);
    let mut read = form::read(&t, &posted);
    repo_url::read(&t, &posted, &hosts, &mut read);
    let mut pages = form::pages(&t, &snap, Some((posted.as_slice(), &read.values)));
    repo_url::attach(&t, &mut pages, Some(&posted), &hosts);
    let mut errors = read.errors.clone();
    for (field, message) in &read.field_errors {
        if !form::attach(&mut pages, field, message) {
            errors.push(format!("{field} {message}"));
        }
    }
    if read.field_errors.is_empty() && read.errors.is_empty() {
        match t.validate_values(&read.values) {
            Ok(()) => {}
            Err(scaffolder::ScaffolderError::Values(list)) => {
                for e in list {
                    let field = form::field_of(&e);
                    let message = e["message"].as_str().unwrap_or_default().to_owned();
                    match field {
                        Some(f) if form::attach(&mut pages, &f, &message) => {}
                        _ => errors.push(e["stack"].as_str().unwrap_or_default().to_owned()),
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let valid = errors.is_empty() && pages.iter().all(|p| p.shown().all(|f| f.error.is_none()));
    if valid && stage == "create" {
        let user = crate::scaffolder_api::run_user(&s, &me);
        let template_ref = t.entity_ref.clone();
        match Scaffolder::of(&s.catalog)
            .create_task(&s.catalog, &template_ref, read.values, read.secrets, user)
            .await
        {
            Ok(id) => {
                crate::scaffolder_api::record_run(&s, &me, &template_ref);
                return (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, format!("/create/tasks/{id}"))],
                )
                    .into_response();
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    let review = valid && stage == "review";
    let hidden = if review {
        // What a branch that does not apply posted is left out (it would be dropped anyway).
        let dropped: Vec<&str> = pages
            .iter()
            .flat_map(|p| p.groups.iter().filter(|g| !g.applies))
            .flat_map(|g| g.fields.iter().map(|f| f.input.as_str()))
            .collect();
        posted
            .iter()
            .filter(|(k, _)| k != "stage" && !dropped.contains(&k.as_str()))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let script = form_script(&pages);
    let status = if valid || review {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    crate::pages::render_status(
        status,
        &TemplateForm {
            layout: Layout::new(t.title.as_deref().unwrap_or(&name), "create", &snap, &me),
            version: t.version.clone().unwrap_or_default(),
            created: Vec::new(),
            action: format!("/create/templates/{namespace}/{name}"),
            title: t.title.clone().unwrap_or(name),
            description: t.description.clone().unwrap_or_default(),
            pages,
            errors,
            review,
            hidden,
            script,
        },
    )
}

/// The hosts the RepoUrlPicker offers: those the publish actions can reach from here.
fn publish_hosts(s: &AppState) -> Vec<String> {
    scaffolder::publishing::Publishing::of(&s.catalog).hosts()
}

/// One log line on the task page.
pub struct LogLine {
    pub text: String,
    pub status: String,
}

/// One output link.
pub struct OutputLink {
    pub title: String,
    pub href: String,
}

#[derive(askama::Template)]
#[template(path = "scaffolder/task.html")]
struct TaskPage {
    layout: Layout,
    id: String,
    template_title: String,
    template_href: String,
    status: String,
    finished: bool,
    lines: Vec<LogLine>,
    links: Vec<OutputLink>,
    texts: Vec<(String, String)>,
    error: Option<String>,
    stream: String,
    script: String,
}

/// Backstage's action lines carry terminal colour codes; the page shows the text.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `GET /create/tasks/{id}`.
pub async fn task(State(s): State<AppState>, me: Identity, Path(id): Path<String>) -> Response {
    let Ok(row) = Scaffolder::task(&s.catalog, &id).await else {
        return not_found(&s, &me, "Task not found");
    };
    let snap = s.catalog.snapshot();
    let events = s
        .catalog
        .database()
        .task_events(&id, None)
        .await
        .unwrap_or_default();
    let mut lines = Vec::new();
    let mut links = Vec::new();
    let mut texts = Vec::new();
    let mut error = None;
    let mut last = 0;
    for e in &events {
        last = e.seq;
        let body: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
        if e.event_type == "completion" {
            error = body["error"]["message"].as_str().map(str::to_owned);
            for l in body["output"]["links"].as_array().into_iter().flatten() {
                let href = match (l["url"].as_str(), l["entityRef"].as_str()) {
                    (Some(u), _) if u.starts_with("http") => u.to_owned(),
                    (_, Some(r)) => model::EntityRef::parse(r, None, "default")
                        .map(|r| crate::pages::view::entity_href(&r))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let title = l["title"].as_str().unwrap_or("Link").to_owned();
                if href.is_empty() {
                    texts.push((title, l["url"].as_str().unwrap_or_default().to_owned()));
                } else {
                    links.push(OutputLink { title, href });
                }
            }
            for t in body["output"]["text"].as_array().into_iter().flatten() {
                texts.push((
                    t["title"].as_str().unwrap_or_default().to_owned(),
                    t["content"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        lines.push(LogLine {
            text: strip_ansi(body["message"].as_str().unwrap_or_default()),
            status: body["status"].as_str().unwrap_or_default().to_owned(),
        });
    }
    let finished = matches!(row.status.as_str(), "completed" | "failed" | "cancelled");
    let (ns, name) = row
        .template_ref
        .split_once(':')
        .and_then(|(_, r)| r.split_once('/'))
        .unwrap_or(("default", ""));
    let template_title = snap
        .entity(&row.template_ref)
        .and_then(|e| e.title().map(str::to_owned))
        .unwrap_or_else(|| name.to_owned());
    crate::pages::render(&TaskPage {
        layout: Layout::new("Task", "create", &snap, &me),
        stream: format!("/api/scaffolder/v2/tasks/{id}/eventstream?after={last}"),
        id,
        template_title,
        template_href: format!("/create/templates/{ns}/{name}"),
        status: row.status,
        finished,
        lines,
        links,
        texts,
        error,
        script: crate::pages::assets::url("scaffolder-task.js"),
    })
}
