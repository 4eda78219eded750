//! The filters whose Nunjucks or Backstage meaning minijinja lacks or differs from: Backstage's
//! own (`parseRepoUrl`, `parseEntityRef`, `pick`, `projectSlug`) and Nunjucks' `dump`,
//! `replace` (with a count), `join` (with an attribute), `truncate`, `sort` (positional
//! arguments), `first`/`last` (also of strings). Everything else is minijinja's builtin.

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::expr::to_json;

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
        chars[..length]
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

/// A value as Nunjucks prints it: strings as they are, undefined and none empty, the rest by
/// minijinja's Display (numbers, booleans as `true`/`false`).
fn str_of(v: &Value) -> String {
    if v.is_undefined() || v.is_none() {
        String::new()
    } else if let Some(s) = v.as_str() {
        s.to_owned()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(super::percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(super::percent_decode("50%"), "50%");
    }
}
