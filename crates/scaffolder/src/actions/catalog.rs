//! `catalog:write`, `catalog:register`, `catalog:fetch`: the catalog through its public
//! operations (`add_location`, `snapshot`). Entities written by a template carry
//! `backstage.io/source-template` and Stagedoor's template-version annotation.

use serde_json::{Value, json};

use super::{ActionContext, ActionSpec, bool_input, str_input};
use crate::error::ScaffolderError;

pub const WRITE: ActionSpec = ActionSpec {
    id: "catalog:write",
    description: "Writes a catalog descriptor file into the workspace.",
    input: || {
        json!({"type": "object", "required": ["entity"], "properties": {
            "filePath": {"type": "string", "description": "Where to write it, relative to the workspace. Defaults to catalog-info.yaml."},
            "entity": {"type": "object", "additionalProperties": {}, "description": "The entity to write."}
        }, "additionalProperties": false})
    },
    output: None,
    dry_run: true,
};

pub const REGISTER: ActionSpec = ActionSpec {
    id: "catalog:register",
    description: "Registers a catalog descriptor file (a location) with the catalog.",
    input: || {
        json!({"type": "object", "properties": {
            "catalogInfoUrl": {"type": "string", "description": "Location of the descriptor: a URL, or a file path the catalog may read."},
            "repoContentsUrl": {"type": "string", "description": "Location of the repository's contents; catalogInfoPath is appended."},
            "catalogInfoPath": {"type": "string", "description": "Path of the descriptor in the repository. Defaults to /catalog-info.yaml."},
            "optional": {"type": "boolean", "description": "Do not fail when the location cannot be registered."}
        }})
    },
    output: Some(|| {
        json!({"type": "object", "properties": {
            "entityRef": {"type": "string"}, "catalogInfoUrl": {"type": "string"}
        }})
    }),
    dry_run: false,
};

pub const FETCH: ActionSpec = ActionSpec {
    id: "catalog:fetch",
    description: "Returns one or more entities from the catalog.",
    input: || {
        json!({"type": "object", "properties": {
            "entityRef": {"type": "string", "description": "The entity to fetch."},
            "entityRefs": {"type": "array", "items": {"type": "string"}, "description": "Entities to fetch."},
            "optional": {"type": "boolean", "description": "Answer null instead of failing for a missing entity."},
            "defaultKind": {"type": "string", "description": "Kind of refs that name none."},
            "defaultNamespace": {"type": "string", "description": "Namespace of refs that name none."}
        }, "additionalProperties": false})
    },
    output: Some(|| {
        json!({"type": "object", "properties": {
            "entity": {"type": "object", "description": "The entity, for entityRef."},
            "entities": {"type": "array", "items": {"type": "object"}, "description": "The entities, for entityRefs."}
        }})
    }),
    dry_run: true,
};

pub fn write(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let path = ctx.workspace_path(str_input(input, "filePath").unwrap_or("catalog-info.yaml"))?;
    let mut entity = input.get("entity").cloned().unwrap_or(json!({}));
    if let Some(meta) = entity.get_mut("metadata").and_then(Value::as_object_mut) {
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(ann) = ann.as_object_mut() {
            ann.entry(crate::ANNOTATION_SOURCE_TEMPLATE)
                .or_insert_with(|| json!(ctx.template_ref));
            if let Some(v) = ctx.template_version {
                ann.entry(crate::ANNOTATION_TEMPLATE_VERSION)
                    .or_insert_with(|| json!(v));
            }
        }
    }
    ctx.info(&format!("Writing catalog-info.yaml to {path}"));
    ctx.workspace
        .write(&path, super::to_yaml(&entity).as_bytes(), None)?;
    Ok(())
}

/// `kind:ns/name` with defaults, lower-cased as the catalog keys entities.
fn full_ref(r: &str, kind: Option<&str>, ns: Option<&str>) -> Result<String, ScaffolderError> {
    let (k, rest) = match r.split_once(':') {
        Some((k, rest)) => (k, rest),
        None => (
            kind.ok_or_else(|| {
                ScaffolderError::Input(format!("Entity reference {r:?} has no kind"))
            })?,
            r,
        ),
    };
    let (n, name) = rest
        .split_once('/')
        .unwrap_or((ns.unwrap_or("default"), rest));
    Ok(format!("{k}:{n}/{name}").to_lowercase())
}

pub fn fetch(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let catalog = ctx
        .services
        .catalog
        .clone()
        .ok_or_else(|| ScaffolderError::Internal("no catalog to fetch from".into()))?;
    let snap = catalog.snapshot();
    let (kind, ns) = (
        str_input(input, "defaultKind"),
        str_input(input, "defaultNamespace"),
    );
    let optional = bool_input(input, "optional");
    let lookup = |r: &str| -> Result<Value, ScaffolderError> {
        let key = full_ref(r, kind, ns)?;
        match snap.entity(&key) {
            Some(e) => Ok(e.json().clone()),
            None if optional => Ok(Value::Null),
            None => Err(ScaffolderError::NotFound(format!("Entity {r} not found"))),
        }
    };
    if let Some(r) = str_input(input, "entityRef") {
        let e = lookup(r)?;
        ctx.set_output("entity", e);
    }
    if let Some(refs) = input.get("entityRefs").and_then(Value::as_array) {
        let all = refs
            .iter()
            .filter_map(Value::as_str)
            .map(lookup)
            .collect::<Result<Vec<_>, _>>()?;
        ctx.set_output("entities", Value::Array(all));
    }
    Ok(())
}

pub async fn register(ctx: &mut ActionContext<'_>, input: &Value) -> Result<(), ScaffolderError> {
    let url = match (
        str_input(input, "catalogInfoUrl"),
        str_input(input, "repoContentsUrl"),
    ) {
        (Some(u), _) => u.to_owned(),
        (None, Some(repo)) => {
            let path = str_input(input, "catalogInfoPath").unwrap_or("/catalog-info.yaml");
            format!(
                "{}/{}",
                repo.trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        }
        _ => {
            return Err(ScaffolderError::Input(
                "Either catalogInfoUrl or repoContentsUrl must be given".into(),
            ));
        }
    };
    let catalog = ctx
        .services
        .catalog
        .clone()
        .ok_or_else(|| ScaffolderError::Internal("no catalog to register with".into()))?;
    ctx.info(&format!("Registering {url} in the catalog"));
    let (kind, target) = match url.strip_prefix("file:") {
        Some(path) => ("file", path.to_owned()),
        None if url.starts_with('/') => ("file", url.clone()),
        None => ("url", url.clone()),
    };
    let result = catalog
        .add_location(::catalog::LocationSpec::new(kind, &target), false)
        .await;
    match result {
        Ok((_, entities, _)) => {
            // The first entity that is not the Location itself, as Backstage picks it.
            let entity_ref = entities
                .iter()
                .find(|e| e.get("kind").and_then(Value::as_str) != Some("Location"))
                .or_else(|| entities.first())
                .map(|e| {
                    let kind = e["kind"].as_str().unwrap_or_default();
                    let ns = e["metadata"]["namespace"].as_str().unwrap_or("default");
                    let name = e["metadata"]["name"].as_str().unwrap_or_default();
                    format!("{kind}:{ns}/{name}").to_lowercase()
                });
            if let Some(r) = entity_ref {
                ctx.set_output("entityRef", json!(r));
            }
            ctx.set_output("catalogInfoUrl", json!(url));
            Ok(())
        }
        Err(e) if bool_input(input, "optional") => {
            ctx.info(&format!("Not registered (optional): {e}"));
            Ok(())
        }
        Err(e) => Err(ScaffolderError::Input(format!(
            "Could not register {url}: {e}"
        ))),
    }
}
