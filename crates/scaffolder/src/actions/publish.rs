//! `publish:file`: copies the workspace to a new directory under the server's publish root
//! (configured; never anywhere else), as Backstage's `publish:file` writes to a local path.

use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, str_input};
use crate::error::ScaffolderError;

pub const FILE: ActionSpec = ActionSpec {
    id: "publish:file",
    description: "Writes the workspace's contents to a new directory under the server's publish root.",
    input: || {
        json!({"type": "object", "required": ["path"], "properties": {
            "path": {"type": "string", "description": "Directory to create, relative to the publish root."},
            "sourcePath": {"type": "string", "description": "Part of the workspace to publish. Defaults to all of it."}
        }, "additionalProperties": false})
    },
    output: Some(|| {
        json!({"type": "object", "properties": {
            "remoteUrl": {"type": "string", "description": "file: URL of the published directory."},
            "repoContentsUrl": {"type": "string", "description": "The published directory, for catalog:register."}
        }})
    }),
    dry_run: false,
};

pub fn file(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let root = ctx.services.publish_root.clone().ok_or_else(|| {
        ScaffolderError::NotAllowed("publish:file has no publish root configured".into())
    })?;
    std::fs::create_dir_all(&root)?;
    let target = crate::workspace::safe_child(&root, str_input(input, "path").unwrap_or_default())?;
    if target == crate::workspace::normalize(&root) {
        return Err(ScaffolderError::NotAllowed(
            "publish:file must name a directory under the publish root".into(),
        ));
    }
    if target.exists() {
        return Err(ScaffolderError::Conflict(format!(
            "There is already a file or directory at {}",
            target.display()
        )));
    }
    let source = ctx.workspace_dir(str_input(input, "sourcePath").unwrap_or("./"))?;
    std::fs::create_dir_all(&target)?;
    // A walk lists a directory before what is in it, so each is made once, with one `mkdir`.
    for e in walkdir::WalkDir::new(&source).min_depth(1) {
        let e = e.map_err(|e| ScaffolderError::Internal(e.to_string()))?;
        let rel = e.path().strip_prefix(&source).unwrap_or(e.path());
        let dst = target.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir(&dst)?;
        } else if e.file_type().is_file() {
            std::fs::copy(e.path(), &dst)?;
        }
    }
    ctx.info(&format!("Published the workspace to {}", target.display()));
    ctx.set_output("remoteUrl", json!(format!("file:{}", target.display())));
    ctx.set_output("repoContentsUrl", json!(target.display().to_string()));
    Ok(())
}
