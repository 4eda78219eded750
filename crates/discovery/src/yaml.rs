//! A minimal YAML writer for proposed entities (objects, arrays, strings): every scalar is
//! written as a double-quoted JSON string, which is valid YAML, so no value can be misread
//! (`no`, `1.0`, `@team`).

use serde_json::Value;

pub(crate) fn write(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push(':');
                nested(v, indent, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                out.push_str(&pad);
                out.push('-');
                nested(v, indent, out);
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn nested(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write(v, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write(v, indent + 2, out);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        s => {
            out.push(' ');
            out.push_str(&scalar_text(s));
            out.push('\n');
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).expect("string"),
        other => other.to_string(),
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if plain {
        k.to_owned()
    } else {
        serde_json::to_string(k).expect("string")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_through_a_yaml_reader() {
        let v =
            serde_json::json!({"a": {"b/c": "no", "list": ["x", "1.0"], "empty": {}}, "@k": "v"});
        let mut out = String::new();
        super::write(&v, 0, &mut out);
        let docs = model::yaml::parse_documents(&out);
        assert_eq!(docs[0].result.as_ref().expect("valid yaml"), &v, "{out}");
    }
}
