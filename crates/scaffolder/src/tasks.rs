//! Background tasks: `POST /v2/tasks` creates a row, a tokio task runs the template in its own
//! workspace, and every log line is stored (numbered per task) and sent to live subscribers
//! (the event stream) as it happens. Cancel sets a flag the runner checks before each step;
//! retry runs a failed or cancelled task again under the same id. Secrets live only in memory
//! for the run. State hangs on the catalog (`Catalog::state::<Scaffolder>()`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ::catalog::Catalog;
use serde_json::{Value, json};
use store::{TaskEventRow, TaskRow};
use tokio::sync::{broadcast, mpsc};

use crate::actions::Services;
use crate::error::ScaffolderError;
use crate::log::Log;
use crate::runner::{Run, RunUser};
use crate::template::Template;

/// Where tasks work and publish; set once by the binary.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Task workspaces and dry-run directories are created (and removed) under here.
    pub work_dir: PathBuf,
    /// `publish:file` writes only under here.
    pub publish_root: Option<PathBuf>,
    /// The hosts `http:request` may call (`scaffolder.httpRequest.allow`).
    pub http_allow: Vec<catalog::settings::AllowedHost>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            work_dir: std::env::temp_dir().join("stagedoor-scaffolder"),
            publish_root: None,
            http_allow: Vec::new(),
        }
    }
}

/// A running task: its cancel flag and the channel live subscribers listen on.
struct Live {
    cancel: Arc<AtomicBool>,
    events: broadcast::Sender<Value>,
}

/// The scaffolder's state on the catalog.
#[derive(Default)]
pub struct Scaffolder {
    settings: OnceLock<Settings>,
    live: Mutex<HashMap<String, Live>>,
    /// Secrets of tasks that may still be retried, kept in memory only.
    secrets: Mutex<HashMap<String, Value>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Epoch ms as Backstage prints times (`2026-12-04T08:03:43.000Z`).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A stored task as the API answers it.
pub fn task_json(t: &TaskRow) -> Value {
    let mut v = json!({
        "id": t.id,
        "spec": serde_json::from_str::<Value>(&t.spec).unwrap_or(Value::Null),
        "status": t.status,
        "createdAt": iso(t.created_at),
        "lastHeartbeatAt": iso(t.last_heartbeat_at),
    });
    if let Some(by) = &t.created_by {
        v["createdBy"] = json!(by);
    }
    v
}

/// A stored event as the API answers it.
pub fn event_json(e: &TaskEventRow) -> Value {
    json!({
        "id": e.seq,
        "isTaskRecoverable": false,
        "taskId": e.task_id,
        "body": serde_json::from_str::<Value>(&e.body).unwrap_or(Value::Null),
        "type": e.event_type,
        "createdAt": iso(e.created_at),
    })
}

impl Scaffolder {
    pub fn of(catalog: &Catalog) -> Arc<Scaffolder> {
        catalog.state::<Scaffolder>()
    }

    /// Sets where tasks work and publish (the first call wins).
    pub fn configure(&self, settings: Settings) {
        let _ = self.settings.set(settings);
    }

    pub fn settings(&self) -> Settings {
        self.settings.get().cloned().unwrap_or_default()
    }

    /// Every Template entity in the catalog that reads as one, by title.
    pub fn templates(catalog: &Catalog) -> Vec<(catalog::read::Entity, Template)> {
        let snap = catalog.snapshot();
        let mut out: Vec<_> = snap
            .entities(None)
            .filter(|e| e.kind().eq_ignore_ascii_case("template"))
            .filter_map(|e| Template::from_entity(e.json()).ok().map(|t| (e, t)))
            .collect();
        out.sort_by_key(|(e, t)| {
            t.title
                .clone()
                .unwrap_or_else(|| e.name().to_owned())
                .to_lowercase()
        });
        out
    }

    /// A Template entity by its parts (404 as Backstage words it).
    pub fn template(
        catalog: &Catalog,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Result<(Value, Template), ScaffolderError> {
        let key = format!("{kind}:{namespace}/{name}").to_lowercase();
        let not_found = || ScaffolderError::NotFound(format!("Template {key} not found"));
        if !kind.eq_ignore_ascii_case("template") {
            return Err(not_found());
        }
        let entity = catalog.snapshot().entity(&key).ok_or_else(not_found)?;
        let json = entity.json().clone();
        let template = Template::from_entity(&json)?;
        Ok((json, template))
    }

    /// `POST /v2/tasks`: validates, stores and starts a task; answers its id.
    pub async fn create_task(
        self: &Arc<Self>,
        catalog: &Arc<Catalog>,
        template_ref: &str,
        values: Value,
        secrets: Value,
        user: RunUser,
    ) -> Result<String, ScaffolderError> {
        let (kind, rest) = template_ref
            .split_once(':')
            .unwrap_or(("template", template_ref));
        let (ns, name) = rest.split_once('/').unwrap_or(("default", rest));
        let (entity, template) = Self::template(catalog, ns, kind, name)?;
        let values = if values.is_null() { json!({}) } else { values };
        template.validate_values(&values)?;
        crate::runner::check_actions(&template)?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let spec = json!({
            "apiVersion": crate::template::API_VERSION,
            "steps": template.steps.iter().map(|s| s.raw.clone()).collect::<Vec<_>>(),
            "output": template.output,
            "parameters": values,
            "user": match &user.entity_ref {
                Some(r) => json!({"ref": r, "entity": user.entity}),
                None => json!({}),
            },
            "templateInfo": {
                "entityRef": template.entity_ref,
                "baseUrl": template.base_dir.as_ref().map(|d| format!("file://{}/", d.display())),
                "entity": {"metadata": entity.get("metadata").cloned().unwrap_or(Value::Null)},
            },
        });
        let row = TaskRow {
            id: id.clone(),
            spec: spec.to_string(),
            status: "open".into(),
            template_ref: template.entity_ref.clone(),
            template_version: template.version.clone(),
            created_by: user.entity_ref.clone(),
            created_at: now,
            last_heartbeat_at: now,
            finished_at: None,
            output: None,
        };
        catalog.database().insert_task(&row).await?;
        self.start(catalog, id.clone(), template, values, secrets, user, 0);
        Ok(id)
    }

    /// Runs a stored task in the background; `first_seq` continues its event numbering.
    #[allow(clippy::too_many_arguments)]
    fn start(
        self: &Arc<Self>,
        catalog: &Arc<Catalog>,
        id: String,
        template: Template,
        values: Value,
        secrets: Value,
        user: RunUser,
        first_seq: i64,
    ) {
        let cancel = Arc::new(AtomicBool::new(false));
        let (events, _) = broadcast::channel(1024);
        self.live.lock().expect("live lock").insert(
            id.clone(),
            Live {
                cancel: cancel.clone(),
                events: events.clone(),
            },
        );
        self.secrets
            .lock()
            .expect("secrets lock")
            .insert(id.clone(), secrets.clone());
        let me = self.clone();
        let catalog = catalog.clone();
        tokio::spawn(async move {
            let db = catalog.database().clone();
            let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
            // The writer numbers, stores and broadcasts events in order; a failed store is
            // logged and the run goes on (the live stream still has the line).
            let writer_id = id.clone();
            let writer_events = events.clone();
            let writer = tokio::spawn(async move {
                let mut seq = first_seq;
                while let Some(first) = rx.recv().await {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let rows: Vec<TaskEventRow> = batch
                        .into_iter()
                        .map(|e| {
                            seq += 1;
                            TaskEventRow {
                                task_id: writer_id.clone(),
                                seq,
                                event_type: e["type"].as_str().unwrap_or("log").to_owned(),
                                body: e["body"].to_string(),
                                created_at: now_ms(),
                            }
                        })
                        .collect();
                    if let Err(e) = db.append_task_events(&rows).await {
                        tracing::error!(task = %writer_id, error = %e, "storing task events");
                    }
                    for r in &rows {
                        let _ = writer_events.send(event_json(r));
                    }
                }
            });
            let db = catalog.database().clone();
            let _ = db
                .set_task_status(&id, "processing", now_ms(), false, None)
                .await;
            let settings = me.settings();
            let workspace = settings.work_dir.join(&id);
            let result = async {
                std::fs::create_dir_all(&workspace)?;
                let services = Services {
                    catalog: Some(catalog.clone()),
                    publish_root: settings.publish_root.clone(),
                    http_allow: settings.http_allow.clone(),
                };
                let (log_tx, mut log_rx) = mpsc::unbounded_channel::<Value>();
                let forward = tx.clone();
                let forwarder = tokio::spawn(async move {
                    while let Some(body) = log_rx.recv().await {
                        let _ = forward.send(json!({"type": "log", "body": body}));
                    }
                });
                let mut log = Log::new(&secrets, Some(log_tx));
                let files = crate::files::Files::disk(&workspace);
                let template_files = template.files_on_disk();
                let run = Run {
                    engine: crate::engine(),
                    template: &template,
                    values: &values,
                    secrets: &secrets,
                    user: &user,
                    task_id: &id,
                    workspace: &files,
                    template_dir: template_files.as_ref(),
                    dry_run: false,
                    services: &services,
                    cancel: Some(cancel.clone()),
                };
                let outcome = run.execute(&mut log).await;
                drop(log);
                let _ = forwarder.await;
                Ok::<_, ScaffolderError>(outcome)
            }
            .await;
            let _ = std::fs::remove_dir_all(&workspace);
            let (status, body, output) = match result {
                Ok(Ok(outcome)) => (
                    "completed",
                    json!({"message": "Run completed with status: completed", "output": outcome.output}),
                    Some(outcome.output.to_string()),
                ),
                Ok(Err(failure)) => {
                    let cancelled = cancel.load(Ordering::SeqCst);
                    let status = if cancelled { "cancelled" } else { "failed" };
                    (
                        status,
                        json!({"message": format!("Run completed with status: {status}"),
                            "error": {"name": failure.error.name(), "message": failure.error.to_string()}}),
                        None,
                    )
                }
                Err(e) => (
                    "failed",
                    json!({"message": "Run completed with status: failed",
                        "error": {"name": e.name(), "message": e.to_string()}}),
                    None,
                ),
            };
            let _ = tx.send(json!({"type": "completion", "body": body}));
            drop(tx);
            let _ = writer.await;
            if let Err(e) = db
                .set_task_status(&id, status, now_ms(), true, output.as_deref())
                .await
            {
                tracing::error!(task = %id, error = %e, "storing task status");
            }
            if status == "completed" {
                me.secrets.lock().expect("secrets lock").remove(&id);
            }
            me.live.lock().expect("live lock").remove(&id);
        });
    }

    pub async fn task(catalog: &Catalog, id: &str) -> Result<TaskRow, ScaffolderError> {
        catalog
            .database()
            .task(id)
            .await?
            .ok_or_else(|| ScaffolderError::NotFound(format!("No task with id '{id}' found")))
    }

    /// `POST /v2/tasks/{id}/cancel`: stops a running task before its next step.
    pub async fn cancel(&self, catalog: &Catalog, id: &str) -> Result<String, ScaffolderError> {
        let task = Self::task(catalog, id).await?;
        let flag = self
            .live
            .lock()
            .expect("live lock")
            .get(id)
            .map(|l| l.cancel.clone());
        match flag {
            Some(flag) => {
                // The runner stops before its next step and stores `cancelled` as it ends.
                flag.store(true, Ordering::SeqCst);
                Ok("cancelled".into())
            }
            None => Ok(task.status),
        }
    }

    /// `POST /v2/tasks/{id}/retry`: runs a finished task again under its id, with
    /// the secrets it was started with while this server still holds them.
    pub async fn retry(
        self: &Arc<Self>,
        catalog: &Arc<Catalog>,
        id: &str,
    ) -> Result<(), ScaffolderError> {
        let task = Self::task(catalog, id).await?;
        if !matches!(task.status.as_str(), "completed" | "failed" | "cancelled") {
            return Err(ScaffolderError::Conflict(format!(
                "Task {id} is {}; only a finished task can be retried",
                task.status
            )));
        }
        let spec: Value = serde_json::from_str(&task.spec)
            .map_err(|e| ScaffolderError::Internal(e.to_string()))?;
        let (ns, name) = task
            .template_ref
            .split_once(':')
            .and_then(|(_, r)| r.split_once('/'))
            .unwrap_or(("default", ""));
        let (_, template) = Self::template(catalog, ns, "template", name)?;
        let user = RunUser {
            entity_ref: spec["user"]["ref"].as_str().map(str::to_owned),
            entity: spec["user"].get("entity").cloned().filter(|e| !e.is_null()),
        };
        let secrets = self
            .secrets
            .lock()
            .expect("secrets lock")
            .get(id)
            .cloned()
            .unwrap_or(json!({}));
        let db = catalog.database();
        // Numbering goes on after the completion about to be dropped, so a client polling
        // with `after` still sees every new event.
        let last = db.task_events(id, None).await?.last().map_or(0, |e| e.seq);
        if !db.reopen_task(id, now_ms()).await? {
            return Err(ScaffolderError::Conflict(format!(
                "Task {id} is already running"
            )));
        }
        db.append_task_events(&[TaskEventRow {
            task_id: id.to_owned(),
            seq: last + 1,
            event_type: "recovered".into(),
            // Backstage's body for a retried task.
            body: json!({"recoverStrategy": "none"}).to_string(),
            created_at: now_ms(),
        }])
        .await?;
        self.start(
            catalog,
            id.to_owned(),
            template,
            spec["parameters"].clone(),
            secrets,
            user,
            last + 1,
        );
        Ok(())
    }

    /// Stored events after `after`, and (while the task runs) a receiver for the ones to come.
    /// The receiver is taken first, so no event falls between the two.
    pub async fn events(
        &self,
        catalog: &Catalog,
        id: &str,
        after: Option<i64>,
    ) -> Result<(Vec<Value>, Option<broadcast::Receiver<Value>>), ScaffolderError> {
        Self::task(catalog, id).await?;
        let rx = self
            .live
            .lock()
            .expect("live lock")
            .get(id)
            .map(|l| l.events.subscribe());
        let stored = catalog.database().task_events(id, after).await?;
        Ok((stored.iter().map(event_json).collect(), rx))
    }

    /// Marks tasks a previous server left unfinished as failed (start-up).
    pub async fn recover(catalog: &Catalog) -> Result<usize, ScaffolderError> {
        Ok(catalog
            .database()
            .fail_interrupted_tasks(now_ms())
            .await?
            .len())
    }
}
