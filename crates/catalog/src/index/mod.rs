//! The in-memory read model: every stitched entity as compact JSON text plus an inverted
//! index over its search rows, as an immutable [`Snapshot`] made anew after each change:
//! built whole ([`Snapshot::build`]) or derived from the previous one, parsing only the
//! changed entities ([`Snapshot::update`]).
//!
//! Layout, chosen for memory first: entities sit in a `Vec` sorted by lower-cased ref, so an
//! entity's position is its id and id order is ref order. Every string of the index (key
//! names, lower-cased values, original spellings) lives in one arena `String`, each key's
//! values together and in order; every id list lives in one `Vec<u32>` pool. A key owns a
//! contiguous, value-sorted run of 16-byte entries, so ordering by a field is a walk over that
//! run, an equality filter is a binary search, and full text scans memory sequentially. Sets
//! of ids are bitmaps. No per-entity `serde_json::Value` is kept.

use std::sync::Arc;
use std::sync::mpsc;

use model::filter::Filter;
use serde_json::Value;

use crate::search::{self, RowSink};

/// One entity as served: the final JSON text and the identifiers the API looks it up by.
///
/// The three identifiers sit end to end in one allocation: as three `String`s they took 72
/// bytes inline and three heap blocks (144 bytes at 117,000 entities, 16 MiB in all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stitched {
    /// `key`, then `uid`, then `etag`.
    ids: Box<str>,
    uid_at: u32,
    etag_at: u32,
    /// The final entity JSON, compressed, less its uid and etag (see [`Body`]).
    body: Body,
}

impl Stitched {
    /// Entities from their identifiers and final JSON texts, compressed together (the first
    /// large batch teaches the process its dictionary). The texts are scratch: their uid and
    /// etag are zeroed before compression.
    pub fn new_all(ids: Vec<(String, String, String)>, mut texts: Vec<String>) -> Vec<Self> {
        let holes: Vec<[u16; 2]> = texts
            .iter_mut()
            .zip(&ids)
            .map(|(text, (_, uid, etag))| body::punch(text, [("uid", uid), ("etag", etag)]))
            .collect();
        let bodies = Body::new_all(&texts);
        drop(texts);
        ids.into_iter()
            .zip(bodies.into_iter().zip(holes))
            .map(|((key, uid, etag), (body, holes))| {
                Self::new(key, uid, etag, body.with_holes(holes))
            })
            .collect()
    }

    fn new(key: String, uid: String, etag: String, body: Body) -> Self {
        let mut ids = key;
        ids.reserve_exact(uid.len() + etag.len());
        let uid_at = ids.len();
        ids.push_str(&uid);
        let etag_at = ids.len();
        ids.push_str(&etag);
        let at = |n: usize| u32::try_from(n).expect("identifiers shorter than 4 GiB");
        Stitched {
            ids: ids.into_boxed_str(),
            uid_at: at(uid_at),
            etag_at: at(etag_at),
            body,
        }
    }

    /// An entity from its final JSON text, compressed as the catalog stores it; for capability
    /// crates' tests that build snapshots by hand.
    pub fn from_json(key: String, uid: String, etag: String, json: &str) -> Self {
        let mut text = json.to_owned();
        let holes = body::punch(&mut text, [("uid", &uid), ("etag", &etag)]);
        Self::new(key, uid, etag, Body::new(&text).with_holes(holes))
    }

    /// `kind:namespace/name`, lower-cased as Backstage spells refs everywhere: the entity's ref
    /// and the index's sort key in one.
    pub fn key(&self) -> &str {
        &self.ids[..self.uid_at as usize]
    }

    /// The entity's ref as served (refs are lower case everywhere, so this is the key).
    pub fn entity_ref(&self) -> &str {
        self.key()
    }

    pub fn uid(&self) -> &str {
        &self.ids[self.uid_at as usize..self.etag_at as usize]
    }

    pub fn etag(&self) -> &str {
        &self.ids[self.etag_at as usize..]
    }

    /// The final entity JSON, exactly as served.
    pub fn body(&self) -> std::borrow::Cow<'_, str> {
        self.body.text_with([self.uid(), self.etag()])
    }

    /// Length of the JSON text, without decompressing it.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Heap bytes held by this entity: its ids and its (compressed) body.
    pub fn heap_bytes(&self) -> usize {
        self.ids.len() + self.body.heap_bytes()
    }
}

/// A run in the id pool.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: u32,
    len: u32,
}

impl Run {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

#[derive(Debug)]
struct KeyIndex {
    name_off: u32,
    name_len: u32,
    /// This key's entries, sorted by lower-cased value (byte order, as SQLite compares).
    entries: Run,
    /// Ids with a null-valued row for this key (null, or a value too long to index): they
    /// have the key for `Exists` but no value to match, order or count.
    nulls: Run,
}

/// `Entry::orig_len` when the spelling is the lower-cased value itself.
const ORIG_SAME: u16 = u16::MAX;
/// Flag in `Entry::orig_len`: the spelling is the value with the ASCII letters whose bits are
/// set in a mask (`masks[orig_off..]`, one bit per byte of the value) upper-cased. URLs and
/// titles differ from their lower-cased form only that way, and a mask is an eighth the size.
const ORIG_MASK: u16 = 0x8000;

/// Flag in `Entry::lower_len`: the value has no text in the arena but is the key of entity
/// `lower_off`. Relation targets are refs of entities in the catalog, repeated under every
/// relation type that points at them (a fifth of the arena at N = 10,000). Uids are not read
/// from their entities this way: a full-text query with no fields searches `metadata.uid`, and
/// reading 470,000 uids one entity at a time took 165 ms at N = 200,000, where one scan of the
/// arena takes a few.
const REF: u16 = 0x8000;

/// Keys whose values are entity refs, held as [`REF`] entries when the entity exists.
fn holds_refs(key: &str) -> bool {
    key.starts_with("relations.")
}

/// Where an entry's value goes: the id of the entity it is the key of (`target`), or text
/// pushed onto `arena`. Returns `Entry::lower_off` and `Entry::lower_len`.
fn place_value(arena: &mut String, lower: &str, target: Option<u32>) -> (u32, u16) {
    match target {
        Some(id) => (id, lower.len() as u16 | REF),
        None => {
            arena.push_str(lower);
            ((arena.len() - lower.len()) as u32, lower.len() as u16)
        }
    }
}

/// The id of the entity whose key is `value` in `entities` (sorted by key), looking from
/// `from` on, and where the search stopped: a key's values come in order, so a caller walking
/// them passes that back in.
fn entity_with_key(entities: &[Arc<Stitched>], from: usize, value: &str) -> (Option<u32>, usize) {
    let at = from + entities[from..].partition_point(|e| e.key() < value);
    let found = entities.get(at).is_some_and(|e| e.key() == value);
    (found.then_some(at as u32), at)
}

/// One distinct (key, lower-cased value), 16 bytes. Its ids run from `ids_start` to the next
/// entry's `ids_start`; a sentinel entry closes the table.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where the value starts in the arena, or with [`REF`] the id of the entity it is the key of.
    lower_off: u32,
    orig_off: u32,
    ids_start: u32,
    /// The value's length in bytes (values are at most 800), and [`REF`].
    lower_len: u16,
    /// The first spelling seen: [`ORIG_SAME`], [`ORIG_MASK`], or the length of the spelling
    /// in the arena at `orig_off`.
    orig_len: u16,
}

impl Entry {
    fn len(&self) -> usize {
        (self.lower_len & !REF) as usize
    }

    fn is_ref(&self) -> bool {
        self.lower_len & REF != 0
    }
}

/// An id whose spelling of an entry's value differs from the entry's first one; facets
/// report spellings separately, as Backstage groups by the original value.
#[derive(Debug)]
struct Variant {
    entry: u32,
    id: u32,
    orig: Box<str>,
}

/// An index into the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyId(u32);

/// An immutable catalog view. Cheap to share behind an `Arc`; the engine swaps in a new one
/// after every change, so readers never wait on writers.
#[derive(Debug)]
pub struct Snapshot {
    entities: Vec<Arc<Stitched>>,
    /// Entity ids ordered by uid.
    by_uid: Vec<u32>,
    keys: Vec<KeyIndex>,
    entries: Vec<Entry>,
    pool: Vec<u32>,
    variants: Vec<Variant>,
    /// Key names, and each key's values in value order right after its name, so scanning a
    /// key's values (full-text search) reads memory sequentially.
    arena: String,
    masks: Vec<u8>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            entities: Vec::new(),
            by_uid: Vec::new(),
            keys: Vec::new(),
            entries: vec![Entry {
                lower_off: 0,
                orig_off: 0,
                ids_start: 0,
                lower_len: 0,
                orig_len: ORIG_SAME,
            }],
            pool: Vec::new(),
            variants: Vec::new(),
            arena: String::new(),
            masks: Vec::new(),
        }
    }
}

impl Snapshot {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds the index. Each entity may come with its parsed JSON when the caller has it at
    /// hand, which saves parsing `body` again. Two entities with the same key: the later wins.
    pub fn build(entities: Vec<(Arc<Stitched>, Option<&Value>)>) -> Self {
        let mut entities = entities;
        // Stable, so "the later one wins" below is well defined.
        entities.sort_by(|a, b| a.0.key().cmp(b.0.key()));
        let mut deduped: Vec<(Arc<Stitched>, Option<&Value>)> = Vec::with_capacity(entities.len());
        for e in entities {
            match deduped.last_mut() {
                Some(last) if last.0.key() == e.0.key() => *last = e,
                _ => deduped.push(e),
            }
        }
        let entities = deduped;
        assert!(
            entities.len() < u32::MAX as usize,
            "too many entities for u32 ids"
        );

        let mut builder = Builder::default();
        extract_parallel(&entities, |batch| builder.add(&batch));
        let stitched: Vec<Arc<Stitched>> = entities.iter().map(|(e, _)| e.clone()).collect();
        let mut snapshot = builder.finish(&stitched);

        drop(entities);
        let entities = stitched;
        let mut by_uid: Vec<u32> = (0..entities.len() as u32).collect();
        by_uid
            .sort_unstable_by(|&a, &b| entities[a as usize].uid().cmp(entities[b as usize].uid()));
        snapshot.entities = entities;
        snapshot.by_uid = by_uid;
        snapshot
    }

    /// The snapshot after a change: this one's entities minus `removals` (keys, matched
    /// lower-cased), with `upserts` replacing or adding entities by key (among upserts with one
    /// key the later wins, and an upsert wins over a removal of its key). Answers exactly as
    /// [`Snapshot::build`] over that entity set would.
    ///
    /// Only the upserted bodies are parsed; everything else is carried over from this snapshot
    /// by linear copies, with entity ids remapped through an old-to-new id map (ids are
    /// positions in ref order, so inserts and removals shift them). When more than
    /// [`UPDATE_REBUILD_SHARE`] of the resulting catalog changes (and more than
    /// [`UPDATE_REBUILD_MIN`] entities), a full [`Snapshot::build`] is done instead, which
    /// parses on all cores and is then about as cheap.
    pub fn update(&self, upserts: Vec<Arc<Stitched>>, removals: &[String]) -> Snapshot {
        self.update_with(upserts, removals, |changed, total| {
            changed > UPDATE_REBUILD_MIN
                && changed * UPDATE_REBUILD_SHARE.1 > total * UPDATE_REBUILD_SHARE.0
        })
    }

    /// [`Self::update`] with the choice of a full rebuild given by `rebuild(changed, total)`.
    fn update_with(
        &self,
        upserts: Vec<Arc<Stitched>>,
        removals: &[String],
        rebuild: impl Fn(usize, usize) -> bool,
    ) -> Snapshot {
        let plan = self.plan(upserts, removals);
        if rebuild(plan.added.len() + plan.dropped, plan.entities.len()) {
            return Snapshot::build(plan.entities.into_iter().map(|e| (e, None)).collect());
        }
        self.apply(plan)
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Looks an entity up by its ref, in any casing.
    pub fn get(&self, key_or_ref: &str) -> Option<&Arc<Stitched>> {
        let key = search::lower(key_or_ref);
        self.entities
            .binary_search_by(|e| e.key().cmp(&key))
            .ok()
            .map(|i| &self.entities[i])
    }

    pub fn get_by_uid(&self, uid: &str) -> Option<&Arc<Stitched>> {
        self.by_uid
            .binary_search_by(|&i| self.entities[i as usize].uid().cmp(uid))
            .ok()
            .map(|i| &self.entities[self.by_uid[i] as usize])
    }

    /// All entities, in lower-cased ref order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Stitched>> {
        self.entities.iter()
    }

    /// Approximate heap bytes held by the index itself, excluding the entities.
    pub fn index_bytes(&self) -> usize {
        self.by_uid.capacity() * 4
            + self.keys.capacity() * std::mem::size_of::<KeyIndex>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.pool.capacity() * 4
            + self.variants.capacity() * std::mem::size_of::<Variant>()
            + self.variants.iter().map(|v| v.orig.len()).sum::<usize>()
            + self.arena.capacity()
            + self.masks.capacity()
            + self.entities.capacity() * std::mem::size_of::<Arc<Stitched>>()
    }

    /// Approximate heap bytes held by the entities themselves (ids and compressed bodies).
    pub fn entity_bytes(&self) -> usize {
        self.entities
            .iter()
            .map(|e| e.heap_bytes() + std::mem::size_of::<Stitched>() + 16)
            .sum()
    }

    // ---- crate-internal access for the query layer ----

    pub(crate) fn entity(&self, id: u32) -> &Arc<Stitched> {
        &self.entities[id as usize]
    }

    fn text(&self, off: u32, len: usize) -> &str {
        &self.arena[off as usize..off as usize + len]
    }

    /// The key exactly as given; index keys are all lower-case.
    pub(crate) fn key_id(&self, name: &str) -> Option<KeyId> {
        self.keys
            .binary_search_by(|k| self.text(k.name_off, k.name_len as usize).cmp(name))
            .ok()
            .map(|i| KeyId(i as u32))
    }

    /// The global entry indices of a key, in ascending value order.
    pub(crate) fn entry_range(&self, key: KeyId) -> std::ops::Range<u32> {
        let run = self.keys[key.0 as usize].entries;
        run.start..run.start + run.len
    }

    pub(crate) fn entry_value(&self, entry: u32) -> &str {
        let e = &self.entries[entry as usize];
        if e.is_ref() {
            self.entities[e.lower_off as usize].key()
        } else {
            self.text(e.lower_off, e.len())
        }
    }

    pub(crate) fn entry_ids(&self, entry: u32) -> &[u32] {
        let from = self.entries[entry as usize].ids_start as usize;
        let to = self.entries[entry as usize + 1].ids_start as usize;
        &self.pool[from..to]
    }

    /// Calls `found` with each entry of `key` whose lower-cased value contains the finder's
    /// needle, in value order. One SIMD scan over the key's stretch of the arena, where its
    /// values lie in entry order (each followed by its spelling when that is stored as text),
    /// instead of a substring search per value: full text over names at N = 200,000 scans
    /// about 470,000 values.
    pub(crate) fn entries_containing(
        &self,
        key: KeyId,
        finder: &memchr::memmem::Finder<'_>,
        mut found: impl FnMut(u32),
    ) {
        let range = self.entry_range(key);
        if range.is_empty() {
            return;
        }
        let k = &self.keys[key.0 as usize];
        if holds_refs(self.text(k.name_off, k.name_len as usize)) {
            // Most values are entity keys, with no text here to scan.
            for e in range {
                if finder.find(self.entry_value(e).as_bytes()).is_some() {
                    found(e);
                }
            }
            return;
        }
        let needle = finder.needle().len();
        let last = &self.entries[range.end as usize - 1];
        let hay = &self.arena.as_bytes()[..last.lower_off as usize + last.len()];
        let mut e = range.start;
        let mut at = self.entries[e as usize].lower_off as usize;
        while let Some(hit) = finder.find(&hay[at..]) {
            let hit = at + hit;
            // The entry whose value starts at or before the hit (at least `e`, which starts at
            // `at`).
            let after = &self.entries[e as usize..range.end as usize];
            e += after.partition_point(|x| x.lower_off as usize <= hit) as u32 - 1;
            let entry = &self.entries[e as usize];
            if hit + needle <= entry.lower_off as usize + entry.len() {
                found(e);
            }
            // Any later hit in this entry's value would end past it too, or lie in its
            // spelling: go on from the next value.
            e += 1;
            if e == range.end {
                break;
            }
            at = self.entries[e as usize].lower_off as usize;
        }
    }

    /// The entry of `key` whose lower-cased value is `value`.
    pub(crate) fn find_entry(&self, key: KeyId, value: &str) -> Option<u32> {
        let range = self.entry_range(key);
        let e = self.lower_bound(key, value);
        (e < range.end && self.entry_value(e) == value).then_some(e)
    }

    /// The first entry of `key` whose value is not below `value`.
    pub(crate) fn lower_bound(&self, key: KeyId, value: &str) -> u32 {
        let range = self.entry_range(key);
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry_value(mid) < value {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// How most entities holding this entry spelled its value.
    pub(crate) fn entry_spelling(&self, entry: u32) -> std::borrow::Cow<'_, str> {
        let e = &self.entries[entry as usize];
        let lower = self.entry_value(entry);
        match e.orig_len {
            ORIG_SAME => lower.into(),
            ORIG_MASK => {
                let mask = &self.masks[e.orig_off as usize..];
                let bytes: Vec<u8> = lower
                    .bytes()
                    .enumerate()
                    .map(|(i, b)| {
                        if mask[i / 8] & (1 << (i % 8)) != 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        }
                    })
                    .collect();
                // Only ASCII letters are flipped, so the bytes stay valid UTF-8.
                String::from_utf8(bytes)
                    .unwrap_or_else(|_| lower.to_owned())
                    .into()
            }
            len => self.text(e.orig_off, len as usize).into(),
        }
    }

    /// (id, spelling) for the entity ids that spelled an entry differently from
    /// [`Self::entry_spelling`].
    pub(crate) fn entry_variants(&self, entry: u32) -> impl Iterator<Item = (u32, &str)> {
        let from = self.variants.partition_point(|v| v.entry < entry);
        let to = from + self.variants[from..].partition_point(|v| v.entry == entry);
        self.variants[from..to].iter().map(|v| (v.id, &*v.orig))
    }

    /// Ids with at least one non-null value for `key`.
    pub(crate) fn with_value(&self, key: KeyId) -> Bits {
        let mut bits = Bits::empty(self.len());
        let range = self.entry_range(key);
        let from = self.entries[range.start as usize].ids_start as usize;
        let to = self.entries[range.end as usize].ids_start as usize;
        bits.set_all(&self.pool[from..to]);
        bits
    }

    /// Ids with a row for `key`, null or not.
    pub(crate) fn with_key(&self, key: KeyId) -> Bits {
        let mut bits = self.with_value(key);
        bits.set_all(&self.pool[self.keys[key.0 as usize].nulls.range()]);
        bits
    }

    /// Number of entities whose key sorts at or below `key` (so ids from there on sort after it).
    pub(crate) fn ids_up_to_key(&self, key: &str) -> u32 {
        self.entities.partition_point(|e| e.key() <= key) as u32
    }

    /// Number of entities whose key sorts below `key`.
    pub(crate) fn ids_below_key(&self, key: &str) -> u32 {
        self.entities.partition_point(|e| e.key() < key) as u32
    }

    /// Adds the entities whose value at `key` is `value`, a value too long for the index (a null
    /// row there): only the entities with a null row for the key are candidates, and each is
    /// checked against its own JSON. Rare, and bounded by the number of such entities.
    fn match_long_value(&self, k: KeyId, key: &str, value: &str, acc: &mut Bits) {
        for &id in &self.pool[self.keys[k.0 as usize].nulls.range()] {
            if let Ok(entity) = serde_json::from_str::<Value>(&self.entity(id).body())
                && search::has_long_value(&entity, key, value)
            {
                acc.insert(id);
            }
        }
    }

    /// The set of entity ids that a filter accepts.
    pub fn matching(&self, filter: Option<&Filter>) -> Bits {
        match filter {
            None => Bits::full(self.len()),
            Some(f) => self.eval(f),
        }
    }

    fn eval(&self, filter: &Filter) -> Bits {
        let n = self.len();
        match filter {
            Filter::All(parts) => {
                let mut acc = Bits::full(n);
                for part in parts {
                    acc.and_with(&self.eval(part));
                }
                acc
            }
            Filter::Any(parts) => {
                let mut acc = Bits::empty(n);
                for part in parts {
                    acc.or_with(&self.eval(part));
                }
                acc
            }
            Filter::Not(inner) => {
                let mut acc = self.eval(inner);
                acc.invert();
                acc
            }
            Filter::Eq { key, values } => {
                let mut acc = Bits::empty(n);
                if let Some(k) = self.key_id(&search::lower(key)) {
                    for v in values {
                        let v = search::lower(v);
                        if search::js_length(&v) > search::MAX_VALUE_LENGTH {
                            self.match_long_value(k, &search::lower(key), &v, &mut acc);
                        } else if let Some(e) = self.find_entry(k, &v) {
                            acc.set_all(self.entry_ids(e));
                        }
                    }
                }
                acc
            }
            Filter::HasPrefix { key, prefix } => {
                let mut acc = Bits::empty(n);
                if let Some(k) = self.key_id(&search::lower(key)) {
                    let prefix = search::lower(prefix);
                    // Values are sorted, so those with the prefix form one run.
                    let end = self.entry_range(k).end;
                    let mut e = self.lower_bound(k, &prefix);
                    while e < end && self.entry_value(e).starts_with(prefix.as_ref()) {
                        acc.set_all(self.entry_ids(e));
                        e += 1;
                    }
                }
                acc
            }
            Filter::Exists { key } => match self.key_id(&search::lower(key)) {
                Some(k) => self.with_key(k),
                None => Bits::empty(n),
            },
        }
    }
}
/// Builds a [`Stitched`] from an entity JSON; for tests and benchmarks of this crate.
#[cfg(test)]
pub(crate) fn stitched_from(v: &Value) -> Arc<Stitched> {
    let kind = v["kind"].as_str().unwrap_or_default();
    let ns = v["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    let key = format!("{kind}:{ns}/{name}").to_lowercase();
    Arc::new(Stitched::from_json(
        key,
        v["metadata"]["uid"].as_str().unwrap_or_default().to_owned(),
        v["metadata"]["etag"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        &v.to_string(),
    ))
}

mod bits;
pub mod body;
mod build;
mod update;

pub use bits::Bits;
pub use body::Body;
use build::{Builder, encode_spelling, extract_parallel};
pub use update::{UPDATE_REBUILD_MIN, UPDATE_REBUILD_SHARE};
#[cfg(test)]
mod tests;
