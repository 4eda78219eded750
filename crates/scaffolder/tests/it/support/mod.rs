//! Shared by the scaffolder's tests: one action run directly in a real workspace, with a catalog
//! (on the given database) carrying the publish settings, `git` to read results back, and an
//! inline template's dry-run.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use scaffolder::actions::{ActionContext, Services, find, run};
use scaffolder::files::Files;
use scaffolder::log::Log;
use scaffolder::publishing::{PublishSettings, Publishing};
use scaffolder::runner::{Failure, Outcome, Run, RunUser};
use scaffolder::{ScaffolderError, Template};
use serde_json::{Map, Value, json};
use store::testing::TestDb;

pub async fn catalog(db: &TestDb, settings: PublishSettings) -> Arc<catalog::Catalog> {
    let catalog = catalog::Catalog::open(Default::default(), db.connect().await)
        .await
        .unwrap();
    Publishing::of(&catalog).configure(settings);
    catalog
}

/// What one action run left: its result, outputs and the step's log as text.
pub struct Ran {
    pub result: Result<(), ScaffolderError>,
    pub output: Map<String, Value>,
    pub log: String,
}

/// Runs `action` with `input` in `workspace`, secrets `secrets` (masked in the log).
pub async fn run_action(
    catalog: &Arc<catalog::Catalog>,
    workspace: &Path,
    action: &str,
    input: Value,
    secrets: Value,
) -> Ran {
    let services = Services {
        catalog: Some(catalog.clone()),
        ..Default::default()
    };
    let mut log = Log::new(&secrets, None);
    let workspace = Files::disk(workspace);
    let mut ctx = ActionContext {
        engine: scaffolder::engine(),
        workspace: &workspace,
        template_dir: None,
        dry_run: false,
        services: &services,
        log: &mut log,
        step_id: "publish",
        output: Map::new(),
        template_ref: "template:default/t",
        template_version: None,
    };
    let spec = find(action).expect("a built-in action");
    let result = run(spec, &mut ctx, &input).await;
    let output = std::mem::take(&mut ctx.output);
    Ran {
        result,
        output,
        log: serde_json::to_string(&log.events).unwrap_or_default(),
    }
}

/// A workspace as a template's steps leave it: a README, a script, a catalog file in a folder.
pub fn workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("README.md"), "# payments\n").unwrap();
    std::fs::create_dir_all(ws.path().join("app/bin")).unwrap();
    std::fs::write(ws.path().join("app/catalog-info.yaml"), "kind: Component\n").unwrap();
    std::fs::write(ws.path().join("app/bin/start"), "#!/bin/sh\necho hi\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path().join("app/bin/start"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    ws
}

/// `git` in `dir` with no user or system configuration; its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn no_secrets() -> Value {
    json!({})
}

/// An inline template of these steps.
pub fn template(steps: Value) -> Value {
    json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
        "metadata": {"name": "t"}, "spec": {"steps": steps}})
}

/// A dry-run of `steps` with `files` as its directoryContents.
pub async fn dry_run(steps: Value, files: &[(&str, &str)]) -> Result<Value, ScaffolderError> {
    let request = json!({
        "template": template(steps),
        "values": {},
        "directoryContents": files.iter().map(|(p, c)| json!({"path": p, "base64Content": B64.encode(c)})).collect::<Vec<_>>(),
    });
    let work = tempfile::tempdir().unwrap();
    scaffolder::dryrun::dry_run(
        scaffolder::engine(),
        serde_json::from_value(request).unwrap(),
        &RunUser::default(),
        work.path(),
        &Services::default(),
    )
    .await
}

/// Runs `template` (not as a dry-run) in a fresh workspace: the outcome or failure, and the log.
pub async fn run_template(template: &Template) -> (Result<Outcome, Failure>, Log) {
    let dir = tempfile::tempdir().unwrap();
    run_template_in(template, &Files::disk(dir.path())).await
}

/// Runs `template` (not as a dry-run) in `workspace`, reading its files from its directory.
pub async fn run_template_in(
    template: &Template,
    workspace: &Files,
) -> (Result<Outcome, Failure>, Log) {
    let template_dir = template.files_on_disk();
    let run = Run {
        engine: scaffolder::engine(),
        template,
        values: &json!({}),
        secrets: &json!({}),
        user: &RunUser::default(),
        task_id: "t",
        workspace,
        template_dir: template_dir.as_ref(),
        dry_run: false,
        services: &Services::default(),
        cancel: None,
    };
    let mut log = Log::default();
    let result = run.execute(&mut log).await;
    (result, log)
}
