//! A `scaffolder.backstage.io/v1beta3` Template entity as the runner reads it: parameter pages,
//! steps, output, and the directory its relative `url`s resolve against.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::error::ScaffolderError;

pub const API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// One step: `id`, `name`, `action`, `input`, `if`, `each`, kept as JSON for rendering.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub action: String,
    pub input: Value,
    pub condition: Option<Value>,
    pub each: Option<Value>,
    /// The step as written, with `name` filled in (dry-run echoes it).
    pub raw: Value,
}

#[derive(Debug, Clone)]
pub struct Template {
    /// `template:namespace/name`, lower-cased.
    pub entity_ref: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The parameter pages (a single object becomes one page).
    pub parameters: Vec<Map<String, Value>>,
    pub presentation: Option<Value>,
    pub steps: Vec<Step>,
    pub output: Value,
    /// The directory of the template's file, for `fetch:*` `url`s; `None` when unknown.
    pub base_dir: Option<PathBuf>,
    /// `metadata.annotations["stagedoor.dev/template-version"]`, else the entity's etag.
    pub version: Option<String>,
}

impl Template {
    /// The actions its steps use that this server does not have (each once, in step order):
    /// such a template cannot run here, and pages say so before anyone fills its form.
    pub fn unavailable_actions(&self) -> Vec<&str> {
        let mut missing: Vec<&str> = Vec::new();
        for step in &self.steps {
            let id = step.action.as_str();
            if crate::actions::find(id).is_none() && !missing.contains(&id) {
                missing.push(id);
            }
        }
        missing
    }

    /// Why this template cannot run here although this server has all its actions: it publishes
    /// to a code host for which no token is configured, and passes no token itself. A newcomer
    /// should not choose it only to see the task fail at its last step.
    pub fn needs_setup(&self, settings: &crate::publishing::PublishSettings) -> Option<String> {
        use crate::publishing::HostKind;
        let integrations = settings.integrations();
        self.steps.iter().find_map(|step| {
            let (kind, name, key) = match step.action.as_str() {
                "publish:github" => (HostKind::GitHub, "GitHub", "integrations.github"),
                "publish:gitlab" => (HostKind::GitLab, "GitLab", "integrations.gitlab"),
                _ => return None,
            };
            let has_token = step.input.get("token").is_some()
                || integrations
                    .iter()
                    .any(|i| i.kind == kind && i.token.is_some());
            (!has_token).then(|| {
                format!("Publishes to {name}, and this server has no {name} token ({key})")
            })
        })
    }

    /// Reads a Template entity's JSON. Only v1beta3 is accepted, as Backstage's v2 API does.
    pub fn from_entity(entity: &Value) -> Result<Template, ScaffolderError> {
        let api = entity.get("apiVersion").and_then(Value::as_str);
        if api != Some(API_VERSION) {
            return Err(ScaffolderError::Input(format!(
                "Only {API_VERSION} templates are supported, got {}",
                api.unwrap_or("no apiVersion")
            )));
        }
        if entity.get("kind").and_then(Value::as_str) != Some("Template") {
            return Err(ScaffolderError::Input("entity is not a Template".into()));
        }
        let meta = entity.get("metadata").cloned().unwrap_or(json!({}));
        let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
        let ns = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let spec = entity.get("spec").cloned().unwrap_or(json!({}));
        let parameters = crate::validate::pages(spec.get("parameters").unwrap_or(&Value::Null))
            .into_iter()
            .cloned()
            .collect();
        let mut steps = Vec::new();
        for (i, raw) in spec
            .get("steps")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let obj = raw.as_object().ok_or_else(|| {
                ScaffolderError::Input(format!("spec.steps[{i}] must be an object"))
            })?;
            let action = obj
                .get("action")
                .and_then(Value::as_str)
                .ok_or_else(|| ScaffolderError::Input(format!("spec.steps[{i}] has no action")))?
                .to_owned();
            let id = obj
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("step-{}", i + 1));
            let name = obj
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| action.clone());
            let mut raw = obj.clone();
            raw.entry("name").or_insert_with(|| json!(name));
            steps.push(Step {
                id,
                name,
                action,
                input: obj.get("input").cloned().unwrap_or(json!({})),
                condition: obj.get("if").cloned(),
                each: obj.get("each").cloned(),
                raw: Value::Object(raw),
            });
        }
        let annotations = meta.get("annotations");
        let annotation = |k: &str| {
            annotations
                .and_then(|a| a.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        // The file the entity was read from (not the origin, the root location that led to it).
        let base_dir = annotation("backstage.io/managed-by-location")
            .and_then(|l| l.strip_prefix("file:").map(PathBuf::from))
            .and_then(|p| p.parent().map(PathBuf::from));
        let version = annotation(crate::ANNOTATION_TEMPLATE_VERSION)
            .or_else(|| meta.get("etag").and_then(Value::as_str).map(str::to_owned));
        Ok(Template {
            entity_ref: format!("template:{ns}/{name}").to_lowercase(),
            title: meta.get("title").and_then(Value::as_str).map(str::to_owned),
            description: meta
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters,
            presentation: spec.get("presentation").cloned(),
            steps,
            output: spec.get("output").cloned().unwrap_or(json!({})),
            base_dir,
            version,
        })
    }

    /// `GET /v2/templates/…/parameter-schema`: `{title, description, presentation?, steps}` with
    /// one entry per parameter page.
    pub fn parameter_schema(&self) -> Value {
        let steps: Vec<Value> = self
            .parameters
            .iter()
            .map(|page| {
                let mut step = Map::new();
                step.insert(
                    "title".into(),
                    page.get("title")
                        .cloned()
                        .unwrap_or(json!("Please enter the following information")),
                );
                if let Some(d) = page.get("description") {
                    step.insert("description".into(), d.clone());
                }
                step.insert("schema".into(), Value::Object(page.clone()));
                Value::Object(step)
            })
            .collect();
        let mut out = Map::new();
        out.insert(
            "title".into(),
            json!(self.title.clone().unwrap_or_else(|| self.name().to_owned())),
        );
        if let Some(d) = &self.description {
            out.insert("description".into(), json!(d));
        }
        if let Some(p) = &self.presentation {
            out.insert("presentation".into(), p.clone());
        }
        out.insert("steps".into(), Value::Array(steps));
        Value::Object(out)
    }

    /// The template's own directory, for a task to read skeletons from.
    pub fn files_on_disk(&self) -> Option<crate::files::Files> {
        self.base_dir.clone().map(crate::files::Files::disk)
    }

    pub fn name(&self) -> &str {
        self.entity_ref.rsplit('/').next().unwrap_or("")
    }

    /// Checks `values` page by page and answers the first failing page's errors, as Backstage.
    pub fn validate_values(&self, values: &Value) -> Result<(), ScaffolderError> {
        for page in &self.parameters {
            let errors = crate::validate::validate(values, &Value::Object(page.clone()));
            if !errors.is_empty() {
                return Err(ScaffolderError::Values(
                    errors.iter().map(|e| e.to_json()).collect(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn relative_urls_resolve_against_the_entitys_own_file() {
        let t = super::Template::from_entity(&json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
            "metadata": {"name": "t", "annotations": {
                "backstage.io/managed-by-location": "file:/data/templates/t/template.yaml",
                "backstage.io/managed-by-origin-location": "file:/data/all.yaml"}},
            "spec": {"steps": [{"action": "debug:log"}]}
        }))
        .unwrap();
        assert_eq!(
            t.base_dir.as_deref(),
            Some(std::path::Path::new("/data/templates/t"))
        );
        assert_eq!(t.steps[0].id, "step-1");
        assert_eq!(t.steps[0].name, "debug:log");
        assert_eq!(t.entity_ref, "template:default/t");
        let err = super::Template::from_entity(
            &json!({"apiVersion": "scaffolder.backstage.io/v1beta2", "kind": "Template"}),
        )
        .unwrap_err();
        assert_eq!(err.name(), "InputError");
    }
}
