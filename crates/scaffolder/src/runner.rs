//! Runs a template's steps as Backstage's workflow runner does: checks every action exists,
//! then per step evaluates `if`, expands `each`, renders the input with the run's context
//! (`parameters`, `steps`, `secrets`, `user`, `context`, `each`), runs the action and keeps
//! its output under `steps[id].output`; finally renders `output`. After a failure, the steps
//! whose `if` calls a status check (`${{ always() }}`, `${{ failure() }}`) still run, as in
//! Backstage 4.2; the others are skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

use crate::actions::{self, ActionContext, Services};
use crate::error::ScaffolderError;
use crate::expr::Engine;
use crate::files::Files;
use crate::log::Log;
use crate::template::Template;

/// Iterations one `each` may expand to.
pub const MAX_EACH: usize = 1_000;

/// Who runs the task, as templates see it in `user`.
#[derive(Debug, Clone, Default)]
pub struct RunUser {
    /// `user:default/name`, when signed in.
    pub entity_ref: Option<String>,
    /// The User entity, when the catalog has it.
    pub entity: Option<Value>,
}

/// Everything one run needs.
pub struct Run<'a> {
    pub engine: &'a Engine,
    pub template: &'a Template,
    pub values: &'a Value,
    pub secrets: &'a Value,
    pub user: &'a RunUser,
    pub task_id: &'a str,
    /// Where the steps write: a directory for a task, memory for a dry-run.
    pub workspace: &'a Files,
    /// The template's own files, for `fetch:*` `url`s (`None`: it has no location).
    pub template_dir: Option<&'a Files>,
    pub dry_run: bool,
    pub services: &'a Services,
    /// Set to stop the run before its next step.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// The outcome: the rendered `output`, and each step's output.
#[derive(Debug, Default)]
pub struct Outcome {
    pub output: Value,
    pub steps: Map<String, Value>,
}

/// A failed run: the error and which step it happened in.
#[derive(Debug)]
pub struct Failure {
    pub error: ScaffolderError,
    pub step_id: Option<String>,
}

impl From<ScaffolderError> for Failure {
    fn from(error: ScaffolderError) -> Self {
        Failure {
            error,
            step_id: None,
        }
    }
}

/// Output `links` and `text` items may carry their own `if` (Backstage 4.2): an item whose
/// rendered `if` is falsy is left out, and the key is removed from the others.
fn filter_conditional(items: &mut Vec<Value>) {
    items.retain_mut(|item| match item.as_object_mut() {
        Some(obj) => obj
            .remove("if")
            .is_none_or(|cond| crate::expr::truthy(&cond)),
        None => true,
    });
}

/// An `each` iteration as Backstage logs it: `{"key":"0","value":"a,b"}`, the value printed as
/// JavaScript's `String()` would (`[object Object]` for an object).
fn each_log(each: &Value) -> String {
    let text = |v: &Value| crate::js::to_js_string(&minijinja::Value::from_serialize(v));
    json!({"key": text(&each["key"]), "value": text(&each["value"])}).to_string()
}

/// Whether a step's `if` calls `always()` or `failure()`, which lets it run after a failed step.
fn calls_status_check(condition: Option<&Value>) -> bool {
    condition
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains("always(") || c.contains("failure("))
}

/// Every action the template names must exist before anything runs (404 otherwise).
pub fn check_actions(template: &Template) -> Result<(), ScaffolderError> {
    for step in &template.steps {
        if actions::find(&step.action).is_none() {
            return Err(actions::not_registered(&step.action));
        }
    }
    Ok(())
}

impl Run<'_> {
    fn context(&self, steps: &Map<String, Value>, each: Option<Value>, failed: bool) -> Value {
        let mut ctx = json!({
            crate::expr::FAILED: failed,
            "parameters": self.values,
            "steps": steps,
            "secrets": self.secrets,
            "user": {
                "entity": self.user.entity.clone().unwrap_or(Value::Null),
                "ref": self.user.entity_ref.clone().unwrap_or_default(),
            },
            "context": {"task": {"id": self.task_id}},
        });
        if let Some(each) = each {
            ctx["each"] = each;
        }
        ctx
    }

    /// Renders an input as Backstage does: a string that fails to render is kept as written.
    fn render_input(&self, value: &Value, ctx: &Value) -> Value {
        match value {
            Value::String(_) => match self.engine.render_value(value, ctx) {
                Ok(v) => v.unwrap_or(Value::Null),
                Err(_) => value.clone(),
            },
            Value::Array(a) => Value::Array(a.iter().map(|v| self.render_input(v, ctx)).collect()),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    let r = self.render_input(v, ctx);
                    if !r.is_null() || v.is_null() {
                        out.insert(k.clone(), r);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    /// Whether an `if` lets its step (or iteration) run: a string is rendered first (one that
    /// fails to render is kept as written, so it holds), then judged as Backstage's `isTruthy`.
    fn holds(&self, cond: &Value, ctx: &Value) -> bool {
        match cond {
            Value::String(_) => crate::expr::truthy(&self.render_input(cond, ctx)),
            other => crate::expr::truthy(other),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    pub async fn execute(&self, log: &mut Log) -> Result<Outcome, Failure> {
        check_actions(self.template)?;
        // Backstage counts one more step in a dry-run (its hidden content step).
        log.line(&format!(
            "Starting up task with {} steps",
            self.template.steps.len() + usize::from(self.dry_run)
        ));
        let mut steps_out: Map<String, Value> = Map::new();
        let mut first_failure: Option<Failure> = None;
        for step in &self.template.steps {
            let failed = first_failure.is_some();
            if failed && !calls_status_check(step.condition.as_ref()) {
                log.status(
                    &step.id,
                    "skipped",
                    &format!("Skipping step {} because a previous step failed", step.id),
                );
                continue;
            }
            // A cancelled task runs nothing more: `step` checks that first, status checks too.
            if let Err(failure) = self.step(step, &mut steps_out, log, failed).await {
                first_failure.get_or_insert(failure);
            }
        }
        if let Some(failure) = first_failure {
            return Err(failure);
        }
        let ctx = self.context(&steps_out, None, false);
        let mut output = self.render_input(&self.template.output, &ctx);
        for list in ["links", "text"] {
            if let Some(Value::Array(items)) = output.get_mut(list) {
                filter_conditional(items);
            }
        }
        Ok(Outcome {
            output,
            steps: steps_out,
        })
    }

    /// One step: `if`, `each`, input rendering, the action, its output.
    async fn step(
        &self,
        step: &crate::template::Step,
        steps_out: &mut Map<String, Value>,
        log: &mut Log,
        failed: bool,
    ) -> Result<(), Failure> {
        {
            if self.cancelled() {
                log.status(
                    &step.id,
                    "skipped",
                    &format!("Skipping step {} because the task was cancelled", step.id),
                );
                return Err(Failure {
                    error: ScaffolderError::Conflict("The task was cancelled".into()),
                    step_id: Some(step.id.clone()),
                });
            }
            let fail = |error: ScaffolderError| Failure {
                error,
                step_id: Some(step.id.clone()),
            };
            let ctx = self.context(steps_out, None, failed);
            log.status(
                &step.id,
                "processing",
                &format!("Beginning step {}", step.name),
            );
            // A step with `each` decides its string `if` per iteration (below), as Backstage.
            let per_iteration_if =
                step.each.is_some() && matches!(step.condition, Some(Value::String(_)));
            if let Some(cond) = step.condition.as_ref().filter(|_| !per_iteration_if)
                && !self.holds(cond, &ctx)
            {
                log.status(
                    &step.id,
                    "skipped",
                    &format!(
                        "Skipping step {} because its if condition was false",
                        step.id
                    ),
                );
                return Ok(());
            }
            let spec = actions::find(&step.action).expect("checked above");
            if self.dry_run && !spec.dry_run {
                log.step_line(
                    &step.id,
                    &format!(
                        "\u{1b}[32minfo\u{1b}[39m: Skipping because {} does not support dry-run",
                        step.action
                    ),
                );
                log.status(
                    &step.id,
                    "completed",
                    &format!("Finished step {}", step.name),
                );
                steps_out.insert(step.id.clone(), json!({"output": {}}));
                return Ok(());
            }
            let iterations: Vec<Option<Value>> = match &step.each {
                None => vec![None],
                Some(each) => {
                    let v = self.render_input(each, &ctx);
                    let items: Vec<Value> = match v {
                        Value::Array(a) => a
                            .into_iter()
                            .enumerate()
                            .map(|(i, value)| json!({"key": i.to_string(), "value": value}))
                            .collect(),
                        Value::Object(m) => m
                            .into_iter()
                            .map(|(key, value)| json!({"key": key, "value": value}))
                            .collect(),
                        other => {
                            return Err(fail(ScaffolderError::Input(format!(
                                "Invalid value on action {}.each parameter, \"{}\" cannot be iterated",
                                step.action, other
                            ))));
                        }
                    };
                    if items.len() > MAX_EACH {
                        return Err(fail(ScaffolderError::Input(format!(
                            "each of step {} expands to more than {MAX_EACH} iterations",
                            step.id
                        ))));
                    }
                    items.into_iter().map(Some).collect()
                }
            };
            if self.dry_run {
                // Once per step, with the input rendered outside any iteration, as Backstage.
                let input = self.render_input(&step.input, &ctx);
                log.step_line(
                    &step.id,
                    &format!(
                        "\u{1b}[32minfo\u{1b}[39m: Running {} in dry-run mode with inputs (secrets redacted): {}",
                        step.action,
                        serde_json::to_string_pretty(&input).unwrap_or_default()
                    ),
                );
            }
            let mut output = Map::new();
            for each in iterations {
                let ctx = self.context(steps_out, each.clone(), failed);
                if let Some(e) = &each {
                    let runs = !per_iteration_if
                        || step.condition.as_ref().is_some_and(|c| self.holds(c, &ctx));
                    let verb = if runs { "Running" } else { "Skipping" };
                    log.step_line(
                        &step.id,
                        &format!(
                            "\u{1b}[32minfo\u{1b}[39m: {verb} step each: {}",
                            each_log(e)
                        ),
                    );
                    if !runs {
                        continue;
                    }
                }
                let input = self.render_input(&step.input, &ctx);
                let mut actx = ActionContext {
                    engine: self.engine,
                    workspace: self.workspace,
                    template_dir: self.template_dir,
                    dry_run: self.dry_run,
                    services: self.services,
                    log: &mut *log,
                    step_id: &step.id,
                    output: Map::new(),
                    template_ref: &self.template.entity_ref,
                    template_version: self.template.version.as_deref(),
                };
                if let Err(e) = actions::run(spec, &mut actx, &input).await {
                    let message = e.to_string();
                    log.status(&step.id, "failed", &message);
                    return Err(fail(e));
                }
                let produced = std::mem::take(&mut actx.output);
                for (k, v) in produced {
                    if each.is_some() {
                        // Under `each`, every output name collects one value per iteration.
                        match output.entry(k).or_insert_with(|| json!([])) {
                            Value::Array(a) => a.push(v),
                            slot => *slot = v,
                        }
                    } else {
                        output.insert(k, v);
                    }
                }
            }
            steps_out.insert(step.id.clone(), json!({"output": output}));
            log.status(
                &step.id,
                "completed",
                &format!("Finished step {}", step.name),
            );
        }
        Ok(())
    }
}
