//! A parameter page's conditional properties, resolved as react-jsonschema-form (the form
//! Backstage builds from a template) resolves JSON Schema `dependencies`: the branches a page can
//! add (a plain dependent schema, one `oneOf` option, the list form's extra `required`) and which
//! of them apply to given values, so the Create page shows, reads and reviews exactly the fields
//! Backstage's form would.
//!
//! rjsf's rules, followed here: a dependency is skipped while its property is `undefined` (so
//! `false`, `0` and `""` count as present); a dependency on a property the schema does not have
//! (yet) is skipped; of a `oneOf`, an option applies only when it is the *only* one whose schema
//! for the property accepts the value (rjsf ignores the `oneOf` otherwise), and the property's
//! own schema is left out of what the option adds.

use serde_json::{Map, Value};

/// Dependencies nested inside branches that are followed (untrusted templates).
const MAX_DEPTH: usize = 8;

/// What must hold of the controlling property's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Test<'a> {
    /// It has a value.
    Present,
    /// Option `index` of a `oneOf`: the value passes this option's schema for the property and
    /// no other's. `options[i]` is option i's schema for the property (`None`: it has none, and
    /// never matches).
    OneOf {
        index: usize,
        options: Vec<Option<&'a Value>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition<'a> {
    /// The controlling property.
    pub on: &'a str,
    pub test: Test<'a>,
}

impl Condition<'_> {
    pub fn holds(&self, values: &Map<String, Value>) -> bool {
        let Some(v) = values.get(self.on) else {
            return false;
        };
        match &self.test {
            Test::Present => true,
            Test::OneOf { index, options } => {
                let mut matching = options.iter().enumerate().filter(|(_, o)| {
                    o.is_some_and(|schema| crate::validate::validate(v, schema).is_empty())
                });
                matching.next().is_some_and(|(i, _)| i == *index) && matching.next().is_none()
            }
        }
    }

    /// The values the condition lists (`enum`, or `const`), when it is that simple: what a form
    /// can show and check in the browser. `None` for other schemas, and for `Present`.
    pub fn values(&self) -> Option<Vec<&Value>> {
        let Test::OneOf { index, options } = &self.test else {
            return None;
        };
        let schema = options.get(*index).copied().flatten()?;
        if let Some(c) = schema.get("const") {
            return Some(vec![c]);
        }
        schema.get("enum")?.as_array().map(|a| a.iter().collect())
    }
}

/// What one branch adds to its page when its conditions hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch<'a> {
    /// All must hold; a branch inside another (or keyed on a property another adds) carries that
    /// one's conditions first.
    pub when: Vec<Condition<'a>>,
    /// The properties it adds, in schema order (the controlling property itself left out).
    pub properties: Vec<(&'a str, &'a Value)>,
    pub required: Vec<&'a str>,
}

impl Branch<'_> {
    pub fn applies(&self, values: &Map<String, Value>) -> bool {
        self.when.iter().all(|c| c.holds(values))
    }
}

/// Every branch `page`'s `dependencies` can add, in rjsf's order (parents before the branches
/// nested in them), whatever the values.
pub fn branches(page: &Map<String, Value>) -> Vec<Branch<'_>> {
    let known: Vec<&str> = page
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    let mut out = Vec::new();
    collect(page.get("dependencies"), &[], &known, &mut out, 0);
    out
}

/// The properties and `required` of a (sub)schema, without `skip` (a oneOf's controlling one).
fn parts<'a>(
    schema: &'a Map<String, Value>,
    skip: &str,
) -> (Vec<(&'a str, &'a Value)>, Vec<&'a str>) {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != skip)
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    (properties, required_of(schema))
}

/// A schema's `required` names.
pub fn required_of(schema: &Map<String, Value>) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn collect<'a>(
    deps: Option<&'a Value>,
    parent: &[Condition<'a>],
    known: &[&'a str],
    out: &mut Vec<Branch<'a>>,
    depth: usize,
) {
    let Some(deps) = deps.and_then(Value::as_object) else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    for (key, dep) in deps {
        let key = key.as_str();
        let mut when = parent.to_vec();
        if !known.contains(&key) {
            // rjsf grows the schema dependency by dependency: a property an earlier branch adds
            // can control a later one, under that branch's conditions.
            match out
                .iter()
                .find(|b| b.properties.iter().any(|(n, _)| *n == key))
            {
                Some(b) => when.clone_from(&b.when),
                None => continue,
            }
        }
        let push = |test: Test<'a>,
                    properties: Vec<(&'a str, &'a Value)>,
                    required: Vec<&'a str>,
                    nested: Option<&'a Value>,
                    out: &mut Vec<Branch<'a>>| {
            let mut when = when.clone();
            when.push(Condition { on: key, test });
            let mut inner: Vec<&'a str> = known.to_vec();
            inner.extend(properties.iter().map(|(n, _)| *n));
            out.push(Branch {
                when: when.clone(),
                properties,
                required,
            });
            collect(nested, &when, &inner, out, depth + 1);
        };
        match dep {
            Value::Array(names) => push(
                Test::Present,
                Vec::new(),
                names.iter().filter_map(Value::as_str).collect(),
                None,
                out,
            ),
            Value::Object(schema) => {
                let (properties, required) = parts(schema, "");
                let nested = schema.get("dependencies");
                // A schema with only a `oneOf` adds nothing by itself.
                if !properties.is_empty() || !required.is_empty() || nested.is_some() {
                    push(Test::Present, properties, required, nested, out);
                }
                let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) else {
                    continue;
                };
                let options: Vec<Option<&Value>> = one_of
                    .iter()
                    .map(|o| o.pointer(&format!("/properties/{}", escape(key))))
                    .collect();
                for (index, option) in one_of.iter().enumerate() {
                    let (Some(o), Some(_)) = (option.as_object(), options[index]) else {
                        continue;
                    };
                    let (properties, required) = parts(o, key);
                    let test = Test::OneOf {
                        index,
                        options: options.clone(),
                    };
                    push(test, properties, required, o.get("dependencies"), out);
                }
            }
            _ => {}
        }
    }
}

/// A property name as one JSON Pointer step.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn page() -> Map<String, Value> {
        json!({
            "properties": {
                "kind": {"type": "string", "enum": ["service", "library", "job"], "default": "service"},
                "expose": {"type": "boolean"},
                "team": {"type": "string"}
            },
            "dependencies": {
                "kind": {"oneOf": [
                    {"properties": {"kind": {"enum": ["service"]},
                                    "port": {"type": "integer", "default": 8080}},
                     "required": ["port"]},
                    {"properties": {"kind": {"const": "library"},
                                    "registry": {"type": "string"}}},
                    // Matches `library` too: with two options matching, rjsf applies neither.
                    {"properties": {"kind": {"enum": ["library", "job"]},
                                    "schedule": {"type": "string"}}}
                ]},
                "expose": {"properties": {"hostname": {"type": "string"}}, "required": ["hostname"]},
                "team": ["kind"],
                "nowhere": {"properties": {"ghost": {"type": "string"}}}
            }
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn values(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// The names of the properties the applying branches add.
    fn added(page: &Map<String, Value>, v: Value) -> Vec<&str> {
        let v = values(v);
        branches(page)
            .into_iter()
            .filter(|b| b.applies(&v))
            .flat_map(|b| b.properties.into_iter().map(|(n, _)| n))
            .collect()
    }

    #[test]
    fn lists_every_branch_and_skips_dependencies_on_unknown_properties() {
        let p = page();
        let all = branches(&p);
        let adds: Vec<Vec<&str>> = all
            .iter()
            .map(|b| b.properties.iter().map(|(n, _)| *n).collect())
            .collect();
        // kind's three options, expose, team's list form; not `nowhere`.
        assert_eq!(
            adds,
            [
                vec!["port"],
                vec!["registry"],
                vec!["schedule"],
                vec!["hostname"],
                vec![]
            ]
        );
        assert_eq!(all[0].required, ["port"]);
        assert_eq!(all[4].required, ["kind"]);
        assert_eq!(
            all[0].when[0].values(),
            Some(vec![&json!("service")]),
            "enum"
        );
        assert_eq!(
            all[1].when[0].values(),
            Some(vec![&json!("library")]),
            "const"
        );
        assert_eq!(all[3].when[0].values(), None);
    }

    #[test]
    fn a_oneof_option_applies_when_it_alone_matches_the_value() {
        let p = page();
        assert_eq!(added(&p, json!({"kind": "service"})), ["port"]);
        assert_eq!(added(&p, json!({"kind": "job"})), ["schedule"]);
        // `library` matches two options: rjsf applies neither.
        assert!(added(&p, json!({"kind": "library"})).is_empty());
        assert!(added(&p, json!({"kind": "other"})).is_empty());
        // No value, no branch (the `oneOf` is skipped, though every option accepts "nothing").
        assert!(added(&p, json!({})).is_empty());
    }

    #[test]
    fn a_plain_dependency_applies_when_the_property_is_present_even_false() {
        let p = page();
        assert_eq!(added(&p, json!({"expose": true})), ["hostname"]);
        // rjsf tests `!== undefined`: an unticked box that has a value (false) counts.
        assert_eq!(added(&p, json!({"expose": false})), ["hostname"]);
        assert!(added(&p, json!({"team": "x"})).is_empty());
        let v = values(json!({"team": "x"}));
        assert!(branches(&p)[4].applies(&v), "the list form adds required");
    }

    #[test]
    fn nested_dependencies_carry_their_parents_conditions() {
        let p = json!({
            "properties": {"kind": {"enum": ["service", "library"]}},
            "dependencies": {
                "kind": {"oneOf": [
                    {"properties": {"kind": {"enum": ["service"]}, "public": {"type": "boolean"}},
                     "dependencies": {"public": {"properties": {"domain": {"type": "string"}}}}},
                    {"properties": {"kind": {"enum": ["library"]}}}
                ]},
                // Keyed on a property only the service option adds.
                "public": {"properties": {"cert": {"type": "string"}}}
            }
        });
        let p = p.as_object().unwrap();
        assert_eq!(
            added(p, json!({"kind": "service", "public": true})),
            ["public", "domain", "cert"]
        );
        // `public` left over from another choice: its dependents stay out with their parent.
        assert!(added(p, json!({"kind": "library", "public": true})).is_empty());
        assert_eq!(added(p, json!({"kind": "service"})), ["public"]);
    }
}
