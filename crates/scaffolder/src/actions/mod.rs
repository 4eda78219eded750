//! The built-in actions: their ids, input and output schemas (`GET /v2/actions`), and the
//! context they run in. Every file an action touches goes through [`Files`] (on disk for a task,
//! in memory for a dry-run), whose paths are confined, so nothing outside the task's workspace
//! (or, for reads, the template's own directory) is ever read or written.

mod catalog;
mod debug;
mod fetch;
mod fs;
mod git_push;
mod http;
mod publish;
mod publish_git;
mod publish_hosted;
mod yaml;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::ScaffolderError;
use crate::expr::Engine;
use crate::files::Files;
use crate::log::Log;

pub use yaml::to_yaml;

/// What actions may reach beyond the workspace; all optional so a dry-run needs none.
#[derive(Clone, Default)]
pub struct Services {
    pub catalog: Option<Arc<::catalog::Catalog>>,
    /// The only directory `publish:file` writes under.
    pub publish_root: Option<PathBuf>,
    /// The hosts `http:request` may call (none: it calls nothing).
    pub http_allow: Vec<::catalog::settings::AllowedHost>,
}

/// One action's run: where it works, what it may reach, where it logs and its outputs.
pub struct ActionContext<'a> {
    pub engine: &'a Engine,
    pub workspace: &'a Files,
    /// The template's directory, for relative `url`s (`None`: only absolute URLs, refused).
    pub template_dir: Option<&'a Files>,
    pub dry_run: bool,
    pub services: &'a Services,
    pub log: &'a mut Log,
    pub step_id: &'a str,
    pub output: Map<String, Value>,
    /// `template:ns/name` and its version, stamped on entities `catalog:write` writes.
    pub template_ref: &'a str,
    pub template_version: Option<&'a str>,
}

impl<'a> ActionContext<'a> {
    /// An `info` line in the step's log, formatted as Backstage's action logger does.
    pub fn info(&mut self, message: &str) {
        let step = self.step_id.to_owned();
        self.log
            .step_line(&step, &format!("\u{1b}[32minfo\u{1b}[39m: {message}"));
    }

    pub fn set_output(&mut self, name: &str, value: Value) {
        self.output.insert(name.to_owned(), value);
    }

    /// A path inside the workspace, relative to it.
    pub fn workspace_path(&self, rel: &str) -> Result<String, ScaffolderError> {
        self.workspace.resolve(rel)
    }

    /// A directory inside the workspace on disk, for actions that hand it to another program
    /// (publishing; they do not run in a dry-run, whose workspace is in memory).
    pub fn workspace_dir(&self, rel: &str) -> Result<PathBuf, ScaffolderError> {
        self.workspace.disk_path(&self.workspace_path(rel)?)
    }

    /// A `url` input: a path relative to the template's file, which must stay inside the
    /// template's directory. Remote URLs are not fetched (Stagedoor reads templates from disk).
    pub fn template_path(&self, url: &str) -> Result<(&'a Files, String), ScaffolderError> {
        if url.contains("://") {
            return Err(ScaffolderError::Input(format!(
                "Fetching remote URLs is not supported, use a path relative to the template: {url}"
            )));
        }
        let dir = self.template_dir.ok_or_else(|| {
            ScaffolderError::Input(
                "this template has no file location, so relative URLs cannot be resolved".into(),
            )
        })?;
        Ok((dir, dir.resolve(url)?))
    }
}

/// One built-in action as `GET /v2/actions` lists it.
pub struct ActionSpec {
    pub id: &'static str,
    pub description: &'static str,
    pub input: fn() -> Value,
    pub output: Option<fn() -> Value>,
    /// Whether a dry-run runs it (the others are skipped with a log line, as Backstage does).
    pub dry_run: bool,
}

impl ActionSpec {
    pub fn to_json(&self) -> Value {
        let mut schema = Map::new();
        schema.insert("input".into(), with_draft((self.input)()));
        if let Some(out) = self.output {
            schema.insert("output".into(), with_draft(out()));
        }
        json!({"id": self.id, "description": self.description, "examples": [], "schema": schema})
    }
}

fn with_draft(mut schema: Value) -> Value {
    if let Some(o) = schema.as_object_mut() {
        o.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
    }
    schema
}

/// Every built-in action, in id order.
pub const ACTIONS: &[ActionSpec] = &[
    catalog::FETCH,
    catalog::REGISTER,
    catalog::WRITE,
    debug::LOG,
    debug::WAIT,
    fetch::PLAIN,
    fetch::PLAIN_FILE,
    fetch::TEMPLATE,
    fetch::TEMPLATE_FILE,
    fs::DELETE,
    fs::READDIR,
    fs::RENAME,
    http::REQUEST,
    publish::FILE,
    publish_git::GIT,
    publish_hosted::GITHUB,
    publish_hosted::GITLAB,
];

pub fn find(id: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.id == id)
}

/// The 404 Backstage answers for an action it does not know.
pub fn not_registered(id: &str) -> ScaffolderError {
    ScaffolderError::NotFound(format!(
        "Template action with ID '{id}' is not registered. See https://backstage.io/docs/features/software-templates/builtin-actions/ on how to add a new action module."
    ))
}

/// Validates `input` against the action's schema (400 `InputError` as Backstage words it),
/// then runs it.
pub async fn run(
    spec: &ActionSpec,
    ctx: &mut ActionContext<'_>,
    input: &Value,
) -> Result<(), ScaffolderError> {
    let errors = crate::validate::validate(input, &(spec.input)());
    if !errors.is_empty() {
        let stacks: Vec<String> = errors
            .iter()
            .map(|e| format!("{} {}", e.property(), e.message))
            .collect();
        return Err(ScaffolderError::Input(format!(
            "Invalid input passed to action {}, {}",
            spec.id,
            stacks.join(", ")
        )));
    }
    match spec.id {
        "catalog:fetch" => catalog::fetch(ctx, input),
        "catalog:register" => catalog::register(ctx, input).await,
        "catalog:write" => catalog::write(ctx, input),
        "debug:log" => debug::log(ctx, input),
        "debug:wait" => debug::wait(ctx, input).await,
        "fetch:plain" => fetch::plain(ctx, input),
        "fetch:plain:file" => fetch::plain_file(ctx, input),
        "fetch:template" => fetch::template(ctx, input),
        "fetch:template:file" => fetch::template_file(ctx, input),
        "fs:delete" => fs::delete(ctx, input),
        "fs:readdir" => fs::readdir(ctx, input),
        "fs:rename" => fs::rename(ctx, input),
        "http:request" => http::request(ctx, input).await,
        "publish:file" => publish::file(ctx, input),
        "publish:git" => publish_git::git(ctx, input).await,
        "publish:github" => publish_hosted::github(ctx, input).await,
        "publish:gitlab" => publish_hosted::gitlab(ctx, input).await,
        other => Err(not_registered(other)),
    }
}

/// A string input, or the empty string.
fn str_input<'v>(input: &'v Value, key: &str) -> Option<&'v str> {
    input.get(key).and_then(Value::as_str)
}

fn bool_input(input: &Value, key: &str) -> bool {
    input.get(key).and_then(Value::as_bool).unwrap_or(false)
}
