//! `fetch:template`, `fetch:template:file`, `fetch:plain`, `fetch:plain:file`: copy a skeleton
//! from the template's directory into the workspace, rendering names and contents with the
//! step's `values`. Skeletons are bounded (file count, bytes) and read only from inside the
//! template's directory; symlinks in them are refused.

use glob::{MatchOptions, Pattern};
use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, bool_input, str_input};
use crate::error::ScaffolderError;
use crate::files::{Files, Kind};

/// Entries (files and directories) one skeleton may hold.
pub const MAX_SKELETON_ENTRIES: usize = 10_000;
/// Bytes one skeleton may hold.
pub const MAX_SKELETON_BYTES: u64 = 64 * 1024 * 1024;

pub const TEMPLATE: ActionSpec = ActionSpec {
    id: "fetch:template",
    description: "Copies a skeleton directory of the template into the workspace, rendering file names and contents with `values`.",
    input: || {
        json!({"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string", "description": "Path of the skeleton directory, relative to the template's file."},
            "targetPath": {"type": "string", "description": "Where in the workspace to write it. Defaults to the workspace itself."},
            "values": {"type": "object", "description": "Values the skeleton sees as `values`."},
            "copyWithoutRender": {"type": "array", "items": {"type": "string"}, "description": "Deprecated alias of copyWithoutTemplating."},
            "copyWithoutTemplating": {"type": "array", "items": {"type": "string"}, "description": "Globs (relative to the skeleton) copied without rendering names or contents."},
            "cookiecutterCompat": {"type": "boolean", "description": "Render the skeleton as a cookiecutter one: {{ cookiecutter.name }} instead of ${{ values.name }}, and the jsonify filter."},
            "templateFileExtension": {"anyOf": [{"type": "string"}, {"type": "boolean"}], "description": "Render only files with this extension (true: .njk), dropping it."},
            "replace": {"type": "boolean", "description": "Overwrite files that already exist in the workspace."},
            "trimBlocks": {"type": "boolean", "description": "Remove the first newline after a block."},
            "lstripBlocks": {"type": "boolean", "description": "Strip whitespace before a block on its line."},
            "token": {"type": "string", "description": "Unused: skeletons are read from disk."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub const TEMPLATE_FILE: ActionSpec = ActionSpec {
    id: "fetch:template:file",
    description: "Renders one file of the template into the workspace with `values`.",
    input: || {
        json!({"type": "object", "required": ["url", "targetPath"], "properties": {
            "url": {"type": "string", "description": "Path of the file, relative to the template's file."},
            "targetPath": {"type": "string", "description": "File path in the workspace to write."},
            "values": {"type": "object", "description": "Values the file sees as `values`."},
            "cookiecutterCompat": {"type": "boolean", "description": "Render the skeleton as a cookiecutter one: {{ cookiecutter.name }} instead of ${{ values.name }}, and the jsonify filter."},
            "replace": {"type": "boolean", "description": "Overwrite the file if it exists."},
            "trimBlocks": {"type": "boolean", "description": "Remove the first newline after a block."},
            "lstripBlocks": {"type": "boolean", "description": "Strip whitespace before a block on its line."},
            "token": {"type": "string", "description": "Unused: files are read from disk."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub const PLAIN: ActionSpec = ActionSpec {
    id: "fetch:plain",
    description: "Copies a directory of the template into the workspace as it is.",
    input: || {
        json!({"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string", "description": "Path of the directory, relative to the template's file."},
            "targetPath": {"type": "string", "description": "Where in the workspace to write it."},
            "token": {"type": "string", "description": "Unused: files are read from disk."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub const PLAIN_FILE: ActionSpec = ActionSpec {
    id: "fetch:plain:file",
    description: "Copies one file of the template into the workspace as it is.",
    input: || {
        json!({"type": "object", "required": ["url", "targetPath"], "properties": {
            "url": {"type": "string", "description": "Path of the file, relative to the template's file."},
            "targetPath": {"type": "string", "description": "File path in the workspace to write."},
            "token": {"type": "string", "description": "Unused: files are read from disk."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

/// One skeleton entry, relative to the skeleton's root with `/` separators.
struct Entry {
    rel: String,
    dir: bool,
    mode: u32,
}

/// Lists a skeleton (sorted), refusing symlinks and anything past the bounds.
fn list_skeleton(files: &Files, root: &str) -> Result<Vec<Entry>, ScaffolderError> {
    let meta = files.stat(root).map_err(|_| {
        ScaffolderError::Input(format!(
            "Skeleton {} does not exist",
            files
                .path(root)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        ))
    })?;
    if meta.kind != Kind::Dir {
        return Err(ScaffolderError::Input(
            "fetch url must name a directory".into(),
        ));
    }
    let mut out = Vec::new();
    let mut bytes = 0u64;
    files.walk(root, usize::MAX, |entry| {
        let rel = entry.rel;
        if entry.meta.kind == Kind::Symlink {
            return Err(ScaffolderError::NotAllowed(format!(
                "Skeleton entry {rel} is a symlink; symlinks in skeletons are not allowed"
            )));
        }
        bytes += entry.meta.len;
        if out.len() >= MAX_SKELETON_ENTRIES {
            return Err(ScaffolderError::Input(format!(
                "Skeleton has more than {MAX_SKELETON_ENTRIES} files and directories"
            )));
        }
        if bytes > MAX_SKELETON_BYTES {
            return Err(ScaffolderError::Input(format!(
                "Skeleton is larger than {} MB",
                MAX_SKELETON_BYTES / (1024 * 1024)
            )));
        }
        out.push(Entry {
            rel,
            dir: entry.meta.kind == Kind::Dir,
            mode: entry.meta.mode,
        });
        Ok(true)
    })?;
    Ok(out)
}

/// Text that is templated; anything with a NUL byte or invalid UTF-8 is copied as bytes.
fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().take(8000).any(|&b| b == 0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The context a skeleton renders with: its values, named `cookiecutter` for a cookiecutter
/// skeleton (`{{ cookiecutter.name }}`) as Backstage names them.
fn file_context(input: &Value) -> Value {
    let values = input.get("values").cloned().unwrap_or(json!({}));
    if bool_input(input, "cookiecutterCompat") {
        json!({ "cookiecutter": values })
    } else {
        json!({ "values": values })
    }
}

/// The values, sorted by key, as the log line that lists them prints them.
fn sorted_values(input: &Value) -> String {
    let values: std::collections::BTreeMap<&String, &Value> = input
        .get("values")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    serde_json::to_string(&values).unwrap_or_default()
}

/// How the skeleton's text is rendered: block trimming and cookiecutter syntax.
fn blocks(input: &Value) -> crate::expr::Blocks {
    crate::expr::Blocks {
        trim: bool_input(input, "trimBlocks"),
        lstrip: bool_input(input, "lstripBlocks"),
        cookiecutter: bool_input(input, "cookiecutterCompat"),
    }
}

pub fn template(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let url = str_input(input, "url").unwrap_or_default();
    ctx.info("Fetching template content from remote URL");
    let (template, src) = ctx.template_path(url)?;
    let ws = ctx.workspace;
    let target = str_input(input, "targetPath").unwrap_or("./");
    let out_dir = ctx.workspace_path(target)?;
    ws.create_dir_all(&out_dir)?;
    ctx.info("Listing files and directories in template");
    let entries = list_skeleton(template, &src)?;
    let patterns: Vec<Pattern> = ["copyWithoutTemplating", "copyWithoutRender"]
        .iter()
        .filter_map(|k| input.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(|g| {
            Pattern::new(g.trim_start_matches("./"))
                .map_err(|e| ScaffolderError::Input(format!("invalid glob {g:?}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let extension: Option<String> = match input.get("templateFileExtension") {
        Some(Value::Bool(true)) => Some(".njk".into()),
        Some(Value::String(s)) if !s.is_empty() => Some(if s.starts_with('.') {
            s.clone()
        } else {
            format!(".{s}")
        }),
        _ => None,
    };
    if extension.is_some() && (!patterns.is_empty() || bool_input(input, "cookiecutterCompat")) {
        return Err(ScaffolderError::Input(
            "Fetch action input extension incompatible with copyWithoutTemplating and cookiecutterCompat".into(),
        ));
    }
    let replace = bool_input(input, "replace");
    let context = file_context(input);
    ctx.info(&format!(
        "Processing {} template files/directories with input values {}",
        entries.len(),
        sorted_values(input)
    ));
    let engine = ctx.engine.with_blocks(blocks(input));
    let opts = MatchOptions {
        require_literal_separator: true,
        ..MatchOptions::new()
    };
    for entry in &entries {
        let verbatim = patterns
            .iter()
            .any(|p| p.matches_with(&entry.rel, opts) || prefix_match(p, &entry.rel, opts));
        let (render_name, render_contents, mut out_rel) = match &extension {
            Some(ext) => {
                let templated = !entry.dir && entry.rel.ends_with(ext.as_str());
                let rel = if templated {
                    entry.rel[..entry.rel.len() - ext.len()].to_owned()
                } else {
                    entry.rel.clone()
                };
                (true, templated, rel)
            }
            None => (!verbatim, !verbatim, entry.rel.clone()),
        };
        if render_name {
            out_rel = engine.render_str(&out_rel, &context)?;
        }
        if out_rel.split('/').any(str::is_empty) {
            // A name that renders empty (an optional file) is left out.
            continue;
        }
        let out_path = ws.resolve_in(&out_dir, &out_rel)?;
        if !entry.dir && !replace && ws.exists(&out_path) {
            ctx.info(&format!(
                "Skipping file {} as it already exists.",
                entry.rel
            ));
            continue;
        }
        if entry.dir {
            ws.create_dir_all(&out_path)?;
            continue;
        }
        if !render_contents && extension.is_none() {
            ctx.info(&format!(
                "Copying file/directory {} without processing.",
                entry.rel
            ));
        }
        let bytes = template.read(&crate::files::join(&src, &entry.rel))?;
        let contents = match (render_contents, as_text(&bytes)) {
            (true, Some(text)) => {
                ctx.info(&format!(
                    "Writing file {} to template output path with mode {}.",
                    entry.rel, entry.mode
                ));
                engine.render_str(text, &context)?.into_bytes()
            }
            _ => bytes,
        };
        ws.write(&out_path, &contents, Some(entry.mode))?;
    }
    ctx.info(&format!(
        "Template result written to {}",
        ws.path(&out_dir).display()
    ));
    Ok(())
}

/// `dir/**` style globs also cover what is under a matched directory.
fn prefix_match(p: &Pattern, rel: &str, opts: MatchOptions) -> bool {
    let mut cur = rel;
    while let Some((parent, _)) = cur.rsplit_once('/') {
        if p.matches_with(parent, opts) {
            return true;
        }
        cur = parent;
    }
    false
}

pub fn template_file(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let (template, src, mode, out_path) = single_file(ctx, input)?;
    let ws = ctx.workspace;
    if ws.exists(&out_path) && !bool_input(input, "replace") {
        ctx.info(&format!(
            "File {} already exists; not replacing it.",
            str_input(input, "targetPath").unwrap_or_default()
        ));
        return Ok(());
    }
    ctx.info("Fetching template file content from remote URL");
    ctx.info(&format!(
        "Processing template file with input values {}",
        sorted_values(input)
    ));
    let bytes = template.read(&src)?;
    let engine = ctx.engine.with_blocks(blocks(input));
    let contents = match as_text(&bytes) {
        Some(text) => engine.render_str(text, &file_context(input))?.into_bytes(),
        None => bytes,
    };
    ws.write(&out_path, &contents, Some(mode))?;
    ctx.info(&format!(
        "Template file has been written to {}",
        ws.path(&out_path).display()
    ));
    Ok(())
}

pub fn plain(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let url = str_input(input, "url").unwrap_or_default();
    ctx.info("Fetching plain content from remote URL");
    let (template, src) = ctx.template_path(url)?;
    let ws = ctx.workspace;
    let out_dir = ctx.workspace_path(str_input(input, "targetPath").unwrap_or("./"))?;
    ws.create_dir_all(&out_dir)?;
    for entry in list_skeleton(template, &src)? {
        let out_path = ws.resolve_in(&out_dir, &entry.rel)?;
        if entry.dir {
            ws.create_dir_all(&out_path)?;
        } else {
            let bytes = template.read(&crate::files::join(&src, &entry.rel))?;
            ws.write(&out_path, &bytes, Some(entry.mode))?;
        }
    }
    Ok(())
}

pub fn plain_file(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let (template, src, mode, out_path) = single_file(ctx, input)?;
    ctx.workspace
        .write(&out_path, &template.read(&src)?, Some(mode))?;
    Ok(())
}

/// The source file (inside the template's directory, not a symlink, bounded) with its tree and
/// permission bits, and the target in the workspace.
fn single_file<'a>(
    ctx: &mut ActionContext<'a>,
    input: &Value,
) -> Result<(&'a Files, String, u32, String), ScaffolderError> {
    let (template, src) = ctx.template_path(str_input(input, "url").unwrap_or_default())?;
    let meta = template
        .stat(&src)
        .map_err(|_| ScaffolderError::Input("fetch url names no file".into()))?;
    if meta.kind == Kind::Symlink {
        return Err(ScaffolderError::NotAllowed(
            "symlinks in templates are not allowed".into(),
        ));
    }
    if meta.kind != Kind::File {
        return Err(ScaffolderError::Input("fetch url must name a file".into()));
    }
    if meta.len > MAX_SKELETON_BYTES {
        return Err(ScaffolderError::Input("file is too large".into()));
    }
    let out = ctx.workspace_path(str_input(input, "targetPath").unwrap_or_default())?;
    Ok((template, src, meta.mode, out))
}
