//! The filters whose Nunjucks or Backstage meaning minijinja lacks or differs from: Backstage's
//! own (`parseRepoUrl`, `parseEntityRef`, `pick`, `projectSlug`) and Nunjucks' `dump`,
//! `replace` (with a count), `join` (with an attribute), `truncate`, `sort` (positional
//! arguments), `first`/`last` (also of strings), `length`, `int`, `float`, `round`, `sum`,
//! `selectattr`/`rejectattr`, `groupby`, `escape`, and the ones minijinja lacks (`wordcount`,
//! `center`, `striptags`, `nl2br`, `random`). Everything else is minijinja's builtin.

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::expr::to_json;
use crate::js;
// A value as Nunjucks prints it (JavaScript's `String(v)`).
use crate::js::to_js_string as str_of;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("dump", dump);
    env.add_filter("replace", replace);
    env.add_filter("join", join);
    env.add_filter("truncate", truncate);
    env.add_filter("sort", sort);
    env.add_filter("first", first);
    env.add_filter("last", last);
    env.add_filter("parseRepoUrl", parse_repo_url);
    env.add_filter("parseEntityRef", parse_entity_ref);
    env.add_filter("pick", pick);
    env.add_filter("projectSlug", project_slug);
    // Nunjucks' own meaning where minijinja's differs or is missing.
    env.add_filter("length", length);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("round", round);
    env.add_filter("sum", sum);
    env.add_filter("selectattr", |v: &Value, attr: String, _: Rest<Value>| {
        select_attr(v, &attr, true)
    });
    env.add_filter("rejectattr", |v: &Value, attr: String, _: Rest<Value>| {
        select_attr(v, &attr, false)
    });
    env.add_filter("groupby", groupby);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("wordcount", |s: &Value| {
        str_of(s).split_whitespace().count()
    });
    env.add_filter("center", center);
    env.add_filter("striptags", striptags);
    env.add_filter("nl2br", |s: &Value| {
        str_of(s)
            .replace("\r\n", "<br />\n")
            .replace('\n', "<br />\n")
    });
    env.add_filter("random", random);
    env.add_filter("__pairs", pairs);
    env.add_filter("__truthy", |v: &Value| js::truthy(v));
    env.add_test("truthy", |v: &Value| v.is_true());
    env.add_test("falsy", |v: &Value| !v.is_true());
}

/// Cookiecutter's name for `dump`, in templates rendered with `cookiecutterCompat`.
pub fn register_cookiecutter(env: &mut Environment<'static>) {
    env.add_filter("jsonify", dump);
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `JSON.stringify(value, null, spaces)`; undefined stays undefined (renders empty).
fn dump(value: &Value, spaces: Option<Value>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Ok(Value::UNDEFINED);
    }
    let json = to_json(value);
    let indent = spaces
        .as_ref()
        .and_then(|s| s.as_usize())
        .filter(|&n| n > 0)
        .map(|n| n.min(10));
    let text = match indent {
        None => serde_json::to_string(&json),
        Some(n) => {
            let pad = vec![b' '; n];
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(&json, &mut ser)
                .map(|_| String::from_utf8(out).unwrap_or_default())
        }
    }
    .map_err(|e| invalid(e.to_string()))?;
    Ok(Value::from(text))
}

/// `replace(old, new, maxCount)`: every occurrence, or the first `maxCount`.
fn replace(value: &Value, old: &Value, new: &Value, count: Option<i64>) -> Result<Value, Error> {
    let s = str_of(value);
    if let Some(re) = old.downcast_object_ref::<js::JsRegex>() {
        return Ok(js::regex_replace(&s, re, &str_of(new), false));
    }
    let (old, new) = (str_of(old), str_of(new));
    let out = match count {
        Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
        _ => s.replace(&old, &new),
    };
    Ok(Value::from(out))
}

/// `join(separator = "", attribute)`.
fn join(value: &Value, sep: Option<Value>, attr: Option<Value>) -> Result<Value, Error> {
    let sep = sep.map(|s| str_of(&s)).unwrap_or_default();
    if value.is_undefined() || value.is_none() {
        return Ok(Value::from(""));
    }
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        let item = match &attr {
            Some(a) => item.get_item(a).unwrap_or(Value::UNDEFINED),
            None => item,
        };
        out.push_str(&str_of(&item));
    }
    Ok(Value::from(out))
}

/// `truncate(length = 255, killwords = false, end = "...")`: cuts at the last space before
/// `length` unless `killwords`.
fn truncate(
    value: &Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
) -> Result<Value, Error> {
    let s = str_of(value);
    let length = length.unwrap_or(255);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length {
        return Ok(Value::from(s));
    }
    let cut = if killwords.unwrap_or(false) {
        length
    } else {
        // JavaScript's `lastIndexOf(' ', length)`: a space right at `length` counts.
        chars[..=length]
            .iter()
            .rposition(|&c| c == ' ')
            .unwrap_or(length)
    };
    let mut out: String = chars[..cut].iter().collect();
    out.push_str(end.as_deref().unwrap_or("..."));
    Ok(Value::from(out))
}

/// `sort(reverse = false, caseSensitive = false, attribute)`.
fn sort(state: &State, value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    let reverse = args.first().is_some_and(|v| v.is_true());
    let case_sensitive = args.get(1).is_some_and(|v| v.is_true());
    let mut pairs = vec![
        ("reverse", Value::from(reverse)),
        ("case_sensitive", Value::from(case_sensitive)),
    ];
    if let Some(attr) = args.get(2) {
        pairs.push(("attribute", attr.clone()));
    }
    minijinja::filters::sort(state, value.clone(), Kwargs::from_iter(pairs))
}

fn first(value: &Value) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return Ok(s
            .chars()
            .next()
            .map(Value::from)
            .unwrap_or(Value::UNDEFINED));
    }
    if value.is_undefined() || value.is_none() {
        return Ok(Value::UNDEFINED);
    }
    Ok(value.try_iter()?.next().unwrap_or(Value::UNDEFINED))
}

fn last(value: &Value) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return Ok(s
            .chars()
            .last()
            .map(Value::from)
            .unwrap_or(Value::UNDEFINED));
    }
    if value.is_undefined() || value.is_none() {
        return Ok(Value::UNDEFINED);
    }
    Ok(value.try_iter()?.last().unwrap_or(Value::UNDEFINED))
}

/// Backstage's `parseRepoUrl`: `github.com?owner=o&repo=r` (the RepoUrlPicker's value) to
/// `{host, owner, repo, organization, workspace, project}` (absent keys left out).
fn parse_repo_url(value: &Value) -> Result<Value, Error> {
    let (host, query) = repo_url_parts(&str_of(value))?;
    let mut out = serde_json::Map::new();
    out.insert("host".into(), host.into());
    for key in ["owner", "organization", "workspace", "project", "repo"] {
        if let Some(v) = query.iter().find(|(k, _)| k == key).map(|(_, v)| v) {
            out.insert(key.into(), v.clone().into());
        }
    }
    if !out.contains_key("repo") {
        return Err(invalid(format!(
            "Invalid repo URL passed to publisher: {}, missing repo",
            str_of(value)
        )));
    }
    Ok(Value::from_serialize(&out))
}

/// `host?query` split, with the query decoded; the host must be present.
pub fn repo_url_parts(url: &str) -> Result<(String, Vec<(String, String)>), Error> {
    let (host, query) = url.split_once('?').unwrap_or((url, ""));
    if host.is_empty() {
        return Err(invalid(format!(
            "Invalid repo URL passed to publisher: {url}, missing host"
        )));
    }
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok((host.to_owned(), pairs))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `projectSlug`: `owner/repo` of a repo URL (`workspace/repo` or `project/repo` where those
/// are given instead).
fn project_slug(value: &Value) -> Result<Value, Error> {
    let parsed = parse_repo_url(value)?;
    let get = |k: &str| parsed.get_attr(k).ok().filter(|v| !v.is_undefined());
    let owner = get("owner")
        .or_else(|| get("workspace"))
        .or_else(|| get("project"))
        .or_else(|| get("organization"))
        .map(|v| str_of(&v))
        .unwrap_or_default();
    let repo = get("repo").map(|v| str_of(&v)).unwrap_or_default();
    Ok(Value::from(format!("{owner}/{repo}")))
}

/// `parseEntityRef(context?)`: `kind:namespace/name` to `{kind, namespace, name}`, with
/// `defaultKind`/`defaultNamespace` from the context object; the namespace defaults to `default`.
fn parse_entity_ref(value: &Value, context: Option<Value>) -> Result<Value, Error> {
    let s = str_of(value);
    let ctx_str = |k: &str| {
        context
            .as_ref()
            .and_then(|c| c.get_attr(k).ok())
            .filter(|v| !v.is_undefined() && !v.is_none())
            .map(|v| str_of(&v))
    };
    let (kind, rest) = match s.split_once(':') {
        Some((k, r)) => (Some(k.to_owned()), r),
        None => (ctx_str("defaultKind"), s.as_str()),
    };
    let (namespace, name) = match rest.split_once('/') {
        Some((ns, n)) => (ns.to_owned(), n),
        None => (
            ctx_str("defaultNamespace").unwrap_or_else(|| "default".into()),
            rest,
        ),
    };
    let kind = kind.filter(|k| !k.is_empty()).ok_or_else(|| {
        invalid(format!(
            "Entity reference \"{s}\" had missing or empty kind (e.g. did not start with \"component:\" or similar)"
        ))
    })?;
    if name.is_empty() || namespace.is_empty() || name.contains([':', '/']) {
        return Err(invalid(format!(
            "Entity reference \"{s}\" was not on the form [<kind>:][<namespace>/]<name>"
        )));
    }
    Ok(Value::from_serialize(serde_json::json!({
        "kind": kind, "namespace": namespace, "name": name
    })))
}

/// `pick(path)`: lodash's `get` on a dotted path.
fn pick(value: &Value, path: &str) -> Result<Value, Error> {
    let mut cur = value.clone();
    for part in path.split('.') {
        cur = cur.get_attr(part).unwrap_or(Value::UNDEFINED);
        if cur.is_undefined() {
            break;
        }
    }
    Ok(cur)
}

/// `length`: 0 for undefined, the number of keys of an object.
fn length(v: &Value) -> Result<Value, Error> {
    if v.is_undefined() || v.is_none() {
        return Ok(Value::from(0));
    }
    if let Some(s) = v.as_str() {
        return Ok(Value::from(s.chars().count()));
    }
    Ok(Value::from(v.len().unwrap_or(0)))
}

/// A number read as JavaScript's `parseFloat`: the longest numeric prefix, else None.
fn parse_number(v: &Value) -> Option<f64> {
    if v.kind() == ValueKind::Number {
        return f64::try_from(v.clone()).ok();
    }
    let s = str_of(v);
    let s = s.trim_start();
    let end = s
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit()
                || *c == '.'
                || (*i == 0 && (*c == '-' || *c == '+'))
                || *c == 'e'
                || *c == 'E'
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    (1..=end).rev().find_map(|e| s[..e].parse::<f64>().ok())
}

/// `int(default)`: `parseInt`, or the default (undefined without one) when it is not a number.
fn int(v: &Value, default: Option<Value>) -> Value {
    match parse_number(v) {
        Some(f) if f.is_finite() => Value::from(f.trunc() as i64),
        _ => default.unwrap_or(Value::UNDEFINED),
    }
}

/// `float(default)`: `parseFloat`, or the default.
fn float(v: &Value, default: Option<Value>) -> Value {
    match parse_number(v) {
        Some(f) => Value::from(f),
        None => default.unwrap_or(Value::UNDEFINED),
    }
}

/// `round(precision = 0, method = "common" | "ceil" | "floor")`.
fn round(v: &Value, precision: Option<i32>, method: Option<String>) -> Result<Value, Error> {
    let f = parse_number(v).unwrap_or(f64::NAN);
    let factor = 10f64.powi(precision.unwrap_or(0).clamp(0, 15));
    let scaled = f * factor;
    let r = match method.as_deref() {
        Some("ceil") => scaled.ceil(),
        Some("floor") => scaled.floor(),
        _ => scaled.round(),
    } / factor;
    Ok(number(r))
}

/// A computed number as a value: whole numbers as integers, so they print without a fraction
/// and stay integers in a typed step input.
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

/// `sum(attribute, start = 0)`.
fn sum(v: &Value, attr: Option<Value>, start: Option<Value>) -> Result<Value, Error> {
    let mut total = start.as_ref().and_then(parse_number).unwrap_or(0.0);
    if !(v.is_undefined() || v.is_none()) {
        for item in v.try_iter()? {
            let item = match attr.as_ref().filter(|a| !a.is_undefined() && !a.is_none()) {
                Some(a) => item.get_item(a).unwrap_or(Value::UNDEFINED),
                None => item,
            };
            total += parse_number(&item).unwrap_or(f64::NAN);
        }
    }
    Ok(number(total))
}

/// Nunjucks' `selectattr(attr)` / `rejectattr(attr)`: by the attribute's truthiness only
/// (further arguments, Jinja's test form, are ignored as Nunjucks ignores them).
fn select_attr(v: &Value, attr: &str, keep: bool) -> Result<Value, Error> {
    if v.is_undefined() || v.is_none() {
        return Ok(Value::from(Vec::<Value>::new()));
    }
    Ok(Value::from(
        v.try_iter()?
            .filter(|item| item.get_attr(attr).is_ok_and(|a| a.is_true()) == keep)
            .collect::<Vec<_>>(),
    ))
}

/// `groupby(attr)`: an object from each value of the attribute to its items, as Nunjucks.
fn groupby(v: &Value, attr: String) -> Result<Value, Error> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    if !(v.is_undefined() || v.is_none()) {
        for item in v.try_iter()? {
            let key = str_of(&pick(&item, &attr)?);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, items)) => items.push(item),
                None => groups.push((key, vec![item])),
            }
        }
    }
    Ok(Value::from_iter(
        groups.into_iter().map(|(k, items)| (k, Value::from(items))),
    ))
}

/// `escape`: HTML's five characters, as Nunjucks (minijinja's also escapes `/`).
fn escape(v: &Value) -> Value {
    if v.is_safe() {
        return v.clone();
    }
    Value::from_safe_string(model::html::escape(&str_of(v)))
}

/// `center(width = 80)`.
fn center(v: &Value, width: Option<usize>) -> Value {
    let s = str_of(v);
    let width = width.unwrap_or(80).min(10_000);
    let len = s.chars().count();
    if len >= width {
        return Value::from(s);
    }
    let left = (width - len) / 2;
    let right = width - len - left;
    Value::from(format!("{}{s}{}", " ".repeat(left), " ".repeat(right)))
}

/// `striptags`: tags removed, whitespace runs folded to one space.
fn striptags(v: &Value) -> Value {
    let s = str_of(v);
    let mut text = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Value::from(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `random`: one item, chosen by the clock (not for secrets; Nunjucks' is not either).
fn random(v: &Value) -> Result<Value, Error> {
    let items: Vec<Value> = if let Some(s) = v.as_str() {
        s.chars().map(|c| Value::from(c.to_string())).collect()
    } else {
        v.try_iter()?.collect()
    };
    if items.is_empty() {
        return Ok(Value::UNDEFINED);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as usize);
    Ok(items[nanos % items.len()].clone())
}

/// `for k, v in x`: an object gives its `[key, value]` pairs, as Nunjucks' loop over an object.
fn pairs(v: &Value) -> Result<Value, Error> {
    if v.kind() != ValueKind::Map {
        return Ok(v.clone());
    }
    let mut out = Vec::new();
    for key in v.try_iter()? {
        let value = v.get_item(&key).unwrap_or(Value::UNDEFINED);
        out.push(Value::from(vec![key, value]));
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(super::percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(super::percent_decode("50%"), "50%");
    }
}
