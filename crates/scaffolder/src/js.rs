//! JavaScript's side of Nunjucks semantics on minijinja values: how a value prints (`String(v)`:
//! `true`, `1,2,3`, `[object Object]`, `5` for 5.0), the string and array methods templates call
//! (`name.split('-')`, `tags.join(',')`), and regular-expression literals (`r/-/g`).

use std::fmt::{self, Write};
use std::sync::Arc;

use minijinja::value::{Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `String(value)` as JavaScript gives it, which is what Nunjucks writes into the output.
pub fn to_js_string(v: &Value) -> String {
    let mut out = String::new();
    let _ = write_js(&mut out, v);
    out
}

/// [`to_js_string`], written straight into `out` (the engine's formatter: no string per
/// interpolation).
pub fn write_js(out: &mut impl Write, v: &Value) -> fmt::Result {
    write_nested(out, v, 0)
}

fn write_nested(out: &mut impl Write, v: &Value, depth: usize) -> fmt::Result {
    if v.is_undefined() || v.is_none() {
        return Ok(());
    }
    if let Some(s) = v.as_str() {
        return out.write_str(s);
    }
    if let Some(re) = v.downcast_object_ref::<JsRegex>() {
        return write!(out, "/{}/{}", re.source, re.flags);
    }
    match v.kind() {
        ValueKind::Bool => out.write_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => out.write_str(&js_number(v)),
        ValueKind::Seq | ValueKind::Iterable if depth < 32 => {
            // Array.prototype.toString: elements joined by commas, null and undefined empty.
            if let Ok(items) = v.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    write_nested(out, &item, depth + 1)?;
                }
            }
            Ok(())
        }
        ValueKind::Map => out.write_str("[object Object]"),
        _ => write!(out, "{v}"),
    }
}

/// JavaScript's truthiness: every list and object is true, even empty; 0, NaN, "" and none are
/// false.
pub fn truthy(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Plain => true,
        ValueKind::Number => f64::try_from(v.clone()).is_ok_and(|f| f != 0.0 && !f.is_nan()),
        _ => v.is_true(),
    }
}

/// A number as JavaScript prints it: integral values without a fraction, `Infinity`, `NaN`.
pub fn js_number(v: &Value) -> String {
    if let Some(i) = v.as_i64().filter(|_| v.is_integer()) {
        return i.to_string();
    }
    let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// A regular expression from a Nunjucks literal `r/source/flags`, usable with `replace` and
/// `.test()`. JavaScript's syntax is close to the `regex` crate's for what templates write;
/// what the crate cannot do (look-around, back-references) is a clear error, never a wrong match.
#[derive(Debug)]
pub struct JsRegex {
    pub source: String,
    pub flags: String,
    pub re: regex::Regex,
}

impl JsRegex {
    pub fn global(&self) -> bool {
        self.flags.contains('g')
    }
}

impl Object for JsRegex {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "test" => Ok(Value::from(
                self.re
                    .is_match(&to_js_string(args.first().unwrap_or(&Value::UNDEFINED))),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Longest pattern a template may compile, and the compiled size allowed: a template is
/// untrusted input.
const MAX_PATTERN: usize = 1024;
const MAX_REGEX_SIZE: usize = 1 << 20;

/// The `__regex(source, flags)` global the literal rewrite calls (see `nunjucks.rs`).
pub fn regex(source: String, flags: String) -> Result<Value, Error> {
    if source.len() > MAX_PATTERN {
        return Err(invalid("regular expression too long"));
    }
    if let Some(bad) = flags.chars().find(|c| !"gimsuyd".contains(*c)) {
        return Err(invalid(format!("invalid regular expression flag {bad:?}")));
    }
    let re = regex::RegexBuilder::new(&source)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|e| invalid(format!("invalid regular expression /{source}/: {e}")))?;
    Ok(Value::from_object(JsRegex { source, flags, re }))
}

fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !v.is_undefined())
}

fn int_arg(args: &[Value], i: usize) -> Option<i64> {
    arg(args, i).and_then(|v| i64::try_from(v.clone()).ok())
}

/// A JavaScript `slice(start, end)` range over `len` items: negative counts from the end.
fn js_range(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let clamp = |i: i64| -> usize {
        if i < 0 {
            (len as i64 + i).max(0) as usize
        } else {
            (i as usize).min(len)
        }
    };
    let s = start.map_or(0, clamp);
    let e = end.map_or(len, clamp);
    (s, e.max(s))
}

/// The JavaScript methods templates call on strings, arrays and numbers (minijinja's unknown
/// method hook): Nunjucks runs in JavaScript, so `${{ name.split('-')[0] }}` works there.
pub fn call_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return string_method(s, method, args);
    }
    if matches!(value.kind(), ValueKind::Seq) {
        let items: Vec<Value> = value.try_iter()?.collect();
        return array_method(&items, method, args);
    }
    if matches!(value.kind(), ValueKind::Number) {
        return match method {
            "toString" => Ok(Value::from(js_number(value))),
            "toFixed" => {
                let f = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                let digits = int_arg(args, 0).unwrap_or(0).clamp(0, 100) as usize;
                Ok(Value::from(format!("{f:.digits$}")))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        };
    }
    Err(Error::from(ErrorKind::UnknownMethod))
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let text = |i: usize| arg(args, i).map(to_js_string);
    let chars = || s.chars().collect::<Vec<char>>();
    Ok(match method {
        "toLowerCase" | "toLocaleLowerCase" => Value::from(s.to_lowercase()),
        "toUpperCase" | "toLocaleUpperCase" => Value::from(s.to_uppercase()),
        "trim" => Value::from(s.trim()),
        "trimStart" => Value::from(s.trim_start()),
        "trimEnd" => Value::from(s.trim_end()),
        "toString" | "valueOf" => Value::from(s),
        "startsWith" => Value::from(s.starts_with(&text(0).unwrap_or_default())),
        "endsWith" => Value::from(s.ends_with(&text(0).unwrap_or_default())),
        "includes" => Value::from(s.contains(&text(0).unwrap_or_default())),
        "indexOf" => {
            let needle = text(0).unwrap_or_default();
            Value::from(
                s.find(&needle)
                    .map_or(-1, |b| s[..b].chars().count() as i64),
            )
        }
        "lastIndexOf" => {
            let needle = text(0).unwrap_or_default();
            Value::from(
                s.rfind(&needle)
                    .map_or(-1, |b| s[..b].chars().count() as i64),
            )
        }
        "split" => {
            let limit = int_arg(args, 1).map_or(usize::MAX, |n| n.max(0) as usize);
            let parts: Vec<Value> = match arg(args, 0) {
                None => vec![Value::from(s)],
                Some(sep) => match sep.downcast_object_ref::<JsRegex>() {
                    Some(re) => re.re.split(s).map(Value::from).collect(),
                    None => {
                        let sep = to_js_string(sep);
                        if sep.is_empty() {
                            s.chars().map(|c| Value::from(c.to_string())).collect()
                        } else {
                            s.split(sep.as_str()).map(Value::from).collect()
                        }
                    }
                },
            };
            Value::from(parts.into_iter().take(limit).collect::<Vec<_>>())
        }
        "replace" | "replaceAll" => {
            let with = text(1).unwrap_or_default();
            let all = method == "replaceAll";
            match arg(args, 0) {
                None => Value::from(s),
                Some(p) => match p.downcast_object_ref::<JsRegex>() {
                    Some(re) => regex_replace(s, re, &with, all),
                    None if all => Value::from(s.replace(&to_js_string(p), &with)),
                    None => Value::from(s.replacen(&to_js_string(p), &with, 1)),
                },
            }
        }
        "slice" | "substring" | "substr" => {
            let c = chars();
            let (a, b) = match method {
                "slice" => js_range(c.len(), int_arg(args, 0), int_arg(args, 1)),
                "substring" => {
                    let fix = |i: i64| i.clamp(0, c.len() as i64) as usize;
                    let a = fix(int_arg(args, 0).unwrap_or(0));
                    let b = int_arg(args, 1).map_or(c.len(), fix);
                    (a.min(b), a.max(b))
                }
                _ => {
                    let (a, _) = js_range(c.len(), int_arg(args, 0), None);
                    let n = int_arg(args, 1).map_or(c.len(), |n| n.max(0) as usize);
                    (a, (a + n).min(c.len()))
                }
            };
            Value::from(c[a..b].iter().collect::<String>())
        }
        "charAt" | "at" => {
            let c = chars();
            let i = int_arg(args, 0).unwrap_or(0);
            let i = if i < 0 && method == "at" {
                c.len() as i64 + i
            } else {
                i
            };
            match usize::try_from(i).ok().and_then(|i| c.get(i)) {
                Some(ch) => Value::from(ch.to_string()),
                None if method == "at" => Value::UNDEFINED,
                None => Value::from(""),
            }
        }
        "padStart" | "padEnd" => {
            let width = int_arg(args, 0).unwrap_or(0).clamp(0, 10_000) as usize;
            let fill = text(1).unwrap_or_else(|| " ".into());
            let have = s.chars().count();
            if have >= width || fill.is_empty() {
                return Ok(Value::from(s));
            }
            let pad: String = fill.chars().cycle().take(width - have).collect();
            Value::from(if method == "padStart" {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            })
        }
        "repeat" => {
            let n = int_arg(args, 0).unwrap_or(0).max(0) as usize;
            if s.len().saturating_mul(n) > crate::expr::MAX_OUTPUT {
                return Err(invalid("repeat would exceed the output limit"));
            }
            Value::from(s.repeat(n))
        }
        "concat" => {
            let mut out = s.to_owned();
            for a in args {
                out.push_str(&to_js_string(a));
            }
            Value::from(out)
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

/// `s.replace(re, with)`: the first match, or every match for a global regex or `replaceAll`;
/// `$1`-style references to groups as in JavaScript.
pub fn regex_replace(s: &str, re: &JsRegex, with: &str, all: bool) -> Value {
    let with = with.replace("$&", "${0}");
    let out = if all || re.global() {
        re.re.replace_all(s, with.as_str())
    } else {
        re.re.replace(s, with.as_str())
    };
    Value::from(out.into_owned())
}

fn array_method(items: &[Value], method: &str, args: &[Value]) -> Result<Value, Error> {
    let eq = |a: &Value, b: &Value| a == b;
    Ok(match method {
        "join" => {
            let sep = arg(args, 0).map_or_else(|| ",".into(), to_js_string);
            Value::from(
                items
                    .iter()
                    .map(to_js_string)
                    .collect::<Vec<_>>()
                    .join(&sep),
            )
        }
        "includes" => Value::from(
            items
                .iter()
                .any(|i| eq(i, args.first().unwrap_or(&Value::UNDEFINED))),
        ),
        "indexOf" => {
            let needle = args.first().unwrap_or(&Value::UNDEFINED);
            Value::from(
                items
                    .iter()
                    .position(|i| eq(i, needle))
                    .map_or(-1, |p| p as i64),
            )
        }
        "slice" => {
            let (a, b) = js_range(items.len(), int_arg(args, 0), int_arg(args, 1));
            Value::from(items[a..b].to_vec())
        }
        "at" => {
            let i = int_arg(args, 0).unwrap_or(0);
            let i = if i < 0 { items.len() as i64 + i } else { i };
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or(Value::UNDEFINED)
        }
        "concat" => {
            let mut out = items.to_vec();
            for a in args {
                match a.kind() {
                    ValueKind::Seq => out.extend(a.try_iter()?),
                    _ => out.push(a.clone()),
                }
            }
            Value::from(out)
        }
        "toString" => Value::from(to_js_string(&Value::from(items.to_vec()))),
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_javascript() {
        let v = |j: serde_json::Value| to_js_string(&Value::from_serialize(j));
        assert_eq!(v(serde_json::json!(true)), "true");
        assert_eq!(v(serde_json::json!(5.0)), "5");
        assert_eq!(v(serde_json::json!(2.5)), "2.5");
        assert_eq!(v(serde_json::json!(["a", 1, null, ["b", "c"]])), "a,1,,b,c");
        assert_eq!(v(serde_json::json!({"a": 1})), "[object Object]");
        assert_eq!(v(serde_json::json!(null)), "");
        assert_eq!(to_js_string(&Value::from(f64::INFINITY)), "Infinity");
    }

    #[test]
    fn string_methods() {
        let s = |m: &str, args: &[Value]| call_method(&Value::from("a-b-c"), m, args).unwrap();
        assert_eq!(
            s("split", &[Value::from("-")]).to_string(),
            r#"["a", "b", "c"]"#
        );
        assert_eq!(
            s("replace", &[Value::from("-"), Value::from("+")]).to_string(),
            "a+b-c"
        );
        assert_eq!(s("slice", &[Value::from(-3)]).to_string(), "b-c");
        assert_eq!(s("indexOf", &[Value::from("b")]).to_string(), "2");
        assert!(call_method(&Value::from("x"), "nope", &[]).is_err());
        let re = regex("-".into(), "g".into()).unwrap();
        assert_eq!(s("replace", &[re, Value::from("_")]).to_string(), "a_b_c");
    }

    #[test]
    fn bad_regexes_are_errors() {
        assert!(regex("(".into(), String::new()).is_err());
        assert!(regex("a".into(), "q".into()).is_err());
        assert!(regex("a".repeat(2000), String::new()).is_err());
    }
}
