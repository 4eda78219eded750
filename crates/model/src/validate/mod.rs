//! Backstage's entity validation rules: the envelope, metadata formats and each built-in kind's spec.
//!
//! This mirrors what a stock Backstage catalog rejects between pre- and post-processing: the
//! `Entity` JSON schema, the root-field and field-format policies, and the per-kind JSON schemas
//! of the built-in kinds. Everything wrong is reported (Backstage stops at the first problem), so
//! authors can fix a file in one pass. Checks are hand-written character scans: validation runs
//! for every ingested entity and must stay cheap.

use serde_json::{Map, Value};

use crate::{Entity, kinds};

/// One thing wrong with an entity. `path` is the dotted JSON path of the offending field
/// (`metadata.name`, `spec.owner`; empty for the whole entity) so callers can map it to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Root fields an entity read from a source may have; `relations` and `status` are computed by
/// the catalog, so Backstage rejects them in input.
const ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

/// Every problem Backstage's validators would report for this entity (empty when valid).
///
/// Expects the entity as read from its source, after `$text`/`$json`/`$yaml` placeholders have
/// been resolved (an API's `spec.definition` must be a string by then). Kinds other than the
/// built-in ones get only the envelope and metadata checks.
pub fn validate(entity: &Entity) -> Vec<Problem> {
    let mut out = Out(Vec::new());
    for key in entity.keys() {
        if !ROOT_FIELDS.contains(&key.as_str()) {
            out.push(
                key,
                "unknown root field; an entity has only apiVersion, kind, metadata and spec",
            );
        }
    }

    let api_version = out.required_str(entity, "apiVersion", "apiVersion");
    if let Some(v) = api_version
        && !is_valid_api_version(v)
    {
        out.push("apiVersion", format!("{v:?} is not a valid apiVersion; expected an optional DNS-subdomain prefix and a slash, then 1-63 letters and digits (e.g. backstage.io/v1alpha1)"));
    }
    let kind = out.required_str(entity, "kind", "kind");
    if let Some(k) = kind
        && !is_valid_kind(k)
    {
        out.push("kind", format!("{k:?} is not a valid kind; expected a letter followed by letters and digits, at most 63 characters"));
    }

    match entity.get("metadata") {
        None => out.push("metadata", "missing required field"),
        Some(Value::Object(m)) => metadata(m, &mut out),
        Some(_) => out.push("metadata", "must be an object"),
    }

    let spec = match entity.get("spec") {
        None => None,
        Some(Value::Object(s)) => Some(s),
        Some(_) => {
            out.push("spec", "must be an object");
            None
        }
    };

    let Some(kind) = kind.filter(|k| is_valid_kind(k)) else {
        return out.0;
    };
    let builtin = match kinds::canonical(kind) {
        None => return out.0,
        Some(c) if c != kind => {
            // Backstage matches built-in kinds case-sensitively; a mis-cased one is recognised
            // by no processor and the entity is rejected.
            out.push("kind", format!("kind {kind:?} is not recognised; built-in kinds are case-sensitive, write {c:?}"));
            return out.0;
        }
        Some(c) => c,
    };
    if let Some(v) = api_version {
        let allowed = kinds::api_versions(builtin);
        if !allowed.contains(&v) {
            out.push(
                "apiVersion",
                format!(
                    "apiVersion {v:?} is not supported for kind {builtin}; expected {}",
                    allowed.join(" or ")
                ),
            );
        }
    }
    match spec {
        None if !entity.contains_key("spec") => {
            out.push("spec", format!("missing; kind {builtin} requires a spec"))
        }
        None => {}
        Some(spec) => kind_spec(builtin, spec, &mut out),
    }
    out.0
}

struct Out(Vec<Problem>);

impl Out {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }

    fn required_str<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a str> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                self.push(path, "missing required field".to_owned());
                None
            }
            Some(v) => self.string(v, path, true),
        }
    }

    fn optional_str<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
        non_empty: bool,
    ) -> Option<&'a str> {
        obj.get(key).and_then(|v| self.string(v, path, non_empty))
    }

    fn string<'a>(&mut self, v: &'a Value, path: &str, non_empty: bool) -> Option<&'a str> {
        match v {
            Value::String(s) if non_empty && s.is_empty() => {
                self.push(path, "must not be empty".to_owned());
                None
            }
            Value::String(s) => Some(s),
            other => {
                self.push(
                    path,
                    format!("must be a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn optional_object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key)? {
            Value::Object(m) => Some(m),
            other => {
                self.push(
                    path,
                    format!("must be an object, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn optional_array<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a [Value]> {
        match obj.get(key)? {
            Value::Array(a) => Some(a),
            other => {
                self.push(
                    path,
                    format!("must be an array, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// An optional array whose items must be non-empty strings (entity references, mostly).
    fn string_array(&mut self, obj: &Map<String, Value>, key: &str, path: &str) {
        if let Some(items) = self.optional_array(obj, key, path) {
            for (i, item) in items.iter().enumerate() {
                self.string(item, &format!("{path}.{i}"), true);
            }
        }
    }
}

/// A JSON value's type as an error message names it ("a string", "an object", …).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn metadata(m: &Map<String, Value>, out: &mut Out) {
    if let Some(name) = out.required_str(m, "name", "metadata.name")
        && !is_valid_object_name(name)
    {
        out.push("metadata.name", format!("{name:?} is not a valid name; expected 1-63 characters of [a-zA-Z0-9-_.], starting and ending with a letter or digit"));
    }
    if let Some(ns) = out.optional_str(m, "namespace", "metadata.namespace", true)
        && !is_valid_dns_label(ns)
    {
        out.push("metadata.namespace", format!("{ns:?} is not a valid namespace; expected 1-63 characters of [a-z0-9] in runs separated by [-]"));
    }
    out.optional_str(m, "uid", "metadata.uid", true);
    out.optional_str(m, "etag", "metadata.etag", true);
    out.optional_str(m, "title", "metadata.title", true);
    out.optional_str(m, "description", "metadata.description", false);

    for (field, is_valid_value) in [("labels", true), ("annotations", false)] {
        let path = format!("metadata.{field}");
        let Some(map) = out.optional_object(m, field, &path) else {
            continue;
        };
        for (k, v) in map {
            let p = format!("{path}.{k}");
            if !is_valid_prefixed_name(k) {
                out.push(&p, format!("{k:?} is not a valid {} key; expected an optional DNS-subdomain prefix and a slash, then a name of 1-63 characters of [a-zA-Z0-9-_.] starting and ending with a letter or digit", &field[..field.len() - 1]));
            }
            if let Some(s) = out.string(v, &p, false)
                && is_valid_value
                && !(s.is_empty() || is_valid_object_name(s))
            {
                out.push(&p, format!("{s:?} is not a valid label value; expected an empty string or 1-63 characters of [a-zA-Z0-9-_.] starting and ending with a letter or digit"));
            }
        }
    }

    if let Some(tags) = out.optional_array(m, "tags", "metadata.tags") {
        for (i, t) in tags.iter().enumerate() {
            let p = format!("metadata.tags.{i}");
            if let Some(t) = out.string(t, &p, true)
                && !is_valid_tag(t)
            {
                out.push(&p, format!("{t:?} is not a valid tag; expected at most 63 characters of [a-z0-9:+#] in runs separated by single [-]"));
            }
        }
    }

    if let Some(links) = out.optional_array(m, "links", "metadata.links") {
        for (i, link) in links.iter().enumerate() {
            let p = format!("metadata.links.{i}");
            let Value::Object(link) = link else {
                out.push(&p, format!("must be an object, found {}", type_name(link)));
                continue;
            };
            if let Some(url) = out.required_str(link, "url", &format!("{p}.url"))
                && !is_valid_url(url)
            {
                out.push(
                    format!("{p}.url"),
                    format!("{url:?} is not a valid absolute URL"),
                );
            }
            for f in ["title", "icon"] {
                if let Some(s) = out.optional_str(link, f, &format!("{p}.{f}"), true)
                    && s.trim().is_empty()
                {
                    out.push(format!("{p}.{f}"), "must not be blank");
                }
            }
            out.optional_str(link, "type", &format!("{p}.type"), true);
        }
    }
}

/// The spec rules of each built-in kind, from catalog-model's kind schemas (and scaffolder's
/// v1beta3 schema for Template); Stagedoor's own kinds are in `stagedoor_kinds`.
fn kind_spec(kind: &str, spec: &Map<String, Value>, out: &mut Out) {
    let req = |out: &mut Out, f: &str| {
        out.required_str(spec, f, &format!("spec.{f}"));
    };
    let opt = |out: &mut Out, f: &str| {
        out.optional_str(spec, f, &format!("spec.{f}"), true);
    };
    let arr = |out: &mut Out, f: &str| out.string_array(spec, f, &format!("spec.{f}"));
    match kind {
        kinds::COMPONENT => {
            for f in ["type", "lifecycle", "owner"] {
                req(out, f);
            }
            for f in ["system", "subcomponentOf"] {
                opt(out, f);
            }
            for f in ["providesApis", "consumesApis", "dependsOn"] {
                arr(out, f);
            }
        }
        kinds::API => {
            for f in ["type", "lifecycle", "owner", "definition"] {
                req(out, f);
            }
            opt(out, "system");
        }
        kinds::RESOURCE => {
            req(out, "type");
            req(out, "owner");
            opt(out, "system");
            arr(out, "dependsOn");
        }
        kinds::SYSTEM => {
            req(out, "owner");
            opt(out, "domain");
            opt(out, "type");
        }
        kinds::DOMAIN => {
            req(out, "owner");
            opt(out, "subdomainOf");
            opt(out, "type");
        }
        kinds::GROUP => {
            req(out, "type");
            opt(out, "parent");
            profile(spec, out);
            if !spec.contains_key("children") {
                out.push(
                    "spec.children",
                    "missing required field (use [] for a group without child groups)",
                );
            }
            arr(out, "children");
            arr(out, "members");
        }
        kinds::USER => {
            profile(spec, out);
            if !spec.contains_key("memberOf") {
                out.push(
                    "spec.memberOf",
                    "missing required field (use [] for a user in no group)",
                );
            }
            arr(out, "memberOf");
        }
        kinds::LOCATION => {
            opt(out, "type");
            opt(out, "target");
            arr(out, "targets");
            if let Some(p) = out.optional_str(spec, "presence", "spec.presence", false)
                && p != "required"
                && p != "optional"
            {
                out.push(
                    "spec.presence",
                    format!("must be \"required\" or \"optional\", found {p:?}"),
                );
            }
        }
        kinds::TEMPLATE => template_spec(spec, out),
        kinds::SCORECARD => stagedoor_kinds::scorecard_spec(spec, out),
        kinds::CAMPAIGN => stagedoor_kinds::campaign_spec(spec, out),
        _ => {}
    }
}

fn profile(spec: &Map<String, Value>, out: &mut Out) {
    if let Some(p) = out.optional_object(spec, "profile", "spec.profile") {
        for f in ["displayName", "email", "picture"] {
            out.optional_str(p, f, &format!("spec.profile.{f}"), true);
        }
    }
}

fn template_spec(spec: &Map<String, Value>, out: &mut Out) {
    out.required_str(spec, "type", "spec.type");
    out.optional_str(spec, "owner", "spec.owner", true);
    out.optional_str(spec, "lifecycle", "spec.lifecycle", true);
    match spec.get("parameters") {
        None | Some(Value::Object(_)) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    out.push(
                        format!("spec.parameters.{i}"),
                        format!("must be an object, found {}", type_name(item)),
                    );
                }
            }
        }
        Some(other) => out.push(
            "spec.parameters",
            format!(
                "must be an object or an array of objects, found {}",
                type_name(other)
            ),
        ),
    }
    out.optional_object(spec, "secrets", "spec.secrets");
    out.optional_object(spec, "presentation", "spec.presentation");
    match spec.get("steps") {
        None | Some(Value::Null) => out.push("spec.steps", "missing required field"),
        Some(Value::Array(steps)) => {
            for (i, step) in steps.iter().enumerate() {
                let p = format!("spec.steps.{i}");
                let Value::Object(step) = step else {
                    out.push(&p, format!("must be an object, found {}", type_name(step)));
                    continue;
                };
                match step.get("action") {
                    None | Some(Value::Null) => {
                        out.push(format!("{p}.action"), "missing required field".to_owned())
                    }
                    Some(a) => {
                        out.string(a, &format!("{p}.action"), false);
                    }
                }
                out.optional_str(step, "id", &format!("{p}.id"), false);
                out.optional_str(step, "name", &format!("{p}.name"), false);
                out.optional_object(step, "input", &format!("{p}.input"));
                string_or_bool(step, &p, out);
            }
        }
        Some(other) => out.push(
            "spec.steps",
            format!("must be an array, found {}", type_name(other)),
        ),
    }
    if let Some(output) = out.optional_object(spec, "output", "spec.output") {
        for (k, v) in output {
            let p = format!("spec.output.{k}");
            if k != "links" && k != "text" {
                out.string(v, &p, false);
                continue;
            }
            let Some(items) = out.optional_array(output, k, &p) else {
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{p}.{i}");
                let Value::Object(item) = item else {
                    out.push(&ip, format!("must be an object, found {}", type_name(item)));
                    continue;
                };
                string_or_bool(item, &ip, out);
                let fields: &[&str] = if k == "links" {
                    &["url", "entityRef", "title", "icon"]
                } else {
                    &["title", "icon"]
                };
                for f in fields {
                    out.optional_str(item, f, &format!("{ip}.{f}"), true);
                }
                if k == "text" {
                    out.optional_str(item, "content", &format!("{ip}.content"), false);
                }
            }
        }
    }
}

/// A template's `if` conditions are expressions or literal booleans.
fn string_or_bool(obj: &Map<String, Value>, path: &str, out: &mut Out) {
    if let Some(cond) = obj.get("if")
        && !(cond.is_string() || cond.is_boolean())
    {
        out.push(
            format!("{path}.if"),
            format!("must be a string or a boolean, found {}", type_name(cond)),
        );
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

mod formats;
pub mod stagedoor_kinds;

pub use formats::{
    is_valid_api_version, is_valid_dns_label, is_valid_dns_subdomain, is_valid_kind,
    is_valid_object_name, is_valid_prefixed_name, is_valid_tag, is_valid_url,
};
#[cfg(test)]
mod tests;
