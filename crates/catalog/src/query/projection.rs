//! Field projection: keep only the asked-for dotted paths of an entity.

use super::*;

/// `fields=` projection of a final entity JSON; no fields means the whole entity.
pub fn project(body: &str, fields: &[String]) -> Value {
    match serde_json::from_str::<Value>(body) {
        Ok(entity) => project_value(&entity, fields),
        Err(_) => Value::Null,
    }
}

/// As [`project`], for an entity already parsed. Each field is a dotted path; a segment that
/// is not a key is joined with the next one, so `metadata.annotations.backstage.io/x` reaches
/// an annotation whose name contains dots. Fields may also be given comma-separated.
pub fn project_value(entity: &Value, fields: &[String]) -> Value {
    // A set beside the list keeps de-duplication linear: with a `Vec::contains` per field,
    // 10,900 fields took 29 s per page.
    let mut seen = std::collections::HashSet::new();
    let wanted: Vec<&str> = fields
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty() && seen.insert(*f))
        .collect();
    if wanted.is_empty() {
        return entity.clone();
    }
    let mut out = Value::Object(Map::new());
    for field in wanted {
        let mut parts: Vec<String> = field.split('.').map(str::to_owned).collect();
        let mut path: Vec<String> = Vec::new();
        let mut current = Some(entity);
        for i in 0..parts.len() {
            let part = parts[i].clone();
            match current.and_then(|c| child(c, &part)) {
                Some(next) => {
                    path.push(part);
                    current = Some(next);
                }
                None if i + 1 < parts.len() => parts[i + 1] = format!("{part}.{}", parts[i + 1]),
                None => current = None,
            }
        }
        if let Some(value) = current
            && !path.is_empty()
        {
            set_path(&mut out, &path, value.clone());
        }
    }
    out
}

pub(super) fn child<'a>(v: &'a Value, part: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(part),
        Value::Array(a) => index_of(part).and_then(|i| a.get(i)),
        _ => None,
    }
}

pub(super) fn index_of(part: &str) -> Option<usize> {
    let canonical =
        part == "0" || (!part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()));
    if canonical { part.parse().ok() } else { None }
}

/// Sets `value` at `path`, creating arrays for numeric segments and objects otherwise, and
/// replacing anything in the way that is not a container.
pub(super) fn set_path(container: &mut Value, path: &[String], value: Value) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    let slot = match container {
        Value::Object(m) => m.entry(head.clone()).or_insert(Value::Null),
        Value::Array(a) => {
            // A named property on an array does not survive JSON serialisation.
            let Some(i) = index_of(head) else { return };
            if a.len() <= i {
                a.resize(i + 1, Value::Null);
            }
            &mut a[i]
        }
        _ => return,
    };
    if rest.is_empty() {
        *slot = value;
        return;
    }
    if !slot.is_object() && !slot.is_array() {
        *slot = if index_of(&rest[0]).is_some() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        };
    }
    set_path(slot, rest, value);
}
