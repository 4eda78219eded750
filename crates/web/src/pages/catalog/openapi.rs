//! An OpenAPI (3.x) or Swagger (2.0) definition as a list of operations with their parameters,
//! for the API entity page. Only what a reader scanning an API needs: method, path, summary,
//! parameters (with local `$ref`s resolved), request body media types and response codes.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// `path`, `query`, `header`, `cookie` (or Swagger's `body`/`formData`).
    pub location: String,
    pub required: bool,
    pub ty: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub method: String,
    pub path: String,
    pub summary: String,
    pub operation_id: String,
    pub deprecated: bool,
    pub params: Vec<Param>,
    /// Media types of the request body.
    pub body: Vec<String>,
    pub responses: Vec<String>,
}

impl Operation {
    pub fn method_class(&self) -> String {
        self.method.to_lowercase()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiDoc {
    pub title: String,
    pub version: String,
    pub servers: Vec<String>,
    pub operations: Vec<Operation>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Operations listed at most; a definition bigger than this is summarised.
pub const MAX_OPERATIONS: usize = 500;

/// Parses a definition (YAML or JSON). `None` when it is not an OpenAPI/Swagger document.
pub fn parse(definition: &str) -> Option<ApiDoc> {
    let doc = model::yaml::parse_documents(definition)
        .into_iter()
        .next()?
        .result
        .ok()?;
    from_value(&doc)
}

pub fn from_value(doc: &Value) -> Option<ApiDoc> {
    if doc.get("openapi").is_none() && doc.get("swagger").is_none() {
        return None;
    }
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut servers: Vec<String> = doc
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|sv| sv.get("url").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if let Some(host) = doc.get("host").and_then(Value::as_str) {
        servers.push(format!("{host}{}", s(doc.get("basePath"))));
    }
    let mut operations = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        'paths: for (path, item) in paths {
            let item = resolve(doc, item);
            let shared: Vec<Param> = params(doc, item.get("parameters"));
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                if operations.len() >= MAX_OPERATIONS {
                    break 'paths;
                }
                let mut ps = shared.clone();
                // An operation's own parameter replaces a path-level one of the same name and place.
                for p in params(doc, op.get("parameters")) {
                    ps.retain(|q| !(q.name == p.name && q.location == p.location));
                    ps.push(p);
                }
                let body = op
                    .get("requestBody")
                    .map(|b| resolve(doc, b))
                    .and_then(|b| b.get("content"))
                    .and_then(Value::as_object)
                    .map(|c| c.keys().cloned().collect())
                    .unwrap_or_default();
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default();
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: s(op.get("summary").or_else(|| op.get("description"))),
                    operation_id: s(op.get("operationId")),
                    deprecated: op
                        .get("deprecated")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    params: ps,
                    body,
                    responses,
                });
            }
        }
    }
    Some(ApiDoc {
        title: s(doc.pointer("/info/title")),
        version: s(doc.pointer("/info/version")),
        servers,
        operations,
    })
}

/// Follows a local `$ref` (`#/components/...`), at most a few hops; anything else is returned as is.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

fn params(doc: &Value, list: Option<&Value>) -> Vec<Param> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?.to_owned();
            let location = p
                .get("in")
                .and_then(Value::as_str)
                .unwrap_or("query")
                .to_owned();
            let schema = p.get("schema").map(|sc| resolve(doc, sc)).unwrap_or(p);
            Some(Param {
                required: p
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(location == "path"),
                ty: type_name(p.get("schema").unwrap_or(schema), schema),
                description: p
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                name,
                location,
            })
        })
        .collect()
}

/// `string`, `integer(int64)`, `array<string>`, or a referenced schema's name.
fn type_name(raw: &Value, schema: &Value) -> String {
    if let Some(r) = raw.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match ty {
        "array" => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            format!("array<{}>", type_name(items, items))
        }
        "" => String::new(),
        t => match schema.get("format").and_then(Value::as_str) {
            Some(f) => format!("{t}({f})"),
            None => t.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETS: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: "1.2"}
servers: [{url: "https://pets.example/v1"}]
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, schema: {type: string}}
      - {name: trace, in: header, schema: {type: string}}
    get:
      summary: Get a pet
      operationId: getPet
      parameters:
        - $ref: "#/components/parameters/Expand"
        - {name: trace, in: header, required: true, schema: {type: integer, format: int32}}
      responses: {"200": {description: ok}, "404": {description: missing}}
    delete:
      deprecated: true
      responses: {"204": {description: gone}}
  /pets:
    post:
      requestBody: {$ref: "#/components/requestBodies/Pet"}
      responses: {"201": {description: made}}
components:
  parameters:
    Expand: {name: expand, in: query, schema: {type: array, items: {$ref: "#/components/schemas/Field"}}}
  requestBodies:
    Pet: {content: {application/json: {schema: {type: object}}}}
"##;

    #[test]
    fn operations_with_parameters_are_extracted() {
        let doc = parse(PETS).unwrap();
        assert_eq!((doc.title.as_str(), doc.version.as_str()), ("Pets", "1.2"));
        assert_eq!(doc.servers, vec!["https://pets.example/v1"]);
        let ops: Vec<(&str, &str)> = doc
            .operations
            .iter()
            .map(|o| (o.method.as_str(), o.path.as_str()))
            .collect();
        assert_eq!(
            ops,
            vec![
                ("GET", "/pets/{id}"),
                ("DELETE", "/pets/{id}"),
                ("POST", "/pets")
            ]
        );
        let get = &doc.operations[0];
        assert_eq!(get.operation_id, "getPet");
        let names: Vec<(&str, &str, bool, &str)> = get
            .params
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location.as_str(),
                    p.required,
                    p.ty.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("id", "path", true, "string"),
                ("expand", "query", false, "array<Field>"),
                ("trace", "header", true, "integer(int32)"),
            ]
        );
        assert_eq!(get.responses, vec!["200", "404"]);
        assert!(doc.operations[1].deprecated);
        assert_eq!(doc.operations[2].body, vec!["application/json"]);
    }

    #[test]
    fn swagger_two_and_json_are_read_and_others_refused() {
        let doc = parse(r#"{"swagger": "2.0", "host": "api.example", "basePath": "/v2", "paths": {"/a": {"get": {"parameters": [{"name": "q", "in": "query", "type": "string"}]}}}}"#).unwrap();
        assert_eq!(doc.servers, vec!["api.example/v2"]);
        assert_eq!(doc.operations[0].params[0].ty, "string");
        assert!(parse("asyncapi: 2.6.0\nchannels: {}").is_none());
        assert!(parse("type Query { a: Int }").is_none());
    }

    #[test]
    fn ref_cycles_do_not_hang() {
        let doc = parse("openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/A'\ncomponents:\n  parameters:\n    A: {$ref: '#/components/parameters/A'}\n").unwrap();
        assert!(doc.operations[0].params.is_empty());
    }
}
