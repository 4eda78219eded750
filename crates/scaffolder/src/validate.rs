//! JSON Schema validation of template parameters and action inputs: the subset templates use
//! (types, `required`, `enum`, `const`, `pattern`, lengths, bounds, `items`, `properties`,
//! `additionalProperties`, `dependencies`, `oneOf`/`anyOf`/`allOf`/`not`), with errors in the
//! shape and wording of the `jsonschema` npm package Backstage validates with, so a client
//! written for Backstage reads ours. Keywords are checked in the schema's own key order, as that
//! package does, so errors come out in the same order.

use serde_json::{Map, Value, json};

/// Nesting a schema may have before validation stops descending (untrusted templates).
const MAX_DEPTH: usize = 64;

/// One failed keyword, `jsonschema`'s `ValidationError` as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    pub path: Vec<Value>,
    pub message: String,
    pub schema: Value,
    pub instance: Value,
    pub name: &'static str,
    pub argument: Value,
}

impl SchemaError {
    /// `instance.a[0].b`, as the npm package names a location.
    pub fn property(&self) -> String {
        let mut p = String::from("instance");
        for seg in &self.path {
            match seg {
                Value::Number(n) => p.push_str(&format!("[{n}]")),
                Value::String(s) if is_identifier(s) => {
                    p.push('.');
                    p.push_str(s);
                }
                other => p.push_str(&format!("[{other}]")),
            }
        }
        p
    }

    pub fn to_json(&self) -> Value {
        let property = self.property();
        json!({
            "path": self.path,
            "property": property,
            "message": self.message,
            "schema": self.schema,
            "instance": self.instance,
            "name": self.name,
            "argument": self.argument,
            "stack": format!("{property} {}", self.message),
        })
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Every error of `instance` against `schema`; empty when valid.
pub fn validate(instance: &Value, schema: &Value) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    check(instance, schema, &mut Vec::new(), &mut errors, 0);
    errors
}

fn type_matches(instance: &Value, ty: &str) -> bool {
    match ty {
        "string" => instance.is_string(),
        "number" => instance.is_number(),
        "integer" => instance
            .as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f.is_finite()),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "null" => instance.is_null(),
        "any" => true,
        _ => false,
    }
}

fn check(
    instance: &Value,
    schema: &Value,
    path: &mut Vec<Value>,
    errors: &mut Vec<SchemaError>,
    depth: usize,
) {
    let Some(schema_obj) = schema.as_object() else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    let fail = |errors: &mut Vec<SchemaError>,
                path: &[Value],
                name: &'static str,
                message: String,
                argument: Value| {
        errors.push(SchemaError {
            path: path.to_vec(),
            message,
            schema: schema.clone(),
            instance: instance.clone(),
            name,
            argument,
        });
    };
    for (keyword, arg) in schema_obj {
        match keyword.as_str() {
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => continue,
                };
                if !types.iter().any(|t| type_matches(instance, t)) {
                    fail(
                        errors,
                        path,
                        "type",
                        format!("is not of a type(s) {}", types.join(",")),
                        json!(types),
                    );
                }
            }
            "enum" => {
                if let Some(options) = arg.as_array()
                    && !options.iter().any(|o| json_eq(o, instance))
                {
                    let listed: Vec<String> = options.iter().map(js_string).collect();
                    fail(
                        errors,
                        path,
                        "enum",
                        format!("is not one of enum values: {}", listed.join(",")),
                        arg.clone(),
                    );
                }
            }
            "const" if !json_eq(arg, instance) => {
                fail(
                    errors,
                    path,
                    "const",
                    format!(
                        "does not exactly match expected constant: {}",
                        js_string(arg)
                    ),
                    arg.clone(),
                );
            }
            "pattern" => {
                if let (Some(p), Some(s)) = (arg.as_str(), instance.as_str()) {
                    match compile_pattern(p) {
                        Some(re) if re.is_match(s) => {}
                        _ => fail(
                            errors,
                            path,
                            "pattern",
                            format!("does not match pattern {}", Value::String(p.into())),
                            arg.clone(),
                        ),
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let (Some(n), Some(s)) = (arg.as_u64(), instance.as_str()) {
                    // UTF-16 code units, as JavaScript counts.
                    let len = s.encode_utf16().count() as u64;
                    let (bad, word) = if keyword == "minLength" {
                        (len < n, "minimum")
                    } else {
                        (len > n, "maximum")
                    };
                    if bad {
                        fail(
                            errors,
                            path,
                            if keyword == "minLength" {
                                "minLength"
                            } else {
                                "maxLength"
                            },
                            format!("does not meet {word} length of {n}"),
                            arg.clone(),
                        );
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(n), Some(a)) = (arg.as_u64(), instance.as_array()) {
                    let len = a.len() as u64;
                    let (bad, word) = if keyword == "minItems" {
                        (len < n, "minimum")
                    } else {
                        (len > n, "maximum")
                    };
                    if bad {
                        fail(
                            errors,
                            path,
                            if keyword == "minItems" {
                                "minItems"
                            } else {
                                "maxItems"
                            },
                            format!("does not meet {word} length of {n}"),
                            arg.clone(),
                        );
                    }
                }
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                if let (Some(bound), Some(x)) = (arg.as_f64(), instance.as_f64()) {
                    let (bad, name, msg): (bool, &'static str, &str) = match keyword.as_str() {
                        "minimum" => (x < bound, "minimum", "greater than or equal to"),
                        "maximum" => (x > bound, "maximum", "less than or equal to"),
                        "exclusiveMinimum" => (x <= bound, "exclusiveMinimum", "greater than"),
                        _ => (x >= bound, "exclusiveMaximum", "less than"),
                    };
                    if bad {
                        fail(
                            errors,
                            path,
                            name,
                            format!("must be {msg} {}", js_string(arg)),
                            arg.clone(),
                        );
                    }
                }
            }
            "required" => {
                if let (Some(names), Some(obj)) = (arg.as_array(), instance.as_object()) {
                    for n in names.iter().filter_map(Value::as_str) {
                        if !obj.contains_key(n) {
                            fail(
                                errors,
                                path,
                                "required",
                                format!("requires property {}", Value::String(n.into())),
                                json!(n),
                            );
                        }
                    }
                }
            }
            "properties" => {
                if let (Some(props), Some(obj)) = (arg.as_object(), instance.as_object()) {
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            path.push(json!(name));
                            check(v, sub, path, errors, depth + 1);
                            path.pop();
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = instance.as_object() {
                    let props = schema_obj.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if props.is_some_and(|p| p.contains_key(name)) {
                            continue;
                        }
                        match arg {
                            Value::Bool(false) => fail(
                                errors,
                                path,
                                "additionalProperties",
                                format!(
                                    "is not allowed to have the additional property {}",
                                    Value::String(name.clone())
                                ),
                                json!(name),
                            ),
                            Value::Object(_) => {
                                path.push(json!(name));
                                check(v, arg, path, errors, depth + 1);
                                path.pop();
                            }
                            _ => {}
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = instance.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        let sub = match arg {
                            Value::Array(tuple) => match tuple.get(i) {
                                Some(s) => s,
                                None => continue,
                            },
                            other => other,
                        };
                        path.push(json!(i));
                        check(item, sub, path, errors, depth + 1);
                        path.pop();
                    }
                }
            }
            "dependencies" => {
                let (Some(deps), Some(obj)) = (arg.as_object(), instance.as_object()) else {
                    continue;
                };
                for (prop, dep) in deps {
                    if !obj.contains_key(prop) {
                        continue;
                    }
                    let mut child = path.clone();
                    child.push(json!(prop));
                    let mut inner = Vec::new();
                    match dep {
                        Value::Array(names) => {
                            for n in names.iter().filter_map(Value::as_str) {
                                if !obj.contains_key(n) {
                                    inner.push(SchemaError {
                                        path: path.clone(),
                                        message: format!(
                                            "property {n} not found, required by {}",
                                            property_of(&child)
                                        ),
                                        schema: schema.clone(),
                                        instance: instance.clone(),
                                        name: "dependencies",
                                        argument: json!(n),
                                    });
                                }
                            }
                            errors.extend(inner);
                            continue;
                        }
                        // The npm package validates the whole instance against the dependent
                        // schema but reports the errors under the property's path.
                        Value::Object(_) => check(instance, dep, &mut child, &mut inner, depth + 1),
                        _ => continue,
                    }
                    if !inner.is_empty() {
                        let by = property_of(&child);
                        fail(
                            errors,
                            path,
                            "dependencies",
                            format!("does not meet dependency required by {by}"),
                            json!(by),
                        );
                        errors.extend(inner);
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let Some(subs) = arg.as_array() else { continue };
                let passing = subs
                    .iter()
                    .filter(|s| validate_at(instance, s, depth).is_empty())
                    .count();
                let labels: Vec<String> = (0..subs.len())
                    .map(|i| format!("[subschema {i}]"))
                    .collect();
                if keyword == "oneOf" && passing != 1 {
                    fail(
                        errors,
                        path,
                        "oneOf",
                        format!("is not exactly one from {}", labels.join(",")),
                        json!(labels),
                    );
                } else if keyword == "anyOf" && passing == 0 {
                    fail(
                        errors,
                        path,
                        "anyOf",
                        format!("is not any of {}", labels.join(",")),
                        json!(labels),
                    );
                }
            }
            "allOf" => {
                if let Some(subs) = arg.as_array() {
                    for s in subs {
                        check(instance, s, path, errors, depth + 1);
                    }
                }
            }
            "not" if validate_at(instance, arg, depth).is_empty() => {
                fail(
                    errors,
                    path,
                    "not",
                    "is of prohibited type [subschema 0]".into(),
                    arg.clone(),
                );
            }
            _ => {}
        }
    }
}

fn validate_at(instance: &Value, schema: &Value, depth: usize) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    check(instance, schema, &mut Vec::new(), &mut errors, depth + 1);
    errors
}

fn property_of(path: &[Value]) -> String {
    SchemaError {
        path: path.to_vec(),
        message: String::new(),
        schema: Value::Null,
        instance: Value::Null,
        name: "",
        argument: Value::Null,
    }
    .property()
}

/// Numbers compare by value (`1` equals `1.0`), as in JavaScript.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `String(value)` as JavaScript prints it in these messages.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Array(a) => a.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// Compiled patterns, cached per thread: the same template's patterns are checked on every
/// request. The `regex` crate runs in linear time, so an untrusted pattern cannot stall the
/// server (ECMAScript lookaround and backreferences are not supported: such a pattern fails
/// to match and the error says which pattern).
fn compile_pattern(p: &str) -> Option<regex::Regex> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 512 {
            c.clear();
        }
        c.entry(p.to_owned())
            .or_insert_with(|| regex::RegexBuilder::new(p).size_limit(1 << 20).build().ok())
            .clone()
    })
}

/// The parameter pages of a template as one list of schemas (`parameters` may be one object).
pub fn pages(parameters: &Value) -> Vec<&Map<String, Value>> {
    match parameters {
        Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    }
}
