//! Backstage's flattened search rows for one entity: the key/value pairs that `filter=`,
//! ordering, facets and full-text search match against.
//!
//! The rules follow the catalog's search table: keys are lower-cased dotted paths; an array
//! yields one row per element under the array's own path, plus a `<path>.<element>` = `true`
//! row for each string element; values are lower-cased strings (numbers and booleans
//! stringified like JavaScript does); keys longer than 200 UTF-16 units are dropped and values
//! longer than that are kept as a null row (so the key still exists); `attachments`, `status`
//! and the raw `relations` array are not indexed, `relations.<type>` rows carry each target
//! ref instead; `metadata.namespace` gets a `default` row when the entity has none; and a
//! (key, value) pair appears once, the first occurrence winning.

use serde_json::Value;

/// Longest key, in UTF-16 code units (JavaScript's `length`), that gets a row.
pub const MAX_KEY_LENGTH: usize = 200;
/// Longest value, in UTF-16 code units, kept as a value; longer ones become a null row.
pub const MAX_VALUE_LENGTH: usize = 200;

/// Paths that the generic walk skips; the names, namespace and uid are appended afterwards
/// so that they come out exactly once and in a fixed place, and etag is never searchable.
const SPECIAL_PATHS: [&str; 7] = [
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];

/// The search rows of an entity as (lower-cased key, lower-cased value or `None` for null).
#[cfg(test)]
pub fn search_rows(entity: &Value) -> Vec<(String, Option<String>)> {
    search_rows_with_original(entity)
        .into_iter()
        .map(|(key, value)| (key, value.map(|(lower, _)| lower)))
        .collect()
}

/// Search rows with the value as the entity spelled it, which is what facets report.
#[cfg(test)]
pub fn search_rows_with_original(entity: &Value) -> Vec<(String, Option<(String, String)>)> {
    let mut sink = RowSink::default();
    sink.collect(entity);
    sink.rows
        .iter()
        .map(|row| {
            (
                sink.str(row.key).to_owned(),
                row.value
                    .map(|(lower, orig)| (sink.str(lower).to_owned(), sink.str(orig).to_owned())),
            )
        })
        .collect()
}

/// Whether `entity` has a value longer than [`MAX_VALUE_LENGTH`] at `key` (lower-cased) that
/// equals `value` (lower-cased). Such values are null rows in the index, as in Backstage, which
/// therefore can never match them; Stagedoor checks the candidates' own JSON instead.
pub fn has_long_value(entity: &Value, key: &str, value: &str) -> bool {
    let mut sink = RowSink {
        unbounded: true,
        ..RowSink::default()
    };
    sink.collect(entity);
    sink.rows.iter().any(|row| {
        sink.str(row.key) == key && row.value.is_some_and(|(lower, _)| sink.str(lower) == value)
    })
}

/// Keys of the entity (as search rows would have them) that differ only in casing, such as
/// `metadata.labels.Tier` next to `metadata.labels.tier`. Backstage refuses to index such an
/// entity, so it never reaches the catalog; callers should report it as a processing error.
pub fn case_conflicts(entity: &serde_json::Map<String, Value>) -> Vec<String> {
    fn walk(path: &mut String, v: &Value, keys: &mut Vec<String>, elements: &mut Vec<String>) {
        if SPECIAL_PATHS.contains(&path.as_str()) {
            return;
        }
        match v {
            Value::Array(items) => {
                for item in items {
                    walk(path, item, keys, elements);
                    if let Value::String(s) = item {
                        // Element keys are already deduplicated by their lower-cased form.
                        let key = format!("{path}.{s}");
                        if !elements
                            .iter()
                            .any(|e| e.to_lowercase() == key.to_lowercase())
                        {
                            elements.push(key.clone());
                            keys.push(key);
                        }
                    }
                }
            }
            Value::Object(map) => {
                let base = path.len();
                for (k, v) in map {
                    if base > 0 {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(path, v, keys, elements);
                    path.truncate(base);
                }
            }
            _ => keys.push(path.clone()),
        }
    }
    let (mut keys, mut elements, mut path) = (Vec::new(), Vec::new(), String::new());
    for (k, v) in entity {
        path.clear();
        path.push_str(k);
        walk(&mut path, v, &mut keys, &mut elements);
    }
    keys.extend(["metadata.name", "metadata.namespace", "metadata.uid"].map(str::to_owned));
    if let Some(Value::Array(relations)) = entity.get("relations") {
        for relation in relations {
            let mut key = String::from("relations.");
            match relation.get("type") {
                Some(t) => js_string(t, &mut key),
                None => key.push_str("undefined"),
            }
            keys.push(key);
        }
    }
    keys.sort();
    keys.dedup();
    let mut lowered: Vec<String> = keys.iter().map(|k| k.to_lowercase()).collect();
    lowered.sort();
    let mut conflicts: Vec<String> = lowered
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].clone())
        .collect();
    conflicts.dedup();
    conflicts
}

/// A byte range in [`RowSink::text`].
pub(crate) type Span = (u32, u32);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub key: Span,
    /// (lower-cased, original); the two spans are equal when lower-casing changed nothing.
    pub value: Option<(Span, Span)>,
    /// [`fx_hash`] of the key, and of the lower-cased value (0 for null), computed here on the
    /// extraction threads so the single-threaded interning step does not hash again.
    pub key_hash: u64,
    pub value_hash: u64,
}

/// Reusable buffers for extracting rows, so indexing a large catalog does a handful of
/// allocations per batch rather than several per row.
#[derive(Debug, Default)]
pub(crate) struct RowSink {
    pub text: String,
    pub rows: Vec<Row>,
    /// The dotted path being visited, as written (special paths are matched on this) and
    /// lower-cased (what rows are keyed by), kept in step so no key is lower-cased per row.
    path: String,
    lower_path: String,
    element_keys: Vec<Span>,
    order: Vec<(u64, u32)>,
    keep: Vec<bool>,
    scratch: String,
    /// Keep values of any length (for matching a long filter value), not only Backstage's 200.
    unbounded: bool,
}

impl RowSink {
    pub fn str(&self, span: Span) -> &str {
        &self.text[span.0 as usize..(span.0 + span.1) as usize]
    }

    /// Replaces the rows with those of `entity`.
    pub fn collect(&mut self, entity: &Value) {
        self.text.clear();
        self.rows.clear();
        self.path.clear();
        self.lower_path.clear();
        self.element_keys.clear();
        self.visit(entity);

        let metadata = entity.get("metadata");
        let field = |name: &str| metadata.and_then(|m| m.get(name));
        self.push_row("metadata.name", field("name"));
        let namespace = field("namespace");
        self.push_row("metadata.namespace", namespace);
        self.push_row("metadata.uid", field("uid"));
        if !is_truthy(namespace) {
            self.push_row("metadata.namespace", Some(&Value::String("default".into())));
        }
        if let Some(Value::Array(relations)) = entity.get("relations") {
            let mut key = std::mem::take(&mut self.scratch);
            for relation in relations {
                key.clear();
                key.push_str("relations.");
                match relation.get("type") {
                    Some(t) => js_string(t, &mut key),
                    None => key.push_str("undefined"),
                }
                push_lower_in_place(&mut key, "relations.".len());
                self.push_row(&key, relation.get("targetRef"));
            }
            self.scratch = key;
        }
        self.dedupe();
    }

    fn visit(&mut self, current: &Value) {
        if SPECIAL_PATHS.contains(&self.path.as_str()) {
            return;
        }
        match current {
            Value::Array(items) => {
                for item in items {
                    self.visit(item);
                    if let Value::String(s) = item {
                        self.push_element_key(s);
                    }
                }
            }
            Value::Object(map) => {
                let (base, lower_base) = (self.path.len(), self.lower_path.len());
                for (k, v) in map {
                    if base > 0 {
                        self.path.push('.');
                        self.lower_path.push('.');
                    }
                    self.path.push_str(k);
                    let at = self.lower_path.len();
                    self.lower_path.push_str(k);
                    push_lower_in_place(&mut self.lower_path, at);
                    self.visit(v);
                    self.path.truncate(base);
                    self.lower_path.truncate(lower_base);
                }
            }
            primitive => {
                let key = std::mem::take(&mut self.lower_path);
                self.push_row(&key, Some(primitive));
                self.lower_path = key;
            }
        }
    }

    /// The `<path>.<element>` = true row, once per lower-cased key across the whole entity.
    fn push_element_key(&mut self, element: &str) {
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        key.push_str(&self.lower_path);
        key.push('.');
        let at = key.len();
        key.push_str(element);
        push_lower_in_place(&mut key, at);
        let seen = self.element_keys.iter().any(|&span| self.str(span) == key);
        if !seen {
            // Remembered in `text` even when the row itself is dropped for length, so later
            // repeats are skipped either way.
            let start = self.text.len();
            self.text.push_str(&key);
            self.element_keys.push((start as u32, key.len() as u32));
            self.push_row(&key, Some(&Value::Bool(true)));
        }
        self.scratch = key;
    }

    /// Adds a row; `key` must already be lower-cased.
    fn push_row(&mut self, key: &str, value: Option<&Value>) {
        if js_length(key) > MAX_KEY_LENGTH {
            return;
        }
        let key_start = self.text.len();
        self.text.push_str(key);
        let key_span = (key_start as u32, key.len() as u32);
        let value = match value {
            None | Some(Value::Null) => None,
            Some(v) => {
                let orig_start = self.text.len();
                js_string(v, &mut self.text);
                let orig = (orig_start as u32, (self.text.len() - orig_start) as u32);
                let lower = if has_upper(self.str(orig)) {
                    let lower_start = self.text.len();
                    if self.str(orig).is_ascii() {
                        self.text.extend_from_within(orig_start..lower_start);
                        self.text[lower_start..].make_ascii_lowercase();
                    } else {
                        let lowered = self.str(orig).to_lowercase();
                        self.text.push_str(&lowered);
                    }
                    (lower_start as u32, (self.text.len() - lower_start) as u32)
                } else {
                    orig
                };
                // Backstage measures the lower-cased value.
                if !self.unbounded && js_length(self.str(lower)) > MAX_VALUE_LENGTH {
                    self.text.truncate(orig_start);
                    None
                } else if lower != orig && self.str(lower) == self.str(orig) {
                    self.text.truncate(lower.0 as usize);
                    Some((orig, orig))
                } else {
                    Some((lower, orig))
                }
            }
        };
        self.rows.push(Row {
            key: key_span,
            value,
            key_hash: fx_hash(key),
            value_hash: value.map_or(0, |(lower, _)| fx_hash(self.str(lower))),
        });
    }

    /// Drops repeated (key, lower-cased value) pairs, keeping the first. Sorting by hash
    /// keeps this to integer compares; strings are compared only where hashes agree.
    fn dedupe(&mut self) {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(self.rows.iter().enumerate().map(|(i, r)| {
            let h = r.key_hash ^ r.value_hash.rotate_left(29) ^ u64::from(r.value.is_none());
            (h, i as u32)
        }));
        order.sort_unstable();
        let mut keep = std::mem::take(&mut self.keep);
        keep.clear();
        keep.resize(self.rows.len(), true);
        let same = |a: &Row, b: &Row| {
            self.str(a.key) == self.str(b.key)
                && a.value.map(|v| self.str(v.0)) == b.value.map(|v| self.str(v.0))
        };
        let mut any_dropped = false;
        let mut group = 0;
        while group < order.len() {
            let end = group
                + order[group..]
                    .iter()
                    .take_while(|(h, _)| *h == order[group].0)
                    .count();
            // Indices ascend within a group, so the first of equal rows is the one kept.
            for i in group..end {
                let a = order[i].1 as usize;
                if !keep[a] {
                    continue;
                }
                for &(_, b) in &order[i + 1..end] {
                    let b = b as usize;
                    if keep[b] && same(&self.rows[a], &self.rows[b]) {
                        keep[b] = false;
                        any_dropped = true;
                    }
                }
            }
            group = end;
        }
        if any_dropped {
            let mut i = 0;
            self.rows.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        self.order = order;
        self.keep = keep;
    }
}

/// FxHash: the index hashes millions of short strings, where SipHash's DoS resistance buys
/// nothing (the input is our own catalog) and costs a good share of build time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(FX_K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(FX_K);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Hash of a string for the index's tables; they take their slot from the high bits, which
/// the final multiply mixes best.
pub(crate) fn fx_hash(s: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

/// Lower-cases `s[from..]` in place.
fn push_lower_in_place(s: &mut String, from: usize) {
    if s[from..].is_ascii() {
        s[from..].make_ascii_lowercase();
    } else {
        let lowered = s[from..].to_lowercase();
        s.truncate(from);
        s.push_str(&lowered);
    }
}

/// JavaScript's truthiness for the namespace default: absent, null, "" , 0 and false all
/// count as "no namespace".
fn is_truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(_) => true,
    }
}

/// Length in UTF-16 code units, as JavaScript counts it.
pub(crate) fn js_length(s: &str) -> usize {
    // UTF-16 never needs more units than UTF-8 needs bytes, so short strings skip the count.
    if s.len() <= MAX_KEY_LENGTH.min(MAX_VALUE_LENGTH) {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

fn has_upper(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        true
    }
}

/// Appends the lower-cased form of `s`.
pub(crate) fn push_lower(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Lower-cases without allocating when there is nothing to change.
pub(crate) fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if has_upper(s) {
        let mut out = String::with_capacity(s.len());
        push_lower(s, &mut out);
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Appends `String(value)` as JavaScript would produce it for a primitive.
fn js_string(value: &Value, out: &mut String) {
    use std::fmt::Write;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(s),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                if u < (1u64 << 53) {
                    let _ = write!(out, "{u}");
                } else {
                    js_number(u as f64, out);
                }
            } else if let Some(f) = n.as_f64() {
                js_number(f, out);
            }
        }
        // Only reached for odd shapes (an object where a relation type should be); JavaScript
        // would print these via toString, which no valid entity relies on.
        Value::Array(_) | Value::Object(_) => out.push_str("[object Object]"),
    }
}

/// JavaScript's Number-to-String: plain decimals between 1e-6 and 1e21, exponent form outside.
fn js_number(f: f64, out: &mut String) {
    use std::fmt::Write;
    if f == 0.0 {
        out.push('0');
    } else if !f.is_finite() {
        out.push_str(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
    } else if (1e-6..1e21).contains(&f.abs()) {
        let _ = write!(out, "{f}");
    } else {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<(String, Option<String>)> {
        search_rows(&v)
    }

    fn has(rows: &[(String, Option<String>)], k: &str, v: Option<&str>) -> bool {
        rows.iter().any(|(rk, rv)| rk == k && rv.as_deref() == v)
    }

    #[test]
    fn flattens_lowercases_and_skips_special_paths() {
        let r = rows(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "Payments-API",
                "etag": "abc",
                "uid": "U-1",
                "annotations": {"Backstage.io/Source-Location": "url:https://X/Y"},
                "tags": ["Java", "web"],
            },
            "spec": {"type": "service", "replicas": 3, "ratio": 0.5, "enabled": false, "none": null},
            "status": {"items": [{"level": "error"}]},
            "attachments": ["x"],
            "relations": [
                {"type": "ownedBy", "targetRef": "group:default/Team-A", "target": {"kind": "group"}},
            ],
        }));
        assert!(has(&r, "kind", Some("component")));
        assert!(has(&r, "apiversion", Some("backstage.io/v1alpha1")));
        assert!(has(&r, "metadata.name", Some("payments-api")));
        assert!(has(&r, "metadata.uid", Some("u-1")));
        assert!(has(&r, "metadata.namespace", None));
        assert!(has(&r, "metadata.namespace", Some("default")));
        assert!(has(
            &r,
            "metadata.annotations.backstage.io/source-location",
            Some("url:https://x/y")
        ));
        assert!(has(&r, "metadata.tags", Some("java")));
        assert!(has(&r, "metadata.tags", Some("web")));
        assert!(has(&r, "metadata.tags.java", Some("true")));
        assert!(has(&r, "metadata.tags.web", Some("true")));
        assert!(has(&r, "spec.replicas", Some("3")));
        assert!(has(&r, "spec.ratio", Some("0.5")));
        assert!(has(&r, "spec.enabled", Some("false")));
        assert!(has(&r, "spec.none", None));
        assert!(has(&r, "relations.ownedby", Some("group:default/team-a")));
        assert!(!r.iter().any(|(k, _)| k.starts_with("status")
            || k.starts_with("attachments")
            || k == "metadata.etag"
            || k.starts_with("relations.ownedby.")
            || k == "relations"));
        // Each of name/uid appears exactly once despite being skipped by the walk.
        assert_eq!(r.iter().filter(|(k, _)| k == "metadata.name").count(), 1);
    }

    #[test]
    fn namespace_given_is_not_defaulted() {
        let r = rows(json!({"kind": "Group", "metadata": {"name": "a", "namespace": "Prod"}}));
        assert!(has(&r, "metadata.namespace", Some("prod")));
        assert!(!has(&r, "metadata.namespace", Some("default")));
        assert!(has(&r, "metadata.uid", None));
    }

    #[test]
    fn long_keys_dropped_long_values_nulled() {
        let long_key = "k".repeat(200);
        let r = rows(json!({"metadata": {"name": "a", "annotations": {
            long_key.clone(): "short",
            "x": "v".repeat(201),
            "y": "é".repeat(200),
        }}, "spec": {"tags": ["t".repeat(250)]}}));
        assert!(!r.iter().any(|(k, _)| k.contains(&long_key)));
        assert!(has(&r, "metadata.annotations.x", None));
        assert!(has(&r, "metadata.annotations.y", Some(&"é".repeat(200))));
        // The element value is too long, and so is its `<path>.<element>` key.
        assert!(has(&r, "spec.tags", None));
        assert_eq!(
            r.iter()
                .filter(|(k, _)| k.starts_with("spec.tags."))
                .count(),
            0
        );
    }

    #[test]
    fn duplicates_after_lowercasing_are_dropped() {
        let r = rows(json!({"metadata": {"name": "a", "tags": ["X", "x", "x"]}}));
        assert_eq!(r.iter().filter(|(k, _)| k == "metadata.tags").count(), 1);
        assert_eq!(r.iter().filter(|(k, _)| k == "metadata.tags.x").count(), 1);
        let o = search_rows_with_original(&json!({"metadata": {"name": "a", "tags": ["X", "x"]}}));
        let tag = o.iter().find(|(k, _)| k == "metadata.tags").unwrap();
        assert_eq!(tag.1, Some(("x".to_owned(), "X".to_owned())));
    }

    #[test]
    fn nested_arrays_and_objects_in_arrays() {
        let r =
            rows(json!({"spec": {"links": [{"url": "U", "title": "T"}], "m": [[1, 2], ["a"]]}}));
        assert!(has(&r, "spec.links.url", Some("u")));
        assert!(has(&r, "spec.links.title", Some("t")));
        assert!(has(&r, "spec.m", Some("1")));
        assert!(has(&r, "spec.m", Some("2")));
        assert!(has(&r, "spec.m", Some("a")));
        assert!(has(&r, "spec.m.a", Some("true")));
    }

    #[test]
    fn case_conflicts_found_like_backstage() {
        let ok = json!({"metadata": {"name": "a", "tags": ["X", "x"], "labels": {"a": "1"}},
                        "relations": [{"type": "ownedBy", "targetRef": "g:d/x"}, {"type": "ownedBy", "targetRef": "g:d/y"}]});
        assert!(case_conflicts(ok.as_object().unwrap()).is_empty());
        let bad = json!({"metadata": {"name": "a", "labels": {"Tier": "1", "tier": "2"}},
                         "relations": [{"type": "OwnedBy", "targetRef": "g:d/x"}, {"type": "ownedBy", "targetRef": "g:d/y"}]});
        assert_eq!(
            case_conflicts(bad.as_object().unwrap()),
            ["metadata.labels.tier", "relations.ownedby"]
        );
    }

    #[test]
    fn numbers_print_like_javascript() {
        let mut s = String::new();
        for (v, want) in [
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(123456.25), "123456.25"),
            (json!(-4), "-4"),
            (json!(2.0), "2"),
        ] {
            s.clear();
            js_string(&v, &mut s);
            assert_eq!(s, want);
        }
    }
}
