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
                out.push(format!("YAML error: {e}"));
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

/// The field an invalid file names on its `# field:` line (see tests/node/README.md).
fn field_of(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("# field: "))
        .map(str::trim)
}

#[test]
fn corpus_verdicts_match_backstage() {
    // A missing corpus is a failure: passing silently would hide that nothing was checked.
    assert!(corpus().exists(), "no corpus at {}", corpus().display());
    let mut wrong = Vec::new();
    let valid = files("valid");
    let invalid = files("invalid");
    assert!(
        valid.len() >= 15 && invalid.len() >= 40,
        "the corpus is too small"
    );
    for f in &valid {
        let p = problems(&std::fs::read_to_string(f).unwrap());
        if !p.is_empty() {
            wrong.push(format!("{} should be valid: {p:?}", f.display()));
        }
    }
    for f in &invalid {
        let text = std::fs::read_to_string(f).unwrap();
        let p = problems(&text);
        let Some(field) = field_of(&text) else {
            wrong.push(format!("{} has no \"# field:\" line", f.display()));
            continue;
        };
        // The reason counts, not only the verdict: a problem must be about the named field.
        let named = p.iter().any(|p| match field {
            "(yaml)" => p.starts_with("YAML error"),
            "(document)" => p.contains("not a mapping"),
            _ => p
                .split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&format!("{field}: "))),
        });
        if !named {
            wrong.push(format!(
                "{} should be invalid for {field}: {p:?}",
                f.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
