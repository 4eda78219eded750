//! `fs:delete`, `fs:rename`, `fs:readdir`: file operations inside the workspace only.

use glob::{MatchOptions, Pattern};
use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, bool_input};
use crate::error::ScaffolderError;

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
    let all: Vec<String> = walkdir::WalkDir::new(ctx.workspace)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| crate::workspace::relative(ctx.workspace, e.path()))
        .collect();
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
            let result = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match result {
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
        if !src.exists() {
            return Err(ScaffolderError::Input(format!(
                "File {from} does not exist"
            )));
        }
        if dst.exists() && !bool_input(f, "overwrite") {
            return Err(ScaffolderError::Input(format!(
                "The file {to} already exists"
            )));
        }
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&src, &dst)?;
    }
    Ok(())
}

pub fn readdir(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let recursive = bool_input(input, "recursive");
    let (mut files, mut folders) = (Vec::new(), Vec::new());
    for p in strings(input, "paths") {
        let dir = ctx.workspace_path(&p)?;
        let walk = walkdir::WalkDir::new(&dir)
            .min_depth(1)
            .max_depth(if recursive { 64 } else { 1 })
            .sort_by_file_name();
        for e in walk.into_iter().filter_map(Result::ok) {
            let item = json!({
                "name": e.file_name().to_string_lossy(),
                "path": crate::workspace::relative(ctx.workspace, e.path()),
                "fullPath": e.path().display().to_string(),
            });
            if e.file_type().is_dir() {
                folders.push(item);
            } else {
                files.push(item);
            }
        }
    }
    ctx.set_output("files", Value::Array(files));
    ctx.set_output("folders", Value::Array(folders));
    Ok(())
}
