//! The org import page: the configured sources, the latest import per source (counts, entries
//! left out, a source that failed) and, on request, a dry run now with every entity it would
//! add, change or remove and the fields that differ. Importing is done by the schedule, the
//! CLI or the API; the page only reads.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use org::{Change, OrgImport, Report};

use crate::AppState;
use crate::auth::Identity;
use crate::pages::layout::Layout;

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    /// Any value runs a dry run now and shows it.
    preview: Option<String>,
}

pub struct FieldView {
    pub field: String,
    pub before: String,
    pub after: String,
}

pub struct ChangeView {
    pub entity_ref: String,
    /// The entity's page, while it is in the catalog (not for one the import would add).
    pub href: Option<String>,
    pub change: &'static str,
    pub fields: Vec<FieldView>,
}

pub struct SourceView {
    pub id: String,
    pub kind: String,
    pub file: String,
    pub users: usize,
    pub groups: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub errors: Vec<String>,
    pub failed: Option<String>,
    pub changes: Vec<ChangeView>,
}

pub struct ReportView {
    pub at: String,
    pub sources: Vec<SourceView>,
}

#[derive(askama::Template)]
#[template(path = "org/org_import.html")]
struct OrgImportPage {
    layout: Layout,
    sources: Vec<(String, String)>,
    last_import: Option<ReportView>,
    preview: Option<ReportView>,
    error: Option<String>,
}

fn shown(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or_else(
        || "—".into(),
        |v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        },
    )
}

fn change_view(c: &Change) -> ChangeView {
    let href = (c.change != org::ChangeKind::Added).then(|| {
        format!(
            "/catalog/default/{}/{}",
            c.kind.to_lowercase(),
            c.name.to_lowercase()
        )
    });
    ChangeView {
        entity_ref: c.entity_ref.clone(),
        href,
        change: match c.change {
            org::ChangeKind::Added => "added",
            org::ChangeKind::Changed => "changed",
            org::ChangeKind::Removed => "removed",
        },
        fields: c
            .fields
            .iter()
            .map(|f| FieldView {
                field: f.field.clone(),
                before: shown(&f.before),
                after: shown(&f.after),
            })
            .collect(),
    }
}

fn report_view(r: &Report, with_changes: bool) -> ReportView {
    ReportView {
        at: chrono::DateTime::from_timestamp_millis(r.at)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        sources: r
            .sources
            .iter()
            .map(|s| SourceView {
                id: s.id.clone(),
                kind: s.kind.clone(),
                file: s.file.clone(),
                users: s.users,
                groups: s.groups,
                added: s.added.len(),
                changed: s.changed.len(),
                removed: s.removed.len(),
                unchanged: s.unchanged,
                errors: s.errors.clone(),
                failed: s.failed.clone(),
                changes: if with_changes {
                    s.added
                        .iter()
                        .chain(&s.changed)
                        .chain(&s.removed)
                        .map(change_view)
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

/// `GET /org-import[?preview=1]`.
pub async fn page(State(s): State<AppState>, me: Identity, Query(q): Query<PageQuery>) -> Response {
    let snap = s.catalog.snapshot();
    let layout = Layout::new("Org import", "completeness", &snap, &me);
    let state = OrgImport::of(&s.catalog);
    let sources = state
        .settings()
        .map(|(settings, _)| {
            settings
                .sources
                .iter()
                .map(|src| (src.id.clone(), src.kind.name().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let (preview, error) = if q.preview.is_some() {
        match state.run_now(&s.catalog, true).await {
            Ok(r) => (Some(report_view(&r, true)), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    let page = OrgImportPage {
        layout,
        sources,
        last_import: state.last_import().map(|r| report_view(&r, false)),
        preview,
        error,
    };
    crate::pages::render_status(StatusCode::OK, &page)
}
