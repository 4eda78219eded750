//! A processing round: walk the locations, read what changed, process, claim, relate, stitch, persist, publish.

use super::*;

impl Catalog {
    /// One processing round. Public so tests and the benchmark can drive it directly.
    pub async fn round(&self) -> Result<RoundStats, CatalogError> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        state.rounds += 1;
        let roots = self.roots();
        self.read_root_urls_ahead(&state, &roots).await;
        let mut stats = RoundStats::default();

        // 1. Walk every location, re-reading files whose signature changed.
        let mut claims: Vec<Claim> = Vec::new();
        let mut claimed: HashMap<Packed, String> = HashMap::new(); // key -> location key
        let mut parent_errors: HashMap<String, Vec<ProcessingError>> = HashMap::new();
        let mut visited_files: HashSet<String> = HashSet::new();
        let mut steps: Vec<Step> = Vec::new();
        let roots_changed = self.roots_changed(&mut state, &roots);
        let mut dirty = state.rounds == 1 || roots_changed;
        for root in &roots {
            let root_entity = root_location_entity(&root.spec);
            let root_key = root_entity.key.to_string();
            let origin: Arc<str> = root.spec.key().into();
            let root_dir = root_dir(&root.spec);
            steps.push(Step::Root(root_entity, origin.clone()));
            // Breadth first, one level of Location targets at a time, so that every file of a
            // level can be read and parsed in parallel before its entities are claimed in order.
            let mut seen_specs: HashSet<String> = HashSet::new();
            let mut level: Vec<(LocationSpec, String)> =
                vec![(root.spec.clone(), root_key.clone())];
            // The root may point anywhere; what its files name stays under its directory.
            let mut confine = Some(Confine::Anywhere);
            while !level.is_empty() {
                let mut files: Vec<(LocationSpec, String)> = Vec::new();
                for (spec, parent) in level.drain(..) {
                    if !seen_specs.insert(spec.key()) {
                        parent_errors.entry(parent).or_default().push(ProcessingError::new(
                            "InputError",
                            format!("location {} is referenced more than once from {origin}; cycles are ignored", spec.key()),
                        ));
                        continue;
                    }
                    match self.expand(&spec, confine) {
                        Ok(found) => files.extend(
                            found
                                .into_iter()
                                .filter(|f| visited_files.insert(f.key()))
                                .map(|f| (f, parent.clone())),
                        ),
                        Err(e) => parent_errors
                            .entry(parent)
                            .or_default()
                            .push(ProcessingError::new(e.name(), e.to_string())),
                    }
                }
                let mut loaded = self
                    .load_due(
                        &mut state,
                        files.iter().map(|(f, _)| f),
                        (&*origin, &root.rules, root_dir.as_deref()),
                    )
                    .await;
                for (file, parent) in files {
                    let changed = match loaded.remove(&file.key()) {
                        Some(mut l) => {
                            if let Ok(output) = &mut l.result {
                                process::settle(&mut output.entities, &mut state.targets);
                            }
                            apply_file(&mut state, &file, l)
                        }
                        None => false,
                    };
                    dirty |= changed;
                    stats.files_read += changed as usize;
                    let fs = state.files.entry(file.key()).or_default();
                    if let Some(e) = &fs.read_error {
                        parent_errors
                            .entry(parent.clone())
                            .or_default()
                            .push(e.clone());
                    }
                    // Indexed once per file: scanning the entities for each failure was
                    // quadratic, on every round (2 s per unchanged round at 20,000 of each).
                    let by_key: HashSet<&str> =
                        fs.entities.iter().map(|e| e.key.as_str()).collect();
                    let by_doc: HashMap<usize, &[ProcessingError]> = fs
                        .entities
                        .iter()
                        .map(|e| (e.doc_index, &e.errors[..]))
                        .collect();
                    for f in &fs.failures {
                        let attached = match &f.key {
                            Some(k) => by_key.contains(k.as_str()),
                            None => by_doc
                                .get(&f.doc_index)
                                .is_some_and(|errors| errors.contains(&f.error)),
                        };
                        if !attached {
                            parent_errors
                                .entry(parent.clone())
                                .or_default()
                                .push(f.error.clone());
                        }
                    }
                    for e in &fs.entities {
                        level.extend(e.children.iter().map(|c| (c.clone(), e.key.to_string())));
                    }
                    steps.push(Step::File(file.key(), parent, origin.clone()));
                }
                confine = nested_confine(root_dir.as_deref());
            }
        }
        // Files no longer reached are forgotten.
        let before = state.files.len();
        state.files.retain(|k, _| visited_files.contains(k));
        self.fetcher
            .retain(|url| visited_files.contains(&LocationSpec::new("url", url).key()));
        dirty |= state.files.len() != before;
        // Targets no kept relation names any more go, and with them the packed buffers only
        // they kept alive. The pass over every relation runs once the set has doubled.
        if state.targets.len() > 2 * state.targets_named.max(TARGETS_PRUNE_FLOOR) {
            state.targets =
                process::named_targets(state.files.values().flat_map(|f| f.entities.iter()));
            state.targets_named = state.targets.len();
        }
        if !dirty && self.is_ready() && state.pending.snapshot.is_none() {
            stats.entities = state.current.len();
            stats.elapsed = started.elapsed();
            return Ok(stats);
        }
        // Something changed: claim every entity in walk order (first claim wins).
        for step in steps {
            match step {
                Step::Root(entity, origin) => {
                    let key = entity.key.clone();
                    claim(
                        &mut claims,
                        &mut claimed,
                        &mut parent_errors,
                        entity,
                        (&origin, &origin, &key),
                    );
                }
                Step::File(file_key, parent, origin) => {
                    // Bodies move out of the cache: it keeps only what later rounds compare.
                    let entities: Vec<Emitted> = state
                        .files
                        .get_mut(&file_key)
                        .map(|fs| {
                            fs.entities
                                .iter_mut()
                                .map(|e| {
                                    let body = e.body.take();
                                    Emitted { body, ..e.clone() }
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    for e in entities {
                        claim(
                            &mut claims,
                            &mut claimed,
                            &mut parent_errors,
                            e,
                            (&origin, &file_key, &parent),
                        );
                    }
                }
            }
        }

        let walked = started.elapsed();
        // 2. Orphans: entities nobody emits any more, from a location that still exists.
        let origins: HashSet<String> = roots.iter().map(|r| r.spec.key()).collect();
        if self.settings.orphan_strategy == OrphanStrategy::Keep {
            for cur in state.current.iter() {
                let key = cur.key();
                if !claimed.contains_key(key)
                    && origins.contains(&*cur.origin)
                    && let Some(body) = stitch::unstitch(&cur.stitched.body())
                {
                    let me = process::loose_ref(&body);
                    let (outgoing, _) = me
                        .as_ref()
                        .map(|me| relations::outgoing(&body, me))
                        .unwrap_or_default();
                    claims.push(Claim {
                        emitted: Emitted {
                            key: key.into(),
                            doc_index: 0,
                            hash: process::hash_json(&body),
                            body: Some(Box::new(stitch::Processed::new(&body))),
                            outgoing: process::shared_targets(outgoing),
                            errors: Rare::default(),
                            children: Rare::default(),
                        },
                        origin: cur.origin.clone(),
                        orphan: true,
                    });
                }
            }
        }

        // 3. Relations in both directions, sorted as Backstage sorts them. Borrowed from the
        // claims: this runs over every entity on every change, so it must not allocate per relation.
        let mut bodies: Vec<Option<Box<stitch::Processed>>> =
            claims.iter_mut().map(|c| c.emitted.body.take()).collect();
        let mut rels: HashMap<Cow<'_, str>, Vec<(&'static str, &str)>> =
            HashMap::with_capacity(claims.len());
        for c in &claims {
            for d in c.emitted.outgoing.iter() {
                let (t, target) = (d.kind(), d.target());
                rels.entry(Cow::Borrowed(c.emitted.key.as_str()))
                    .or_default()
                    .push((t, target));
                if let Some(inv) = relations::inverse(t) {
                    rels.entry(lower(target))
                        .or_default()
                        .push((inv, c.emitted.key.as_str()));
                }
            }
        }
        for list in rels.values_mut() {
            list.sort_unstable();
            list.dedup();
        }

        // 4. Stitch what changed; keep what did not. The first large round teaches the
        // process its compression dictionary, on entities sampled across the whole walk.
        if !body::trained() && claims.len() >= body::TRAIN_MIN {
            let step = (claims.len() / body::TRAIN_SAMPLES).max(1);
            let samples: Vec<String> = claims
                .iter()
                .zip(&bodies)
                .step_by(step)
                .filter_map(|(c, b)| {
                    let rels = rels.get(c.emitted.key.as_str()).map(Vec::as_slice);
                    let text = stitch::stitch_text(
                        b.as_ref()?,
                        rels.unwrap_or_default(),
                        &c.emitted.errors,
                        c.orphan,
                        // As bodies hold them (see `body::punch`).
                        "000000000000000000000000000000000000",
                        "0000000000000000000000000000000000000000",
                    );
                    Some(text)
                })
                .collect();
            body::train(&samples);
        }
        let mut next = Currents::with_capacity(claims.len());
        let mut upserts: Vec<(Arc<Stitched>, [u8; 20])> = Vec::new();
        let mut fresh: Vec<Fresh> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for (c, body) in claims.iter().zip(bodies.iter_mut()) {
            let key = c.emitted.key.to_string();
            let relations = rels
                .get(key.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut errors = c.emitted.errors.to_vec();
            if let Some(extra) = parent_errors.get(&key) {
                errors.extend(extra.iter().cloned());
            }
            let input_hash = stitch::input_hash(&c.emitted.hash, relations, &errors, c.orphan);
            if let Some(cur) = state.current.get(&key)
                && cur.stitched_from(&input_hash)
            {
                next.insert(Current {
                    stitched: cur.stitched.clone(),
                    origin: c.origin.clone(),
                });
                continue;
            }
            let body = match body.take() {
                Some(b) => *b,
                None => match state
                    .current
                    .get(&key)
                    .and_then(|cur| stitch::unstitch(&cur.stitched.body()))
                {
                    Some(b) => stitch::Processed::new(&b),
                    None => continue,
                },
            };
            let uid = state
                .current
                .get(&key)
                .map(|c| c.stitched.uid().to_owned())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            // The stitch input hash changes exactly when the final entity does: it is the etag.
            let etag = stitch::hex(&input_hash);
            let text = stitch::stitch_text(&body, relations, &errors, c.orphan, &uid, &etag);
            fresh.push(Fresh {
                key,
                uid,
                etag,
                input_hash,
                origin: c.origin.clone(),
            });
            texts.push(text);
            if texts.len() >= PACK_BATCH {
                pack_fresh(&mut fresh, &mut texts, &mut upserts, &mut next);
            }
        }
        drop(bodies);
        pack_fresh(&mut fresh, &mut texts, &mut upserts, &mut next);
        // The round's working set is done with; the index build below is the round's highest
        // point of memory, and these held 120 MiB of it at 117,000 entities.
        drop(rels);
        drop(claims);
        drop(claimed);
        drop(parent_errors);
        let deletes: Vec<String> = state
            .current
            .iter()
            .map(Current::key)
            .filter(|k| !next.contains_key(k))
            .map(str::to_owned)
            .collect();
        stats.changed = upserts.len();
        stats.deleted = deletes.len();
        stats.entities = next.len();

        let stitched_at = started.elapsed();
        // 5. Persist, then publish: a crash between the two must not have served uids that the
        // database does not hold. A failed write stays pending, with the snapshot that shows it,
        // and every later round retries it first.
        let now = now_ms();
        let pending = &mut state.pending;
        for key in &deletes {
            pending.rows.remove(key);
            pending.deletes.insert(key.clone());
        }
        for (s, h) in &upserts {
            pending.deletes.remove(s.key());
            pending
                .rows
                .insert(s.key().to_owned(), (s.clone(), *h, now));
        }
        // The snapshot loaded from the database is already right when nothing changed.
        // Otherwise the next snapshot is derived from the latest one, parsing only what changed,
        // on a blocking thread while the rows are written (see `flush`).
        let building = (!upserts.is_empty() || !deletes.is_empty()).then(|| {
            let changed: Vec<Arc<Stitched>> = upserts.iter().map(|(s, ..)| s.clone()).collect();
            let base = pending
                .snapshot
                .clone()
                .unwrap_or_else(|| self.snapshot().index().clone());
            tokio::task::spawn_blocking(move || base.update(changed, &deletes))
        });
        drop(upserts);
        state.current = next;
        // Processed bodies were needed for this round only; the snapshot holds the final ones.
        for fs in state.files.values_mut() {
            for e in &mut fs.entities {
                e.body = None;
            }
        }
        self.flush(&mut state, building).await?;
        stats.engine_bytes = state.heap_bytes();
        let published = started.elapsed();
        stats.elapsed = started.elapsed();
        tracing::debug!(
            walked_ms = walked.as_millis() as u64,
            stitched_ms = (stitched_at - walked).as_millis() as u64,
            persisted_ms = (published - stitched_at).as_millis() as u64,
            "round phases"
        );
        Ok(stats)
    }

    /// Writes what is pending, then publishes its snapshot and marks the catalog ready. On
    /// failure nothing is dropped: the writes stay pending and `/readyz` reports the lag.
    /// `building` is the pending snapshot still being built: the rows are written meanwhile
    /// (the two took about as long each at 117,000 entities), and the snapshot is pending
    /// whether the write succeeds or not.
    pub(super) async fn flush(
        &self,
        state: &mut State,
        building: Option<tokio::task::JoinHandle<Snapshot>>,
    ) -> Result<(), CatalogError> {
        let write = async {
            if cfg!(feature = "fault-injection") && self.fail_writes.load(Ordering::Acquire) {
                Err(store::StoreError::Conflict("injected write fault".into()))
            } else {
                self.write_pending(&state.pending).await
            }
        };
        let result = match building {
            Some(building) => {
                let (built, result) = tokio::join!(building, write);
                // A panic while indexing is a bug: it ends the round as it would have inline.
                let built = built.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                state.pending.snapshot = Some(Arc::new(built));
                result
            }
            None => write.await,
        };
        if let Err(e) = result {
            let mut lag = self.lag.lock().expect("lag lock");
            let since = lag.as_ref().map_or_else(SystemTime::now, |l| l.since);
            *lag = Some(Lag {
                since,
                error: e.to_string(),
            });
            return Err(e.into());
        }
        let pending = std::mem::take(&mut state.pending);
        if let Some(snapshot) = pending.snapshot {
            let changed = pending.rows.into_keys().collect();
            let removed = pending.deletes.into_iter().collect();
            self.publish(snapshot, changed, removed);
        }
        *self.lag.lock().expect("lag lock") = None;
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Writes the pending deletes, then the upserts a chunk at a time: each chunk's rows (with
    /// their bodies decompressed) exist only while it is written, so a first ingestion never
    /// holds the catalog's text twice. Chunks are separate transactions: a crash between two
    /// leaves some rows new and some old, which the next round rewrites (upserts are
    /// idempotent); nothing is published before every chunk is stored.
    async fn write_pending(&self, pending: &Pending) -> Result<(), store::StoreError> {
        let deletes: Vec<String> = pending.deletes.iter().cloned().collect();
        if !deletes.is_empty() {
            self.db.apply_entity_changes(&[], &deletes).await?;
        }
        // In key order: the table's primary key index then grows at its end instead of
        // splitting pages all over it, which is most of a first write's cost.
        let mut upserts: Vec<_> = pending.rows.values().collect();
        upserts.sort_unstable_by(|a, b| a.0.key().cmp(b.0.key()));
        for chunk in upserts.chunks(WRITE_CHUNK) {
            let rows: Vec<EntityRow> = chunk
                .iter()
                .map(|(s, hash, updated_at)| EntityRow {
                    entity_ref: s.key().to_owned(),
                    uid: s.uid().to_owned(),
                    etag: s.etag().to_owned(),
                    hash: stitch::hex(hash),
                    location_key: None,
                    body: s.body().into(),
                    updated_at: *updated_at,
                })
                .collect();
            self.db.apply_entity_changes(&rows, &[]).await?;
        }
        Ok(())
    }

    /// Reads, together, the root URL locations this round must read now (never read, or
    /// refreshed): the walk goes one root at a time and would read them one after another.
    pub(super) async fn read_root_urls_ahead(&self, state: &State, roots: &[Root]) {
        let urls: Vec<&str> = roots
            .iter()
            .filter(|r| r.spec.kind == "url")
            .filter(|r| {
                let key = r.spec.key();
                state.forced.contains(&key)
                    || state.files.get(&key).is_none_or(|e| e.fetched_at.is_none())
            })
            .map(|r| r.spec.target.as_str())
            .collect();
        if urls.len() > 1 {
            self.fetcher.read_ahead(&urls).await;
        }
    }

    pub(super) fn roots_changed(&self, state: &mut State, roots: &[Root]) -> bool {
        let keys: Vec<String> = roots.iter().map(|r| r.spec.key()).collect();
        let changed = keys != state.last_roots;
        state.last_roots = keys;
        changed
    }

    pub(super) fn roots(&self) -> Vec<Root> {
        let mut roots: Vec<Root> = self
            .settings
            .locations
            .iter()
            .map(|(spec, rules)| Root {
                spec: spec.clone(),
                rules: rules.clone(),
            })
            .collect();
        roots.extend(self.registered().iter().map(|l| Root {
            spec: LocationSpec::new(&l.kind, &l.target),
            rules: vec![],
        }));
        // The same location given twice (in config and on the command line, say) is one root.
        let mut seen = HashSet::new();
        roots.retain(|r| seen.insert(r.spec.key()));
        roots
    }

    /// The files a location names: for `file`, the expansion of its path; for `url`, itself.
    /// `confine` is `None` where no file may be named at all (below a URL root).
    pub(super) fn expand(
        &self,
        spec: &LocationSpec,
        confine: Option<Confine<'_>>,
    ) -> Result<Vec<LocationSpec>, ReadError> {
        match spec.kind.as_str() {
            "file" => Ok(source::expand_file_target(
                &spec.target,
                confine.ok_or_else(|| {
                    ReadError::Denied(format!(
                        "{} is a file target in a catalog file read from a URL; only a \
                         configured location may name files there",
                        spec.target
                    ))
                })?,
            )?
            .into_iter()
            .map(|p| LocationSpec::new("file", &p.to_string_lossy()))
            .collect()),
            "url" => Ok(vec![spec.clone()]),
            other => Err(ReadError::Invalid(format!(
                "unsupported location type {other:?}; use file or url"
            ))),
        }
    }

    /// Reads and parses, in parallel, every file that changed since it was last read (URLs:
    /// whose refresh interval passed), or that a refresh forced.
    pub(super) async fn load_due<'a>(
        &self,
        state: &mut State,
        files: impl Iterator<Item = &'a LocationSpec>,
        (origin, rules, root_dir): (&str, &[Rule], Option<&std::path::Path>),
    ) -> HashMap<String, Loaded> {
        let mut texts: Vec<(&LocationSpec, Option<FileSig>, Result<String, ReadError>)> =
            Vec::new();
        // URLs never read yet (or forced by a refresh) are read now, together; the others are
        // re-read in the background and their outcome is processed by the round after it arrives,
        // so a slow host never holds up a round.
        let mut read_now: Vec<&LocationSpec> = Vec::new();
        for file in files {
            let key = file.key();
            let forced = state.forced.remove(&key);
            let entry = state.files.get(&key);
            if file.kind == "url" {
                let never_read = entry.is_none_or(|e| e.fetched_at.is_none());
                let stale = entry
                    .and_then(|e| e.fetched_at)
                    .is_none_or(|t| t.elapsed() >= self.settings.url_refresh_interval);
                if let Some(outcome) = self.fetcher.take(&file.target) {
                    texts.push((file, None, outcome));
                } else if forced || never_read {
                    read_now.push(file);
                } else if stale {
                    self.fetcher.start(&file.target);
                }
                continue;
            }
            let sig = source::file_sig(std::path::Path::new(&file.target));
            let is_due =
                sig.is_none() || entry.is_none_or(|e| e.sig != sig || e.fetched_at.is_none());
            if forced || is_due {
                texts.push((file, sig, self.read_target(file).await));
            }
        }
        let targets: Vec<&str> = read_now.iter().map(|f| f.target.as_str()).collect();
        let outcomes = self.fetcher.read_all(&targets).await;
        texts.extend(
            read_now
                .into_iter()
                .zip(outcomes)
                .map(|(f, o)| (f, None, o)),
        );
        // Parsing and processing are CPU work: give them every core, off the async workers.
        cpu_bound(|runtime| {
            in_parallel(texts, |(file, sig, text)| {
                let ctx = Context {
                    settings: &self.settings,
                    urls: &self.urls,
                    location: file,
                    origin,
                    rules,
                    root_dir,
                    runtime,
                };
                let result = text.and_then(|t| process::process_file_guarded(&ctx, &t));
                (file.key(), Loaded { sig, result })
            })
        })
    }

    /// Reads one file or URL, bounded in size (and for URLs, in time and hosts).
    pub(super) async fn read_target(&self, file: &LocationSpec) -> Result<String, ReadError> {
        if file.kind == "url" {
            self.urls.read(&file.target).await
        } else {
            source::read_file(
                std::path::Path::new(&file.target),
                self.settings.max_file_bytes,
            )
        }
    }
}

/// A file read for this round: its signature and what processing it gave, or why it could not be read.
pub(super) struct Loaded {
    pub(super) sig: Option<FileSig>,
    pub(super) result: Result<process::FileOutput, ReadError>,
}

/// Applies one freshly read file to the cache and returns whether anything changed. When the
/// file cannot be read for a reason other than "gone", its last good entities stay, carrying
/// the error; a document that failed keeps its entity's last good version the same way.
pub(super) fn apply_file(state: &mut State, file: &LocationSpec, loaded: Loaded) -> bool {
    let entry = state.files.entry(file.key()).or_default();
    entry.sig = loaded.sig;
    entry.fetched_at = Some(Instant::now());
    let output = match loaded.result {
        Ok(output) => output,
        Err(e) => {
            let err = ProcessingError::new(e.name(), e.to_string());
            let changed = entry.read_error.as_ref() != Some(&err) || !entry.entities.is_empty();
            if matches!(e, ReadError::NotFound(_)) {
                entry.entities.clear();
                entry.failures.clear();
            } else {
                let at = err.clone().at(&file.target, 1, 1);
                for e in &mut entry.entities {
                    e.errors = vec![at.clone()].into();
                }
            }
            entry.read_error = Some(err);
            return changed;
        }
    };
    entry.read_error = None;
    let previous = std::mem::take(&mut entry.entities);
    let mut entities = output.entities;
    // Looked up by key and by document (the first one wins, hence `rev`), not scanned per
    // failure: that was quadratic in big files.
    let previous_by_key: HashMap<&str, &Emitted> =
        previous.iter().rev().map(|p| (p.key.as_str(), p)).collect();
    let previous_by_doc: HashMap<usize, &Emitted> =
        previous.iter().rev().map(|p| (p.doc_index, p)).collect();
    let mut emitted: HashSet<Packed> = entities.iter().map(|e| e.key.clone()).collect();
    for f in &output.failures {
        let keep = match &f.key {
            Some(k) => previous_by_key.get(k.as_str()).copied(),
            None => previous_by_doc.get(&f.doc_index).copied(),
        };
        if let Some(p) = keep
            && emitted.insert(p.key.clone())
        {
            let mut kept = p.clone();
            kept.body = None;
            kept.errors = vec![f.error.clone()].into();
            entities.push(kept);
        }
    }
    entities.sort_by_key(|e| e.doc_index);
    entry.entities = entities;
    entry.failures = output.failures;
    true
}

/// One entity claimed in this round, with where it came from.
/// Entities stitched before their texts are compressed together (on every core) and dropped:
/// bounds the text in flight to this many bodies, not the catalog.
const PACK_BATCH: usize = 8_192;
/// Below this many interned relation targets, none are pruned.
const TARGETS_PRUNE_FLOOR: usize = 256;
/// Rows per database write while flushing.
const WRITE_CHUNK: usize = 5_000;

/// Compresses the stitched texts waiting in `texts` (the first large batch trains the
/// dictionary) and moves their entities into the round's results.
fn pack_fresh(
    fresh: &mut Vec<Fresh>,
    texts: &mut Vec<String>,
    upserts: &mut Vec<(Arc<Stitched>, [u8; 20])>,
    next: &mut Currents,
) {
    let mut kept = Vec::with_capacity(fresh.len());
    let ids = fresh
        .drain(..)
        .map(|f| {
            kept.push((f.input_hash, f.origin));
            (f.key, f.uid, f.etag)
        })
        .collect();
    let packed = Stitched::new_all(ids, std::mem::take(texts));
    for (stitched, (input_hash, origin)) in packed.into_iter().zip(kept) {
        let stitched = Arc::new(stitched);
        upserts.push((stitched.clone(), input_hash));
        next.insert(Current { stitched, origin });
    }
}

/// An entity stitched anew this round, waiting for its body to be compressed.
struct Fresh {
    key: String,
    uid: String,
    etag: String,
    input_hash: [u8; 20],
    origin: Arc<str>,
}

pub(super) struct Claim {
    pub(super) emitted: Emitted,
    pub(super) origin: Arc<str>,
    pub(super) orphan: bool,
}

/// Records the first claim of an entity. A later location emitting the same entity is ignored,
/// and the conflict is reported on the Location entity that led to it, as Backstage does.
pub(super) fn claim(
    claims: &mut Vec<Claim>,
    claimed: &mut HashMap<Packed, String>,
    parent_errors: &mut HashMap<String, Vec<ProcessingError>>,
    emitted: Emitted,
    (origin, location_key, parent): (&Arc<str>, &str, &str),
) {
    if let Some(first) = claimed.get(&emitted.key) {
        let message = format!(
            "Detected conflicting entityRef {} already referenced by {first} and now also {location_key}",
            emitted.key
        );
        parent_errors
            .entry(parent.to_owned())
            .or_default()
            .push(ProcessingError::new("ConflictError", message));
        return;
    }
    claimed.insert(emitted.key.clone(), location_key.to_owned());
    claims.push(Claim {
        emitted,
        origin: origin.clone(),
        orphan: false,
    });
}

/// Backstage's generated Location entity for a root location.
pub(super) fn root_location_entity(spec: &LocationSpec) -> Emitted {
    let name = generated_location_name(spec);
    let Value::Object(body) = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {ANNOTATION_LOCATION: spec.key(), ANNOTATION_ORIGIN_LOCATION: spec.key()},
        },
        "spec": {"type": spec.kind, "target": spec.target},
    }) else {
        unreachable!("literal object")
    };
    Emitted {
        key: format!("location:default/{name}").into(),
        doc_index: 0,
        hash: process::hash_json(&body),
        body: Some(Box::new(stitch::Processed::new(&body))),
        outgoing: PackedSlice::default(),
        errors: Rare::default(),
        children: Rare::default(),
    }
}

/// The real directory that files named in a root's catalog files (nested Location targets,
/// `$text` and friends) must stay under; `None` for a URL root, or a root that does not exist.
pub(super) fn root_dir(spec: &LocationSpec) -> Option<PathBuf> {
    if spec.kind != "file" {
        return None;
    }
    let base = source::glob_base(&spec.target);
    let dir = if base.is_dir() {
        base
    } else {
        base.parent()?.to_path_buf()
    };
    dir.canonicalize().ok()
}

/// How the targets that a root's catalog files name are confined: under its directory, and
/// not at all to files below a URL root.
pub(super) fn nested_confine(root_dir: Option<&std::path::Path>) -> Option<Confine<'_>> {
    root_dir.map(Confine::Under)
}
