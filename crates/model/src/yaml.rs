//! Splits a YAML file into documents and parses each into JSON, keeping line numbers for errors.
//!
//! The file is split on `---` lines ourselves (a marker at column 0 always starts a document in
//! YAML, even mid-scalar) so that one broken document does not hide its neighbours, and each
//! error can be placed in the whole file. Parsing follows Backstage's reader (YAML 1.2 core
//! schema: `yes` stays a string; `<<` is an ordinary key unless merges are enabled).

use serde_json::Value;

/// One `---`-separated document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based position of the document in the file.
    pub index: usize,
    /// 1-based line where the document's content starts.
    pub line: usize,
    /// The parsed document (`Value::Null` for an empty document), or why it failed.
    pub result: Result<serde_json::Value, YamlError>,
}

/// A parse failure at a 1-based line and column of the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// How to read YAML beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct YamlOptions {
    /// Expand `<<` merge keys (Backstage's `enableYamlMerge`); off by default, as there.
    pub merge_keys: bool,
}

/// At most this many documents are read from one file; the rest become one error.
pub const MAX_DOCUMENTS: usize = 200_000;

/// Parses every document of a file. Bounded: deep nesting, huge scalars and alias bombs fail
/// that document with an error instead of exhausting memory.
pub fn parse_documents(text: &str) -> Vec<Document> {
    parse_documents_with(text, &YamlOptions::default())
}

/// [`parse_documents`] with options.
pub fn parse_documents_with(text: &str, options: &YamlOptions) -> Vec<Document> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs = Vec::new();
    for chunk in split(text) {
        if docs.len() == MAX_DOCUMENTS {
            docs.push(Document {
                index: docs.len(),
                line: chunk.first_line + 1,
                result: Err(YamlError {
                    line: chunk.first_line + 1,
                    column: 1,
                    message: format!("too many documents in one file (at most {MAX_DOCUMENTS})"),
                }),
            });
            break;
        }
        let line = chunk.content_line.unwrap_or(chunk.first_line) + 1;
        let result = if chunk.content_line.is_none() {
            Ok(Value::Null)
        } else {
            parse_one(&text[chunk.range.clone()], chunk.first_line, line, options)
        };
        docs.push(Document {
            index: docs.len(),
            line,
            result,
        });
    }
    docs
}

fn saphyr_options(options: &YamlOptions) -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        merge_keys: if options.merge_keys {
            serde_saphyr::MergeKeyPolicy::Merge
        } else {
            serde_saphyr::MergeKeyPolicy::AsOrdinary
        },
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: 64,
            max_documents: 1,
            max_nodes: 250_000,
            max_events: 1_000_000,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_total_scalar_bytes: 32 * 1024 * 1024,
            max_recorded_anchor_bytes: 8 * 1024 * 1024,
            max_merge_keys: 1_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 200_000,
            max_replay_stack_depth: 32,
        },
    }
}

fn parse_one(
    chunk: &str,
    first_line: usize,
    content_line: usize,
    options: &YamlOptions,
) -> Result<Value, YamlError> {
    let mut value = serde_saphyr::from_str_with_options::<Value>(chunk, saphyr_options(options))
        .map_err(|e| {
            let e = e.without_snippet();
            let (line, column) = match e.location() {
                Some(l) if l.line() > 0 => {
                    (first_line + l.line() as usize, l.column().max(1) as usize)
                }
                _ => (content_line, 1),
            };
            YamlError {
                line,
                column,
                message: clean_message(&e.to_string()),
            }
        })?;
    integral_floats_to_ints(&mut value);
    Ok(value)
}

/// JavaScript has one number type, so Backstage serialises `1.0` and `0755` as `1` and `755`;
/// the parser hands some of those over as floats, which serde_json would print as `1.0`.
fn integral_floats_to_ints(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_ints),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_ints),
        _ => {}
    }
}

/// serde-saphyr appends its own (chunk-relative) position; ours replaces it.
fn clean_message(msg: &str) -> String {
    let msg = msg.lines().next().unwrap_or(msg);
    // The library's advice names its own options, which mean nothing to a catalog author.
    let msg = msg.split(", set DuplicateKeyPolicy").next().unwrap_or(msg);
    let msg = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains("column") => &msg[..i],
        _ => msg,
    };
    let msg = msg.trim_end_matches([',', ' ']);
    // The message may quote the offending scalar: never more than a line's worth of the file.
    match msg.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &msg[..end]),
        None => msg.to_owned(),
    }
}

/// Longest YAML error message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

struct Chunk {
    range: std::ops::Range<usize>,
    /// 0-based line of the chunk's first line.
    first_line: usize,
    /// 0-based line of the first content (not blank, comment, directive or bare marker).
    content_line: Option<usize>,
}

/// `---` or `...` followed by nothing or whitespace.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn is_content(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn split(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut first_line = 0usize;
    let mut marker = false;
    let mut content: Option<usize> = None;
    let mut pos = 0usize;
    let mut flush =
        |end: usize, start: usize, first_line: usize, marker: bool, content: Option<usize>| {
            if marker || content.is_some() {
                chunks.push(Chunk {
                    range: start..end,
                    first_line,
                    content_line: content,
                });
            }
        };
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if is_marker(line, "---") {
            if marker || content.is_some() {
                flush(pos, start, first_line, marker, content);
                start = pos;
                first_line = n;
                content = None;
            }
            marker = true;
            if is_content(&line[3..]) {
                content = Some(n);
            }
        } else if is_marker(line, "...") {
            flush(pos + raw.len(), start, first_line, marker, content);
            start = pos + raw.len();
            first_line = n + 1;
            marker = false;
            content = None;
        } else if !marker && content.is_none() && line.starts_with('%') {
            // A directive: it belongs to the document its `---` opens.
        } else if content.is_none() && is_content(line) {
            content = Some(n);
        }
        pos += raw.len();
    }
    flush(text.len(), start, first_line, marker, content);
    chunks
}

/// Best-effort 1-based (line, column) of the field at a dotted path (`metadata.name`) inside
/// the document starting at `doc_line`; falls back to the document's first line.
///
/// This indexes the whole text first: to place several errors in one file, build [`Lines`] once
/// and call [`Lines::locate`] for each, so the cost stays linear in the file.
pub fn locate(text: &str, doc_line: usize, path: &str) -> (usize, usize) {
    Lines::new(text).locate(doc_line, path)
}

/// Where each line of a file starts, computed once per file so that placing many errors does
/// not re-scan the file from its top for each one (200,000 failing documents were quadratic).
pub struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the start of each line (0-based line numbers).
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(i, b)| b == b'\n' && i + 1 < text.len())
                .map(|(i, _)| i + 1),
        );
        if text.is_empty() {
            starts.clear();
        }
        Self { text, starts }
    }

    /// The 0-based line `n` without its line ending, as [`str::lines`] yields it.
    fn line(&self, n: usize) -> &'a str {
        let start = self.starts[n];
        let end = self.starts.get(n + 1).copied().unwrap_or(self.text.len());
        let raw = &self.text[start..end];
        match raw.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => raw,
        }
    }

    /// [`locate`] over the indexed text: the cost is that of the document, not of the file.
    ///
    /// Scans block-style YAML by indentation: keys may be quoted or contain dots
    /// (`metadata.annotations.backstage.io/techdocs-ref`), numeric segments index block
    /// sequences (`metadata.links.0.url`). When a segment cannot be found (flow style, anchors),
    /// the deepest field found so far is returned.
    pub fn locate(&self, doc_line: usize, path: &str) -> (usize, usize) {
        let mut lines = Vec::new();
        for n in doc_line.saturating_sub(1)..self.starts.len() {
            let raw = self.line(n);
            if n + 1 > doc_line && (is_marker(raw, "---") || is_marker(raw, "...")) {
                break;
            }
            let body = if n + 1 == doc_line && is_marker(raw, "---") {
                ""
            } else {
                raw
            };
            let trimmed = body.trim_start_matches(' ');
            if !is_content(trimmed) {
                continue;
            }
            lines.push(Line {
                no: n + 1,
                indent: body.len() - trimmed.len(),
                text: trimmed,
            });
        }
        locate_in(lines, doc_line, path)
    }
}

/// Walks `path` through the content lines of one document.
fn locate_in(lines: Vec<Line<'_>>, doc_line: usize, path: &str) -> (usize, usize) {
    let mut found = (doc_line.max(1), 1);
    let mut scope: Vec<Line> = lines;
    let mut rest = path;
    while !rest.is_empty() {
        let Some(level) = scope.first().map(|l| l.indent) else {
            break;
        };
        let (seg_len, idx) = if scope[0].text.starts_with("- ") || scope[0].text == "-" {
            let seg = rest.split('.').next().unwrap_or("");
            let Ok(i) = seg.parse::<usize>() else { break };
            let Some(idx) = scope
                .iter()
                .enumerate()
                .filter(|(_, l)| l.indent == level && (l.text.starts_with("- ") || l.text == "-"))
                .map(|(i, _)| i)
                .nth(i)
            else {
                break;
            };
            // Re-read the item's first line as if the dash were indentation.
            let item = &scope[idx];
            let after = item.text[1..].trim_start_matches(' ');
            let shift = item.text.len() - after.len();
            let mut inner = vec![Line {
                no: item.no,
                indent: item.indent + shift,
                text: after,
            }];
            inner.extend(
                scope[idx + 1..]
                    .iter()
                    .take_while(|l| l.indent > level)
                    .cloned(),
            );
            found = (item.no, item.indent + shift + 1);
            inner.retain(|l| !l.text.is_empty());
            scope = inner;
            rest = rest[seg.len()..].trim_start_matches('.');
            continue;
        } else {
            let mut best: Option<(usize, usize)> = None;
            for (i, l) in scope.iter().enumerate() {
                if l.indent != level {
                    continue;
                }
                let Some(key) = key_of(l.text) else { continue };
                let matches =
                    rest == key || (rest.starts_with(key) && rest[key.len()..].starts_with('.'));
                if matches && best.is_none_or(|(len, _)| key.len() > len) {
                    best = Some((key.len(), i));
                }
            }
            match best {
                Some(b) => b,
                None => break,
            }
        };
        let l = &scope[idx];
        found = (l.no, l.indent + 1);
        rest = rest[seg_len..].trim_start_matches('.');
        let level = l.indent;
        let children: Vec<Line> = scope[idx + 1..]
            .iter()
            .take_while(|c| c.indent > level || (c.indent == level && c.text.starts_with('-')))
            .cloned()
            .collect();
        scope = children;
    }
    found
}

#[derive(Clone)]
struct Line<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

/// The key of a `key: value` line (quotes removed), if the line is a mapping entry.
fn key_of(text: &str) -> Option<&str> {
    if let Some(q @ ('"' | '\'')) = text.chars().next() {
        let end = text[1..].find(q)? + 1;
        return text[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| &text[1..end]);
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':'
            && (i + 1 == bytes.len() || bytes[i + 1] == b' ' || bytes[i + 1] == b'\t')
        {
            return Some(text[..i].trim_end());
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn values(text: &str) -> Vec<Result<Value, YamlError>> {
        parse_documents(text)
            .into_iter()
            .map(|d| d.result)
            .collect()
    }

    #[test]
    fn splits_documents_and_tracks_lines() {
        let text = "# header\n---\na: 1\n---\n\n# c\nb: 2\n--- \n---\nc: 3\n";
        let docs = parse_documents(text);
        assert_eq!(docs.len(), 4);
        assert_eq!(
            docs.iter().map(|d| d.index).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(
            docs.iter().map(|d| d.line).collect::<Vec<_>>(),
            [3, 7, 8, 10]
        );
        assert_eq!(docs[0].result, Ok(json!({"a": 1})));
        assert_eq!(docs[1].result, Ok(json!({"b": 2})));
        assert_eq!(docs[2].result, Ok(Value::Null));
        assert_eq!(docs[3].result, Ok(json!({"c": 3})));
    }

    #[test]
    fn no_leading_marker_and_end_markers() {
        assert_eq!(
            values("a: 1\n...\nb: 2\n"),
            vec![Ok(json!({"a": 1})), Ok(json!({"b": 2}))]
        );
        assert_eq!(values("--- {x: 1}\n"), vec![Ok(json!({"x": 1}))]);
        assert_eq!(values("%YAML 1.2\n---\nx: 1\n"), vec![Ok(json!({"x": 1}))]);
        assert!(values("").is_empty());
        assert!(values("# only a comment\n\n").is_empty());
        assert_eq!(values("\u{feff}a: 1"), vec![Ok(json!({"a": 1}))]);
        assert_eq!(
            values("a: 1\r\n---\r\nb: 2\r\n"),
            vec![Ok(json!({"a": 1})), Ok(json!({"b": 2}))]
        );
    }

    #[test]
    fn dashes_inside_values_do_not_split() {
        let docs = values("a: |\n  ---\n  text\nb: '--- x'\n----: 1\n");
        assert_eq!(
            docs,
            vec![Ok(json!({"a": "---\ntext\n", "b": "--- x", "----": 1}))]
        );
    }

    #[test]
    fn errors_are_positioned_in_the_whole_file() {
        let text = "a: 1\n---\nok: true\n---\nname: x\nname: y\n";
        let docs = parse_documents(text);
        assert!(docs[0].result.is_ok() && docs[1].result.is_ok());
        let e = docs[2].result.clone().unwrap_err();
        assert_eq!((e.line, e.column), (6, 1));
        assert!(e.message.contains("duplicate"), "{}", e.message);
        assert!(!e.message.contains("DuplicateKeyPolicy"));

        let e = values("x: 1\n---\nk: [1, 2\n")[1].clone().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.column > 1);
    }

    #[test]
    fn error_messages_quote_at_most_a_line_of_the_file() {
        let key = "k".repeat(5000);
        let e = values(&format!("? {key}\n: 1\n? {key}\n: 2\n"))[0]
            .clone()
            .unwrap_err();
        assert!(e.message.contains("duplicate"), "{}", e.message);
        assert!(
            e.message.chars().count() <= MAX_MESSAGE_CHARS + 1,
            "{}",
            e.message
        );
    }

    #[test]
    fn yaml_1_2_scalars_like_backstage() {
        let v =
            values("a: yes\nb: on\nc: true\nd: 0755\ne: 1.0\nf: 1.5\ng: ~\nh: '1'\n<<: {z: 1}\n");
        assert_eq!(
            v[0],
            Ok(
                json!({"a": "yes", "b": "on", "c": true, "d": 755, "e": 1, "f": 1.5, "g": null, "h": "1", "<<": {"z": 1}})
            )
        );
        assert_eq!(
            serde_json::to_string(&v[0].clone().unwrap()["e"]).unwrap(),
            "1"
        );
        // Flow sequences of words must not turn into booleans.
        assert_eq!(
            values("t: [x, y, n]\n")[0],
            Ok(json!({"t": ["x", "y", "n"]}))
        );
    }

    #[test]
    fn merge_keys_only_when_enabled() {
        let text = "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n";
        let on = parse_documents_with(text, &YamlOptions { merge_keys: true });
        assert_eq!(
            on[0].result,
            Ok(json!({"base": {"x": 1}, "m": {"x": 1, "y": 2}}))
        );
    }

    #[test]
    fn alias_bombs_and_deep_nesting_fail_bounded() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(values(&bomb)[0].is_err());
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(values(&deep)[0].is_err());
    }

    #[test]
    fn non_object_roots_still_parse() {
        assert_eq!(values("- a\n- b\n"), vec![Ok(json!(["a", "b"]))]);
        assert_eq!(values("just text\n"), vec![Ok(json!("just text"))]);
    }

    const ENTITY: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  annotations:
    backstage.io/techdocs-ref: dir:.
    'github.com/project-slug': a/b
  tags:
    - java
    - web
  links:
  - url: https://x
    title: X
  - title: Y
    url: not a url
spec:
  type: service
  owner: team
---
kind: Group
metadata:
  name: g
";

    #[test]
    fn locate_finds_nested_dotted_and_indexed_fields() {
        assert_eq!(locate(ENTITY, 1, "metadata.name"), (4, 3));
        assert_eq!(locate(ENTITY, 1, "spec.owner"), (18, 3));
        assert_eq!(
            locate(ENTITY, 1, "metadata.annotations.backstage.io/techdocs-ref"),
            (6, 5)
        );
        assert_eq!(
            locate(ENTITY, 1, "metadata.annotations.github.com/project-slug"),
            (7, 5)
        );
        assert_eq!(locate(ENTITY, 1, "metadata.tags.1"), (10, 7));
        assert_eq!(locate(ENTITY, 1, "metadata.links.0.title"), (13, 5));
        assert_eq!(locate(ENTITY, 1, "metadata.links.1.url"), (15, 5));
        assert_eq!(locate(ENTITY, 1, "kind"), (2, 1));
        // Missing fields fall back to the deepest parent found.
        assert_eq!(locate(ENTITY, 1, "spec.lifecycle"), (16, 1));
        assert_eq!(locate(ENTITY, 1, "nothing"), (1, 1));
    }

    #[test]
    fn locate_stays_inside_its_document() {
        let docs = parse_documents(ENTITY);
        assert_eq!(docs[1].line, 20);
        assert_eq!(locate(ENTITY, docs[1].line, "metadata.name"), (22, 3));
        // The first document has no `kind` after its own end.
        assert_eq!(locate(ENTITY, 1, "metadata.links.5"), (11, 3));
    }

    /// Block-style YAML for a JSON value, with every scalar double-quoted JSON (valid YAML).
    fn emit(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    out.push_str(&format!("{pad}{}:", Value::from(k.as_str())));
                    emit_child(v, indent, out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for v in a {
                    out.push_str(&format!("{pad}-"));
                    emit_child(v, indent, out);
                }
            }
            _ => out.push_str(&format!("{pad}{v}\n")),
        }
    }

    fn emit_child(v: &Value, indent: usize, out: &mut String) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                emit(v, indent + 2, out);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                emit(v, indent + 2, out);
            }
            _ => out.push_str(&format!(" {v}\n")),
        }
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
        ]
    }

    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map("[a-zA-Z0-9_./-]{1,12}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn entity() -> impl Strategy<Value = Value> {
        ("[a-z][a-z0-9-]{0,20}", prop::collection::vec("[a-z0-9]{1,8}", 0..4), tree()).prop_map(
            |(name, tags, spec)| {
                json!({
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Component",
                    "metadata": {"name": name, "tags": tags, "annotations": {"backstage.io/x": "1"}},
                    "spec": {"owner": "team", "extra": spec},
                })
            },
        )
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC*") {
            let _ = parse_documents(&text);
        }

        #[test]
        fn never_panics_on_yaml_shaped_text(text in "([ \\-:#&*!|>'\"\\[\\]{},?%.\n]|a|1|---\n|\\.\\.\\.\n){0,200}") {
            for d in parse_documents(&text) {
                if let Err(e) = d.result {
                    prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                }
            }
            let _ = locate(&text, 1, "a.b.0.c");
        }

        #[test]
        fn indexed_lines_are_the_lines_of_the_text(text in "(a|\r|\n|\u{feff}| ){0,40}") {
            let lines = Lines::new(&text);
            let stripped = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let got: Vec<&str> = (0..lines.starts.len()).map(|n| lines.line(n)).collect();
            prop_assert_eq!(got, stripped.lines().collect::<Vec<_>>());
        }

        #[test]
        fn entities_round_trip(docs in prop::collection::vec(entity(), 1..4)) {
            let mut text = String::new();
            for d in &docs {
                text.push_str("---\n");
                emit(d, 0, &mut text);
            }
            let parsed: Vec<Value> = parse_documents(&text).into_iter().map(|d| d.result.unwrap()).collect();
            prop_assert_eq!(parsed, docs);
        }
    }
}
