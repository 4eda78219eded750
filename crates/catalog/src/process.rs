//! One file's text to entities: parse, annotate, substitute `$text/$json/$yaml`, validate, apply
//! rules and collect declared relations. Failures are returned, never thrown, so one bad document
//! costs only itself.

use std::path::Path;
use std::sync::Arc;

use model::{Entity, EntityRef, relations, validate, yaml};
use serde_json::Value;

use crate::packed::{Packed, PackedSlice, Rare};
pub use crate::processed::{
    ANNOTATION_EDIT_URL, ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION,
    ANNOTATION_SOURCE_LOCATION, ANNOTATION_VIEW_URL, Processed, ProcessingError, REJECTED_URL,
    hash_json, sha1_bytes,
};
use crate::search;
use crate::settings::{CatalogSettings, LocationSpec, Rule};
use crate::source::{self, ReadError, UrlReader};

/// An entity a file produced, with what stitching needs to know about it. `body` is `None` when
/// the engine carried the entity over from an earlier round without re-reading its file.
#[derive(Debug, Clone)]
pub struct Emitted {
    /// The entity's ref, lower-cased as Backstage spells refs everywhere; [`settle`] packs a
    /// file's keys into one buffer.
    pub key: Packed,
    pub doc_index: usize,
    /// Boxed: the engine keeps every file's entities between rounds, almost all without a body.
    pub body: Option<Box<Processed>>,
    /// Hash of the processed body: equal hashes mean nothing in the file changed for it.
    pub hash: [u8; 20],
    /// Declared relations; [`settle`] puts a file's in one allocation and shares their
    /// targets across files.
    pub outgoing: PackedSlice<Declared>,
    pub errors: Rare<ProcessingError>,
    /// Targets of a Location entity, resolved against this file.
    pub children: Rare<LocationSpec>,
}

/// One declared relation as the engine keeps it between rounds, in 24 bytes: the target's ref,
/// shared by every entity naming that target (owners, systems and APIs repeat across
/// thousands of entities) and packed with the other targets first seen in the same file (see
/// [`settle`]), tagged with the built-in type's number.
#[derive(Debug, Clone)]
pub struct Declared {
    target: Packed,
}

impl Declared {
    /// The relation type, e.g. `ownedBy`.
    pub fn kind(&self) -> &'static str {
        relations::builtin_type(self.target.tag())
    }

    /// The target's ref, lower-cased.
    pub fn target(&self) -> &str {
        &self.target
    }
}

/// Declared relations as the engine keeps them between rounds.
pub fn shared_targets(outgoing: Vec<(&'static str, EntityRef)>) -> PackedSlice<Declared> {
    PackedSlice::new(
        outgoing
            .into_iter()
            .map(|(t, r)| Declared {
                target: Packed::from(r.to_string()).with_tag(
                    relations::builtin_index(t).expect("declared relations are built-in types"),
                ),
            })
            .collect(),
    )
}

/// The relation targets `entities` name, one shared copy each.
pub fn named_targets<'a, S: std::hash::BuildHasher + Default>(
    entities: impl Iterator<Item = &'a Emitted>,
) -> std::collections::HashSet<Packed, S> {
    let mut named = std::collections::HashSet::default();
    for d in entities.flat_map(|e| e.outgoing.iter()) {
        if !named.contains(d.target.as_str()) {
            named.insert(d.target.clone());
        }
    }
    named
}

/// Gives a parsed file's entities the form the engine keeps between rounds: their keys packed
/// into one buffer, each relation target replaced by the copy in `targets`, and the targets
/// new to `targets` packed into one more buffer and added to it. Runs on the engine's thread
/// once the parse is over (`packed.rs` says why).
pub fn settle<S: std::hash::BuildHasher>(
    entities: &mut [Emitted],
    targets: &mut std::collections::HashSet<Packed, S>,
) {
    Packed::pack(entities.iter_mut().map(|e| &mut e.key));
    let mut all: Vec<Declared> = entities
        .iter()
        .flat_map(|e| e.outgoing.iter().cloned())
        .collect();
    let mut new: Vec<&mut Packed> = Vec::new();
    for d in &mut all {
        match targets.get(d.target.as_str()) {
            Some(shared) => d.target = shared.clone().with_tag(d.target.tag()),
            None => new.push(&mut d.target),
        }
    }
    if !new.is_empty() {
        Packed::pack(new.iter_mut().map(|p| &mut **p));
        for p in new {
            targets.insert(p.clone());
        }
    }
    let all: Arc<[Declared]> = Arc::from(all);
    let mut at = 0;
    for e in entities {
        let len = e.outgoing.len();
        e.outgoing = PackedSlice::within(&all, at, len);
        at += len;
    }
}

/// A document that produced no entity. `key` is set when the document still named one, so the
/// engine can keep that entity's last good version with this error attached.
#[derive(Debug, Clone)]
pub struct Failure {
    pub doc_index: usize,
    pub key: Option<String>,
    pub error: ProcessingError,
}

#[derive(Debug, Default)]
pub struct FileOutput {
    pub entities: Vec<Emitted>,
    pub failures: Vec<Failure>,
}

/// Everything processing a file needs to know about where the file came from.
pub struct Context<'a> {
    pub settings: &'a CatalogSettings,
    pub urls: &'a UrlReader,
    /// The file itself (`file:/abs/path` or `url:https://…`).
    pub location: &'a LocationSpec,
    /// The root location it was reached from.
    pub origin: &'a str,
    pub rules: &'a [Rule],
    /// Real (canonical) directory that `$text`-style references from files may not escape;
    /// `None` when there is none, and file references then fail.
    pub root_dir: Option<&'a Path>,
    /// Runs URL reads for `$text`-style references; `None` where blocking on the runtime is not
    /// possible (a current-thread runtime), and such references then fail with a clear error.
    pub runtime: Option<&'a tokio::runtime::Handle>,
}

pub fn process_file(ctx: &Context<'_>, text: &str) -> FileOutput {
    #[cfg(test)]
    if text.contains(tests::PANIC_MARKER) {
        panic!("test hook: processing this file panics");
    }
    process_documents(ctx, text, yaml::parse_documents(text))
}

/// [`process_file`], with a panic caught: it is logged with the file and returned as that
/// file's error, so one file that trips a bug costs only itself, not the round.
pub fn process_file_guarded(ctx: &Context<'_>, text: &str) -> Result<FileOutput, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process_file(ctx, text))).map_err(
        |panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let file = ctx.location.key();
            tracing::error!(file = %model::redact::text(&file), "processing panicked: {what}");
            ReadError::Internal(model::redact::text(&format!(
                "processing {file} failed inside Stagedoor ({what}); the rest of the catalog \
                 was processed; please report this"
            )))
        },
    )
}

/// Like [`process_file`], for documents parsed beforehand (the engine parses files in parallel).
pub fn process_documents(ctx: &Context<'_>, text: &str, docs: Vec<yaml::Document>) -> FileOutput {
    let mut out = FileOutput {
        entities: Vec::with_capacity(docs.len()),
        failures: Vec::new(),
    };
    let file = ctx.location.target.as_str();
    // Indexed once, and only if a document fails: placing each error is then linear.
    let lines = std::cell::OnceCell::new();
    let lines = || lines.get_or_init(|| yaml::Lines::new(text));
    for doc in docs {
        let value = match doc.result {
            Ok(Value::Null) => continue,
            Ok(v) => v,
            Err(e) => {
                out.failures.push(Failure {
                    doc_index: doc.index,
                    key: None,
                    error: ProcessingError::new("InputError", format!("YAML error: {}", e.message))
                        .at(file, e.line, e.column),
                });
                continue;
            }
        };
        match process_document(ctx, &lines, doc.index, doc.line, value) {
            Ok(e) => out.entities.push(e),
            Err(f) => out.failures.push(*f),
        }
    }
    // Kept between rounds (the engine's per-file cache): no spare room.
    out.entities.shrink_to_fit();
    out
}

fn process_document<'t>(
    ctx: &Context<'_>,
    lines: &dyn Fn() -> &'t yaml::Lines<'t>,
    doc_index: usize,
    line: usize,
    value: Value,
) -> Result<Emitted, Box<Failure>> {
    let file = ctx.location.target.as_str();
    let fail = |key: Option<String>, path: &str, name: &str, message: String| {
        let (l, c) = if path.is_empty() {
            (line, 1)
        } else {
            lines().locate(line, path)
        };
        Box::new(Failure {
            doc_index,
            key,
            error: ProcessingError::new(name, message).at(file, l, c),
        })
    };
    let Value::Object(mut entity) = value else {
        return Err(fail(
            None,
            "",
            "InputError",
            "expected an entity (a YAML mapping)".into(),
        ));
    };
    let named_key = loose_ref(&entity).map(|r| r.key());

    if let Err((path, message)) = substitute(ctx, &mut entity) {
        return Err(fail(named_key, &path, "InputError", message));
    }

    annotate(&mut entity, ctx);

    let problems = problems(&entity);
    if let Some(p) = problems.first() {
        let all: Vec<String> = problems.iter().map(describe).collect();
        let subject = named_key.clone().unwrap_or_else(|| "entity".into());
        return Err(fail(
            named_key,
            &p.path,
            "InputError",
            format!("{subject} is invalid: {}", all.join("; ")),
        ));
    }
    // Backstage cannot index keys that differ only in case (`labels.Tier` beside `labels.tier`)
    // and refuses such an entity; so do we, naming the keys.
    let conflicts = search::case_conflicts(&entity);
    if !conflicts.is_empty() {
        return Err(fail(
            named_key,
            "",
            "InputError",
            format!(
                "Entity has duplicate keys that vary only in casing, '{}'",
                conflicts.join("', '")
            ),
        ));
    }
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let me = loose_ref(&entity).expect("validated entities have kind and name");

    if !ctx.settings.allows(&kind, ctx.location, ctx.rules) {
        return Err(fail(
            Some(me.key()),
            "kind",
            "NotAllowedError",
            format!(
                "kind {kind} is not allowed from {} by catalog.rules",
                ctx.location.key()
            ),
        ));
    }

    reject_script_urls(&mut entity);
    sort_relation_fields(&mut entity);
    let (outgoing, _) = relations::outgoing(&entity, &me);
    let children = if kind.eq_ignore_ascii_case("location") {
        location_targets(&entity, ctx.location)
    } else {
        vec![]
    };
    let processed = Processed::new(&entity);
    drop(entity);
    Ok(Emitted {
        key: Packed::from(me.key()),
        doc_index,
        hash: sha1_bytes(processed.json.as_bytes()),
        body: Some(Box::new(processed)),
        outgoing: shared_targets(outgoing),
        errors: Rare::default(),
        children: children.into(),
    })
}

/// Everything that stops an entity from entering the catalog, wherever it is checked (ingestion,
/// `POST /validate-entity`, `stagedoor validate`): Backstage's field rules, a kind Stagedoor
/// knows, and relation fields that parse as entity refs.
pub fn problems(entity: &Entity) -> Vec<validate::Problem> {
    let mut problems = validate::validate(entity);
    if !problems.is_empty() {
        return problems;
    }
    let kind = entity
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if model::kinds::canonical(kind).is_none() {
        problems.push(validate::Problem {
            path: "kind".into(),
            message: format!(
                "unsupported kind {kind:?}; known kinds are {}",
                model::kinds::BUILTIN.join(", ")
            ),
        });
    } else if let Some(me) = loose_ref(entity) {
        problems.extend(relations::outgoing(entity, &me).1);
    }
    problems
}

pub fn describe(p: &validate::Problem) -> String {
    if p.path.is_empty() {
        p.message.clone()
    } else {
        format!("{}: {}", p.path, p.message)
    }
}

/// The entity's reference if kind and name are at least strings, valid or not.
pub fn loose_ref(entity: &Entity) -> Option<EntityRef> {
    let kind = entity.get("kind")?.as_str()?;
    let name = model::entity::str_at(entity, "metadata.name")?;
    Some(EntityRef::new(kind, model::entity::namespace(entity), name))
}

/// What processing adds to every entity before validation: the default namespace (served as
/// `"namespace": "default"` when the file leaves it out, as Backstage does) and the location
/// annotations.
fn annotate(entity: &mut Entity, ctx: &Context<'_>) {
    let metadata = entity
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    metadata
        .entry("namespace")
        .or_insert_with(|| Value::String(model::entity_ref::DEFAULT_NAMESPACE.into()));
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(annotations) = annotations.as_object_mut() else {
        return;
    };
    let mut add = |k: &str, v: String| {
        annotations.entry(k).or_insert(Value::String(v));
    };
    add(ANNOTATION_LOCATION, ctx.location.key());
    add(ANNOTATION_ORIGIN_LOCATION, ctx.origin.to_owned());
    if ctx.location.kind == "url" {
        add(ANNOTATION_VIEW_URL, ctx.location.target.clone());
        let dir = source::resolve(ctx.location, "url", "./");
        add(ANNOTATION_SOURCE_LOCATION, format!("url:{}", dir.target));
    }
}

/// Relation fields whose string lists Backstage sorts while processing (relations are unordered,
/// and a source that lists them in a different order each time should not change the entity).
const SORTED_FIELDS: [&str; 7] = [
    "providesApis",
    "consumesApis",
    "dependsOn",
    "dependencyOf",
    "memberOf",
    "children",
    "members",
];

/// Sorts the [`SORTED_FIELDS`] of `spec` that are lists of strings, in JavaScript's default
/// order (UTF-16 code units), as Backstage serves them.
fn sort_relation_fields(entity: &mut Entity) {
    let Some(spec) = entity.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in SORTED_FIELDS {
        if let Some(Value::Array(items)) = spec.get_mut(field)
            && items.iter().all(Value::is_string)
        {
            items.sort_by(|a, b| {
                let (a, b) = (
                    a.as_str().unwrap_or_default(),
                    b.as_str().unwrap_or_default(),
                );
                a.encode_utf16().cmp(b.encode_utf16())
            });
        }
    }
}

/// A view or edit URL that would run script when clicked is replaced, as Backstage does: one that
/// starts with `javascript:` in any case, after leading control characters or spaces, with tabs
/// and newlines allowed inside the word (browsers ignore them there).
fn reject_script_urls(entity: &mut Entity) {
    let Some(annotations) = entity
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for key in [ANNOTATION_VIEW_URL, ANNOTATION_EDIT_URL] {
        if let Some(v) = annotations.get_mut(key)
            && v.as_str().is_some_and(is_script_url)
        {
            *v = Value::String(REJECTED_URL.into());
        }
    }
}

fn is_script_url(url: &str) -> bool {
    let mut chars = url
        .trim_start_matches(|c: char| c <= '\u{1f}' || c == ' ')
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'));
    "javascript:"
        .chars()
        .all(|want| chars.next().is_some_and(|c| c.eq_ignore_ascii_case(&want)))
}

/// A Location entity's `spec.target` and `spec.targets`, resolved against its own file.
pub fn location_targets(entity: &Entity, own: &LocationSpec) -> Vec<LocationSpec> {
    let spec = entity.get("spec").and_then(Value::as_object);
    let kind = spec
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or(own.kind.as_str());
    let mut targets: Vec<&str> = Vec::new();
    if let Some(t) = spec.and_then(|s| s.get("target")).and_then(Value::as_str) {
        targets.push(t);
    }
    if let Some(ts) = spec
        .and_then(|s| s.get("targets"))
        .and_then(Value::as_array)
    {
        targets.extend(ts.iter().filter_map(Value::as_str));
    }
    targets
        .into_iter()
        .map(|t| source::resolve(own, kind, t))
        .collect()
}

/// Replaces `{$text: path}`, `{$json: path}` and `{$yaml: path}` objects, in place, with the
/// referenced content. Returns the dotted path and message of the first failure.
fn substitute(ctx: &Context<'_>, entity: &mut Entity) -> Result<(), (String, String)> {
    let mut found = Vec::new();
    for (k, v) in entity.iter() {
        find_placeholders(v, &mut vec![k.clone()], &mut found);
    }
    for (path, which, target) in found {
        let dotted = path.join(".");
        let text = read_reference(ctx, &target).map_err(|m| (dotted.clone(), m))?;
        let value = parse_reference(which, &text, &target).map_err(|m| (dotted.clone(), m))?;
        let mut slot = entity.get_mut(&path[0]);
        for seg in &path[1..] {
            slot = match slot {
                Some(Value::Object(m)) => m.get_mut(seg),
                Some(Value::Array(a)) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            };
        }
        if let Some(slot) = slot {
            *slot = value;
        }
    }
    Ok(())
}

/// Collects the path, kind and target of every placeholder object (most entities have none).
fn find_placeholders(
    v: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'static str, String)>,
) {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                let (k, target) = map.iter().next().expect("len is 1");
                let which = match k.as_str() {
                    "$text" => Some("text"),
                    "$json" => Some("json"),
                    "$yaml" => Some("yaml"),
                    _ => None,
                };
                if let (Some(which), Some(target)) = (which, target.as_str()) {
                    out.push((path.clone(), which, target.to_owned()));
                    return;
                }
            }
            for (k, child) in map {
                path.push(k.clone());
                find_placeholders(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                find_placeholders(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn read_reference(ctx: &Context<'_>, target: &str) -> Result<String, String> {
    // An absolute http(s) URL is read as a URL from any location (from allow-listed hosts only);
    // anything else is relative to the file that names it.
    let kind = if target.starts_with("http://") || target.starts_with("https://") {
        "url"
    } else {
        ctx.location.kind.as_str()
    };
    let resolved = source::resolve(ctx.location, kind, target);
    match resolved.kind.as_str() {
        "file" => {
            // By real path: a link inside the directory may point anywhere.
            let root = ctx
                .root_dir
                .ok_or_else(|| format!("{target}: this location has no directory to read from"))?;
            let real = source::confined(Path::new(&resolved.target), root, target)
                .map_err(|e| e.to_string())?;
            source::read_file(&real, ctx.settings.max_file_bytes).map_err(|e| e.to_string())
        }
        _ => match ctx.runtime {
            Some(rt) => rt
                .block_on(ctx.urls.read(&resolved.target))
                .map_err(|e| e.to_string()),
            None => Err(format!("{target}: URL references cannot be read here")),
        },
    }
}

fn parse_reference(which: &str, text: &str, target: &str) -> Result<Value, String> {
    match which {
        "text" => Ok(Value::String(text.to_owned())),
        "json" => {
            serde_json::from_str(text).map_err(|e| format!("{target} is not valid JSON: {e}"))
        }
        _ => match yaml::parse_documents(text)
            .into_iter()
            .next()
            .map(|d| d.result)
        {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(format!("{target}:{}:{}: {}", e.line, e.column, e.message)),
            None => Ok(Value::Null),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::is_script_url;
    use crate::settings::{CatalogSettings, LocationSpec};

    #[test]
    fn kept_relations_share_their_targets_across_files() {
        let team = model::EntityRef::new("group", "default", "team-a");
        let system = model::EntityRef::new("system", "default", "orders");
        let entity = |name: &str, outgoing: Vec<(&'static str, model::EntityRef)>| super::Emitted {
            key: format!("component:default/{name}").into(),
            doc_index: 0,
            body: None,
            hash: [0; 20],
            outgoing: super::shared_targets(outgoing),
            errors: super::Rare::default(),
            children: super::Rare::default(),
        };
        let mut targets = std::collections::HashSet::new();
        let mut first = vec![
            entity(
                "a",
                vec![("ownedBy", team.clone()), ("partOf", system.clone())],
            ),
            entity("b", vec![("ownedBy", team.clone())]),
        ];
        super::settle(&mut first, &mut targets);
        let mut second = vec![entity("c", vec![("dependsOn", team), ("partOf", system)])];
        super::settle(&mut second, &mut targets);

        assert_eq!(targets.len(), 2);
        assert_eq!(first[0].key, "component:default/a");
        assert_eq!(first[1].key, "component:default/b");
        assert!(first[0].key.shares_buffer_with(&first[1].key));
        let (a, c) = (&first[0].outgoing, &second[0].outgoing);
        assert_eq!(
            (a[0].kind(), a[0].target()),
            ("ownedBy", "group:default/team-a")
        );
        assert_eq!(
            (c[0].kind(), c[0].target()),
            ("dependsOn", "group:default/team-a")
        );
        assert_eq!(c[1].target(), "system:default/orders");
        // The second file names only targets the first one brought: it shares their copies.
        assert!(c[0].target.shares_buffer_with(&a[0].target));
        assert!(c[1].target.shares_buffer_with(&a[1].target));
        assert!(first[1].outgoing[0].target.shares_buffer_with(&a[0].target));
        assert_eq!((a.len(), first[1].outgoing.len(), c.len()), (2, 1, 2));
        assert_eq!(std::mem::size_of::<super::Declared>(), 24);
    }

    /// A file containing this makes [`super::process_file`] panic (test builds only).
    pub const PANIC_MARKER: &str = "# stagedoor-test: panic while processing this file";

    fn component(name: &str) -> String {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team\n"
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_in_one_file_costs_only_that_file() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, text) in [
            ("a", component("first")),
            ("b", format!("{PANIC_MARKER}\n{}", component("broken"))),
            ("c", component("last")),
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("catalog-info.yaml"), text).unwrap();
        }
        let root = LocationSpec::new("file", &dir.path().to_string_lossy());
        let settings = CatalogSettings {
            locations: vec![(root.clone(), vec![])],
            ..Default::default()
        };
        let db = store::Db::connect(&format!(
            "sqlite://{}",
            dir.path().join("catalog.db").display()
        ))
        .await
        .unwrap();
        let c = crate::Catalog::open(settings, db).await.unwrap();
        c.round().await.unwrap();
        let snap = c.snapshot();
        assert!(snap.get("component:default/first").is_some());
        assert!(snap.get("component:default/last").is_some());
        assert!(snap.get("component:default/broken").is_none());
        let location = snap
            .get(&crate::engine::generated_location_ref(&root))
            .unwrap();
        let location: serde_json::Value = serde_json::from_str(&location.body()).unwrap();
        let items = location["status"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        let error = &items[0]["error"];
        assert_eq!(error["name"], "Error");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("b/catalog-info.yaml"), "{message}");
        assert!(message.contains("failed inside Stagedoor"), "{message}");
    }

    #[test]
    fn keys_that_differ_only_in_case_refuse_the_entity() {
        let settings = CatalogSettings::default();
        let urls = crate::source::UrlReader::new(&settings);
        let here = LocationSpec::new("file", "/catalog/catalog-info.yaml");
        let ctx = super::Context {
            settings: &settings,
            urls: &urls,
            location: &here,
            origin: "file:/catalog/catalog-info.yaml",
            rules: &[],
            root_dir: None,
            runtime: None,
        };
        let out = super::process_file(
            &ctx,
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  labels:\n    tier: x\n    Tier: y\nspec:\n  type: service\n  lifecycle: production\n  owner: t\n",
        );
        assert!(out.entities.is_empty());
        let message = &out.failures[0].error.message;
        assert_eq!(
            message,
            "Entity has duplicate keys that vary only in casing, 'metadata.labels.tier'"
        );
    }

    #[test]
    fn script_urls_are_recognised_as_browsers_read_them() {
        for url in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "  \u{1}javascript:x",
            "java\tscript:x",
            "j\na\rv\ta script:x".replace(' ', "").as_str(),
        ] {
            assert!(is_script_url(url), "{url:?}");
        }
        for url in [
            "https://example.com/javascript:",
            "javascript",
            "jav ascript:x",
            "",
            "data:text/html,x",
        ] {
            assert!(!is_script_url(url), "{url:?}");
        }
    }
}
