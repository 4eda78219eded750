//! Operations on single entities: refresh, delete, ancestry and validation.

use super::*;

impl Catalog {
    /// Re-reads the file an entity came from, now.
    pub async fn refresh(&self, key: &str) -> Result<(), CatalogError> {
        let snap = self.snapshot();
        let s = snap
            .get(key)
            .ok_or_else(|| CatalogError::NotFound(format!("Entity {key} not found")))?;
        let body: Value = serde_json::from_str(&s.body()).unwrap_or_default();
        if let Some(loc) = annotation(&body, ANNOTATION_LOCATION) {
            self.state.lock().await.forced.insert(loc.to_owned());
        }
        self.settle().await
    }

    /// Deletes an entity. One still present in its file comes back when that file is next read,
    /// as in Backstage; an orphan is gone for good.
    pub async fn delete_by_uid(&self, uid: &str) -> Result<(), CatalogError> {
        // An unknown uid is not an error (Backstage answers 204 too): the entity is gone either way.
        let Some(s) = self.snapshot().get_by_uid(uid).cloned() else {
            return Ok(());
        };
        let mut state = self.state.lock().await;
        let key = s.key().to_owned();
        // Persist, then publish: a failed write leaves the entity served and stored.
        self.db
            .apply_entity_changes(&[], std::slice::from_ref(&key))
            .await?;
        state.current.remove(s.key());
        // Dropped from its file's cached output too, so it stays away until that file changes.
        for fs in state.files.values_mut() {
            if fs.entities.iter().any(|e| e.key == s.key()) {
                fs.entities.retain(|e| e.key != s.key());
            }
        }
        let next = self
            .snapshot()
            .update(Vec::new(), std::slice::from_ref(&key));
        self.publish(Arc::new(next), Vec::new(), vec![key]);
        Ok(())
    }

    /// The chain of entities that led to this one: its Location entities up to the root.
    pub fn ancestry(&self, key: &str) -> Result<Vec<Ancestor>, CatalogError> {
        let snap = self.snapshot();
        let mut out = Vec::new();
        let mut next = Some(key.to_lowercase());
        let mut seen = HashSet::new();
        while let Some(k) = next.take() {
            if !seen.insert(k.clone()) {
                break;
            }
            let s = snap
                .get(&k)
                .ok_or_else(|| CatalogError::NotFound(format!("No such entity {k}")))?
                .clone();
            let body: Value = serde_json::from_str(&s.body()).unwrap_or_default();
            let loc = annotation(&body, ANNOTATION_LOCATION).unwrap_or("");
            // The parent is the Location entity whose targets produced this entity's file.
            let parent = snap
                .iter()
                .filter(|p| p.key().starts_with("location:") && p.key() != s.key())
                .find(|p| {
                    let pb: Value = serde_json::from_str(&p.body()).unwrap_or_default();
                    location_produces(&pb, loc)
                })
                .map(|p| p.key().to_owned());
            out.push((s, parent.iter().cloned().collect()));
            next = parent;
        }
        Ok(out)
    }

    /// Validates an entity as processing would, for `POST /validate-entity`: the location must be
    /// a `url:` ref (as in Backstage), the entity must pass every check ingestion makes, and a
    /// Location entity's targets must be `url` targets this server may read. Errors come as
    /// Backstage's `{name, message}` pairs.
    pub async fn validate(
        &self,
        entity: &Entity,
        location: &str,
    ) -> Result<(), Vec<ProcessingError>> {
        let target = validate_location_ref(location).map_err(|e| vec![e])?;
        let problems = process::problems(entity);
        if !problems.is_empty() {
            let subject =
                process::loose_ref(entity).map_or_else(|| "entity".into(), |r| r.to_string());
            let all: Vec<String> = problems.iter().map(process::describe).collect();
            let message = format!("{subject} is invalid: {}", all.join("; "));
            return Err(vec![ProcessingError::new("InputError", message)]);
        }
        let here = LocationSpec::new("url", target);
        let kind = entity
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.settings.allows(kind, &here, &[]) {
            let message = format!("kind {kind} is not allowed by catalog.rules");
            return Err(vec![ProcessingError::new("NotAllowedError", message)]);
        }
        if kind.eq_ignore_ascii_case("location") {
            for t in process::location_targets(entity, &here) {
                if t.kind != "url" {
                    let message = r#"Registered locations must be of an allowed type ["url"]"#;
                    return Err(vec![ProcessingError::new("InputError", message)]);
                }
                if let Err(e) = self.urls.read(&t.target).await {
                    let message = format!("Unable to read url, {e}");
                    return Err(vec![ProcessingError::new("Error", message)]);
                }
            }
        }
        Ok(())
    }
}

/// The target of a `url:<target>` location ref, or Backstage's `TypeError` for anything else.
pub(super) fn validate_location_ref(location: &str) -> Result<&str, ProcessingError> {
    let invalid = |why: String| ProcessingError::new("TypeError", why);
    let (kind, target) = location
        .split_once(':')
        .map(|(k, t)| (k.trim(), t.trim()))
        .filter(|(k, t)| !k.is_empty() && !t.is_empty())
        .ok_or_else(|| {
            invalid(format!(
                "Unable to parse location ref '{location}', expected '<type>:<target>', e.g. 'url:https://host/path'"
            ))
        })?;
    if kind != "url" {
        return Err(invalid(format!(
            "Invalid location ref {location}, only 'url:<target>' is supported, e.g. url:https://host/path"
        )));
    }
    Ok(target)
}
