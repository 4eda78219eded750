//! Registered locations: listing, adding (with a dry run), removing, and which location produced an entity.

use super::*;

/// A location registered through the API (`POST /locations`), as the catalog reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: String,
    /// `"url"` or `"file"`.
    pub kind: String,
    pub target: String,
}

impl Location {
    /// The ref of the Location entity generated for it.
    pub fn entity_ref(&self) -> String {
        generated_location_ref(&LocationSpec::new(&self.kind, &self.target))
    }
}

impl From<&LocationRow> for Location {
    fn from(row: &LocationRow) -> Self {
        Location {
            id: row.id.clone(),
            kind: row.kind.clone(),
            target: row.target.clone(),
        }
    }
}

impl Catalog {
    pub(super) fn registered(&self) -> std::sync::RwLockReadGuard<'_, Vec<LocationRow>> {
        self.registered.read().expect("registered lock")
    }

    pub async fn locations(&self) -> Vec<Location> {
        self.registered().iter().map(Location::from).collect()
    }

    pub async fn location(&self, id: &str) -> Option<Location> {
        self.registered()
            .iter()
            .find(|l| l.id == id)
            .map(Location::from)
    }

    /// Registers a location (or, with `dry_run`, only reads it) and returns the entities it yields.
    pub async fn add_location(
        &self,
        spec: LocationSpec,
        dry_run: bool,
    ) -> Result<(Option<Location>, Vec<Value>, bool), CatalogError> {
        check_spec(&spec)?;
        if dry_run {
            let existing = self.find_registered(&spec);
            let entities = self.preview(&spec).await?;
            return Ok((existing, entities, true));
        }
        let location = self.insert_location(&spec).await?;
        self.settle().await?;
        let origin = spec.key();
        let snap = self.snapshot();
        let entities = snap
            .iter()
            .filter_map(|s| serde_json::from_str::<Value>(&s.body()).ok())
            .filter(|v| annotation(v, ANNOTATION_ORIGIN_LOCATION) == Some(origin.as_str()))
            .collect();
        Ok((Some(location), entities, false))
    }

    /// Registers many locations with one catalog round for all of them, so registering a
    /// thousand files found by discovery costs one round rather than a thousand (each followed
    /// by a scan of the whole catalog). Each spec gets its own result; one bad spec stops none
    /// of the others.
    pub async fn add_locations(
        &self,
        specs: &[LocationSpec],
    ) -> Result<Vec<Result<Location, CatalogError>>, CatalogError> {
        let mut results = Vec::with_capacity(specs.len());
        for spec in specs {
            let result = match check_spec(spec) {
                Ok(()) => self.insert_location(spec).await,
                Err(e) => Err(e),
            };
            results.push(result);
        }
        if results.iter().any(Result::is_ok) {
            self.settle().await?;
        }
        Ok(results)
    }

    fn find_registered(&self, spec: &LocationSpec) -> Option<Location> {
        self.registered()
            .iter()
            .find(|l| l.kind == spec.kind && l.target == spec.target)
            .map(Location::from)
    }

    /// Stores a new location and adds it to the registered set (read by the next round).
    async fn insert_location(&self, spec: &LocationSpec) -> Result<Location, CatalogError> {
        if self.find_registered(spec).is_some() {
            return Err(CatalogError::Conflict(format!(
                "Location {} already exists",
                spec.key()
            )));
        }
        let row = LocationRow {
            id: uuid::Uuid::new_v4().to_string(),
            kind: spec.kind.clone(),
            target: spec.target.clone(),
            created_at: now_ms(),
        };
        self.db.add_location(&row).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => CatalogError::Conflict(m),
            other => CatalogError::Store(other),
        })?;
        let location = Location::from(&row);
        self.registered.write().expect("registered lock").push(row);
        Ok(location)
    }

    /// Reads a location without keeping anything: what registering it would produce.
    pub(super) async fn preview(&self, spec: &LocationSpec) -> Result<Vec<Value>, CatalogError> {
        let origin = spec.key();
        let mut out = vec![Value::Object(
            root_location_entity(spec)
                .body
                .expect("synthetic body")
                .to_entity(),
        )];
        let mut queue = VecDeque::from([spec.clone()]);
        let mut seen = HashSet::new();
        let root_dir = root_dir(spec);
        let mut confine = Some(Confine::Anywhere);
        while let Some(spec) = queue.pop_front() {
            if !seen.insert(spec.key()) || seen.len() > 10_000 {
                continue;
            }
            let files = self.expand(&spec, confine);
            confine = nested_confine(root_dir.as_deref());
            let files = files.map_err(|e| CatalogError::Input(e.to_string()))?;
            for file in files {
                let text = self.read_target(&file).await.map_err(|e| match e {
                    ReadError::NotFound(m) => CatalogError::NotFound(m),
                    other => CatalogError::Input(other.to_string()),
                })?;
                let output = cpu_bound(|runtime| {
                    let ctx = Context {
                        settings: &self.settings,
                        urls: &self.urls,
                        location: &file,
                        origin: &origin,
                        rules: &[],
                        root_dir: root_dir.as_deref(),
                        runtime,
                    };
                    process::process_file_guarded(&ctx, &text)
                })
                .map_err(|e| CatalogError::Input(e.to_string()))?;
                if let Some(f) = output.failures.first() {
                    return Err(CatalogError::Input(format!(
                        "{}: {}",
                        f.error.name, f.error.message
                    )));
                }
                for e in output.entities {
                    queue.extend(e.children.iter().cloned());
                    out.extend(e.body.map(|p| Value::Object(p.to_entity())));
                }
            }
        }
        Ok(out)
    }

    pub async fn delete_location(&self, id: &str) -> Result<(), CatalogError> {
        if !self.db.delete_location(id).await? {
            return Err(CatalogError::NotFound(format!(
                "Found no location with ID {id}"
            )));
        }
        self.registered
            .write()
            .expect("registered lock")
            .retain(|l| l.id != id);
        self.settle().await
    }

    /// The registered location an entity came from (Backstage matches on its origin annotation).
    pub async fn location_by_entity(&self, key: &str) -> Result<Location, CatalogError> {
        let snap = self.snapshot();
        let s = snap
            .get(key)
            .ok_or_else(|| CatalogError::NotFound(format!("found no entity for ref {key}")))?;
        let body: Value = serde_json::from_str(&s.body()).unwrap_or_default();
        let origin = annotation(&body, ANNOTATION_ORIGIN_LOCATION).ok_or_else(|| {
            CatalogError::NotFound(format!("found no origin annotation for ref {key}"))
        })?;
        let (kind, target) = origin.split_once(':').unwrap_or(("", origin));
        self.registered()
            .iter()
            .find(|l| l.kind == kind && l.target == target)
            .map(Location::from)
            .ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "Found no location with type {kind} and target {target}"
                ))
            })
    }
}

/// What every registered location must be: a `url` or `file` with a target.
fn check_spec(spec: &LocationSpec) -> Result<(), CatalogError> {
    if !matches!(spec.kind.as_str(), "url" | "file") {
        return Err(CatalogError::Input(format!(
            "unsupported location type {:?}; use url or file",
            spec.kind
        )));
    }
    if spec.target.trim().is_empty() {
        return Err(CatalogError::Input(
            "location target must be a non-empty string".into(),
        ));
    }
    Ok(())
}

/// The ref of the Location entity Backstage generates for a registered location:
/// `location:default/generated-<sha1(type:target)>`.
pub fn generated_location_ref(spec: &LocationSpec) -> String {
    format!("location:default/{}", generated_location_name(spec))
}

pub(super) fn generated_location_name(spec: &LocationSpec) -> String {
    format!(
        "generated-{}",
        stitch::hex(&Sha1::digest(spec.key().as_bytes()))
    )
}

/// Whether a Location entity's targets include the file at location key `loc`.
pub(super) fn location_produces(location_entity: &Value, loc: &str) -> bool {
    let spec = &location_entity["spec"];
    let own = annotation(location_entity, ANNOTATION_LOCATION).unwrap_or("");
    let (own_kind, own_target) = own.split_once(':').unwrap_or(("file", own));
    let base = LocationSpec::new(own_kind, own_target);
    let kind = spec["type"].as_str().unwrap_or(own_kind);
    let mut targets: Vec<&str> = spec["targets"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    targets.extend(spec["target"].as_str());
    targets.iter().any(|t| {
        let resolved = if own.is_empty()
            || location_entity
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("generated-"))
                && own == format!("{kind}:{t}")
        {
            LocationSpec::new(kind, t)
        } else {
            source::resolve(&base, kind, t)
        };
        resolved.key() == loc
            || (resolved.kind == "file"
                && loc
                    .strip_prefix("file:")
                    .is_some_and(|l| glob_or_dir_contains(&resolved.target, l)))
    })
}

pub(super) fn glob_or_dir_contains(target: &str, file: &str) -> bool {
    if target.contains(['*', '?', '[']) {
        glob::Pattern::new(target).is_ok_and(|p| p.matches(file))
    } else {
        std::path::Path::new(file).starts_with(target)
    }
}
