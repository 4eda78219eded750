//! Checks the model against the shared validation corpus (`tests/node/corpus`), whose verdicts
//! the Node suite proves against Backstage itself: every file under `valid/` must produce no
//! problem, every file under `invalid/` at least one, from YAML parsing, validation or relations.

use std::path::{Path, PathBuf};

use model::{EntityRef, relations, validate::validate, yaml};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node/corpus")
}

/// Every problem Stagedoor finds in one file, as `line:column path: message`.
fn problems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for doc in yaml::parse_documents(text) {
        let value = match doc.result {
            Ok(serde_json::Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                out.push(e.to_string());
                continue;
            }
        };
        let Some(entity) = value.as_object() else {
            out.push(format!("{}: the document is not a mapping", doc.line));
            continue;
        };
        let mut found = validate(entity);
        // validate() leaves unknown kinds to the catalog's allow-list; a stock catalog allows
        // only the built-in ones.
        let kind = entity
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default();
        if found.is_empty() && model::kinds::canonical(kind).is_none() {
            found.push(model::validate::Problem::new(
                "kind",
                format!("kind {kind} is not allowed"),
            ));
        }
        if found.is_empty() {
            let me = EntityRef::of_entity(entity).expect("valid entities have a ref");
            found.extend(relations::outgoing(entity, &me).1);
        }
        for p in found {
            let (line, col) = yaml::locate(text, doc.line, &p.path);
            // The Node half of the corpus holds `stagedoor validate` to real positions.
            assert!(
                line >= 1 && line <= text.lines().count().max(1) && col >= 1,
                "{line}:{col} {p}"
            );
            out.push(format!("{line}:{col} {p}"));
        }
    }
    out
}

fn files(verdict: &str) -> Vec<PathBuf> {
    let dir = corpus().join(verdict);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_verdicts_match_backstage() {
    if !corpus().exists() {
        eprintln!(
            "no shared corpus at {}; nothing to compare",
            corpus().display()
        );
        return;
    }
    let mut wrong = Vec::new();
    let valid = files("valid");
    let invalid = files("invalid");
    assert!(!valid.is_empty() && !invalid.is_empty());
    for f in &valid {
        let p = problems(&std::fs::read_to_string(f).unwrap());
        if !p.is_empty() {
            wrong.push(format!("{} should be valid: {p:?}", f.display()));
        }
    }
    for f in &invalid {
        let text = std::fs::read_to_string(f).unwrap();
        let p = problems(&text);
        if p.is_empty() {
            wrong.push(format!("{} should be invalid", f.display()));
        }
        println!("{}: {p:?}", f.file_name().unwrap().to_string_lossy());
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
