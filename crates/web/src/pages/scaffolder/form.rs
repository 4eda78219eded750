//! A template's parameter pages as an HTML form: one widget per property (text, number,
//! checkbox, select from `enum`, entity pickers filled from the catalog, one-per-line lists,
//! JSON for objects, password for `Secret`), the posted form read back into typed values, and
//! validation messages attached to the field they concern.

use catalog::read::Snapshot;
use scaffolder::Template;
use serde_json::{Map, Value, json};

/// Catalog entities one picker lists.
const MAX_OPTIONS: usize = 500;

pub struct FormPage {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub name: String,
    /// The form input's name (`p.<name>`, so no property collides with the form's own).
    pub input: String,
    pub label: String,
    pub description: String,
    /// `text`, `number`, `checkbox`, `select`, `textarea`, `password` or `repourl`.
    pub widget: &'static str,
    pub multiple: bool,
    pub value: String,
    pub selected: Vec<String>,
    pub checked: bool,
    pub required: bool,
    pub options: Vec<(String, String)>,
    pub placeholder: String,
    pub error: Option<String>,
    /// The RepoUrlPicker's parts (widget `repourl`), set by `repo_url::attach`.
    pub repo: Option<super::repo_url::Picker>,
}

impl Field {
    pub fn is_selected(&self, v: &str) -> bool {
        self.selected.iter().any(|s| s == v) || (!self.multiple && self.value == v)
    }
}

fn ui_field(schema: &Value) -> &str {
    schema.get("ui:field").and_then(Value::as_str).unwrap_or("")
}

fn ty(schema: &Value) -> &str {
    schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string")
}

/// How a property is read back from the form.
#[derive(PartialEq)]
enum Kind {
    Text,
    Number,
    Bool,
    Lines,
    Multi,
    Json,
    Secret,
}

fn kind(schema: &Value) -> Kind {
    let items_enum = schema.pointer("/items/enum").is_some();
    match (ui_field(schema), ty(schema)) {
        ("Secret", _) => Kind::Secret,
        ("MultiEntityPicker", _) => Kind::Multi,
        (_, "array") if items_enum => Kind::Multi,
        (_, "array")
            if schema
                .pointer("/items/type")
                .and_then(Value::as_str)
                .unwrap_or("string")
                == "string" =>
        {
            Kind::Lines
        }
        (_, "array" | "object") => Kind::Json,
        (_, "boolean") => Kind::Bool,
        (_, "integer" | "number") => Kind::Number,
        _ => Kind::Text,
    }
}

/// Entities a picker offers: `ui:options.catalogFilter.kind` (one or a list), else Group and
/// User for OwnerPicker and everything for EntityPicker.
fn entity_options(snap: &Snapshot, schema: &Value) -> Vec<(String, String)> {
    let filter = schema.pointer("/ui:options/catalogFilter");
    let filter = match filter {
        Some(Value::Array(a)) => a.first().cloned(),
        other => other.cloned(),
    };
    let kinds: Vec<String> = match filter.as_ref().and_then(|f| f.get("kind")) {
        Some(Value::String(k)) => vec![k.to_lowercase()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect(),
        _ if ui_field(schema) == "OwnerPicker" => vec!["group".into(), "user".into()],
        _ => Vec::new(),
    };
    let spec_type = filter
        .as_ref()
        .and_then(|f| f.get("spec.type"))
        .and_then(Value::as_str);
    snap.entities(None)
        .filter(|e| kinds.is_empty() || kinds.contains(&e.kind().to_lowercase()))
        .filter(|e| spec_type.is_none_or(|t| e.spec_type() == Some(t)))
        .take(MAX_OPTIONS)
        .map(|e| {
            let label = match e.title() {
                Some(t) => format!("{t} ({})", e.entity_ref()),
                None => e.entity_ref().to_owned(),
            };
            (e.entity_ref().to_owned(), label)
        })
        .collect()
}

fn default_text(v: &Value, k: &Kind) -> String {
    match (v, k) {
        (Value::Null, _) => String::new(),
        (Value::String(s), _) => s.clone(),
        (Value::Array(a), Kind::Lines) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("\n"),
        (other, Kind::Json) => serde_json::to_string_pretty(other).unwrap_or_default(),
        (other, _) => other.to_string(),
    }
}

fn posted_all<'a>(
    posted: &'a [(String, String)],
    input: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    posted
        .iter()
        .filter(move |(k, _)| k == input)
        .map(|(_, v)| v.as_str())
}

/// The form's pages, filled with the posted values (or each property's default).
pub fn pages(t: &Template, snap: &Snapshot, posted: Option<&[(String, String)]>) -> Vec<FormPage> {
    t.parameters
        .iter()
        .map(|page| {
            let required: Vec<&str> = page
                .get("required")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let props = page.get("properties").and_then(Value::as_object);
            let fields = props
                .into_iter()
                .flatten()
                .map(|(name, schema)| {
                    let k = kind(schema);
                    let input = format!("p.{name}");
                    let mut options = Vec::new();
                    let mut widget = match k {
                        Kind::Bool => "checkbox",
                        Kind::Number => "number",
                        Kind::Lines | Kind::Json => "textarea",
                        Kind::Secret => "password",
                        Kind::Multi => "select",
                        Kind::Text => "text",
                    };
                    if let Some(values) = schema
                        .get("enum")
                        .or_else(|| schema.pointer("/items/enum"))
                        .and_then(Value::as_array)
                    {
                        let names = schema.get("enumNames").and_then(Value::as_array);
                        widget = "select";
                        options = values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| {
                                let value = default_text(v, &Kind::Text);
                                let label = names
                                    .and_then(|n| n.get(i))
                                    .and_then(Value::as_str)
                                    .map_or_else(|| value.clone(), str::to_owned);
                                (value, label)
                            })
                            .collect();
                    } else if matches!(
                        ui_field(schema),
                        "OwnerPicker" | "EntityPicker" | "MultiEntityPicker"
                    ) {
                        widget = "select";
                        options = entity_options(snap, schema);
                    } else if schema.get("ui:widget").and_then(Value::as_str) == Some("textarea") {
                        widget = "textarea";
                    } else if schema.get("ui:widget").and_then(Value::as_str) == Some("password") {
                        widget = "password";
                    }
                    let default = schema.get("default").cloned().unwrap_or(Value::Null);
                    let (value, selected, checked) = match posted {
                        Some(p) => {
                            let all: Vec<String> =
                                posted_all(p, &input).map(str::to_owned).collect();
                            let value = if k == Kind::Secret {
                                String::new()
                            } else {
                                all.first().cloned().unwrap_or_default()
                            };
                            (value, all.clone(), !all.is_empty())
                        }
                        None => {
                            let selected = match &default {
                                Value::Array(a) => {
                                    a.iter().map(|x| default_text(x, &Kind::Text)).collect()
                                }
                                _ => Vec::new(),
                            };
                            (
                                default_text(&default, &k),
                                selected,
                                default == Value::Bool(true),
                            )
                        }
                    };
                    Field {
                        name: name.clone(),
                        input,
                        label: schema
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or(name)
                            .to_owned(),
                        description: schema
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        widget,
                        multiple: k == Kind::Multi,
                        value,
                        selected,
                        checked,
                        required: required.contains(&name.as_str()),
                        options,
                        placeholder: match (ui_field(schema), &k) {
                            ("RepoUrlPicker", _) => "github.com?owner=my-org&repo=my-repo".into(),
                            (_, Kind::Lines) => "one per line".into(),
                            _ => String::new(),
                        },
                        error: None,
                        repo: None,
                    }
                })
                .collect();
            FormPage {
                title: page
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or("Please enter the following information")
                    .to_owned(),
                description: page
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                fields,
            }
        })
        .collect()
}

/// The posted form as typed values (and secrets apart), with what could not be read.
pub struct Read {
    pub values: Value,
    pub secrets: Value,
    pub field_errors: Vec<(String, String)>,
    pub errors: Vec<String>,
}

pub fn read(t: &Template, posted: &[(String, String)]) -> Read {
    let mut values = Map::new();
    let mut secrets = Map::new();
    let mut field_errors = Vec::new();
    for page in &t.parameters {
        for (name, schema) in page
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let input = format!("p.{name}");
            let all: Vec<&str> = posted_all(posted, &input).collect();
            let first = all.first().map(|s| s.trim()).unwrap_or("");
            let k = kind(schema);
            let value = match k {
                Kind::Bool => Some(json!(!all.is_empty())),
                Kind::Secret => {
                    if !first.is_empty() {
                        secrets.insert(name.clone(), json!(first));
                    }
                    None
                }
                _ if first.is_empty() && k != Kind::Multi => None,
                Kind::Number => match first.parse::<i64>() {
                    Ok(n) => Some(json!(n)),
                    Err(_) => match first.parse::<f64>() {
                        Ok(f) if f.is_finite() => Some(json!(f)),
                        _ => {
                            field_errors.push((name.clone(), "must be a number".to_owned()));
                            None
                        }
                    },
                },
                Kind::Lines => Some(Value::Array(
                    first
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(|l| json!(l))
                        .collect(),
                )),
                Kind::Multi => {
                    let items: Vec<Value> = all
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| json!(v))
                        .collect();
                    (!items.is_empty()).then_some(Value::Array(items))
                }
                Kind::Json => match serde_json::from_str::<Value>(first) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        field_errors.push((name.clone(), format!("is not valid JSON: {e}")));
                        None
                    }
                },
                Kind::Text => {
                    // An enum of numbers posts its text; keep the schema's type.
                    let typed = schema
                        .get("enum")
                        .and_then(Value::as_array)
                        .and_then(|e| e.iter().find(|v| default_text(v, &Kind::Text) == first))
                        .cloned();
                    Some(typed.unwrap_or_else(|| json!(first)))
                }
            };
            if let Some(v) = value {
                values.insert(name.clone(), v);
            }
        }
    }
    Read {
        values: Value::Object(values),
        secrets: Value::Object(secrets),
        field_errors,
        errors: Vec::new(),
    }
}

/// The property a validation error concerns: the first step of its path, or the property a
/// `required` error names.
pub fn field_of(error: &Value) -> Option<String> {
    match error["path"].as_array().and_then(|p| p.first()) {
        Some(Value::String(s)) => Some(s.clone()),
        _ if error["name"] == "required" => error["argument"].as_str().map(str::to_owned),
        _ => None,
    }
}

/// Puts `message` on the field named `name`; false if the form has no such field.
pub fn attach(pages: &mut [FormPage], name: &str, message: &str) -> bool {
    for p in pages {
        for f in &mut p.fields {
            if f.name == name {
                let message = if message.starts_with("requires property") {
                    "is required".to_owned()
                } else {
                    message.to_owned()
                };
                if f.error.is_none() {
                    f.error = Some(message);
                }
                return true;
            }
        }
    }
    false
}
