//! `stagedoor render`: a template string rendered exactly as a template's steps and skeleton files
//! render it, so an author can try an expression out; `--json-lines` is the batch form the
//! Nunjucks-compatibility suite (tests/node/nunjitsu.test.mjs) drives.

use std::io::{BufRead, Write};

use scaffolder::expr::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct RenderArgs {
    /// The template text, e.g. '${{ parameters.name | lower }}'.
    #[arg(required_unless_present = "json_lines")]
    template: Option<String>,
    /// The variables as one JSON object, e.g. '{"parameters": {"name": "Web"}}'.
    #[arg(long, default_value = "{}")]
    context: String,
    /// Keep the result's type as a step input does (`${{ parameters.count }}` alone is the number
    /// 3, not the text "3") and print it as JSON.
    #[arg(long)]
    value: bool,
    /// Read one JSON object per line from stdin, `{"template", "context", "value", "trimBlocks",
    /// "lstripBlocks", "cookiecutterCompat"}` (all but template optional), and write one line per input:
    /// `{"ok": result}` or `{"error": message}`.
    #[arg(long, conflicts_with = "template")]
    json_lines: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    template: String,
    #[serde(default)]
    context: Value,
    #[serde(default)]
    value: bool,
    #[serde(default)]
    trim_blocks: bool,
    #[serde(default)]
    lstrip_blocks: bool,
    #[serde(default)]
    cookiecutter_compat: bool,
}

/// Returns the exit code: 0 when the template rendered (every line, with --json-lines, answers
/// even when its template fails), 1 when it did not.
pub fn run(args: &RenderArgs) -> anyhow::Result<i32> {
    let engine = Engine::new();
    if args.json_lines {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let answer = match serde_json::from_str::<Case>(&line) {
                Ok(case) => match render(&engine, &case) {
                    Ok(v) => json!({ "ok": v }),
                    Err(e) => json!({ "error": e }),
                },
                Err(e) => json!({ "error": format!("not a case: {e}") }),
            };
            writeln!(out, "{answer}")?;
        }
        out.flush()?;
        return Ok(0);
    }
    let context: Value = serde_json::from_str(&args.context)
        .map_err(|e| anyhow::anyhow!("--context is not JSON: {e}"))?;
    let case = Case {
        template: args.template.clone().unwrap_or_default(),
        context,
        value: args.value,
        trim_blocks: false,
        lstrip_blocks: false,
        cookiecutter_compat: false,
    };
    match render(&engine, &case) {
        Ok(Value::String(text)) if !args.value => {
            print!("{text}");
            Ok(0)
        }
        Ok(v) => {
            println!("{v}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

/// A value render answers null for "absent" (an empty result), as a step input leaves it out.
fn render(engine: &Engine, case: &Case) -> Result<Value, String> {
    let context = if case.context.is_null() {
        json!({})
    } else {
        case.context.clone()
    };
    let engine = engine.with_blocks(scaffolder::expr::Blocks {
        trim: case.trim_blocks,
        lstrip: case.lstrip_blocks,
        cookiecutter: case.cookiecutter_compat,
    });
    if case.value {
        engine
            .render_value(&Value::String(case.template.clone()), &context)
            .map(|v| v.unwrap_or(Value::Null))
    } else {
        engine
            .render_str(&case.template, &context)
            .map(Value::String)
    }
    .map_err(|e| e.to_string())
}
