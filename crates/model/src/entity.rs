//! Read helpers over an entity held as a JSON object (unknown fields survive untouched).

use serde_json::Value;

/// An entity is kept as JSON so that fields Stagedoor does not know about round-trip unchanged.
pub type Entity = serde_json::Map<String, Value>;

/// The string at a dotted path (`metadata.name`, `spec.owner`), if present and a string.
pub fn str_at<'a>(entity: &'a Entity, path: &str) -> Option<&'a str> {
    value_at(entity, path).and_then(Value::as_str)
}

/// The value at a dotted path.
pub fn value_at<'a>(entity: &'a Entity, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = entity.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// `metadata.namespace`, defaulting to `default` as Backstage does.
pub fn namespace(entity: &Entity) -> &str {
    str_at(entity, "metadata.namespace").unwrap_or("default")
}
