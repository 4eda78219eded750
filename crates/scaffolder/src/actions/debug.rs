//! `debug:log`: a message in the task log, and optionally the workspace's files.

use serde_json::{Value, json};

use super::{ActionContext, ActionSpec};
use crate::error::ScaffolderError;
use crate::files::Kind;

pub const LOG: ActionSpec = ActionSpec {
    id: "debug:log",
    description: "Writes a message into the log and/or lists the files in the workspace.",
    input: || {
        json!({"type": "object", "properties": {
            "message": {"type": "string", "description": "Message to write."},
            "listWorkspace": {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["with-filenames", "with-contents"]}],
                "description": "List the workspace's files; \"with-contents\" also their contents."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub fn log(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    ctx.info(&serde_json::to_string_pretty(input).unwrap_or_default());
    if let Some(m) = input.get("message").and_then(Value::as_str) {
        ctx.info(m);
    }
    let list = input.get("listWorkspace");
    if list.is_some_and(|l| l.as_bool() != Some(false)) {
        let with_contents = list.and_then(Value::as_str) == Some("with-contents");
        let ws = ctx.workspace;
        let mut lines = Vec::new();
        ws.walk("", usize::MAX, |e| {
            if e.meta.kind != Kind::File {
                return Ok(true);
            }
            if with_contents {
                let text = ws.read(&e.rel).unwrap_or_default();
                let text = String::from_utf8_lossy(&text[..text.len().min(64 * 1024)]).into_owned();
                lines.push(format!("{}:\n\n{text}", e.rel));
            } else {
                lines.push(format!("  {}", e.rel));
            }
            Ok(lines.len() < 1000)
        })?;
        ctx.info(&format!("Workspace:\n{}", lines.join("\n")));
    }
    Ok(())
}

/// The longest `debug:wait` allowed, so a template cannot hold a worker for hours.
const MAX_WAIT_MS: u64 = 10 * 60 * 1000;

pub const WAIT: ActionSpec = ActionSpec {
    id: "debug:wait",
    description: "Waits a while before the next step (at most 10 minutes).",
    input: || {
        json!({"type": "object", "properties": {
            "minutes": {"type": "number", "description": "Minutes to wait."},
            "seconds": {"type": "number", "description": "Seconds to wait."},
            "milliseconds": {"type": "number", "description": "Milliseconds to wait."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub async fn wait(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let n = |k: &str| input.get(k).and_then(Value::as_f64).unwrap_or(0.0).max(0.0);
    let ms = n("minutes") * 60_000.0 + n("seconds") * 1000.0 + n("milliseconds");
    if ms > MAX_WAIT_MS as f64 {
        return Err(ScaffolderError::Input(format!(
            "debug:wait may wait at most {} minutes",
            MAX_WAIT_MS / 60_000
        )));
    }
    ctx.info(&format!("Waiting {} ms", ms as u64));
    tokio::time::sleep(std::time::Duration::from_millis(ms as u64)).await;
    Ok(())
}
