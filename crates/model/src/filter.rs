//! Backstage's entity filters, parsed once: the `filter=` query syntax and the POST by-query
//! predicate form. Keys and values are lower-cased here because matching is case-insensitive.
//!
//! Both forms land on one [`Filter`] tree that the catalog index evaluates against each entity's
//! flattened search keys (`kind`, `metadata.name`, `spec.owner`, `relations.ownedby`, …, all
//! lower-cased, one entry per array element). Inputs are bounded so a request cannot make the
//! parser or the index do unbounded work.

use serde_json::{Map, Value};

/// A parsed filter. Matching is done by the catalog index against its flattened search keys.
///
/// Identities: `All(vec![])` matches every entity, `Any(vec![])` none, and `Eq` with no values
/// none (Backstage's `{"$in": []}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Any of these (sets from repeated `filter` parameters are ORed; predicate `$any`).
    Any(Vec<Filter>),
    /// All of these (comma-separated conditions are ANDed; predicate `$all` and multi-key
    /// objects).
    All(Vec<Filter>),
    /// Predicate `$not`, and `{"$exists": false}` as `Not(Exists)`.
    Not(Box<Filter>),
    /// The key has one of these values (lower-cased): `key=value`, repeated `key=a,key=b`,
    /// predicate scalars, `$in`, and scalar `$contains`.
    Eq { key: String, values: Vec<String> },
    /// The key is present, whatever its value: a bare `key`, `{"$exists": true}`, and
    /// `{"relations": {"$contains": {"type": "ownedBy"}}}` (as key `relations.ownedby`).
    Exists { key: String },
    /// Predicate `$hasPrefix`: some value of the key starts with this (lower-cased) prefix.
    HasPrefix { key: String, prefix: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// At most this many `filter` parameters (ORed sets) per request.
pub const MAX_SETS: usize = 100;
/// At most this many conditions across all sets, or nodes in a predicate.
pub const MAX_CONDITIONS: usize = 1000;
/// At most this many bytes in one `filter` parameter, predicate key or value.
pub const MAX_STRING_BYTES: usize = 16 * 1024;
/// At most this deep a predicate (`$all`/`$any`/`$not` nesting).
pub const MAX_DEPTH: usize = 32;

fn err<T>(msg: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(msg.into()))
}

impl Filter {
    /// ORs filters, collapsing a single one to itself.
    pub fn any(mut filters: Vec<Filter>) -> Filter {
        if filters.len() == 1 {
            filters.pop().unwrap()
        } else {
            Filter::Any(filters)
        }
    }

    /// ANDs filters, collapsing a single one to itself.
    pub fn all(mut filters: Vec<Filter>) -> Filter {
        if filters.len() == 1 {
            filters.pop().unwrap()
        } else {
            Filter::All(filters)
        }
    }

    /// Evaluates the filter for one entity. `values(key)` yields the entity's lower-cased values
    /// for a lower-cased search key; a key is present when it yields at least one value.
    pub fn matches<'a, F, I>(&self, values: &F) -> bool
    where
        F: Fn(&str) -> I,
        I: IntoIterator<Item = &'a str>,
    {
        match self {
            Filter::Any(fs) => fs.iter().any(|f| f.matches(values)),
            Filter::All(fs) => fs.iter().all(|f| f.matches(values)),
            Filter::Not(f) => !f.matches(values),
            Filter::Eq {
                key,
                values: wanted,
            } => values(key)
                .into_iter()
                .any(|v| wanted.iter().any(|w| w == v)),
            Filter::Exists { key } => values(key).into_iter().next().is_some(),
            Filter::HasPrefix { key, prefix } => values(key)
                .into_iter()
                .any(|v| v.starts_with(prefix.as_str())),
        }
    }
}

/// Parses the values of repeated `filter` query parameters; `None` when there are none.
///
/// Each parameter is one set of comma-separated conditions that must all hold; an entity matches
/// when any set holds. `key=value` tests equality, `key=` an empty value, a bare `key` presence.
/// The same key repeated within a set matches any of its values (`kind=api,kind=component`).
/// Keys and values are trimmed and lower-cased. Parameters with no conditions (`filter=` or
/// `filter=,`) are ignored, as in Backstage, so they can yield `None`.
pub fn parse_query(filters: &[String]) -> Result<Option<Filter>, FilterError> {
    if filters.len() > MAX_SETS {
        return err(format!(
            "Invalid filter, at most {MAX_SETS} filter parameters are allowed, got {}",
            filters.len()
        ));
    }
    let mut conditions = 0usize;
    let mut sets = Vec::new();
    for raw in filters {
        if raw.len() > MAX_STRING_BYTES {
            return err(format!(
                "Invalid filter, a filter parameter may be at most {MAX_STRING_BYTES} bytes long"
            ));
        }
        // Keyed by first appearance so the output order follows the input.
        let mut by_key: Vec<(String, Option<Vec<String>>)> = Vec::new();
        for statement in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            conditions += 1;
            if conditions > MAX_CONDITIONS {
                return err(format!(
                    "Invalid filter, at most {MAX_CONDITIONS} conditions are allowed across all filter parameters"
                ));
            }
            let (key, value) = match statement.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (statement, None),
            };
            if key.is_empty() {
                return err(format!(
                    "Invalid filter, '{statement}' is not a valid statement (expected a string on the form a=b or a= or a)"
                ));
            }
            let key = key.to_lowercase();
            let idx = match by_key.iter().position(|(k, _)| *k == key) {
                Some(i) => i,
                None => {
                    by_key.push((key, None));
                    by_key.len() - 1
                }
            };
            if let Some(v) = value {
                by_key[idx]
                    .1
                    .get_or_insert_with(Vec::new)
                    .push(v.to_lowercase());
            }
        }
        if by_key.is_empty() {
            continue;
        }
        let conds = by_key
            .into_iter()
            .map(|(key, values)| match values {
                // A bare key next to `key=value` adds nothing in Backstage: the values win.
                Some(values) => Filter::Eq { key, values },
                None => Filter::Exists { key },
            })
            .collect();
        sets.push(Filter::all(conds));
    }
    Ok(if sets.is_empty() {
        None
    } else {
        Some(Filter::any(sets))
    })
}

/// Parses the `query` predicate of `POST /entities/by-query`.
///
/// The language (catalog-backend 4.0.0's filter predicates): an object maps field paths to value
/// predicates and ANDs them; `{"$all": [...]}`, `{"$any": [...]}` and `{"$not": ...}` combine
/// predicates and must be the only key of their object. A value predicate is a string, number or
/// boolean (equality), `{"$exists": bool}`, `{"$in": [scalars]}`, `{"$hasPrefix": string}` or
/// `{"$contains": scalar}`; on the `relations` field, `$contains` also takes
/// `{"type": t, "targetRef": ref | {"$in": [refs]}}`, which tests the `relations.<t>` key. Scalars
/// compare as lower-cased strings (`true`, `42`). A primitive where a predicate belongs is an
/// error, as in Backstage's query layer.
pub fn parse_predicate(query: &Value) -> Result<Filter, FilterError> {
    let mut budget = MAX_CONDITIONS;
    match query {
        Value::Object(_) => predicate(query, 0, &mut budget),
        _ => err("Invalid query: Query must be an object"),
    }
}

fn predicate(v: &Value, depth: usize, budget: &mut usize) -> Result<Filter, FilterError> {
    if depth > MAX_DEPTH {
        return err(format!(
            "Invalid query: predicates may nest at most {MAX_DEPTH} levels deep"
        ));
    }
    if *budget == 0 {
        return err(format!(
            "Invalid query: at most {MAX_CONDITIONS} conditions are allowed"
        ));
    }
    *budget -= 1;
    let obj = match v {
        Value::Object(o) => o,
        Value::Array(_) | Value::Null => {
            return err(format!(
                "Invalid query: expected a predicate object, got {}",
                short(v)
            ));
        }
        _ => {
            return err(format!(
                "Invalid query: a bare value {} is not a predicate; wrap it in a field expression, e.g. {{\"kind\": {}}}",
                short(v),
                short(v)
            ));
        }
    };
    for op in ["$all", "$any", "$not"] {
        let Some(arg) = obj.get(op) else { continue };
        if obj.len() != 1 {
            return err(format!(
                "Invalid query: operator {op} must be the only key in its object; wrap it in $all to combine it with other conditions"
            ));
        }
        return match (op, arg) {
            ("$not", inner) => Ok(Filter::Not(Box::new(predicate(inner, depth + 1, budget)?))),
            (_, Value::Array(items)) => {
                let fs = items
                    .iter()
                    .map(|p| predicate(p, depth + 1, budget))
                    .collect::<Result<Vec<_>, _>>()?;
                // Keep the operator even for one item: `$any: []` must stay "matches nothing".
                Ok(if op == "$all" {
                    Filter::All(fs)
                } else {
                    Filter::Any(fs)
                })
            }
            _ => err(format!(
                "Invalid query: {op} expects an array of predicates, got {}",
                short(arg)
            )),
        };
    }
    let mut conds = Vec::with_capacity(obj.len());
    for (key, value) in obj {
        if key.starts_with('$') {
            return err(format!(
                "Invalid query: unknown operator {key:?}; expected $all, $any, $not or a field name"
            ));
        }
        if key.contains(['\n', '\r']) {
            return err(format!(
                "Invalid query: field name {key:?} must not contain line breaks"
            ));
        }
        check_len(key)?;
        conds.push(field(&key.to_lowercase(), value, budget)?);
    }
    Ok(Filter::all(conds))
}

fn field(key: &str, v: &Value, budget: &mut usize) -> Result<Filter, FilterError> {
    if let Some(s) = scalar(v)? {
        return Ok(Filter::Eq {
            key: key.to_owned(),
            values: vec![s],
        });
    }
    let Value::Object(ops) = v else {
        return err(format!(
            "Invalid query: invalid value for field \"{key}\": expected a string, number, boolean, $exists, $in, $hasPrefix or $contains, got {}",
            short(v)
        ));
    };
    // Same precedence as Backstage's schema: the first operator present wins.
    if let Some(e) = ops.get("$exists") {
        let Value::Bool(b) = e else {
            return err(format!(
                "Invalid query: $exists on \"{key}\" expects a boolean, got {}",
                short(e)
            ));
        };
        let exists = Filter::Exists {
            key: key.to_owned(),
        };
        return Ok(if *b {
            exists
        } else {
            Filter::Not(Box::new(exists))
        });
    }
    if let Some(list) = ops.get("$in") {
        let Value::Array(items) = list else {
            return err(format!(
                "Invalid query: $in on \"{key}\" expects an array, got {}",
                short(list)
            ));
        };
        spend(budget, items.len())?;
        let values = items
            .iter()
            .map(|i| scalar(i)?.ok_or_else(|| FilterError(format!("Invalid query: $in on \"{key}\" expects strings, numbers or booleans, got {}", short(i)))))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Filter::Eq {
            key: key.to_owned(),
            values,
        });
    }
    if let Some(target) = ops.get("$contains") {
        if let Some(s) = scalar(target)? {
            return Ok(Filter::Eq {
                key: key.to_owned(),
                values: vec![s],
            });
        }
        return match target {
            Value::Object(t) if key == "relations" => contains_relation(t, budget),
            Value::Object(_) => err(format!(
                "Invalid query: the object form of $contains is only supported on \"relations\", not \"{key}\""
            )),
            _ => err(format!(
                "Invalid query: unsupported $contains target for \"{key}\": {}",
                short(target)
            )),
        };
    }
    if let Some(p) = ops.get("$hasPrefix") {
        let Value::String(p) = p else {
            return err(format!(
                "Invalid query: $hasPrefix on \"{key}\" expects a string, got {}",
                short(p)
            ));
        };
        check_len(p)?;
        return Ok(Filter::HasPrefix {
            key: key.to_owned(),
            prefix: p.to_lowercase(),
        });
    }
    err(format!(
        "Invalid query: invalid value for field \"{key}\": expected a string, number, boolean, $exists, $in, $hasPrefix or $contains, got {}",
        short(v)
    ))
}

/// `{"type": "ownedBy", "targetRef": "group:default/a" | {"$in": [...]}}` on `relations`.
fn contains_relation(t: &Map<String, Value>, budget: &mut usize) -> Result<Filter, FilterError> {
    let mut kind: Option<&str> = None;
    let mut targets: Option<Vec<String>> = None;
    for (raw, v) in t {
        match raw.to_lowercase().as_str() {
            "type" => {
                if kind.is_some() {
                    return err(format!(
                        "Invalid query: duplicate key \"{raw}\" in $contains for \"relations\""
                    ));
                }
                kind = Some(v.as_str().ok_or_else(|| {
                    FilterError(
                        "Invalid query: $contains on \"relations\" requires a \"type\" string"
                            .into(),
                    )
                })?);
            }
            "targetref" => {
                if targets.is_some() {
                    return err(format!(
                        "Invalid query: duplicate key \"{raw}\" in $contains for \"relations\""
                    ));
                }
                targets = Some(match v {
                    Value::String(s) => vec![s.to_lowercase()],
                    Value::Object(o) if o.len() == 1 => match o.get("$in") {
                        Some(Value::Array(items))
                            if !items.is_empty() && items.iter().all(Value::is_string) =>
                        {
                            spend(budget, items.len())?;
                            items
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_lowercase)
                                .collect()
                        }
                        Some(Value::Array(items)) if items.is_empty() => {
                            return err(
                                "Invalid query: an empty $in for targetRef in $contains on \"relations\" is not allowed",
                            );
                        }
                        _ => {
                            return err(format!(
                                "Invalid query: targetRef in $contains on \"relations\" must be a string or {{\"$in\": [strings]}}, got {}",
                                short(v)
                            ));
                        }
                    },
                    _ => {
                        return err(format!(
                            "Invalid query: targetRef in $contains on \"relations\" must be a string or {{\"$in\": [strings]}}, got {}",
                            short(v)
                        ));
                    }
                });
            }
            _ => {
                return err(format!(
                    "Invalid query: unsupported key \"{raw}\" in $contains for \"relations\"; only \"type\" and \"targetRef\" are supported"
                ));
            }
        }
    }
    let kind = match kind {
        Some(k) if !k.is_empty() => k,
        _ => return err("Invalid query: $contains on \"relations\" requires a \"type\" string"),
    };
    check_len(kind)?;
    let key = format!("relations.{}", kind.to_lowercase());
    Ok(match targets {
        Some(values) => Filter::Eq { key, values },
        None => Filter::Exists { key },
    })
}

/// A scalar as Backstage compares it: `String(value).toLowerCase()`. `Ok(None)` for non-scalars.
fn scalar(v: &Value) -> Result<Option<String>, FilterError> {
    Ok(Some(match v {
        Value::String(s) => {
            check_len(s)?;
            s.to_lowercase()
        }
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            // JavaScript prints integral floats without a fraction (`1.0` → `1`).
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        _ => return Ok(None),
    }))
}

fn check_len(s: &str) -> Result<(), FilterError> {
    if s.len() > MAX_STRING_BYTES {
        return err(format!(
            "Invalid query: strings may be at most {MAX_STRING_BYTES} bytes long"
        ));
    }
    Ok(())
}

fn spend(budget: &mut usize, n: usize) -> Result<(), FilterError> {
    if n > *budget {
        return err(format!(
            "Invalid query: at most {MAX_CONDITIONS} conditions are allowed"
        ));
    }
    *budget -= n;
    Ok(())
}

/// A value for an error message, cut short so a huge input does not make a huge error.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= 80 {
        return s;
    }
    let mut end = 80;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn q(params: &[&str]) -> Result<Option<Filter>, FilterError> {
        parse_query(&params.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn eq(key: &str, values: &[&str]) -> Filter {
        Filter::Eq {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn exists(key: &str) -> Filter {
        Filter::Exists { key: key.into() }
    }

    #[test]
    fn query_sets_are_ored_and_conditions_anded() {
        assert_eq!(q(&[]).unwrap(), None);
        assert_eq!(
            q(&["kind=Component"]).unwrap(),
            Some(eq("kind", &["component"]))
        );
        assert_eq!(
            q(&[
                " Kind = API , spec.type=OpenAPI",
                "metadata.annotations.backstage.io/x"
            ])
            .unwrap(),
            Some(Filter::Any(vec![
                Filter::All(vec![eq("kind", &["api"]), eq("spec.type", &["openapi"])]),
                exists("metadata.annotations.backstage.io/x"),
            ]))
        );
    }

    #[test]
    fn repeated_keys_in_a_set_match_any_value() {
        assert_eq!(
            q(&["kind=api,spec.owner=a,kind=component"]).unwrap(),
            Some(Filter::All(vec![
                eq("kind", &["api", "component"]),
                eq("spec.owner", &["a"])
            ]))
        );
        // A bare key next to values of the same key adds nothing.
        assert_eq!(q(&["kind,kind=api"]).unwrap(), Some(eq("kind", &["api"])));
    }

    #[test]
    fn empty_values_and_empty_parameters() {
        assert_eq!(q(&["spec.type="]).unwrap(), Some(eq("spec.type", &[""])));
        assert_eq!(q(&["a=b=c"]).unwrap(), Some(eq("a", &["b=c"])));
        assert_eq!(q(&["", " , ,"]).unwrap(), None);
        assert_eq!(q(&["", "kind=x"]).unwrap(), Some(eq("kind", &["x"])));
    }

    #[test]
    fn malformed_and_oversized_queries_are_errors() {
        let e = q(&["kind=a,=b"]).unwrap_err();
        assert!(e.0.contains("'=b' is not a valid statement"), "{e}");
        let many: Vec<String> = (0..=MAX_SETS).map(|i| format!("k={i}")).collect();
        assert!(parse_query(&many).unwrap_err().0.contains("at most 100"));
        let wide = (0..=MAX_CONDITIONS)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(q(&[&wide]).is_err());
        assert!(q(&[&"x".repeat(MAX_STRING_BYTES + 1)]).is_err());
    }

    #[test]
    fn predicates_map_onto_filters() {
        let p = |v: Value| parse_predicate(&v);
        assert_eq!(
            p(json!({"kind": "Component"})).unwrap(),
            eq("kind", &["component"])
        );
        assert_eq!(p(json!({})).unwrap(), Filter::All(vec![]));
        assert_eq!(
            p(json!({"Kind": "API", "spec.type": {"$in": ["OpenAPI", 3, true]}})).unwrap(),
            Filter::All(vec![
                eq("kind", &["api"]),
                eq("spec.type", &["openapi", "3", "true"])
            ])
        );
        assert_eq!(p(json!({"spec.x": 1.0})).unwrap(), eq("spec.x", &["1"]));
        assert_eq!(p(json!({"spec.x": 1.5})).unwrap(), eq("spec.x", &["1.5"]));
        assert_eq!(p(json!({"a": {"$exists": true}})).unwrap(), exists("a"));
        assert_eq!(
            p(json!({"a": {"$exists": false}})).unwrap(),
            Filter::Not(Box::new(exists("a")))
        );
        assert_eq!(
            p(json!({"metadata.name": {"$hasPrefix": "Web-"}})).unwrap(),
            Filter::HasPrefix {
                key: "metadata.name".into(),
                prefix: "web-".into()
            }
        );
        assert_eq!(
            p(json!({"metadata.tags": {"$contains": "Java"}})).unwrap(),
            eq("metadata.tags", &["java"])
        );
        assert_eq!(
            p(json!({"$any": [{"kind": "a"}, {"$not": {"kind": "b"}}]})).unwrap(),
            Filter::Any(vec![
                eq("kind", &["a"]),
                Filter::Not(Box::new(eq("kind", &["b"])))
            ])
        );
        assert_eq!(
            p(json!({"$all": [{"kind": "a"}]})).unwrap(),
            Filter::All(vec![eq("kind", &["a"])])
        );
        assert_eq!(p(json!({"$any": []})).unwrap(), Filter::Any(vec![]));
    }

    #[test]
    fn relation_contains() {
        let p = |v: Value| parse_predicate(&v);
        assert_eq!(
            p(json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/Team"}}})).unwrap(),
            eq("relations.ownedby", &["group:default/team"])
        );
        assert_eq!(
            p(json!({"relations": {"$contains": {"Type": "partOf", "targetRef": {"$in": ["system:default/a", "system:default/b"]}}}})).unwrap(),
            eq("relations.partof", &["system:default/a", "system:default/b"])
        );
        assert_eq!(
            p(json!({"relations": {"$contains": {"type": "hasMember"}}})).unwrap(),
            exists("relations.hasmember")
        );
        for bad in [
            json!({"relations": {"$contains": {"targetRef": "x"}}}),
            json!({"relations": {"$contains": {"type": "a", "other": 1}}}),
            json!({"relations": {"$contains": {"type": "a", "targetRef": {"$in": []}}}}),
            json!({"relations": {"$contains": {"type": "a", "targetRef": 3}}}),
            json!({"spec": {"$contains": {"type": "a"}}}),
        ] {
            assert!(p(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn invalid_predicates_are_errors() {
        for bad in [
            json!("kind"),
            json!([{"kind": "a"}]),
            json!(null),
            json!({"$all": [{"kind": "a"}], "kind": "b"}),
            json!({"$all": {"kind": "a"}}),
            json!({"$all": ["component"]}),
            json!({"$nope": 1}),
            json!({"kind": null}),
            json!({"kind": ["a"]}),
            json!({"kind": {"$exists": "yes"}}),
            json!({"kind": {"$in": "a"}}),
            json!({"kind": {"$in": [{"a": 1}]}}),
            json!({"kind": {"$hasPrefix": 1}}),
            json!({"kind": {"$regex": "a"}}),
            json!({"a\nb": "x"}),
        ] {
            let e = parse_predicate(&bad).unwrap_err();
            assert!(e.0.starts_with("Invalid query"), "{bad}: {e}");
        }
    }

    #[test]
    fn predicates_are_bounded() {
        let mut deep = json!({"kind": "a"});
        for _ in 0..=MAX_DEPTH {
            deep = json!({"$not": deep});
        }
        assert!(parse_predicate(&deep).unwrap_err().0.contains("deep"));
        let wide: Vec<Value> = (0..=MAX_CONDITIONS).map(|i| json!({"k": i})).collect();
        assert!(parse_predicate(&json!({"$any": wide})).is_err());
        let big_in: Vec<Value> = (0..=MAX_CONDITIONS).map(|i| json!(i)).collect();
        assert!(parse_predicate(&json!({"k": {"$in": big_in}})).is_err());
    }

    #[test]
    fn matching_uses_lowercased_search_values() {
        let entity: Vec<(&str, &str)> = vec![
            ("kind", "component"),
            ("metadata.tags", "java"),
            ("metadata.tags", "web"),
            ("metadata.name", "web-shop"),
        ];
        let values = |k: &str| {
            entity
                .iter()
                .filter(move |(key, _)| *key == k)
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
        };
        let m = |f: Filter| f.matches(&values);
        assert!(m(q(&["kind=Component,metadata.tags=web"])
            .unwrap()
            .unwrap()));
        assert!(!m(q(&["kind=api"]).unwrap().unwrap()));
        assert!(m(q(&["kind=api", "metadata.tags"]).unwrap().unwrap()));
        assert!(!m(q(&["spec.owner"]).unwrap().unwrap()));
        assert!(m(parse_predicate(
            &json!({"metadata.name": {"$hasPrefix": "WEB"}})
        )
        .unwrap()));
        assert!(m(parse_predicate(
            &json!({"spec.owner": {"$exists": false}})
        )
        .unwrap()));
        assert!(m(Filter::All(vec![])));
        assert!(!m(Filter::Any(vec![])));
        assert!(!m(eq("kind", &[])));
    }

    fn token() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_./ -]{1,12}".prop_filter("needs a key character", |s| !s.trim().is_empty())
    }

    proptest! {
        #[test]
        fn query_parser_never_panics(params in prop::collection::vec("\\PC{0,60}", 0..8)) {
            let _ = parse_query(&params);
        }

        #[test]
        fn predicate_parser_never_panics(text in "[\\[\\]{}:,\"$a-z0-9 ]{0,80}") {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = parse_predicate(&v);
            }
        }

        /// Each non-empty parameter becomes one ORed set, each distinct key one ANDed condition
        /// holding that key's values in order.
        #[test]
        fn query_structure_follows_input(
            sets in prop::collection::vec(prop::collection::vec((token(), prop::option::of(token())), 1..6), 1..6)
        ) {
            let params: Vec<String> = sets
                .iter()
                .map(|s| s.iter().map(|(k, v)| match v { Some(v) => format!("{k}={v}"), None => k.clone() }).collect::<Vec<_>>().join(","))
                .collect();
            let parsed = parse_query(&params).unwrap().unwrap();
            let got_sets = match parsed { Filter::Any(s) if sets.len() > 1 => s, f => vec![f] };
            prop_assert_eq!(got_sets.len(), sets.len());
            for (set, got) in sets.iter().zip(got_sets) {
                let mut want: Vec<(String, Option<Vec<String>>)> = Vec::new();
                for (k, v) in set {
                    let k = k.trim().to_lowercase();
                    let i = match want.iter().position(|(w, _)| *w == k) {
                        Some(i) => i,
                        None => { want.push((k, None)); want.len() - 1 }
                    };
                    if let Some(v) = v {
                        want[i].1.get_or_insert_with(Vec::new).push(v.trim().to_lowercase());
                    }
                }
                let conds = match got { Filter::All(c) if want.len() > 1 => c, f => vec![f] };
                prop_assert_eq!(conds.len(), want.len());
                for (c, (k, vs)) in conds.iter().zip(&want) {
                    match (c, vs) {
                        (Filter::Eq { key, values }, Some(vs)) => { prop_assert_eq!(key, k); prop_assert_eq!(values, vs); }
                        (Filter::Exists { key }, None) => prop_assert_eq!(key, k),
                        other => prop_assert!(false, "unexpected {:?}", other),
                    }
                }
            }
        }

        /// `$any`/`$all`/`$not` trees survive parsing node for node.
        #[test]
        fn predicate_structure_follows_input(shape in tree_shape()) {
            let (value, expected) = shape;
            prop_assert_eq!(parse_predicate(&value).unwrap(), expected);
        }
    }

    fn tree_shape() -> impl Strategy<Value = (Value, Filter)> {
        let leaf = ("[a-z]{1,5}", "[a-zA-Z]{0,5}").prop_map(|(k, v)| {
            (
                json!({ k.clone(): v.clone() }),
                Filter::Eq {
                    key: k,
                    values: vec![v.to_lowercase()],
                },
            )
        });
        leaf.prop_recursive(5, 60, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                    let (vs, fs): (Vec<_>, Vec<_>) = items.into_iter().unzip();
                    (json!({"$any": vs}), Filter::Any(fs))
                }),
                prop::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                    let (vs, fs): (Vec<_>, Vec<_>) = items.into_iter().unzip();
                    (json!({"$all": vs}), Filter::All(fs))
                }),
                inner.prop_map(|(v, f)| (json!({"$not": v}), Filter::Not(Box::new(f)))),
            ]
        })
    }
}
