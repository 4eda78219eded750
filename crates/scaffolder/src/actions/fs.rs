//! `fs:delete`, `fs:rename`, `fs:readdir`: file operations inside the workspace only.

use glob::{MatchOptions, Pattern};
use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, bool_input};
use crate::error::ScaffolderError;
use crate::files::Kind;

pub const DELETE: ActionSpec = ActionSpec {
    id: "fs:delete",
    description: "Deletes files and directories (globs allowed) from the workspace.",
    input: || {
        json!({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "string"}, "description": "Paths or globs, relative to the workspace."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub const RENAME: ActionSpec = ActionSpec {
    id: "fs:rename",
    description: "Renames files and directories in the workspace.",
    input: || {
        json!({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "object", "required": ["from", "to"], "properties": {
                "from": {"type": "string", "description": "Path to move, relative to the workspace."},
                "to": {"type": "string", "description": "New path, relative to the workspace."},
                "overwrite": {"type": "boolean", "description": "Replace what is at `to`."}
            }}}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

fn entry_schema() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string", "description": "Name of the file or directory"},
        "path": {"type": "string", "description": "Path relative to the workspace"},
        "fullPath": {"type": "string", "description": "Absolute path"}
    }, "required": ["name", "path", "fullPath"], "additionalProperties": false}})
}

pub const READDIR: ActionSpec = ActionSpec {
    id: "fs:readdir",
    description: "Lists the files and directories under paths of the workspace.",
    input: || {
        json!({"type": "object", "required": ["paths"], "properties": {
            "paths": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "recursive": {"type": "boolean", "default": false}
        }, "additionalProperties": false})
    },
    output: Some(|| {
        json!({"type": "object", "required": ["files", "folders"], "properties": {
            "files": entry_schema(), "folders": entry_schema()
        }, "additionalProperties": false})
    }),
    dry_run: true,
};

fn strings(input: &Value, key: &str) -> Vec<String> {
    input
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn delete(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let ws = ctx.workspace;
    // Sorted (depth first, by name), so what is deleted and logged does not depend on the
    // order the file system lists directories in.
    let mut all = Vec::new();
    ws.walk("", usize::MAX, |e| {
        all.push(e.rel);
        Ok(true)
    })?;
    for file in strings(input, "files") {
        // Refuse escapes before matching, so `../x` is an error rather than matching nothing.
        ctx.workspace_path(&file)?;
        let pattern = Pattern::new(file.trim_start_matches("./"))
            .map_err(|e| ScaffolderError::Input(format!("invalid glob {file:?}: {e}")))?;
        let opts = MatchOptions {
            require_literal_separator: true,
            ..MatchOptions::new()
        };
        for rel in all.iter().filter(|r| pattern.matches_with(r, opts)) {
            let path = ctx.workspace_path(rel)?;
            match ws.remove(&path) {
                Ok(()) => ctx.info(&format!("File {rel} deleted successfully")),
                // Already gone with a deleted parent.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

pub fn rename(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    for f in input
        .get("files")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let from = f.get("from").and_then(Value::as_str).unwrap_or_default();
        let to = f.get("to").and_then(Value::as_str).unwrap_or_default();
        let (src, dst) = (ctx.workspace_path(from)?, ctx.workspace_path(to)?);
        if !ctx.workspace.exists(&src) {
            return Err(ScaffolderError::Input(format!(
                "File {from} does not exist"
            )));
        }
        if ctx.workspace.exists(&dst) && !bool_input(f, "overwrite") {
            return Err(ScaffolderError::Input(format!(
                "The file {to} already exists"
            )));
        }
        ctx.workspace.rename(&src, &dst)?;
    }
    Ok(())
}

pub fn readdir(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let ws = ctx.workspace;
    let max_depth = if bool_input(input, "recursive") {
        64
    } else {
        1
    };
    let (mut files, mut folders) = (Vec::new(), Vec::new());
    for p in strings(input, "paths") {
        let dir = ctx.workspace_path(&p)?;
        ws.walk(&dir, max_depth, |e| {
            let path = crate::files::join(&dir, &e.rel);
            let full_path = ws.path(&path).display().to_string();
            let item = json!({
                "name": e.rel.rsplit('/').next().unwrap_or_default(),
                "path": path,
                "fullPath": full_path,
            });
            if e.meta.kind == Kind::Dir {
                folders.push(item);
            } else {
                files.push(item);
            }
            Ok(true)
        })?;
    }
    ctx.set_output("files", Value::Array(files));
    ctx.set_output("folders", Value::Array(folders));
    Ok(())
}
