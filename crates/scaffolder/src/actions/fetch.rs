//! `fetch:template`, `fetch:template:file`, `fetch:plain`, `fetch:plain:file`: copy a skeleton
//! from the template's directory into the workspace, rendering names and contents with the
//! step's `values`. Skeletons are bounded (file count, bytes) and read only from inside the
//! template's directory; symlinks in them are refused.

use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};
use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, bool_input, str_input};
use crate::error::ScaffolderError;

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
fn list_skeleton(root: &Path) -> Result<Vec<Entry>, ScaffolderError> {
    let meta = std::fs::symlink_metadata(root).map_err(|_| {
        ScaffolderError::Input(format!(
            "Skeleton {} does not exist",
            root.file_name().unwrap_or_default().to_string_lossy()
        ))
    })?;
    if !meta.is_dir() {
        return Err(ScaffolderError::Input(
            "fetch url must name a directory".into(),
        ));
    }
    let mut out = Vec::new();
    let mut bytes = 0u64;
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| ScaffolderError::Internal(e.to_string()))?;
        let rel = crate::workspace::relative(root, entry.path());
        let ft = entry.file_type();
        if ft.is_symlink() {
            return Err(ScaffolderError::NotAllowed(format!(
                "Skeleton entry {rel} is a symlink; symlinks in skeletons are not allowed"
            )));
        }
        let meta = entry
            .metadata()
            .map_err(|e| ScaffolderError::Internal(e.to_string()))?;
        bytes += meta.len();
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
        use std::os::unix::fs::PermissionsExt;
        out.push(Entry {
            rel,
            dir: ft.is_dir(),
            mode: meta.permissions().mode(),
        });
    }
    Ok(out)
}

/// Text that is templated; anything with a NUL byte or invalid UTF-8 is copied as bytes.
fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().take(8000).any(|&b| b == 0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), ScaffolderError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_with_mode(path, contents, mode)
}

/// Writes a file whose directory exists, with the skeleton file's permission bits (one
/// `chmod` only when the umask would have changed them).
fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), ScaffolderError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode & 0o777)
        .open(path)?;
    std::io::Write::write_all(&mut f, contents)?;
    if f.metadata()?.permissions().mode() & 0o777 != mode & 0o777 {
        f.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))?;
    }
    Ok(())
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
    let src = ctx.template_path(url)?;
    let target = str_input(input, "targetPath").unwrap_or("./");
    let out_dir = ctx.workspace_path(target)?;
    std::fs::create_dir_all(&out_dir)?;
    ctx.info("Listing files and directories in template");
    let entries = list_skeleton(&src)?;
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
    let mut confined = crate::workspace::Confined::new(&out_dir)?;
    // Directories already made, so each is created once, not once per file.
    let mut made = std::collections::HashSet::new();
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
        let out_path = confined.resolve(&out_rel)?;
        if !crate::workspace::normalize(&out_path).starts_with(ctx.workspace) {
            return Err(ScaffolderError::NotAllowed(
                "Relative path is not allowed to refer to a directory outside its parent".into(),
            ));
        }
        if !entry.dir && !replace && out_path.exists() {
            ctx.info(&format!(
                "Skipping file {} as it already exists.",
                entry.rel
            ));
            continue;
        }
        if entry.dir {
            if made.insert(out_path.clone()) {
                std::fs::create_dir_all(&out_path)?;
            }
            continue;
        }
        if !render_contents && extension.is_none() {
            ctx.info(&format!(
                "Copying file/directory {} without processing.",
                entry.rel
            ));
        }
        let in_path = src.join(&entry.rel);
        let bytes = std::fs::read(&in_path)?;
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
        write_file(&out_path, &contents, entry.mode)?;
    }
    ctx.info(&format!("Template result written to {}", out_dir.display()));
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
    let (src, out_path) = single_file(ctx, input)?;
    if out_path.exists() && !bool_input(input, "replace") {
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
    let bytes = std::fs::read(&src)?;
    let engine = ctx.engine.with_blocks(blocks(input));
    let contents = match as_text(&bytes) {
        Some(text) => engine.render_str(text, &file_context(input))?.into_bytes(),
        None => bytes,
    };
    write_file(&out_path, &contents, file_mode(&src))?;
    ctx.info(&format!(
        "Template file has been written to {}",
        out_path.display()
    ));
    Ok(())
}

pub fn plain(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let url = str_input(input, "url").unwrap_or_default();
    ctx.info("Fetching plain content from remote URL");
    let src = ctx.template_path(url)?;
    let out_dir = ctx.workspace_path(str_input(input, "targetPath").unwrap_or("./"))?;
    std::fs::create_dir_all(&out_dir)?;
    for entry in list_skeleton(&src)? {
        let out_path = crate::workspace::safe_child(&out_dir, &entry.rel)?;
        if entry.dir {
            std::fs::create_dir_all(&out_path)?;
        } else {
            write_file(&out_path, &std::fs::read(src.join(&entry.rel))?, entry.mode)?;
        }
    }
    Ok(())
}

pub fn plain_file(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let (src, out_path) = single_file(ctx, input)?;
    write_file(&out_path, &std::fs::read(&src)?, file_mode(&src))
}

/// The source file (inside the template's directory, not a symlink, bounded) and the target.
fn single_file(
    ctx: &mut ActionContext<'_>,
    input: &Value,
) -> Result<(PathBuf, PathBuf), ScaffolderError> {
    let src = ctx.template_path(str_input(input, "url").unwrap_or_default())?;
    let meta = std::fs::symlink_metadata(&src)
        .map_err(|_| ScaffolderError::Input("fetch url names no file".into()))?;
    if meta.file_type().is_symlink() {
        return Err(ScaffolderError::NotAllowed(
            "symlinks in templates are not allowed".into(),
        ));
    }
    if !meta.is_file() {
        return Err(ScaffolderError::Input("fetch url must name a file".into()));
    }
    if meta.len() > MAX_SKELETON_BYTES {
        return Err(ScaffolderError::Input("file is too large".into()));
    }
    let out = ctx.workspace_path(str_input(input, "targetPath").unwrap_or_default())?;
    Ok((src, out))
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644)
}
