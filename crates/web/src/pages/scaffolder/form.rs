//! A template's parameter pages as an HTML form: one widget per property (text, number,
//! checkbox, select from `enum`, entity pickers filled from the catalog, one-per-line lists,
//! JSON for objects, password for `Secret`), the posted form read back into typed values, and
//! validation messages attached to the field they concern.
//!
//! Conditional fields (`dependencies`, see `scaffolder::conditions`) are all in the page, one
//! group per branch carrying its condition: a script shows only the groups whose condition holds
//! and disables the others' inputs, and without it every group shows with its condition written
//! out. Either way the server decides: values of a branch that does not apply are dropped when
//! the form is read, and an applying branch's `required` is checked field by field.

use catalog::read::Snapshot;
use scaffolder::Template;
use scaffolder::conditions::{self, Branch, Condition, Test, required_of};
use serde_json::{Map, Value, json};

/// Catalog entities one picker lists.
const MAX_OPTIONS: usize = 500;

pub struct FormPage {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    /// Fields that apply only under a condition, one group per branch, after the page's own (as
    /// rjsf appends a dependency's properties).
    pub groups: Vec<Group>,
}

impl FormPage {
    /// The fields that apply: the page's own and those of the groups whose condition holds.
    pub fn shown(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().chain(
            self.groups
                .iter()
                .filter(|g| g.applies)
                .flat_map(|g| g.fields.iter()),
        )
    }

    fn shown_mut(&mut self) -> impl Iterator<Item = &mut Field> {
        self.fields.iter_mut().chain(
            self.groups
                .iter_mut()
                .filter(|g| g.applies)
                .flat_map(|g| g.fields.iter_mut()),
        )
    }
}

/// The fields one branch adds, with its condition as the page's script reads it.
pub struct Group {
    /// The condition in words ("Only when Kind is service"), shown with or without the script.
    pub label: String,
    /// The controlling input (`p.kind`); empty when the browser cannot decide (the group then
    /// always shows, and the server decides).
    pub when_field: String,
    /// For a `oneOf` option: the values that choose it, as the input posts them (a JSON list);
    /// empty: any value.
    pub when_values: String,
    /// What an unticked controlling checkbox means: `false` when the box has a default (a value
    /// either way), empty when it then has no value.
    pub when_off: String,
    /// Whether it applies to the posted values (always, before anything is posted).
    pub applies: bool,
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

/// One property the form has on a page: the page's own, then each branch's, with its input.
struct Slot<'a> {
    name: &'a str,
    schema: &'a Value,
    /// `p.<name>`; `p.<name>.<branch>` for a property more than one branch adds, so each branch
    /// posts its own value.
    input: String,
    branch: Option<usize>,
}

fn own_properties(page: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    page.get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

fn slots<'a>(page: &'a Map<String, Value>, branches: &[Branch<'a>]) -> Vec<Slot<'a>> {
    let mut out: Vec<Slot<'a>> = own_properties(page)
        .map(|(name, schema)| Slot {
            name,
            schema,
            input: format!("p.{name}"),
            branch: None,
        })
        .collect();
    let own = out.len();
    for (i, b) in branches.iter().enumerate() {
        for &(name, schema) in &b.properties {
            // A branch that narrows one of the page's own properties narrows the same field.
            if out[..own].iter().any(|s| s.name == name) {
                continue;
            }
            let mut input = format!("p.{name}");
            if out.iter().any(|s| s.input == input) {
                input = format!("p.{name}.{i}");
            }
            out.push(Slot {
                name,
                schema,
                input,
                branch: Some(i),
            });
        }
    }
    out
}

/// The schema of a property a condition is on: the page's own, else the branch adding it.
fn schema_of<'a>(
    page: &'a Map<String, Value>,
    branches: &[Branch<'a>],
    name: &str,
) -> Option<&'a Value> {
    own_properties(page)
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .or_else(|| {
            branches
                .iter()
                .flat_map(|b| b.properties.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s)
        })
}

/// A controlling checkbox without a default has no value until ticked (rjsf's `undefined`
/// before the box is touched), so an unticked one does not switch on what depends on it.
fn unticked_is_absent(schema: &Value) -> bool {
    kind(schema) == Kind::Bool && schema.get("default").is_none()
}

/// A condition in words ("Kind is service"); `None` when it always holds (a checkbox with a
/// default always has a value).
fn describe(c: &Condition, schema: Option<&Value>) -> Option<String> {
    let label = schema
        .and_then(|s| s.get("title"))
        .and_then(Value::as_str)
        .unwrap_or(c.on);
    let is_bool = schema.is_some_and(|s| kind(s) == Kind::Bool);
    match &c.test {
        Test::Present if is_bool && schema.is_some_and(|s| !unticked_is_absent(s)) => None,
        Test::Present if is_bool => Some(format!("{label} is ticked")),
        Test::Present => Some(format!("{label} has a value")),
        Test::OneOf { index, .. } => Some(match c.values() {
            Some(values) => {
                let names = schema.and_then(|s| {
                    Some((s.get("enum")?.as_array()?, s.get("enumNames")?.as_array()?))
                });
                let shown: Vec<String> = values
                    .iter()
                    .map(|v| {
                        names
                            .and_then(|(e, n)| n.get(e.iter().position(|x| x == *v)?)?.as_str())
                            .map_or_else(|| default_text(v, &Kind::Text), str::to_owned)
                    })
                    .collect();
                format!("{label} is {}", shown.join(" or "))
            }
            None => format!("{label} fits choice {} of the template", index + 1),
        }),
    }
}

/// A branch's group: its condition for the script (the branch's own, the last: one inside
/// another is hidden with its parent, whose inputs the script disables) and in words (all).
fn group(
    page: &Map<String, Value>,
    branches: &[Branch],
    slots: &[Slot],
    b: &Branch,
    fields: Vec<Field>,
) -> Group {
    let words: Vec<String> = b
        .when
        .iter()
        .filter_map(|c| describe(c, schema_of(page, branches, c.on)))
        .collect();
    let (mut when_field, mut when_values, mut when_off) =
        (String::new(), String::new(), String::new());
    if let Some(c) = b.when.last() {
        let schema = schema_of(page, branches, c.on);
        let decidable = match &c.test {
            Test::Present => describe(c, schema).is_some(),
            Test::OneOf { .. } => c.values().is_some(),
        };
        if let Some(slot) = slots.iter().find(|s| s.name == c.on)
            && decidable
        {
            when_field.clone_from(&slot.input);
            if let Some(values) = c.values() {
                let texts: Vec<String> = values
                    .iter()
                    .map(|v| default_text(v, &Kind::Text))
                    .collect();
                when_values = serde_json::to_string(&texts).unwrap_or_default();
            }
            if schema.is_some_and(|s| kind(s) == Kind::Bool && !unticked_is_absent(s)) {
                when_off = "false".into();
            }
        }
    }
    Group {
        label: if words.is_empty() {
            String::new()
        } else {
            format!("Only when {}", words.join(" and "))
        },
        when_field,
        when_values,
        when_off,
        applies: true,
        fields,
    }
}

/// One field, filled with the posted value (or the property's default).
fn field(
    snap: &Snapshot,
    slot: &Slot,
    required: bool,
    posted: Option<&[(String, String)]>,
) -> Field {
    let (name, schema) = (slot.name, slot.schema);
    let k = kind(schema);
    let input = slot.input.clone();
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
            let all: Vec<String> = posted_all(p, &input).map(str::to_owned).collect();
            let value = if k == Kind::Secret {
                String::new()
            } else {
                all.first().cloned().unwrap_or_default()
            };
            (value, all.clone(), !all.is_empty())
        }
        None => {
            let selected = match &default {
                Value::Array(a) => a.iter().map(|x| default_text(x, &Kind::Text)).collect(),
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
        name: name.to_owned(),
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
        required,
        options,
        placeholder: match (ui_field(schema), &k) {
            ("RepoUrlPicker", _) => "github.com?owner=my-org&repo=my-repo".into(),
            (_, Kind::Lines) => "one per line".into(),
            _ => String::new(),
        },
        error: None,
        repo: None,
    }
}

/// The form's pages, filled with the posted values (or each property's default). `posted`
/// comes with the values `read` made of it, which decide the groups that apply.
pub fn pages(
    t: &Template,
    snap: &Snapshot,
    posted: Option<(&[(String, String)], &Value)>,
) -> Vec<FormPage> {
    let form = posted.map(|(p, _)| p);
    let values = posted.and_then(|(_, v)| v.as_object());
    t.parameters
        .iter()
        .map(|page| {
            let required = required_of(page);
            let branches = conditions::branches(page);
            let slots = slots(page, &branches);
            let fields = slots
                .iter()
                .filter(|s| s.branch.is_none())
                .map(|s| field(snap, s, required.contains(&s.name), form))
                .collect();
            let groups = branches
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let fields = slots
                        .iter()
                        .filter(|s| s.branch == Some(i))
                        .map(|s| field(snap, s, b.required.contains(&s.name), form))
                        .collect();
                    let mut g = group(page, &branches, &slots, b, fields);
                    g.applies = values.is_none_or(|v| b.applies(v));
                    g
                })
                .filter(|g| !g.fields.is_empty())
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
                groups,
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

/// Reads one field's posted value into `values` (or `secrets`), or a message.
fn read_slot(
    slot: &Slot,
    posted: &[(String, String)],
    controlling: bool,
    values: &mut Map<String, Value>,
    secrets: &mut Map<String, Value>,
    field_errors: &mut Vec<(String, String)>,
) {
    let (name, schema) = (slot.name.to_owned(), slot.schema);
    let all: Vec<&str> = posted_all(posted, &slot.input).collect();
    let first = all.first().map(|s| s.trim()).unwrap_or("");
    let k = kind(schema);
    let value = match k {
        Kind::Bool if all.is_empty() && controlling && unticked_is_absent(schema) => None,
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
        values.insert(name, v);
    }
}

pub fn read(t: &Template, posted: &[(String, String)]) -> Read {
    let mut values = Map::new();
    let mut secrets = Map::new();
    let mut field_errors = Vec::new();
    for page in &t.parameters {
        let branches = conditions::branches(page);
        let controlling: Vec<&str> = branches
            .iter()
            .flat_map(|b| b.when.iter().map(|c| c.on))
            .collect();
        let slots = slots(page, &branches);
        for s in slots.iter().filter(|s| s.branch.is_none()) {
            let controls = controlling.contains(&s.name);
            read_slot(
                s,
                posted,
                controls,
                &mut values,
                &mut secrets,
                &mut field_errors,
            );
        }
        // Branch by branch in order, so a branch nested in another sees its parent's values;
        // fields of branches that do not apply are never read (their defaults included).
        let mut applying = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            if !b.applies(&values) {
                continue;
            }
            applying.push(b);
            for s in slots.iter().filter(|s| s.branch == Some(i)) {
                if values.contains_key(s.name) {
                    continue;
                }
                let controls = controlling.contains(&s.name);
                read_slot(
                    s,
                    posted,
                    controls,
                    &mut values,
                    &mut secrets,
                    &mut field_errors,
                );
                // Checked here, on the field: the validator nests a dependent schema's errors
                // under the controlling property ("Kind is not exactly one from …").
                if let Some(e) = values.get(s.name).and_then(|v| {
                    scaffolder::validate::validate(v, s.schema)
                        .into_iter()
                        .next()
                }) {
                    field_errors.push((s.name.to_owned(), e.message));
                }
            }
        }
        for name in applying.iter().flat_map(|b| b.required.iter()) {
            let missing = !values.contains_key(*name) && !secrets.contains_key(*name);
            if missing && !field_errors.iter().any(|(f, _)| f.as_str() == *name) {
                field_errors.push(((*name).to_owned(), "is required".to_owned()));
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

/// Puts `message` on the field named `name` (of those that apply); false if the form has no
/// such field.
pub fn attach(pages: &mut [FormPage], name: &str, message: &str) -> bool {
    for p in pages {
        for f in p.shown_mut() {
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

#[cfg(test)]
mod tests {
    use catalog::read::Snapshot;
    use serde_json::json;

    use super::*;

    /// The conditional page of the Create page's docs: a `oneOf` on a select (two options add
    /// the same property), a plain dependency on a checkbox without a default, one on a
    /// checkbox with one.
    fn template() -> Template {
        Template::from_entity(&json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": "t"},
            "spec": {"parameters": [{
                "title": "Choose",
                "properties": {
                    "kind": {"type": "string", "title": "Kind", "enum": ["service", "library", "job"],
                             "enumNames": ["Service", "Library", "Job"], "default": "service"},
                    "expose": {"type": "boolean", "title": "Expose publicly"},
                    "audit": {"type": "boolean", "title": "Audit", "default": false}
                },
                "dependencies": {
                    "kind": {"oneOf": [
                        {"properties": {"kind": {"enum": ["service"]},
                                        "port": {"type": "integer", "title": "Port", "default": 8080, "minimum": 1024}},
                         "required": ["port"]},
                        {"properties": {"kind": {"const": "library"},
                                        "registry": {"type": "string", "title": "Registry"}}},
                        {"properties": {"kind": {"enum": ["job"]},
                                        "port": {"type": "integer", "title": "Metrics port"}}}
                    ]},
                    "expose": {"properties": {"hostname": {"type": "string"}}, "required": ["hostname"]},
                    "audit": {"properties": {"auditor": {"type": "string"}}}
                }
            }], "steps": [{"action": "debug:log"}]}
        }))
        .unwrap()
    }

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn values_of_branches_that_do_not_apply_are_dropped_defaults_included() {
        let t = template();
        // Without JavaScript every group posts, the service port with its default.
        let form = posted(&[
            ("p.kind", "library"),
            ("p.port", "8080"),
            ("p.registry", "npm"),
            ("p.port.2", "9100"),
            ("p.hostname", "x.example"),
        ]);
        let r = read(&t, &form);
        assert!(r.field_errors.is_empty(), "{:?}", r.field_errors);
        // `expose` unticked and without a default has no value, so hostname is dropped; `audit`
        // has a default, so it has a value (false) and its branch applies, as in rjsf.
        assert_eq!(
            r.values,
            json!({"kind": "library", "audit": false, "registry": "npm"})
        );
        let r = read(
            &t,
            &posted(&[("p.kind", "job"), ("p.port", "8080"), ("p.port.2", "9100")]),
        );
        assert_eq!(r.values["port"], json!(9100), "the job's own port field");
    }

    #[test]
    fn an_applying_branch_is_checked_field_by_field() {
        let t = template();
        let r = read(
            &t,
            &posted(&[
                ("p.kind", "service"),
                ("p.expose", "true"),
                ("p.registry", "npm"),
            ]),
        );
        assert_eq!(
            r.field_errors,
            [
                ("port".to_owned(), "is required".to_owned()),
                ("hostname".to_owned(), "is required".to_owned())
            ]
        );
        assert_eq!(r.values.get("registry"), None);
        let r = read(&t, &posted(&[("p.kind", "service"), ("p.port", "80")]));
        assert_eq!(
            r.field_errors,
            [(
                "port".to_owned(),
                "must be greater than or equal to 1024".to_owned()
            )]
        );
    }

    #[test]
    fn groups_carry_their_condition_and_messages_go_to_the_applying_field() {
        let t = template();
        let snap = Snapshot::of(Vec::new());
        let fresh = pages(&t, &snap, None);
        let g = &fresh[0].groups;
        let shown: Vec<(&str, &str, &str, &str)> = g
            .iter()
            .map(|g| {
                (
                    g.label.as_str(),
                    g.when_field.as_str(),
                    g.when_values.as_str(),
                    g.when_off.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("Only when Kind is Service", "p.kind", r#"["service"]"#, ""),
                ("Only when Kind is Library", "p.kind", r#"["library"]"#, ""),
                ("Only when Kind is Job", "p.kind", r#"["job"]"#, ""),
                ("Only when Expose publicly is ticked", "p.expose", "", ""),
                // Always has a value: nothing to say, nothing for the script to decide.
                ("", "", "", ""),
            ]
        );
        assert_eq!(g[0].fields[0].value, "8080", "defaults are filled in");
        assert_eq!(g[2].fields[0].input, "p.port.2");
        assert!(g.iter().all(|g| g.applies), "before posting, all show");

        let form = posted(&[("p.kind", "job")]);
        let r = read(&t, &form);
        let mut after = pages(&t, &snap, Some((form.as_slice(), &r.values)));
        let applies: Vec<bool> = after[0].groups.iter().map(|g| g.applies).collect();
        assert_eq!(applies, [false, false, true, false, true]);
        assert!(attach(&mut after, "port", "is required"));
        assert_eq!(after[0].groups[0].fields[0].error, None);
        assert_eq!(
            after[0].groups[2].fields[0].error.as_deref(),
            Some("is required")
        );
        let reviewed: Vec<&str> = after[0].shown().map(|f| f.name.as_str()).collect();
        assert_eq!(reviewed, ["kind", "expose", "audit", "port", "auditor"]);
        assert!(!attach(&mut after, "hostname", "is required"));
    }
}
