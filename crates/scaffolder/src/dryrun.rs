//! `POST /v2/dry-run`: runs a template given inline (with its files as base64
//! `directoryContents`) in a throw-away workspace, and answers the files it would write, the
//! log and the output, in Backstage's shapes. The template's files and the workspace are both
//! held in memory ([`Files::memory`]): a dry-run never touches the disk.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actions::Services;
use crate::error::ScaffolderError;
use crate::expr::Engine;
use crate::files::{Files, Kind};
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

/// Runs the dry-run in memory. Its files are shown (in logs and `fullPath`s) as if they were in
/// a fresh directory under `work_root`, as a task's would be; nothing is created there.
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
    let task_id = uuid::Uuid::new_v4().to_string();
    let root = work_root.join(format!("dry-run-{task_id}"));
    let contents = Files::memory(root.join("template"));
    let workspace = Files::memory(root.join("workspace"));
    let mut total = 0usize;
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
        let path = contents.resolve(&f.path)?;
        contents.write(
            &path,
            &bytes,
            Some(if f.executable { 0o755 } else { 0o644 }),
        )?;
    }
    // Backstage names an inline template so in what it writes (`backstage.io/source-template`).
    template.entity_ref = "template:default/dry-run".into();
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
        template_dir: Some(&contents),
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

/// Every file in `files`, sorted by path, as `{path, executable, base64Content}`.
pub fn read_tree(files: &Files) -> Result<Vec<Value>, ScaffolderError> {
    let mut out = Vec::new();
    files.walk("", usize::MAX, |e| {
        if e.meta.kind == Kind::File {
            out.push(json!({
                "path": e.rel,
                "executable": e.meta.mode & 0o111 != 0,
                "base64Content": B64.encode(files.read(&e.rel)?),
            }));
        }
        Ok(true)
    })?;
    // Byte order of the whole path, as JavaScript's default sort of the paths.
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(out)
}
