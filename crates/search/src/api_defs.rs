//! What of an API entity's `spec.definition` is searchable: OpenAPI (3.x) and Swagger (2.0)
//! operations (operation id, method and path, summary), AsyncAPI (2.x and 3.x) channels with
//! their message names, and named messages. Definitions are untrusted text: one larger than
//! [`MAX_DEFINITION_BYTES`] is not parsed, YAML is read with the catalog's bounded parser, and
//! at most [`MAX_OPERATIONS`] items are taken from one definition.

use serde_json::Value;

/// Definitions larger than this are indexed by their entity only.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;
/// At most this many operations, channels and messages from one definition.
pub const MAX_OPERATIONS: usize = 500;
/// Summaries and descriptions are cut to this many bytes.
const MAX_TEXT: usize = 2_000;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One searchable item of a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `operationId`, channel or message name (what people type).
    pub name: String,
    /// `GET /accounts/{id}` for HTTP operations; the channel or message name otherwise.
    pub title: String,
    /// Method and path, or message names of a channel.
    pub keywords: Vec<String>,
    /// Summary and description.
    pub text: String,
    /// `operation`, `channel` or `message`.
    pub what: &'static str,
    /// HTTP method (upper case) or empty.
    pub method: String,
    /// HTTP path or channel name.
    pub path: String,
}

/// The searchable items of a definition, or none when it is too large, not JSON or YAML, or
/// neither OpenAPI nor AsyncAPI.
pub fn operations(definition: &str) -> Vec<Operation> {
    if definition.len() > MAX_DEFINITION_BYTES {
        return Vec::new();
    }
    let value = if definition.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(definition).ok()
    } else {
        model::yaml::parse_documents(definition)
            .into_iter()
            .next()
            .and_then(|d| d.result.ok())
    };
    let Some(doc) = value else {
        return Vec::new();
    };
    let mut out = if doc.get("openapi").is_some() || doc.get("swagger").is_some() {
        openapi(&doc)
    } else if doc.get("asyncapi").is_some() {
        asyncapi(&doc)
    } else {
        Vec::new()
    };
    out.truncate(MAX_OPERATIONS);
    out
}

fn text_of(v: &Value, keys: &[&str]) -> String {
    let parts: Vec<&str> = keys
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    crate::tokenize::cut(&parts.join(" — "), MAX_TEXT).to_owned()
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn openapi(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            if out.len() >= MAX_OPERATIONS {
                return out;
            }
            let method = method.to_uppercase();
            let title = format!("{method} {path}");
            let id = str_of(op, "operationId");
            out.push(Operation {
                name: id.clone(),
                title: if id.is_empty() { title.clone() } else { id },
                keywords: vec![title],
                text: text_of(op, &["summary", "description"]),
                what: "operation",
                method,
                path: path.clone(),
            });
        }
    }
    out
}

/// Message names of a channel (2.x: under `subscribe`/`publish`, one message or `oneOf`; 3.x:
/// the `messages` map).
fn message_names(channel: &Value) -> Vec<String> {
    fn add(names: &mut Vec<String>, m: &Value) {
        for k in ["name", "title", "messageId"] {
            if let Some(s) = m.get(k).and_then(Value::as_str) {
                names.push(s.to_owned());
            }
        }
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            names.push(r.rsplit('/').next().unwrap_or(r).to_owned());
        }
    }
    let mut names = Vec::new();
    for op in ["subscribe", "publish"] {
        if let Some(m) = channel.get(op).and_then(|o| o.get("message")) {
            match m.get("oneOf").and_then(Value::as_array) {
                Some(list) => list.iter().for_each(|m| add(&mut names, m)),
                None => add(&mut names, m),
            }
        }
    }
    if let Some(map) = channel.get("messages").and_then(Value::as_object) {
        for (k, m) in map {
            names.push(k.clone());
            add(&mut names, m);
        }
    }
    names.dedup();
    names
}

fn asyncapi(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    if let Some(channels) = doc.get("channels").and_then(Value::as_object) {
        for (name, ch) in channels {
            if out.len() >= MAX_OPERATIONS {
                return out;
            }
            // 3.x names channels by key and gives the address separately.
            let address = ch
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_owned();
            let mut text = text_of(ch, &["summary", "description"]);
            for op in ["subscribe", "publish"] {
                if let Some(o) = ch.get(op) {
                    let t = text_of(o, &["summary", "description"]);
                    if !t.is_empty() {
                        text = if text.is_empty() {
                            t
                        } else {
                            format!("{text} — {t}")
                        };
                    }
                }
            }
            out.push(Operation {
                name: name.clone(),
                title: address.clone(),
                keywords: message_names(ch),
                text: crate::tokenize::cut(&text, MAX_TEXT).to_owned(),
                what: "channel",
                method: String::new(),
                path: address,
            });
        }
    }
    if let Some(messages) = doc
        .pointer("/components/messages")
        .and_then(Value::as_object)
    {
        for (key, m) in messages {
            if out.len() >= MAX_OPERATIONS {
                return out;
            }
            let name = m
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned();
            let title = m
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or(&name)
                .to_owned();
            out.push(Operation {
                name,
                title,
                keywords: vec![key.clone()],
                text: text_of(m, &["summary", "description"]),
                what: "message",
                method: String::new(),
                path: String::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_operations_have_ids_paths_and_summaries() {
        let ops = operations(
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /accounts/{id}:\n    get:\n      operationId: getAccount\n      summary: Get one account\n    delete:\n      summary: Remove it\n",
        );
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].title, "getAccount");
        assert_eq!(ops[0].keywords, ["GET /accounts/{id}"]);
        assert_eq!(ops[0].text, "Get one account");
        assert_eq!(ops[1].title, "DELETE /accounts/{id}");
        assert_eq!(ops[1].name, "");
    }

    #[test]
    fn asyncapi_channels_and_messages() {
        let ops = operations(
            r#"{"asyncapi":"2.6.0","channels":{"config.updated":{"subscribe":{"summary":"Config changed","message":{"name":"ConfigUpdated"}}}},"components":{"messages":{"ConfigDeleted":{"summary":"Gone"}}}}"#,
        );
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].name, "config.updated");
        assert_eq!(ops[0].keywords, ["ConfigUpdated"]);
        assert_eq!(ops[0].text, "Config changed");
        assert_eq!(
            (ops[1].name.as_str(), ops[1].what),
            ("ConfigDeleted", "message")
        );
    }

    #[test]
    fn untrusted_definitions_are_bounded() {
        let huge = format!(
            "openapi: 3.0.0\npaths: {{}}\nx: '{}'\n",
            "a".repeat(MAX_DEFINITION_BYTES)
        );
        assert!(operations(&huge).is_empty());
        let mut many = String::from("openapi: 3.0.0\npaths:\n");
        for i in 0..(MAX_OPERATIONS + 50) {
            many.push_str(&format!("  /p{i}:\n    get: {{summary: s}}\n"));
        }
        assert_eq!(operations(&many).len(), MAX_OPERATIONS);
        assert!(operations("not: [valid").is_empty());
        assert!(operations("graphql: true").is_empty());
        // Deep nesting is refused by the bounded parser instead of overflowing the stack.
        let deep = format!(
            "openapi: 3.0.0\nx: {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(operations(&deep).is_empty());
    }
}
