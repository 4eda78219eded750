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

fn type_name(v: &Value) -> &'static str {
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
/// v1beta3 schema for Template).
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

// ---- Field formats (Kubernetes-style names, as Backstage uses them) ----

/// `[a-z0-9]+(-+[a-z0-9]+)*`, 1-63 characters (RFC 1123 label; Backstage allows repeated dashes).
pub fn is_valid_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Dot-separated DNS labels, at most 253 characters.
pub fn is_valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_valid_dns_label)
}

/// Entity names and label values: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, 1-63 characters.
/// Note that separators may repeat (`a--b`, `a._b`); only the ends must be alphanumeric.
pub fn is_valid_object_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `kind`: a letter then letters and digits, 1-63 characters.
pub fn is_valid_kind(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `apiVersion`: `[<dns-subdomain>/]<1-63 alphanumerics>`.
pub fn is_valid_api_version(s: &str) -> bool {
    prefix_and_suffix(s, |v| {
        !v.is_empty() && v.len() <= 63 && v.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Label and annotation keys: `[<dns-subdomain>/]<object name>`.
pub fn is_valid_prefixed_name(s: &str) -> bool {
    prefix_and_suffix(s, is_valid_object_name)
}

fn prefix_and_suffix(s: &str, suffix_ok: impl Fn(&str) -> bool) -> bool {
    let mut parts = s.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(only), None, _) => suffix_ok(only),
        (Some(prefix), Some(suffix), None) => is_valid_dns_subdomain(prefix) && suffix_ok(suffix),
        _ => false,
    }
}

/// Tags: runs of `[a-z0-9:+#]` separated by single dashes, 1-63 characters.
pub fn is_valid_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let run_char =
        |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#');
    !b.is_empty()
        && b.len() <= 63
        && b.split(|&c| c == b'-')
            .all(|run| !run.is_empty() && run.iter().all(|&c| run_char(c)))
}

/// Whether a WHATWG URL parser (what Backstage uses) would accept `s` without a base: a scheme,
/// and for the special network schemes a non-empty host without forbidden characters and a
/// numeric port. A close approximation, not a full URL parser.
pub fn is_valid_url(s: &str) -> bool {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let sb = scheme.as_bytes();
    if sb.is_empty()
        || !sb[0].is_ascii_alphabetic()
        || !sb
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        // Opaque and file URLs accept nearly anything after the scheme.
        return true;
    }
    let rest: String = s[colon + 1..]
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let rest = rest.trim_start_matches(['/', '\\']);
    let authority = &rest[..rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if host_port.starts_with('[') {
        match host_port.find(']') {
            Some(end) => (&host_port[..=end], host_port[end + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if let Some(p) = port
        && !(p.is_empty()
            || (p.bytes().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)))
    {
        return false;
    }
    if host.starts_with('[') {
        let inner = &host[1..host.len() - 1];
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.'));
    }
    // Hosts are percent-decoded before their characters are checked.
    let host = percent_decode(host);
    !host.is_empty()
        && !host.chars().any(|c| {
            c <= ' '
                || c == '\u{7f}'
                || matches!(
                    c,
                    '#' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|' | '%'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Vec<Problem> {
        validate(v.as_object().expect("test entities are objects"))
    }

    fn paths(v: Value) -> Vec<String> {
        check(v).into_iter().map(|p| p.path).collect()
    }

    fn component(metadata: Value, spec: Value) -> Value {
        json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": metadata, "spec": spec})
    }

    fn spec() -> Value {
        json!({"type": "service", "lifecycle": "production", "owner": "team-a"})
    }

    /// Entities a stock Backstage catalog accepts.
    fn valid_corpus() -> Vec<Value> {
        vec![
            component(json!({"name": "a"}), spec()),
            component(
                json!({
                    "name": "My_Svc.v2--x", "namespace": "prod-1", "title": "T", "description": "",
                    "labels": {"tier": "", "example.com/tier": "Gold", "a.b-c/x_y": "v.1"},
                    "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "any text at all"},
                    "tags": ["java", "c++", "c#", "k8s:prod", "a-b-c"],
                    "links": [{"url": "https://example.com/a b", "title": "Docs", "icon": "docs", "type": "doc"},
                              {"url": "mailto:a@b.c"}, {"url": "http://[::1]:8080/"}],
                    "uid": "u", "etag": "e"
                }),
                json!({"type": "service", "lifecycle": "x", "owner": "user:bob", "system": "s",
                       "subcomponentOf": "c", "providesApis": ["a"], "consumesApis": [], "dependsOn": ["resource:db"],
                       "somethingElse": {"free": "form"}}),
            ),
            json!({"apiVersion": "backstage.io/v1beta1", "kind": "API", "metadata": {"name": "api"},
                   "spec": {"type": "openapi", "lifecycle": "prod", "owner": "o", "definition": "openapi: 3.0.0"}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Resource", "metadata": {"name": "db"},
                   "spec": {"type": "database", "owner": "o", "dependsOn": ["resource:disk"], "system": "s"}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "s"}, "spec": {"owner": "o", "domain": "d"}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Domain", "metadata": {"name": "d"}, "spec": {"owner": "o", "subdomainOf": "top"}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"},
                   "spec": {"type": "team", "children": [], "profile": {"displayName": "G"}, "parent": "org", "members": ["u"]}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "u"}, "spec": {"memberOf": []}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"}, "spec": {}}),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Location", "metadata": {"name": "l"},
                   "spec": {"type": "url", "targets": ["./a.yaml"], "presence": "optional"}}),
            json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
                   "spec": {"type": "service", "owner": "o", "parameters": [{"title": "x"}],
                            "steps": [{"id": "a", "action": "fetch:template", "input": {}, "if": true}],
                            "output": {"links": [{"title": "Repo", "url": "https://x"}], "note": "text"}}}),
            // Unknown kinds get envelope and metadata checks only.
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"anything": 1}}),
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
        ]
    }

    #[test]
    fn valid_corpus_has_no_problems() {
        for e in valid_corpus() {
            assert_eq!(check(e.clone()), vec![], "{e}");
        }
    }

    /// (entity, the paths Stagedoor must report, in order).
    fn invalid_corpus() -> Vec<(Value, Vec<&'static str>)> {
        let c = |metadata: Value| component(metadata, spec());
        let with_spec = |kind: &str, spec: Value| json!({"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec});
        vec![
            (
                json!({"kind": "Component", "metadata": {"name": "a"}, "spec": spec()}),
                vec!["apiVersion"],
            ),
            (
                json!({"apiVersion": "a/b/c", "kind": "Widget", "metadata": {"name": "a"}}),
                vec!["apiVersion"],
            ),
            (
                json!({"apiVersion": "Example.com/v1", "kind": "Widget", "metadata": {"name": "a"}}),
                vec!["apiVersion"],
            ),
            (
                json!({"apiVersion": "v1", "kind": "1Widget", "metadata": {"name": "a"}}),
                vec!["kind"],
            ),
            (
                json!({"apiVersion": "v1", "kind": 3, "metadata": {"name": "a"}}),
                vec!["kind"],
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
                vec!["kind"],
            ),
            (
                json!({"apiVersion": "v1", "kind": "Widget"}),
                vec!["metadata"],
            ),
            (
                json!({"apiVersion": "v1", "kind": "Widget", "metadata": [], "spec": 1}),
                vec!["metadata", "spec"],
            ),
            (
                json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "a"}, "relations": [], "status": {}}),
                vec!["relations", "status"],
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "component", "metadata": {"name": "a"}, "spec": spec()}),
                vec!["kind"],
            ),
            (
                json!({"apiVersion": "backstage.io/v2", "kind": "Component", "metadata": {"name": "a"}, "spec": spec()}),
                vec!["apiVersion"],
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "a"}}),
                vec!["spec"],
            ),
            (c(json!({})), vec!["metadata.name"]),
            (c(json!({"name": ""})), vec!["metadata.name"]),
            (c(json!({"name": "a".repeat(64)})), vec!["metadata.name"]),
            (c(json!({"name": "-a"})), vec!["metadata.name"]),
            (c(json!({"name": "a_"})), vec!["metadata.name"]),
            (c(json!({"name": "a b"})), vec!["metadata.name"]),
            (
                c(json!({"name": "a", "namespace": "Prod"})),
                vec!["metadata.namespace"],
            ),
            (
                c(json!({"name": "a", "namespace": "a.b"})),
                vec!["metadata.namespace"],
            ),
            (
                c(json!({"name": "a", "namespace": ""})),
                vec!["metadata.namespace"],
            ),
            (
                c(json!({"name": "a", "title": "", "description": 5})),
                vec!["metadata.title", "metadata.description"],
            ),
            (
                c(
                    json!({"name": "a", "labels": {"a/b/c": "x", "x/": "y", "k": "bad value", "n": 1}}),
                ),
                vec![
                    "metadata.labels.a/b/c",
                    "metadata.labels.x/",
                    "metadata.labels.k",
                    "metadata.labels.n",
                ],
            ),
            (
                c(json!({"name": "a", "labels": []})),
                vec!["metadata.labels"],
            ),
            (
                c(
                    json!({"name": "a", "annotations": {"UPPER.com/x": "v", "ok": 1, "sp ace": "v"}}),
                ),
                vec![
                    "metadata.annotations.UPPER.com/x",
                    "metadata.annotations.ok",
                    "metadata.annotations.sp ace",
                ],
            ),
            (
                c(
                    json!({"name": "a", "tags": ["ok", "Java", "a--b", "", "x_y", 1, "t".repeat(64)]}),
                ),
                vec![
                    "metadata.tags.1",
                    "metadata.tags.2",
                    "metadata.tags.3",
                    "metadata.tags.4",
                    "metadata.tags.5",
                    "metadata.tags.6",
                ],
            ),
            (
                c(json!({"name": "a", "tags": "java"})),
                vec!["metadata.tags"],
            ),
            (
                c(
                    json!({"name": "a", "links": [{"title": "x"}, {"url": "nope"}, {"url": "https://x", "title": " ", "icon": ""}, 3, {"url": "http://", "type": ""}]}),
                ),
                vec![
                    "metadata.links.0.url",
                    "metadata.links.1.url",
                    "metadata.links.2.title",
                    "metadata.links.2.icon",
                    "metadata.links.3",
                    "metadata.links.4.url",
                    "metadata.links.4.type",
                ],
            ),
            (
                component(json!({"name": "a"}), json!({})),
                vec!["spec.type", "spec.lifecycle", "spec.owner"],
            ),
            (
                component(
                    json!({"name": "a"}),
                    json!({"type": 1, "lifecycle": "", "owner": "o", "system": 2, "dependsOn": "x", "providesApis": [""]}),
                ),
                vec![
                    "spec.type",
                    "spec.lifecycle",
                    "spec.system",
                    "spec.providesApis.0",
                    "spec.dependsOn",
                ],
            ),
            (
                with_spec(
                    "API",
                    json!({"type": "openapi", "lifecycle": "p", "owner": "o", "definition": {"$text": "./x"}}),
                ),
                vec!["spec.definition"],
            ),
            (
                with_spec("API", json!({"type": "openapi", "owner": "o"})),
                vec!["spec.lifecycle", "spec.definition"],
            ),
            (
                with_spec("Resource", json!({})),
                vec!["spec.type", "spec.owner"],
            ),
            (
                with_spec("System", json!({"owner": "o", "domain": ""})),
                vec!["spec.domain"],
            ),
            (with_spec("Domain", json!({})), vec!["spec.owner"]),
            (
                with_spec("Group", json!({})),
                vec!["spec.type", "spec.children"],
            ),
            (
                with_spec(
                    "Group",
                    json!({"type": "t", "children": "x", "profile": {"email": ""}}),
                ),
                vec!["spec.profile.email", "spec.children"],
            ),
            (with_spec("User", json!({})), vec!["spec.memberOf"]),
            (
                with_spec("User", json!({"memberOf": "g"})),
                vec!["spec.memberOf"],
            ),
            (
                with_spec(
                    "Location",
                    json!({"type": "", "targets": "x", "presence": "maybe"}),
                ),
                vec!["spec.type", "spec.targets", "spec.presence"],
            ),
            (
                json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"}, "spec": {}}),
                vec!["spec.type", "spec.steps"],
            ),
            (
                json!({"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
                    "spec": {"type": "x", "parameters": "p", "steps": [{"name": "n"}, 1, {"action": "a", "if": 3}], "output": {"x": 1}}}),
                vec![
                    "spec.parameters",
                    "spec.steps.0.action",
                    "spec.steps.1",
                    "spec.steps.2.if",
                    "spec.output.x",
                ],
            ),
            (
                json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Template", "metadata": {"name": "t"}, "spec": {"type": "x", "steps": []}}),
                vec!["apiVersion"],
            ),
        ]
    }

    #[test]
    fn invalid_corpus_reports_each_problem_at_its_path() {
        for (e, want) in invalid_corpus() {
            let got = paths(e.clone());
            assert_eq!(got, want, "{e}");
        }
    }

    #[test]
    fn dump_corpus_for_node() {
        let Ok(path) = std::env::var("DUMP_CORPUS") else {
            return;
        };
        let all = json!({"valid": valid_corpus(), "invalid": invalid_corpus().into_iter().map(|(e, _)| e).collect::<Vec<_>>()});
        std::fs::write(path, all.to_string()).unwrap();
    }

    #[test]
    fn messages_are_specific() {
        let p = check(component(json!({"name": "bad name"}), spec()));
        assert!(
            p[0].message.contains("\"bad name\"") && p[0].message.contains("63"),
            "{}",
            p[0].message
        );
        let p = check(
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "component", "metadata": {"name": "a"}}),
        );
        assert!(p[0].message.contains("\"Component\""), "{}", p[0].message);
        let p = &check(component(
            json!({"name": "a"}),
            json!({"type": 1, "lifecycle": "l", "owner": "o"}),
        ))[0];
        assert_eq!(p.to_string(), "spec.type: must be a string, found a number");
        let p = Problem::new("spec", "is odd");
        assert_eq!(p.to_string(), "spec: is odd");
    }

    #[test]
    fn format_checks() {
        assert!(
            is_valid_object_name("a")
                && is_valid_object_name("a-_.b")
                && is_valid_object_name(&"a".repeat(63))
        );
        assert!(
            !is_valid_object_name("") && !is_valid_object_name(".a") && !is_valid_object_name("é")
        );
        assert!(
            is_valid_dns_label("a--b") && !is_valid_dns_label("a_b") && !is_valid_dns_label("-a")
        );
        assert!(
            is_valid_dns_subdomain("a.b-c.d")
                && !is_valid_dns_subdomain("a..b")
                && !is_valid_dns_subdomain("")
        );
        assert!(is_valid_api_version("v1") && is_valid_api_version("backstage.io/v1alpha1"));
        assert!(
            !is_valid_api_version("backstage.io/v1-alpha")
                && !is_valid_api_version("/v1")
                && !is_valid_api_version("a/")
        );
        assert!(is_valid_kind("API") && !is_valid_kind("A-B") && !is_valid_kind(&"A".repeat(64)));
        assert!(
            is_valid_tag("a:b+c#-d")
                && !is_valid_tag("-a")
                && !is_valid_tag("a-")
                && !is_valid_tag("a b")
        );
        for ok in [
            "https://x.io",
            "HTTP://x:80/p?q#f",
            " https://x ",
            "mailto:x",
            "urn:isbn:1",
            "file:///etc",
            "https://u:p@h/",
            "ftp://h:65535",
            "http:x",
            "a:",
            "https://%41.com",
        ] {
            assert!(is_valid_url(ok), "{ok}");
        }
        for bad in [
            "",
            "x",
            "/rel/path",
            "://x",
            "1http://x",
            "http://",
            "https://a b",
            "https://h:99999",
            "https://h:8a",
            "http://[::1",
            "https://<x>",
            "http://x y/",
            "https://a%20b",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }
}
