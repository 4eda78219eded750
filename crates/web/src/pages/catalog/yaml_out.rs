//! The stitched entity printed back as YAML for the entity page's "raw" view, which reads the
//! way people write `catalog-info.yaml`. Strings that YAML could read as something else are
//! double-quoted with JSON escapes, which YAML accepts verbatim.

use serde_json::Value;

pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn map(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in m {
        indent(out, level);
        out.push_str(&key(k));
        out.push(':');
        value(out, v, level);
    }
}

fn seq(out: &mut String, a: &[Value], level: usize) {
    for v in a {
        indent(out, level);
        out.push('-');
        match v {
            // A mapping in a list starts on the dash's line, the YAML way.
            Value::Object(m) if !m.is_empty() => {
                let mut first = true;
                for (k, val) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&key(k));
                    out.push(':');
                    value(out, val, level + 2);
                }
            }
            _ => value(out, v, level),
        }
    }
}

/// Writes what follows `key:` or `-`, starting with a space or a line break.
fn value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq(out, a, level + 2);
        }
        Value::String(s) if s.contains('\n') && !s.contains(['\r', '\t']) && plain_lines(s) => {
            out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
            for line in s.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    indent(out, level + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// Block scalars keep lines verbatim; leading spaces on the first line would be read as indentation.
fn plain_lines(s: &str) -> bool {
    !s.starts_with(' ') && !s.ends_with("\n\n") && !s.chars().any(|c| c.is_control() && c != '\n')
}

fn key(k: &str) -> String {
    scalar(&Value::String(k.to_owned()))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if is_plain(s) => s.clone(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Strings safe to print unquoted: no indicators, nothing that reads as another type.
fn is_plain(s: &str) -> bool {
    const RESERVED: [&str; 12] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "True", "False",
    ];
    !s.is_empty()
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
        && s.parse::<f64>().is_err()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || " -_./@()+=,".contains(c))
        && !s.ends_with(' ')
        && !s.contains(" #")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_reads_back_as_the_same_value() {
        let v = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "metadata": {"name": "a", "tags": ["x", "yes", "1.0"], "description": "line one\nline two\n",
                         "annotations": {"github.com/project-slug": "o/r", "k": "a: b #c"}},
            "spec": {"n": 3, "b": true, "z": null, "empty": [], "list": [{"a": 1, "b": [1, 2]}, "s"]},
            "weird": " lead", "quote": "say \"hi\"", "colon": "x: y"
        });
        let text = to_yaml(&v);
        let back = model::yaml::parse_documents(&text)
            .remove(0)
            .result
            .unwrap();
        assert_eq!(back, v, "{text}");
        assert!(text.contains("  name: a\n"));
        assert!(text.contains("description: |\n    line one\n"));
    }
}
