//! `POST /v2/dry-run`: runs a template given inline (with its files as base64
//! `directoryContents`) in a throw-away workspace, and answers the files it would write, the
//! log and the output, in Backstage's shapes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actions::Services;
use crate::error::ScaffolderError;
use crate::expr::Engine;
use crate::log::Log;
use crate::runner::{Run, RunUser};
use crate::template::Template;

/// Files one dry-run may send.
pub const MAX_FILES: usize = 5_000;
/// Decoded bytes one dry-run may send.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunRequest {
    pub template: Value,
    #[serde(default)]
    pub values: Value,
    #[serde(default)]
    pub secrets: Value,
    #[serde(default)]
    pub directory_contents: Vec<FileContent>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    pub path: String,
    pub base64_content: String,
    #[serde(default)]
    pub executable: bool,
}

/// Runs the dry-run under `work_root` (a fresh directory inside it, removed afterwards).
/// `services` reach only what dry-run actions read (`catalog:fetch`); the actions with effects
/// outside the workspace do not run in a dry-run.
pub async fn dry_run(
    engine: &Engine,
    request: DryRunRequest,
    user: &RunUser,
    work_root: &std::path::Path,
    services: &Services,
) -> Result<Value, ScaffolderError> {
    let values = if request.values.is_null() {
        json!({})
    } else {
        request.values
    };
    let secrets = if request.secrets.is_null() {
        json!({})
    } else {
        request.secrets
    };
    let mut template = Template::from_entity(&request.template)?;
    template.validate_values(&values)?;
    crate::runner::check_actions(&template)?;
    if request.directory_contents.len() > MAX_FILES {
        return Err(ScaffolderError::Input(format!(
            "directoryContents has more than {MAX_FILES} files"
        )));
    }
    std::fs::create_dir_all(work_root)?;
    let root = tempfile::Builder::new()
        .prefix("dry-run-")
        .tempdir_in(work_root)?;
    let content_dir = root.path().join("template");
    let workspace = root.path().join("workspace");
    std::fs::create_dir_all(&content_dir)?;
    std::fs::create_dir_all(&workspace)?;
    let mut total = 0usize;
    let mut confined = crate::workspace::Confined::new(&content_dir)?;
    let mut made = std::collections::HashSet::new();
    for f in &request.directory_contents {
        let bytes = B64
            .decode(f.base64_content.as_bytes())
            .map_err(|e| ScaffolderError::Input(format!("{}: invalid base64: {e}", f.path)))?;
        total += bytes.len();
        if total > MAX_BYTES {
            return Err(ScaffolderError::Input(format!(
                "directoryContents is larger than {} MB",
                MAX_BYTES / (1024 * 1024)
            )));
        }
        let path = confined.resolve(&f.path)?;
        if let Some(parent) = path.parent()
            && made.insert(parent.to_path_buf())
        {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &bytes)?;
        if f.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    template.base_dir = Some(content_dir.clone());
    // Backstage names an inline template so in what it writes (`backstage.io/source-template`).
    template.entity_ref = "template:default/dry-run".into();
    let task_id = uuid::Uuid::new_v4().to_string();
    let services = Services {
        catalog: services.catalog.clone(),
        publish_root: None,
        http_allow: Vec::new(),
    };
    let run = Run {
        engine,
        template: &template,
        values: &values,
        secrets: &secrets,
        user,
        task_id: &task_id,
        workspace: &workspace,
        dry_run: true,
        services: &services,
        cancel: None,
    };
    let mut log = Log::new(&secrets, None);
    let outcome = run.execute(&mut log).await.map_err(|f| f.error)?;
    let files = read_tree(&workspace)?;
    Ok(json!({
        "log": log.events.into_iter().map(|body| json!({"body": body})).collect::<Vec<_>>(),
        "directoryContents": files,
        "output": outcome.output,
        "steps": template.steps.iter().map(|s| s.raw.clone()).collect::<Vec<_>>(),
    }))
}

/// Every file under `dir`, sorted by path, as `{path, executable, base64Content}`.
pub fn read_tree(dir: &std::path::Path) -> Result<Vec<Value>, ScaffolderError> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let e = e.map_err(|e| ScaffolderError::Internal(e.to_string()))?;
        if !e.file_type().is_file() {
            continue;
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = e
            .metadata()
            .map_err(|e| ScaffolderError::Internal(e.to_string()))?
            .permissions()
            .mode();
        out.push(json!({
            "path": crate::workspace::relative(dir, e.path()),
            "executable": mode & 0o111 != 0,
            "base64Content": B64.encode(std::fs::read(e.path())?),
        }));
    }
    // Byte order of the whole path, as JavaScript's default sort of the paths.
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(out)
}
