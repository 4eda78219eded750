//! `stagedoor validate`: checks catalog files offline and reports every problem with its line.

use std::path::{Path, PathBuf};

use model::yaml;
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Files or directories. Directories are searched for *.yaml and *.yml, skipping hidden
    /// folders, node_modules and template `skeleton/` folders, and documents there that are not
    /// entities (no apiVersion and no kind, such as mkdocs.yml) are skipped.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

struct Problem {
    file: String,
    line: usize,
    column: usize,
    message: String,
}

/// Returns the exit code: 0 when every entity is valid, 1 otherwise.
pub fn run(args: &ValidateArgs) -> anyhow::Result<i32> {
    let mut problems = Vec::new();
    let mut files = 0;
    let mut entities = 0;
    for path in &args.paths {
        let strict = path.is_file();
        for file in yaml_files(path, &mut problems) {
            files += 1;
            entities += check_file(&file, strict, &mut problems);
        }
    }
    match args.format {
        Format::Text => {
            for p in &problems {
                println!("{}:{}:{}: {}", p.file, p.line, p.column, p.message);
            }
            eprintln!(
                "{files} files, {entities} entities, {} problems",
                problems.len()
            );
        }
        Format::Json => {
            let list: Vec<Value> = problems
                .iter()
                .map(|p| json!({"file": p.file, "line": p.line, "column": p.column, "message": p.message}))
                .collect();
            println!(
                "{}",
                json!({"files": files, "entities": entities, "problems": list})
            );
        }
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}

fn yaml_files(path: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    if !path.is_dir() {
        problems.push(Problem {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: "no such file or directory".into(),
        });
        return vec![];
    }
    let mut files: Vec<PathBuf> = walkdir(path)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        // Template skeletons hold templated YAML that only becomes an entity once rendered.
        if name.to_string_lossy().starts_with('.') || name == "node_modules" || name == "skeleton" {
            continue;
        }
        if p.is_dir() {
            out.extend(walkdir(&p))
        } else {
            out.push(p)
        }
    }
    out
}

/// Checks one file, returning how many entities it held. Unless `strict`, documents that are
/// plainly not entities are skipped rather than reported.
fn check_file(file: &Path, strict: bool, problems: &mut Vec<Problem>) -> usize {
    let name = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem {
                file: name,
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            });
            return 0;
        }
    };
    let mut count = 0;
    // Indexed once per file: each problem is then placed without re-scanning the file.
    let lines = yaml::Lines::new(&text);
    for doc in yaml::parse_documents(&text) {
        match doc.result {
            Ok(Value::Null) => {}
            Ok(Value::Object(entity))
                if !strict
                    && !entity.contains_key("apiVersion")
                    && !entity.contains_key("kind") => {}
            Ok(Value::Object(entity)) => {
                count += 1;
                for p in catalog::entity_problems(&entity) {
                    let (line, column) = lines.locate(doc.line, &p.path);
                    let message = if p.path.is_empty() {
                        p.message
                    } else {
                        format!("{}: {}", p.path, p.message)
                    };
                    problems.push(Problem {
                        file: name.clone(),
                        line,
                        column,
                        message,
                    });
                }
            }
            Ok(_) => problems.push(Problem {
                file: name.clone(),
                line: doc.line,
                column: 1,
                message: "expected an entity (a YAML mapping)".into(),
            }),
            Err(e) => problems.push(Problem {
                file: name.clone(),
                line: e.line,
                column: e.column,
                message: format!("YAML error: {}", e.message),
            }),
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem is placed on its line without re-scanning the file from its top.
    #[test]
    fn many_failing_documents_are_checked_in_linear_time() {
        const N: usize = 20_000;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("many.yaml");
        std::fs::write(&file, "---\nkind: X\n".repeat(N)).unwrap();
        let started = std::time::Instant::now();
        let mut problems = Vec::new();
        assert_eq!(check_file(&file, true, &mut problems), N);
        let took = started.elapsed();
        eprintln!("{N} failing documents: {took:?}");
        assert!(problems.len() >= N);
        assert_eq!(problems.last().unwrap().line, 2 * N);
        assert!(
            took < std::time::Duration::from_secs(10),
            "{N} failing documents took {took:?}"
        );
    }
}
