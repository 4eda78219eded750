//! Stitching: a processed entity plus its relations, errors and identity becomes the final
//! entity the API serves. A hash of the inputs lets unchanged entities skip all of this.

use model::Entity;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub use crate::processed::Processed;
use crate::processed::{ANNOTATION_ORPHAN, ProcessingError, hash_json};

pub const STATUS_TYPE: &str = "backstage.io/catalog-processing";

/// The final entity as JSON text. The common case is pure splicing; orphans and entities with a
/// status of their own take the parsed path.
pub fn stitch_text(
    p: &Processed,
    relations: &[(&str, &str)],
    errors: &[ProcessingError],
    orphan: bool,
    uid: &str,
    etag: &str,
) -> String {
    if orphan || p.has_status || p.meta_end == 0 {
        let (mut entity, _) = stitch(p.to_entity(), relations, errors, orphan, uid);
        if let Some(meta) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("etag".into(), json!(etag));
        }
        return serde_json::to_string(&entity).expect("JSON serialises");
    }
    let mut out = String::with_capacity(p.json.len() + 128 + relations.len() * 64);
    let meta = &p.json[..p.meta_end];
    out.push_str(meta);
    if !meta.ends_with('{') {
        out.push(',');
    }
    out.push_str("\"uid\":");
    out.push_str(&serde_json::to_string(uid).expect("strings serialise"));
    out.push_str(",\"etag\":");
    out.push_str(&serde_json::to_string(etag).expect("strings serialise"));
    out.push_str(&p.json[p.meta_end..p.json.len() - 1]);
    out.push_str(",\"relations\":[");
    for (i, (t, r)) in relations.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":");
        out.push_str(&serde_json::to_string(t).expect("strings serialise"));
        out.push_str(",\"targetRef\":");
        out.push_str(&serde_json::to_string(r).expect("strings serialise"));
        out.push('}');
    }
    out.push(']');
    if !errors.is_empty() {
        out.push_str(",\"status\":");
        out.push_str(&json!({"items": status_items(errors)}).to_string());
    }
    out.push('}');
    out
}

fn status_items(errors: &[ProcessingError]) -> Vec<Value> {
    errors
        .iter()
        .map(|e| json!({"type": STATUS_TYPE, "level": "error", "message": format!("{}: {}", e.name, e.message), "error": e}))
        .collect()
}

/// Everything that decides the final entity besides uid: if this hash is unchanged, so is the entity.
pub fn input_hash(
    processed: &[u8; 20],
    relations: &[(&str, &str)],
    errors: &[ProcessingError],
    orphan: bool,
) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(processed);
    for (t, target) in relations {
        h.update(t.as_bytes());
        h.update([0]);
        h.update(target.as_bytes());
        h.update([1]);
    }
    for e in errors {
        h.update(serde_json::to_vec(e).expect("errors serialise"));
    }
    h.update([orphan as u8]);
    h.finalize().into()
}

/// Builds the final entity: Backstage's `relations`, `status.items`, `metadata.uid` and
/// `metadata.etag` (a hash of the content, so it changes exactly when the entity does).
pub fn stitch(
    mut entity: Entity,
    relations: &[(&str, &str)],
    errors: &[ProcessingError],
    orphan: bool,
    uid: &str,
) -> (Entity, String) {
    if orphan && let Some(meta) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(ann) = ann.as_object_mut() {
            ann.insert(ANNOTATION_ORPHAN.into(), json!("true"));
        }
    }
    entity.insert(
        "relations".into(),
        Value::Array(
            relations
                .iter()
                .map(|(t, r)| json!({"type": t, "targetRef": r}))
                .collect(),
        ),
    );
    if !errors.is_empty() {
        let items = status_items(errors);
        let status = entity.entry("status").or_insert_with(|| json!({}));
        if let Some(status) = status.as_object_mut() {
            let list = status.entry("items").or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.extend(items);
            }
        }
    }
    let etag = hex(&hash_json(&entity));
    if let Some(meta) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("uid".into(), json!(uid));
        meta.insert("etag".into(), json!(etag));
    }
    (entity, etag)
}

/// Recovers the processed entity from a final one (for entities whose file was not re-read).
pub fn unstitch(body: &str) -> Option<Entity> {
    let Ok(Value::Object(mut entity)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    entity.remove("relations");
    if let Some(meta) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("uid");
        meta.remove("etag");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(ANNOTATION_ORPHAN);
        }
    }
    let empty_status = if let Some(status) = entity.get_mut("status").and_then(Value::as_object_mut)
    {
        if let Some(items) = status.get_mut("items").and_then(Value::as_array_mut) {
            items.retain(|i| i.get("type").and_then(Value::as_str) != Some(STATUS_TYPE));
            if items.is_empty() {
                status.remove("items");
            }
        }
        status.is_empty()
    } else {
        false
    };
    if empty_status {
        entity.remove("status");
    }
    Some(entity)
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `text` is [`hex`] of `bytes`, without making that string.
pub fn is_hex_of(text: &str, bytes: &[u8]) -> bool {
    text.len() == bytes.len() * 2
        && bytes
            .iter()
            .zip(text.as_bytes().chunks(2))
            .all(|(b, pair)| pair == [HEX_DIGITS[(b >> 4) as usize], HEX_DIGITS[(b & 15) as usize]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stitch_then_unstitch_round_trips() {
        let Value::Object(e) = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "a", "annotations": {"x": "y"}}, "spec": {"owner": "t"}})
        else {
            unreachable!()
        };
        let rels = vec![("ownedBy", "group:default/t")];
        let errs = vec![ProcessingError::new("InputError", "bad")];
        let (fin, etag) = stitch(e.clone(), &rels, &errs, true, "uid-1");
        assert_eq!(fin["metadata"]["uid"], "uid-1");
        assert_eq!(fin["metadata"]["etag"], json!(etag));
        assert_eq!(fin["metadata"]["annotations"][ANNOTATION_ORPHAN], "true");
        assert_eq!(fin["relations"][0]["targetRef"], "group:default/t");
        assert_eq!(fin["status"]["items"][0]["message"], "InputError: bad");
        let back = unstitch(&serde_json::to_string(&fin).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn spliced_text_equals_the_parsed_stitch() {
        let Value::Object(e) = json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "a", "tags": ["x"]}, "spec": {"owner": "t\"q"}})
        else {
            unreachable!()
        };
        let rels = vec![
            ("ownedBy", "group:default/t\"q"),
            ("partOf", "system:default/s"),
        ];
        let errs = [ProcessingError::new("InputError", "bad").at("/f.yaml", 3, 4)];
        for errors in [&errs[..], &[]] {
            let text = stitch_text(&Processed::new(&e), &rels, errors, false, "u-1", "tag");
            let spliced: Value = serde_json::from_str(&text).unwrap();
            let (mut parsed, _) = stitch(e.clone(), &rels, errors, false, "u-1");
            parsed["metadata"]["etag"] = json!("tag");
            assert_eq!(spliced, Value::Object(parsed));
        }
        let Value::Object(empty_meta) = json!({"kind": "X", "metadata": {}}) else {
            unreachable!()
        };
        let text = stitch_text(&Processed::new(&empty_meta), &[], &[], false, "u", "e");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["metadata"],
            json!({"uid": "u", "etag": "e"})
        );
    }

    #[test]
    fn input_hash_changes_with_each_input() {
        let p = [7u8; 20];
        let r = vec![("ownedBy", "group:default/t")];
        let base = input_hash(&p, &r, &[], false);
        assert_eq!(base, input_hash(&p, &r, &[], false));
        assert_ne!(base, input_hash(&[8u8; 20], &r, &[], false));
        assert_ne!(base, input_hash(&p, &[], &[], false));
        assert_ne!(
            base,
            input_hash(&p, &r, &[ProcessingError::new("E", "m")], false)
        );
        assert_ne!(base, input_hash(&p, &r, &[], true));
    }
}
