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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stitched {
    /// Canonical `kind:namespace/name`.
    pub entity_ref: String,
    /// Lower-cased `entity_ref`; the index's sort key.
    pub key: String,
    pub uid: String,
    pub etag: String,
    /// The final entity JSON.
    pub body: Arc<str>,
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

/// One distinct (key, lower-cased value), 16 bytes. Its ids run from `ids_start` to the next
/// entry's `ids_start`; a sentinel entry closes the table.
#[derive(Debug, Clone, Copy)]
struct Entry {
    lower_off: u32,
    orig_off: u32,
    ids_start: u32,
    lower_len: u16,
    /// The first spelling seen: [`ORIG_SAME`], [`ORIG_MASK`], or the length of the spelling
    /// in the arena at `orig_off`.
    orig_len: u16,
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
        entities.sort_by(|a, b| a.0.key.cmp(&b.0.key));
        let mut deduped: Vec<(Arc<Stitched>, Option<&Value>)> = Vec::with_capacity(entities.len());
        for e in entities {
            match deduped.last_mut() {
                Some(last) if last.0.key == e.0.key => *last = e,
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
        let mut snapshot = builder.finish();

        let entities: Vec<Arc<Stitched>> = entities.into_iter().map(|(e, _)| e).collect();
        let mut by_uid: Vec<u32> = (0..entities.len() as u32).collect();
        by_uid.sort_unstable_by(|&a, &b| entities[a as usize].uid.cmp(&entities[b as usize].uid));
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
            .binary_search_by(|e| e.key.as_str().cmp(&key))
            .ok()
            .map(|i| &self.entities[i])
    }

    pub fn get_by_uid(&self, uid: &str) -> Option<&Arc<Stitched>> {
        self.by_uid
            .binary_search_by(|&i| self.entities[i as usize].uid.as_str().cmp(uid))
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
        self.text(e.lower_off, e.lower_len as usize)
    }

    pub(crate) fn entry_ids(&self, entry: u32) -> &[u32] {
        let from = self.entries[entry as usize].ids_start as usize;
        let to = self.entries[entry as usize + 1].ids_start as usize;
        &self.pool[from..to]
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
        let lower = self.text(e.lower_off, e.lower_len as usize);
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
        self.entities.partition_point(|e| e.key.as_str() <= key) as u32
    }

    /// Number of entities whose key sorts below `key`.
    pub(crate) fn ids_below_key(&self, key: &str) -> u32 {
        self.entities.partition_point(|e| e.key.as_str() < key) as u32
    }

    /// Adds the entities whose value at `key` is `value`, a value too long for the index (a null
    /// row there): only the entities with a null row for the key are candidates, and each is
    /// checked against its own JSON. Rare, and bounded by the number of such entities.
    fn match_long_value(&self, k: KeyId, key: &str, value: &str, acc: &mut Bits) {
        for &id in &self.pool[self.keys[k.0 as usize].nulls.range()] {
            if let Ok(entity) = serde_json::from_str::<Value>(&self.entity(id).body)
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

/// A set of entity ids as a bitmap: a full catalog is a few thousand words, so every set
/// operation is a tight loop over memory that fits in cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    n: usize,
}

impl Bits {
    pub fn empty(n: usize) -> Self {
        Bits {
            words: vec![0; n.div_ceil(64)],
            n,
        }
    }

    pub fn full(n: usize) -> Self {
        let mut b = Bits {
            words: vec![u64::MAX; n.div_ceil(64)],
            n,
        };
        b.clear_tail();
        b
    }

    fn clear_tail(&mut self) {
        let extra = self.words.len() * 64 - self.n;
        if extra > 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= u64::MAX >> extra;
        }
    }

    #[inline]
    pub fn contains(&self, id: u32) -> bool {
        let i = id as usize;
        i < self.n && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    #[inline]
    pub fn insert(&mut self, id: u32) {
        let i = id as usize;
        self.words[i / 64] |= 1 << (i % 64);
    }

    pub fn set_all(&mut self, ids: &[u32]) {
        for &id in ids {
            self.insert(id);
        }
    }

    pub fn and_with(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    pub fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }

    pub fn or_with(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    pub fn invert(&mut self) {
        for w in &mut self.words {
            *w = !*w;
        }
        self.clear_tail();
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Ids in the set, ascending, starting at `from`.
    pub fn iter_from(&self, from: u32) -> impl Iterator<Item = u32> + '_ {
        let from = from as usize;
        let first_word = from / 64;
        self.words
            .iter()
            .enumerate()
            .skip(first_word)
            .flat_map(move |(wi, &w)| {
                let w = if wi == first_word && !from.is_multiple_of(64) {
                    w & (u64::MAX << (from % 64))
                } else {
                    w
                };
                BitIter {
                    w,
                    base: wi as u32 * 64,
                }
            })
    }

    /// Ids in the set below `below`, descending.
    pub fn iter_rev_below(&self, below: u32) -> impl Iterator<Item = u32> + '_ {
        let below = (below as usize).min(self.n);
        let end_word = below.div_ceil(64);
        self.words[..end_word]
            .iter()
            .enumerate()
            .rev()
            .flat_map(move |(wi, &w)| {
                let w = if wi == end_word - 1 && !below.is_multiple_of(64) {
                    w & (u64::MAX >> (64 - below % 64))
                } else {
                    w
                };
                BitIterRev {
                    w,
                    base: wi as u32 * 64,
                }
            })
    }
}

struct BitIter {
    w: u64,
    base: u32,
}

impl Iterator for BitIter {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.w == 0 {
            return None;
        }
        let t = self.w.trailing_zeros();
        self.w &= self.w - 1;
        Some(self.base + t)
    }
}

struct BitIterRev {
    w: u64,
    base: u32,
}

impl Iterator for BitIterRev {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.w == 0 {
            return None;
        }
        let t = 63 - self.w.leading_zeros();
        self.w &= !(1u64 << t);
        Some(self.base + t)
    }
}

// ---- building ----

/// Rows of a run of consecutive entities, produced on a worker thread.
#[derive(Default)]
struct Batch {
    text: String,
    /// (entity id, row) with spans into `text`.
    rows: Vec<(u32, search::Row)>,
}

impl Batch {
    fn str(&self, span: search::Span) -> &str {
        &self.text[span.0 as usize..(span.0 + span.1) as usize]
    }
}

const BATCH_ENTITIES: usize = 1024;

/// Extracts search rows on worker threads (parsing JSON dominates) and hands the batches to
/// `consume` in id order on the calling thread, which interns them meanwhile.
fn extract_parallel(entities: &[(Arc<Stitched>, Option<&Value>)], mut consume: impl FnMut(Batch)) {
    let chunks: Vec<&[(Arc<Stitched>, Option<&Value>)]> = entities.chunks(BATCH_ENTITIES).collect();
    if chunks.is_empty() {
        return;
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(chunks.len());
    if workers == 1 {
        let mut sink = RowSink::default();
        for (i, chunk) in chunks.iter().enumerate() {
            consume(extract(chunk, (i * BATCH_ENTITIES) as u32, &mut sink));
        }
        return;
    }
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(workers);
        for w in 0..workers {
            // Bounded, so fast workers cannot pile up parsed batches in memory.
            let (tx, rx) = mpsc::sync_channel::<Batch>(2);
            receivers.push(rx);
            let chunks = &chunks;
            scope.spawn(move || {
                let mut sink = RowSink::default();
                for i in (w..chunks.len()).step_by(workers) {
                    if tx
                        .send(extract(chunks[i], (i * BATCH_ENTITIES) as u32, &mut sink))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        for i in 0..chunks.len() {
            let batch = receivers[i % workers]
                .recv()
                .expect("index worker panicked");
            consume(batch);
        }
    });
}

fn extract(chunk: &[(Arc<Stitched>, Option<&Value>)], first_id: u32, sink: &mut RowSink) -> Batch {
    let mut batch = Batch::default();
    for (i, (stitched, parsed)) in chunk.iter().enumerate() {
        let owned;
        let value = match parsed {
            Some(v) => *v,
            None => match serde_json::from_str::<Value>(&stitched.body) {
                Ok(v) => {
                    owned = v;
                    &owned
                }
                // Still listed and fetchable, just not matched by any filter.
                Err(_) => continue,
            },
        };
        sink.collect(value);
        let base = batch.text.len() as u32;
        batch.text.push_str(&sink.text);
        let shift = |s: search::Span| (s.0 + base, s.1);
        batch.rows.extend(sink.rows.iter().map(|r| {
            (
                first_id + i as u32,
                search::Row {
                    key: shift(r.key),
                    value: r.value.map(|(l, o)| (shift(l), shift(o))),
                    ..*r
                },
            )
        }));
    }
    batch
}

/// An open-addressing set of a key's entries, keyed by the value text the builder already
/// holds, so no value is allocated twice while interning millions of rows.
#[derive(Default)]
struct ValueTable {
    /// 0 is empty; else (high 32 bits of the hash) << 32 | (entry + 1).
    slots: Vec<u64>,
    len: usize,
}

impl ValueTable {
    fn reserve_one(&mut self) {
        if (self.len + 1) * 2 <= self.slots.len() {
            return;
        }
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        let mask = size - 1;
        for s in old.into_iter().filter(|&s| s != 0) {
            let mut i = (s >> 32) as usize & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// The entry for which `is` holds, or the free slot to insert it at.
    fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut i = tag as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return Err(i);
            }
            if s >> 32 == tag && is((s as u32) - 1) {
                return Ok((s as u32) - 1);
            }
            i = (i + 1) & mask;
        }
    }

    fn insert_at(&mut self, slot: usize, hash: u64, entry: u32) {
        self.slots[slot] = (hash >> 32) << 32 | (entry as u64 + 1);
        self.len += 1;
    }
}

/// One key's rows while building: its own value text, so sorting and the final layout read
/// one key's strings together.
#[derive(Default)]
struct KeyBuilder {
    name: Box<str>,
    text: String,
    table: ValueTable,
    /// (lower offset, lower length, spelling offset, spelling length) in `text`.
    entries: Vec<(u32, u32, u32, u32)>,
    /// (local entry, id) in id order.
    postings: Vec<(u32, u32)>,
    nulls: Vec<u32>,
    variants: Vec<(u32, u32, Box<str>)>,
}

#[derive(Default)]
struct Builder {
    key_table: ValueTable,
    keys: Vec<KeyBuilder>,
}

impl Builder {
    fn add(&mut self, batch: &Batch) {
        for &(id, row) in &batch.rows {
            let key = batch.str(row.key);
            self.key_table.reserve_one();
            let keys = &self.keys;
            let k = match self
                .key_table
                .find(row.key_hash, |k| &*keys[k as usize].name == key)
            {
                Ok(k) => k,
                Err(slot) => {
                    let k = self.keys.len() as u32;
                    self.keys.push(KeyBuilder {
                        name: key.into(),
                        ..KeyBuilder::default()
                    });
                    self.key_table.insert_at(slot, row.key_hash, k);
                    k
                }
            };
            let kb = &mut self.keys[k as usize];
            let Some((lower_span, orig_span)) = row.value else {
                if kb.nulls.last() != Some(&id) {
                    kb.nulls.push(id);
                }
                continue;
            };
            let lower = batch.str(lower_span);
            let orig = batch.str(orig_span);
            let hash = row.value_hash;
            kb.table.reserve_one();
            let text = &kb.text;
            let entries = &kb.entries;
            let at = |off: u32, len: u32| &text[off as usize..(off + len) as usize];
            match kb.table.find(hash, |e| {
                let (lo, ll, _, _) = entries[e as usize];
                at(lo, ll) == lower
            }) {
                Ok(e) => {
                    let (_, _, oo, ol) = entries[e as usize];
                    if at(oo, ol) != orig {
                        kb.variants.push((e, id, orig.into()));
                    }
                    kb.postings.push((e, id));
                }
                Err(slot) => {
                    let lo = kb.text.len() as u32;
                    kb.text.push_str(lower);
                    let (oo, ol) = if lower_span == orig_span {
                        (lo, lower.len() as u32)
                    } else {
                        let oo = kb.text.len() as u32;
                        kb.text.push_str(orig);
                        (oo, orig.len() as u32)
                    };
                    let e = kb.entries.len() as u32;
                    kb.entries.push((lo, lower.len() as u32, oo, ol));
                    kb.table.insert_at(slot, hash, e);
                    kb.postings.push((e, id));
                }
            }
        }
    }

    fn finish(self) -> Snapshot {
        let Builder {
            key_table,
            mut keys,
        } = self;
        drop(key_table);
        keys.sort_unstable_by(|a, b| a.name.cmp(&b.name));

        // Keys are independent, so their layout is split across threads, balanced by size.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let mut shares: Vec<(usize, Vec<(usize, KeyBuilder)>)> =
            (0..workers).map(|_| (0, Vec::new())).collect();
        let mut by_size: Vec<(usize, KeyBuilder)> = keys.into_iter().enumerate().collect();
        by_size.sort_by_key(|(_, k)| std::cmp::Reverse(k.postings.len() + k.text.len() / 8));
        for (i, kb) in by_size {
            let share = shares
                .iter_mut()
                .min_by_key(|(load, _)| *load)
                .expect("one worker");
            share.0 += kb.postings.len() + kb.text.len() / 8 + 1;
            share.1.push((i, kb));
        }
        let mut laid_out: Vec<(usize, KeyLayout)> = if workers == 1 {
            shares
                .pop()
                .map(|(_, ks)| ks.into_iter().map(|(i, kb)| (i, layout_key(kb))).collect())
                .unwrap_or_default()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = shares
                    .into_iter()
                    .map(|(_, ks)| {
                        scope.spawn(move || {
                            ks.into_iter()
                                .map(|(i, kb)| (i, layout_key(kb)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("index layout thread panicked"))
                    .collect()
            })
        };
        laid_out.sort_unstable_by_key(|(i, _)| *i);

        let arena_len: usize = laid_out
            .iter()
            .map(|(_, k)| k.name.len() + k.text.len())
            .sum();
        let entry_count: usize = laid_out.iter().map(|(_, k)| k.entries.len()).sum();
        let id_count: usize = laid_out
            .iter()
            .map(|(_, k)| k.ids.len() + k.nulls.len())
            .sum();
        let mask_len: usize = laid_out.iter().map(|(_, k)| k.masks.len()).sum();
        assert!(
            arena_len <= u32::MAX as usize && id_count <= u32::MAX as usize,
            "index over 4 GiB"
        );
        let mut s = Snapshot {
            arena: String::with_capacity(arena_len),
            entries: Vec::with_capacity(entry_count + 1),
            pool: Vec::with_capacity(id_count),
            masks: Vec::with_capacity(mask_len),
            keys: Vec::with_capacity(laid_out.len()),
            ..Snapshot::default()
        };
        s.entries.clear();
        let mut null_lists = Vec::with_capacity(laid_out.len());
        for (_, k) in laid_out {
            let name_off = s.arena.len() as u32;
            s.arena.push_str(&k.name);
            let text_base = s.arena.len() as u32;
            s.arena.push_str(&k.text);
            let mask_base = s.masks.len() as u32;
            s.masks.extend_from_slice(&k.masks);
            let id_base = s.pool.len() as u32;
            s.pool.extend_from_slice(&k.ids);
            let entry_base = s.entries.len() as u32;
            s.entries.extend(k.entries.iter().map(|e| Entry {
                lower_off: e.lower_off + text_base,
                orig_off: match e.orig_len {
                    ORIG_SAME => 0,
                    ORIG_MASK => e.orig_off + mask_base,
                    _ => e.orig_off + text_base,
                },
                ids_start: e.ids_start + id_base,
                ..*e
            }));
            s.variants
                .extend(k.variants.into_iter().map(|(e, id, orig)| Variant {
                    entry: e + entry_base,
                    id,
                    orig,
                }));
            s.keys.push(KeyIndex {
                name_off,
                name_len: k.name.len() as u32,
                entries: Run {
                    start: entry_base,
                    len: k.entries.len() as u32,
                },
                nulls: Run::default(),
            });
            null_lists.push(k.nulls);
        }
        s.entries.push(Entry {
            lower_off: 0,
            orig_off: 0,
            ids_start: s.pool.len() as u32,
            lower_len: 0,
            orig_len: ORIG_SAME,
        });
        for (key, nulls) in s.keys.iter_mut().zip(null_lists) {
            key.nulls = Run {
                start: s.pool.len() as u32,
                len: nulls.len() as u32,
            };
            s.pool.extend_from_slice(&nulls);
        }
        s.variants.shrink_to_fit();
        s
    }
}

/// One key's final layout, with offsets relative to its own buffers.
struct KeyLayout {
    name: Box<str>,
    text: String,
    masks: Vec<u8>,
    entries: Vec<Entry>,
    ids: Vec<u32>,
    nulls: Vec<u32>,
    /// (entry index within the key, id, spelling), sorted.
    variants: Vec<(u32, u32, Box<str>)>,
}

fn layout_key(kb: KeyBuilder) -> KeyLayout {
    let KeyBuilder {
        name,
        text,
        table,
        entries: raw,
        postings,
        nulls,
        mut variants,
    } = kb;
    drop(table);
    let at = |off: u32, len: u32| &text[off as usize..(off + len) as usize];

    // Sort by value; 8 big-endian bytes taken after the prefix that all values share (URLs
    // share a long one) settle most comparisons without touching the text. Zero padding keeps
    // that order consistent with string order.
    let first = raw
        .first()
        .map_or("", |&(lo, ll, _, _)| at(lo, ll))
        .as_bytes();
    let shared = raw.iter().fold(first.len(), |n, &(lo, ll, _, _)| {
        let v = at(lo, ll).as_bytes();
        n.min(first.iter().zip(v).take_while(|(a, b)| a == b).count())
    });
    let mut order: Vec<(u64, u32)> = raw
        .iter()
        .enumerate()
        .map(|(i, &(lo, ll, _, _))| {
            let mut prefix = [0u8; 8];
            let bytes = &at(lo, ll).as_bytes()[shared..];
            let n = bytes.len().min(8);
            prefix[..n].copy_from_slice(&bytes[..n]);
            (u64::from_be_bytes(prefix), i as u32)
        })
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            let (x, y) = (raw[a.1 as usize], raw[b.1 as usize]);
            at(x.0, x.1).cmp(at(y.0, y.1))
        })
    });
    let mut rank = vec![0u32; raw.len()];
    for (pos, &(_, e)) in order.iter().enumerate() {
        rank[e as usize] = pos as u32;
    }

    // Counting sort of postings by rank; stable, so each id list stays ascending.
    let mut starts = vec![0u32; raw.len() + 1];
    for &(e, _) in &postings {
        starts[rank[e as usize] as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut ids = vec![0u32; postings.len()];
    let mut next = starts.clone();
    for &(e, id) in &postings {
        let slot = &mut next[rank[e as usize] as usize];
        ids[*slot as usize] = id;
        *slot += 1;
    }
    drop(postings);

    let mut out_text = String::with_capacity(text.len());
    let mut masks = Vec::new();
    let mut entries = Vec::with_capacity(raw.len());
    for (pos, &(_, e)) in order.iter().enumerate() {
        let (lo, ll, oo, ol) = raw[e as usize];
        let lower = at(lo, ll);
        let orig = at(oo, ol);
        let lower_off = out_text.len() as u32;
        out_text.push_str(lower);
        let (orig_off, orig_len) = encode_spelling(lower, orig, &mut out_text, &mut masks);
        entries.push(Entry {
            lower_off,
            orig_off,
            ids_start: starts[pos],
            lower_len: lower.len() as u16,
            orig_len,
        });
    }
    for v in &mut variants {
        v.0 = rank[v.0 as usize];
    }
    variants.sort_unstable_by_key(|v| (v.0, v.1));
    KeyLayout {
        name,
        text: out_text,
        masks,
        entries,
        ids,
        nulls,
        variants,
    }
}

/// How an entry's first spelling is stored after its lower-cased value (already pushed to
/// `text`): as the value itself, as an upper-case mask appended to `masks`, or as text
/// appended to `text`. Returns `Entry::orig_off` and `Entry::orig_len`.
fn encode_spelling(lower: &str, orig: &str, text: &mut String, masks: &mut Vec<u8>) -> (u32, u16) {
    // Values are at most 200 UTF-16 units, keys too, so lengths fit with room for the flag.
    debug_assert!(lower.len() < ORIG_MASK as usize && orig.len() < ORIG_MASK as usize);
    if orig == lower {
        (0, ORIG_SAME)
    } else if orig.len() == lower.len() && orig.to_ascii_lowercase() == lower {
        let off = masks.len() as u32;
        masks.resize(masks.len() + lower.len().div_ceil(8), 0);
        for (i, b) in orig.bytes().enumerate() {
            if b.is_ascii_uppercase() {
                masks[off as usize + i / 8] |= 1 << (i % 8);
            }
        }
        (off, ORIG_MASK)
    } else {
        let off = text.len() as u32;
        text.push_str(orig);
        (off, orig.len() as u16)
    }
}

// ---- updating ----

/// [`Snapshot::update`] rebuilds instead when the changed entities (upserted ones plus old
/// ones removed or replaced, so a replacement counts twice) are more than this share
/// (numerator, denominator) of the resulting entities...
///
/// Measured at 117,000 synthetic entities on 2 cores: an update of 1 or 100 entities takes
/// 20–35 ms against 1.5 s for a build; a quarter of the catalog still takes well under a
/// build, while the incremental path parses and merges more than a build would beyond that.
pub const UPDATE_REBUILD_SHARE: (usize, usize) = (1, 4);
/// ...and more than this many.
pub const UPDATE_REBUILD_MIN: usize = 2000;

/// `Plan::old_to_new` of an entity that is removed or replaced.
const GONE: u32 = u32::MAX;

/// The entity list after a change, and how ids move.
struct Plan {
    entities: Vec<Arc<Stitched>>,
    /// New id of each old id, or [`GONE`]; increasing where not gone.
    old_to_new: Vec<u32>,
    /// New ids of the upserted entities, ascending.
    added: Vec<u32>,
    /// Old entities removed or replaced.
    dropped: usize,
}

/// A search row of an upserted entity, with spans into [`NewRows::text`].
#[derive(Clone, Copy)]
struct NewRow {
    id: u32,
    key: search::Span,
    /// (lower-cased, spelling); `None` for a null row.
    value: Option<(search::Span, search::Span)>,
}

/// The rows of the upserted entities, sorted by (key, value with nulls first, id).
#[derive(Default)]
struct NewRows {
    text: String,
    rows: Vec<NewRow>,
}

impl NewRows {
    fn str(&self, span: search::Span) -> &str {
        &self.text[span.0 as usize..(span.0 + span.1) as usize]
    }

    fn lower(&self, row: &NewRow) -> &str {
        row.value.map_or("", |(l, _)| self.str(l))
    }

    fn spelling(&self, row: &NewRow) -> &str {
        row.value.map_or("", |(_, o)| self.str(o))
    }

    fn extract(entities: &[Arc<Stitched>], added: &[u32]) -> NewRows {
        let items: Vec<(Arc<Stitched>, Option<&Value>)> = added
            .iter()
            .map(|&id| (entities[id as usize].clone(), None))
            .collect();
        let mut out = NewRows::default();
        extract_parallel(&items, |batch| {
            let base = out.text.len() as u32;
            out.text.push_str(&batch.text);
            let shift = |s: search::Span| (s.0 + base, s.1);
            out.rows.extend(batch.rows.iter().map(|(i, r)| NewRow {
                id: added[*i as usize],
                key: shift(r.key),
                value: r.value.map(|(l, o)| (shift(l), shift(o))),
            }));
        });
        let NewRows { text, rows } = &mut out;
        let at = |s: search::Span| &text[s.0 as usize..(s.0 + s.1) as usize];
        rows.sort_unstable_by(|a, b| {
            at(a.key)
                .cmp(at(b.key))
                .then_with(|| a.value.map(|v| at(v.0)).cmp(&b.value.map(|v| at(v.0))))
                .then(a.id.cmp(&b.id))
        });
        out
    }
}

/// Merges two ascending id sequences (disjoint) into `out`.
fn merge_ids(a: impl Iterator<Item = u32>, b: &[u32], out: &mut Vec<u32>) {
    let mut b = b.iter().copied().peekable();
    for x in a {
        while let Some(y) = b.next_if(|&y| y < x) {
            out.push(y);
        }
        out.push(x);
    }
    out.extend(b);
}

impl Snapshot {
    fn plan(&self, upserts: Vec<Arc<Stitched>>, removals: &[String]) -> Plan {
        let mut upserts = upserts;
        // Stable, so the later of two upserts with one key wins below, as in `build`.
        upserts.sort_by(|a, b| a.key.cmp(&b.key));
        let mut ups: Vec<Arc<Stitched>> = Vec::with_capacity(upserts.len());
        for e in upserts {
            match ups.last_mut() {
                Some(last) if last.key == e.key => *last = e,
                _ => ups.push(e),
            }
        }
        let mut removed: Vec<String> = removals
            .iter()
            .map(|r| search::lower(r).into_owned())
            .collect();
        removed.sort_unstable();
        removed.dedup();

        let n = self.entities.len();
        let mut entities: Vec<Arc<Stitched>> = Vec::with_capacity(n + ups.len());
        let mut old_to_new = vec![GONE; n];
        let mut added = Vec::with_capacity(ups.len());
        let mut dropped = 0;
        let (mut pos, mut r) = (0, 0);
        let mut ups = ups.into_iter().peekable();
        let mut keep = |to: usize, pos: &mut usize, entities: &mut Vec<Arc<Stitched>>| {
            let shift = entities.len() as u32;
            for (i, slot) in old_to_new[*pos..to].iter_mut().enumerate() {
                *slot = shift + i as u32;
            }
            entities.extend_from_slice(&self.entities[*pos..to]);
            *pos = to;
        };
        loop {
            let key = match (ups.peek(), removed.get(r)) {
                (None, None) => break,
                (Some(u), None) => u.key.clone(),
                (None, Some(x)) => x.clone(),
                (Some(u), Some(x)) => u.key.as_str().min(x.as_str()).to_owned(),
            };
            let at = pos + self.entities[pos..].partition_point(|e| e.key < key);
            keep(at, &mut pos, &mut entities);
            if pos < n && self.entities[pos].key == key {
                pos += 1;
                dropped += 1;
            }
            if removed.get(r) == Some(&key) {
                r += 1;
            }
            if let Some(up) = ups.next_if(|u| u.key == key) {
                added.push(entities.len() as u32);
                entities.push(up);
            }
        }
        keep(n, &mut pos, &mut entities);
        assert!(
            entities.len() < u32::MAX as usize,
            "too many entities for u32 ids"
        );
        Plan {
            entities,
            old_to_new,
            added,
            dropped,
        }
    }

    /// The index of the planned entity set, carrying this snapshot's index over key by key
    /// and entry by entry: both are sorted, so the upserted rows merge in without sorting
    /// anything old again.
    fn apply(&self, plan: Plan) -> Snapshot {
        let Plan {
            entities,
            old_to_new,
            added,
            ..
        } = plan;
        let new = NewRows::extract(&entities, &added);
        let mut out = Snapshot {
            arena: String::with_capacity(self.arena.len() + new.text.len()),
            entries: Vec::with_capacity(self.entries.len() + new.rows.len()),
            pool: Vec::with_capacity(self.pool.len() + new.rows.len()),
            masks: Vec::with_capacity(self.masks.len() + new.text.len() / 8),
            keys: Vec::with_capacity(self.keys.len() + 16),
            variants: Vec::with_capacity(self.variants.len()),
            ..Snapshot::default()
        };
        out.entries.clear();
        let mut carry = Carry {
            old: self,
            new: &new,
            map: &old_to_new,
            out: &mut out,
            nulls: Vec::new(),
            variant: 0,
        };
        let (mut old_k, mut new_i) = (0, 0);
        loop {
            let old_name = self
                .keys
                .get(old_k)
                .map(|k| self.text(k.name_off, k.name_len as usize));
            let new_name = new.rows.get(new_i).map(|r| new.str(r.key));
            let (name, take_old) = match (old_name, new_name) {
                (None, None) => break,
                (Some(a), None) => (a, true),
                (None, Some(b)) => (b, false),
                (Some(a), Some(b)) => (a.min(b), a <= b),
            };
            let new_end = new_i + new.rows[new_i..].partition_point(|r| new.str(r.key) == name);
            carry.key(name, take_old.then_some(old_k), &new.rows[new_i..new_end]);
            old_k += usize::from(take_old);
            new_i = new_end;
        }
        let nulls = carry.nulls;
        out.entries.push(Entry {
            lower_off: 0,
            orig_off: 0,
            ids_start: out.pool.len() as u32,
            lower_len: 0,
            orig_len: ORIG_SAME,
        });
        let null_base = out.pool.len() as u32;
        for key in &mut out.keys {
            key.nulls.start += null_base;
        }
        out.pool.extend_from_slice(&nulls);
        assert!(
            out.arena.len() <= u32::MAX as usize && out.pool.len() <= u32::MAX as usize,
            "index over 4 GiB"
        );

        let map = |id: &u32| old_to_new[*id as usize];
        let old_by_uid: Vec<u32> = self.by_uid.iter().map(map).filter(|&i| i != GONE).collect();
        let mut new_by_uid = added;
        new_by_uid
            .sort_unstable_by(|&a, &b| entities[a as usize].uid.cmp(&entities[b as usize].uid));
        let mut by_uid = Vec::with_capacity(entities.len());
        let mut from = 0;
        for id in new_by_uid {
            let uid = entities[id as usize].uid.as_str();
            let at = from
                + old_by_uid[from..].partition_point(|&i| entities[i as usize].uid.as_str() < uid);
            by_uid.extend_from_slice(&old_by_uid[from..at]);
            by_uid.push(id);
            from = at;
        }
        by_uid.extend_from_slice(&old_by_uid[from..]);
        out.by_uid = by_uid;
        out.entities = entities;
        out
    }
}

/// The state of [`Snapshot::apply`] while it carries keys over.
struct Carry<'a> {
    old: &'a Snapshot,
    new: &'a NewRows,
    map: &'a [u32],
    out: &'a mut Snapshot,
    /// Null lists of the keys so far; their runs are relative to this until the end.
    nulls: Vec<u32>,
    /// Cursor into the old snapshot's variants: old entries are visited in ascending order.
    variant: usize,
}

impl Carry<'_> {
    /// One key: the old key `old` (if it exists) merged with the upserted rows `rows`.
    fn key(&mut self, name: &str, old: Option<usize>, rows: &[NewRow]) {
        let (o, new) = (self.old, self.new);
        let name_off = self.out.arena.len();
        self.out.arena.push_str(name);
        let entry_base = self.out.entries.len();
        let null_base = self.nulls.len();
        let split = rows.partition_point(|r| r.value.is_none());
        let (new_nulls, values) = rows.split_at(split);
        let new_null_ids: Vec<u32> = new_nulls.iter().map(|r| r.id).collect();
        let old_entries = match old {
            Some(k) => {
                let map = self.map;
                let old_nulls = o.pool[o.keys[k].nulls.range()]
                    .iter()
                    .map(|&id| map[id as usize])
                    .filter(|&id| id != GONE);
                merge_ids(old_nulls, &new_null_ids, &mut self.nulls);
                o.entry_range(KeyId(k as u32))
            }
            None => {
                self.nulls.extend_from_slice(&new_null_ids);
                0..0
            }
        };

        let (mut e, mut j) = (old_entries.start, 0);
        while e < old_entries.end || j < values.len() {
            let ord = if j == values.len() {
                std::cmp::Ordering::Less
            } else if e == old_entries.end {
                std::cmp::Ordering::Greater
            } else {
                o.entry_value(e).cmp(new.lower(&values[j]))
            };
            let j_end = if ord.is_lt() {
                j
            } else {
                let lower = new.lower(&values[j]);
                j + values[j..].partition_point(|r| new.lower(r) == lower)
            };
            let group = &values[j..j_end];
            if ord.is_gt() {
                let list: Vec<(u32, &str)> =
                    group.iter().map(|r| (r.id, new.spelling(r))).collect();
                emit_entry(self.out, new.lower(&group[0]), &list);
            } else {
                self.old_entry(e, group);
                e += 1;
            }
            j = j_end;
        }

        let entries = self.out.entries.len() - entry_base;
        let nulls = self.nulls.len() - null_base;
        if entries == 0 && nulls == 0 {
            // Every row of the key went with its entities.
            self.out.arena.truncate(name_off);
            return;
        }
        self.out.keys.push(KeyIndex {
            name_off: name_off as u32,
            name_len: name.len() as u32,
            entries: Run {
                start: entry_base as u32,
                len: entries as u32,
            },
            nulls: Run {
                start: null_base as u32,
                len: nulls as u32,
            },
        });
    }

    /// Old entry `e`, with the upserted rows of the same value (ascending ids) merged in.
    fn old_entry(&mut self, e: u32, rows: &[NewRow]) {
        let (o, new, map) = (self.old, self.new, self.map);
        let vars = &o.variants;
        while self.variant < vars.len() && vars[self.variant].entry < e {
            self.variant += 1;
        }
        let v_from = self.variant;
        while self.variant < vars.len() && vars[self.variant].entry == e {
            self.variant += 1;
        }
        let vars = &vars[v_from..self.variant];
        let ids = o.entry_ids(e);
        let out = &mut *self.out;
        let old = o.entries[e as usize];
        let lower = o.text(old.lower_off, old.lower_len as usize);

        if rows.is_empty() && ids.first().is_some_and(|&id| map[id as usize] != GONE) {
            // The entity that gave the first spelling stays first, so the spelling and the
            // variants carry over as they are.
            let entry = out.entries.len() as u32;
            let ids_start = out.pool.len() as u32;
            out.pool.extend(
                ids.iter()
                    .map(|&id| map[id as usize])
                    .filter(|&id| id != GONE),
            );
            let lower_off = out.arena.len() as u32;
            out.arena.push_str(lower);
            let (orig_off, orig_len) = match old.orig_len {
                ORIG_SAME => (0, ORIG_SAME),
                ORIG_MASK => {
                    let off = out.masks.len() as u32;
                    let from = old.orig_off as usize;
                    out.masks.extend_from_slice(
                        &o.masks[from..from + (old.lower_len as usize).div_ceil(8)],
                    );
                    (off, ORIG_MASK)
                }
                len => {
                    let off = out.arena.len() as u32;
                    out.arena.push_str(o.text(old.orig_off, len as usize));
                    (off, len)
                }
            };
            out.variants.extend(vars.iter().filter_map(|v| {
                let id = map[v.id as usize];
                (id != GONE).then(|| Variant {
                    entry,
                    id,
                    orig: v.orig.clone(),
                })
            }));
            out.entries.push(Entry {
                lower_off,
                orig_off,
                ids_start,
                lower_len: old.lower_len,
                orig_len,
            });
            return;
        }

        // The first spelling may change hands: list every (id, spelling) and start over.
        let primary = o.entry_spelling(e);
        let mut list: Vec<(u32, &str)> = Vec::with_capacity(ids.len() + rows.len());
        let (mut v, mut r) = (0, 0);
        for &old_id in ids {
            let spelling: &str = if v < vars.len() && vars[v].id == old_id {
                v += 1;
                &vars[v - 1].orig
            } else {
                &primary
            };
            let id = map[old_id as usize];
            if id == GONE {
                continue;
            }
            while r < rows.len() && rows[r].id < id {
                list.push((rows[r].id, new.spelling(&rows[r])));
                r += 1;
            }
            list.push((id, spelling));
        }
        list.extend(rows[r..].iter().map(|row| (row.id, new.spelling(row))));
        if !list.is_empty() {
            emit_entry(out, lower, &list);
        }
    }
}

/// Appends an entry with value `lower` held by `list` (ascending ids, each with its
/// spelling); the first spelling is the entry's, the others are variants.
fn emit_entry(out: &mut Snapshot, lower: &str, list: &[(u32, &str)]) {
    let entry = out.entries.len() as u32;
    let ids_start = out.pool.len() as u32;
    out.pool.extend(list.iter().map(|&(id, _)| id));
    let primary = list[0].1;
    let lower_off = out.arena.len() as u32;
    out.arena.push_str(lower);
    let (orig_off, orig_len) = encode_spelling(lower, primary, &mut out.arena, &mut out.masks);
    out.variants.extend(
        list.iter()
            .filter(|&&(_, spelling)| spelling != primary)
            .map(|&(id, spelling)| Variant {
                entry,
                id,
                orig: spelling.into(),
            }),
    );
    out.entries.push(Entry {
        lower_off,
        orig_off,
        ids_start,
        lower_len: lower.len() as u16,
        orig_len,
    });
}

/// Builds a [`Stitched`] from an entity JSON; for tests and benchmarks of this crate.
#[cfg(test)]
pub(crate) fn stitched_from(v: &Value) -> Arc<Stitched> {
    let kind = v["kind"].as_str().unwrap_or_default();
    let ns = v["metadata"]["namespace"].as_str().unwrap_or("default");
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    let entity_ref = format!("{}:{}/{}", kind.to_lowercase(), ns.to_lowercase(), name);
    Arc::new(Stitched {
        key: entity_ref.to_lowercase(),
        entity_ref,
        uid: v["metadata"]["uid"].as_str().unwrap_or_default().to_owned(),
        etag: v["metadata"]["etag"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body: v.to_string().into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn snap(values: &[Value]) -> Snapshot {
        Snapshot::build(values.iter().map(|v| (stitched_from(v), Some(v))).collect())
    }

    fn names(s: &Snapshot, bits: &Bits) -> Vec<String> {
        bits.iter_from(0)
            .map(|id| s.entity(id).entity_ref.clone())
            .collect()
    }

    fn eq(key: &str, values: &[&str]) -> Filter {
        Filter::Eq {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn sample() -> Snapshot {
        snap(&[
            json!({"kind": "Component", "metadata": {"name": "b-svc", "uid": "u2", "tags": ["Java"]},
                   "spec": {"type": "service", "owner": "team-a"},
                   "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]}),
            json!({"kind": "Component", "metadata": {"name": "A-Web", "uid": "u1"},
                   "spec": {"type": "website", "none": null}}),
            json!({"kind": "API", "metadata": {"name": "c-api", "namespace": "Prod", "uid": "u3"},
                   "spec": {"type": "openapi"}}),
            json!({"kind": "Group", "metadata": {"name": "team-a", "uid": "u0", "description": "d".repeat(300)}}),
        ])
    }

    #[test]
    fn entities_sorted_by_key_and_looked_up_case_insensitively() {
        let s = sample();
        let refs: Vec<&str> = s.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            refs,
            [
                "api:prod/c-api",
                "component:default/a-web",
                "component:default/b-svc",
                "group:default/team-a"
            ]
        );
        assert_eq!(
            s.get("Component:Default/A-WEB").unwrap().entity_ref,
            "component:default/A-Web"
        );
        assert!(s.get("component:default/nope").is_none());
        assert_eq!(s.get_by_uid("u3").unwrap().key, "api:prod/c-api");
        assert!(s.get_by_uid("U3").is_none());
        assert_eq!(s.len(), 4);
        assert!(Snapshot::empty().is_empty());
    }

    #[test]
    fn values_longer_than_backstage_indexes_still_match_a_filter() {
        let s = sample();
        let long = eq("metadata.description", &[&"D".repeat(300)]);
        assert_eq!(
            names(&s, &s.matching(Some(&long))),
            ["group:default/team-a"]
        );
        let shorter = eq("metadata.description", &[&"d".repeat(299)]);
        assert_eq!(s.matching(Some(&shorter)).count(), 0);
        // Still a null row for everything else: present for exists, absent from values.
        let exists = Filter::Exists {
            key: "metadata.description".into(),
        };
        assert_eq!(s.matching(Some(&exists)).count(), 1);
    }

    #[test]
    fn later_duplicate_wins() {
        let a = json!({"kind": "Component", "metadata": {"name": "x", "uid": "1"}, "spec": {"type": "old"}});
        let b = json!({"kind": "Component", "metadata": {"name": "X", "uid": "2"}, "spec": {"type": "new"}});
        let s = snap(&[a, b]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.get("component:default/x").unwrap().uid, "2");
        assert_eq!(s.matching(Some(&eq("spec.type", &["old"]))).count(), 0);
        assert_eq!(s.matching(Some(&eq("spec.type", &["new"]))).count(), 1);
    }

    #[test]
    fn filter_forms() {
        let s = sample();
        let m = |f: Filter| names(&s, &s.matching(Some(&f)));
        assert_eq!(
            m(eq("kind", &["component"])),
            ["component:default/A-Web", "component:default/b-svc"]
        );
        // Case-insensitive on key and value.
        assert_eq!(m(eq("KIND", &["ComPonent"])).len(), 2);
        // Several values for one key are ORed.
        assert_eq!(
            m(eq("spec.type", &["service", "openapi"])),
            ["api:prod/c-api", "component:default/b-svc"]
        );
        assert_eq!(
            m(Filter::All(vec![
                eq("kind", &["component"]),
                eq("spec.type", &["service"])
            ])),
            ["component:default/b-svc"]
        );
        assert_eq!(
            m(Filter::Any(vec![
                eq("kind", &["group"]),
                eq("metadata.namespace", &["prod"])
            ])),
            ["api:prod/c-api", "group:default/team-a"]
        );
        assert_eq!(
            m(Filter::Not(Box::new(eq("kind", &["component"])))),
            ["api:prod/c-api", "group:default/team-a"]
        );
        // Existence counts null values and values too long to index.
        assert_eq!(
            m(Filter::Exists {
                key: "spec.none".into()
            }),
            ["component:default/A-Web"]
        );
        assert_eq!(
            m(Filter::Exists {
                key: "metadata.description".into()
            }),
            ["group:default/team-a"]
        );
        // Too long for the index, but still matched (Backstage never matches it).
        assert_eq!(
            m(eq("metadata.description", &[&"d".repeat(300)])),
            ["group:default/team-a"]
        );
        // Arrays: per element, and the `<path>.<element>` flag key.
        assert_eq!(
            m(eq("metadata.tags", &["java"])),
            ["component:default/b-svc"]
        );
        assert_eq!(
            m(Filter::Exists {
                key: "metadata.tags.java".into()
            }),
            ["component:default/b-svc"]
        );
        assert_eq!(
            m(eq("relations.ownedby", &["group:default/team-a"])),
            ["component:default/b-svc"]
        );
        assert_eq!(
            m(Filter::HasPrefix {
                key: "metadata.name".into(),
                prefix: "A-".into()
            }),
            ["component:default/A-Web"]
        );
        assert_eq!(
            m(Filter::HasPrefix {
                key: "spec.type".into(),
                prefix: "".into()
            })
            .len(),
            3
        );
        assert_eq!(m(Filter::All(vec![])).len(), 4);
        assert!(m(Filter::Any(vec![])).is_empty());
        assert!(m(eq("kind", &[])).is_empty());
        assert!(m(eq("no.such.key", &["x"])).is_empty());
        assert_eq!(
            m(Filter::Not(Box::new(Filter::Exists {
                key: "no.such".into()
            })))
            .len(),
            4
        );
    }

    #[test]
    fn unparsed_bodies_index_the_same() {
        let values = [
            json!({"kind": "Component", "metadata": {"name": "a", "uid": "1", "title": "Hello"}}),
            json!({"kind": "Component", "metadata": {"name": "b", "uid": "2"}}),
        ];
        let parsed = snap(&values);
        let unparsed = Snapshot::build(values.iter().map(|v| (stitched_from(v), None)).collect());
        for f in [
            eq("metadata.title", &["hello"]),
            eq("metadata.name", &["b"]),
        ] {
            assert_eq!(parsed.matching(Some(&f)), unparsed.matching(Some(&f)));
            assert_eq!(parsed.matching(Some(&f)).count(), 1);
        }
    }

    #[test]
    fn many_batches_keep_ids_sorted() {
        // More than one extraction batch, so the worker/merge path is exercised.
        let values: Vec<Value> = (0..2500)
            .map(|i| json!({"kind": "Component", "metadata": {"name": format!("n{i:05}"), "uid": format!("u{i}")},
                            "spec": {"type": if i % 3 == 0 { "service" } else { "library" }}}))
            .collect();
        let s = snap(&values);
        let k = s.key_id("spec.type").unwrap();
        let e = s.find_entry(k, "service").unwrap();
        let ids = s.entry_ids(e);
        assert_eq!(ids.len(), 834);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ids.iter()
                .all(|&id| s.entity(id).body.contains("\"service\""))
        );
        assert_eq!(s.with_key(k).count(), 2500);
    }

    #[test]
    fn bit_iteration() {
        let mut b = Bits::empty(130);
        for i in [0u32, 5, 63, 64, 65, 127, 128, 129] {
            b.insert(i);
        }
        assert_eq!(
            b.iter_from(0).collect::<Vec<_>>(),
            [0, 5, 63, 64, 65, 127, 128, 129]
        );
        assert_eq!(b.iter_from(64).collect::<Vec<_>>(), [64, 65, 127, 128, 129]);
        assert_eq!(b.iter_from(66).collect::<Vec<_>>(), [127, 128, 129]);
        assert_eq!(
            b.iter_rev_below(130).collect::<Vec<_>>(),
            [129, 128, 127, 65, 64, 63, 5, 0]
        );
        assert_eq!(b.iter_rev_below(64).collect::<Vec<_>>(), [63, 5, 0]);
        assert_eq!(b.iter_rev_below(6).collect::<Vec<_>>(), [5, 0]);
        assert_eq!(b.iter_rev_below(0).count(), 0);
        let mut full = Bits::full(130);
        assert_eq!(full.count(), 130);
        full.invert();
        assert_eq!(full.count(), 0);
        b.invert();
        assert_eq!(b.count(), 122);
    }

    // ---- incremental update ----

    /// A synthetic entity for the update equivalence test: colliding keys (names differing
    /// only in case), mixed-case and non-ASCII values, arrays, relations, nulls, values too
    /// long to index, keys few entities have, and now and then a body that is not JSON.
    fn arb_entity() -> impl Strategy<Value = Arc<Stitched>> {
        (
            (0usize..5, 0usize..24, 0usize..4, 0usize..3),
            prop::option::of(0usize..7),
            prop::collection::vec(0usize..6, 0..4),
            prop::option::of(0usize..5),
            prop::option::of(0usize..6),
            prop::collection::vec((0usize..4, 0usize..6), 0..4),
            prop::collection::vec(0usize..9, 0..3),
        )
            .prop_map(
                |((kind, name, ns, version), ty, tags, owner, title, relations, extras)| {
                    let kind = ["Component", "component", "API", "Group", "System"][kind];
                    let name = format!("{}-{}", ["svc", "Svc", "SVC", "web"][name % 4], name / 4);
                    let long = |c: &str, n: usize| c.repeat(n);
                    let mut v = json!({"kind": kind, "metadata": {"name": name}, "spec": {}});
                    if let Some(ns) = [None, Some("default"), Some("Prod"), Some("prod")][ns] {
                        v["metadata"]["namespace"] = json!(ns);
                    }
                    let key = {
                        let s = stitched_from(&v);
                        s.key.clone()
                    };
                    v["metadata"]["uid"] = json!(format!("u-{key}-{version}"));
                    if let Some(t) = ty {
                        v["spec"]["type"] = [
                            json!("service"),
                            json!("Service"),
                            json!("SERVICE"),
                            json!("website"),
                            Value::Null,
                            json!(long("x", 250)),
                            json!("Ünï-Type"),
                        ][t]
                            .clone();
                    }
                    if !tags.is_empty() {
                        let tags: Vec<&str> = tags
                            .iter()
                            .map(|&t| ["java", "Java", "go", "GO", "rust", "Ærø"][t])
                            .collect();
                        v["metadata"]["tags"] = json!(tags);
                    }
                    if let Some(o) = owner {
                        v["spec"]["owner"] = json!(
                            [
                                "team-a",
                                "Team-A",
                                "team-b",
                                "TEAM-B",
                                "group:default/Team-A"
                            ][o]
                        );
                    }
                    if let Some(t) = title {
                        let long_title = long("T", 220);
                        let titles = [
                            "Hello World",
                            "hello world",
                            "HELLO WORLD",
                            "Ünïcode",
                            "ÜNÏCODE",
                            &long_title,
                        ];
                        v["metadata"]["title"] = json!(titles[t]);
                    }
                    if !relations.is_empty() {
                        let relations: Vec<Value> = relations
                            .iter()
                            .map(|&(t, target)| {
                                let ty = ["ownedBy", "dependsOn", "partOf", "OwnedBy"][t];
                                let target = [
                                    "group:default/team-a",
                                    "group:default/Team-A",
                                    "component:default/svc-0",
                                    "resource:prod/DB-1",
                                    "system:default/x",
                                    "api:default/y",
                                ][target];
                                json!({"type": ty, "targetRef": target})
                            })
                            .collect();
                        v["relations"] = json!(relations);
                    }
                    let mut broken = false;
                    for x in extras {
                        match x {
                            0..=2 => v["spec"][format!("rare{x}")] = json!(["R", "r", "Rare"][x]),
                            3 => v["metadata"]["description"] = json!(long("d", 300)),
                            4 => v["spec"]["port"] = json!(8080),
                            5 => v["spec"]["enabled"] = json!(true),
                            6 => v["spec"]["none"] = Value::Null,
                            7 => v["metadata"]["labels"] = json!({"tier": "Gold"}),
                            _ => broken = true,
                        }
                    }
                    let mut s = (*stitched_from(&v)).clone();
                    if broken {
                        // Still listed and fetchable; no rows.
                        s.body = format!("{{not json {name}").into();
                    }
                    Arc::new(s)
                },
            )
    }

    /// (pick an existing entity?, which one, upper-case the key?)
    fn arb_removal() -> impl Strategy<Value = (bool, prop::sample::Index, bool)> {
        (
            prop::bool::weighted(0.8),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
    }

    fn update_filters() -> Vec<Filter> {
        let exists = |key: &str| Filter::Exists { key: key.into() };
        let prefix = |key: &str, prefix: &str| Filter::HasPrefix {
            key: key.into(),
            prefix: prefix.into(),
        };
        vec![
            eq("kind", &["component"]),
            eq("KIND", &["API", "group"]),
            eq("spec.type", &["service"]),
            eq("spec.type", &["ünï-type", "website"]),
            eq("metadata.tags", &["java"]),
            eq("metadata.tags", &["ærø", "GO"]),
            eq("relations.ownedby", &["group:default/team-a"]),
            eq("metadata.namespace", &["default"]),
            eq("metadata.title", &["hello world"]),
            eq("spec.port", &["8080"]),
            eq("metadata.name", &["svc-1", "web-3"]),
            exists("spec.type"),
            exists("metadata.description"),
            exists("spec.none"),
            exists("metadata.tags.java"),
            exists("spec.rare1"),
            exists("no.such.key"),
            Filter::Not(Box::new(exists("spec.type"))),
            Filter::Not(Box::new(eq("kind", &["component"]))),
            Filter::Any(vec![eq("kind", &["system"]), eq("spec.owner", &["team-b"])]),
            Filter::All(vec![
                eq("kind", &["component"]),
                Filter::Not(Box::new(eq("spec.type", &["website"]))),
            ]),
            Filter::All(vec![]),
            Filter::Any(vec![]),
            prefix("metadata.name", "SVC"),
            prefix("spec.owner", "team"),
            prefix("spec.type", ""),
            prefix("relations.dependson", "resource:"),
        ]
    }

    /// (value, ids, first spelling, variants) of an index entry.
    type DumpedEntry = (String, Vec<u32>, String, Vec<(u32, String)>);

    /// Everything a reader can observe, compared between two snapshots, plus the index's
    /// own layout (keys, entries, spellings, variants, nulls) so a difference shows early.
    fn assert_same(want: &Snapshot, got: &Snapshot) {
        use crate::query::{self, FullText, Order, QueryRequest};
        assert_eq!(want.len(), got.len());
        assert_eq!(want.is_empty(), got.is_empty());
        let want_all: Vec<&Stitched> = want.iter().map(|e| &**e).collect();
        let got_all: Vec<&Stitched> = got.iter().map(|e| &**e).collect();
        assert_eq!(want_all, got_all);
        for e in &want_all {
            assert_eq!(
                got.get(&e.entity_ref.to_uppercase()).map(|x| &**x),
                Some(*e)
            );
            assert_eq!(got.get_by_uid(&e.uid).map(|x| &**x), Some(*e));
        }
        assert_eq!(want.by_uid.len(), got.by_uid.len());

        // The index layout.
        let names = |s: &Snapshot| -> Vec<String> {
            s.keys
                .iter()
                .map(|k| s.text(k.name_off, k.name_len as usize).to_owned())
                .collect()
        };
        assert_eq!(names(want), names(got));
        for name in names(want) {
            let (kw, kg) = (want.key_id(&name).unwrap(), got.key_id(&name).unwrap());
            let dump = |s: &Snapshot, k: KeyId| -> Vec<DumpedEntry> {
                s.entry_range(k)
                    .map(|e| {
                        (
                            s.entry_value(e).to_owned(),
                            s.entry_ids(e).to_vec(),
                            s.entry_spelling(e).into_owned(),
                            s.entry_variants(e)
                                .map(|(id, v)| (id, v.to_owned()))
                                .collect(),
                        )
                    })
                    .collect()
            };
            assert_eq!(dump(want, kw), dump(got, kg), "key {name}");
            assert_eq!(want.with_key(kw), got.with_key(kg), "key {name}");
            assert_eq!(want.with_value(kw), got.with_value(kg), "key {name}");
        }

        let filters = update_filters();
        for f in &filters {
            assert_eq!(want.matching(Some(f)), got.matching(Some(f)), "{f:?}");
        }
        assert_eq!(want.matching(None), got.matching(None));

        let order = |field: &str, descending: bool| Order {
            field: field.into(),
            descending,
        };
        let orders = [
            vec![],
            vec![order("metadata.name", false)],
            vec![order("spec.type", true)],
            vec![order("metadata.tags", false)],
            vec![order("spec.owner", false), order("metadata.title", true)],
        ];
        let some_filters = [
            None,
            Some(&filters[0]),
            Some(&filters[17]),
            Some(&filters[19]),
        ];
        for o in &orders {
            for f in some_filters {
                for (offset, limit) in [(0, None), (0, Some(3)), (2, Some(4))] {
                    assert_eq!(
                        query::list(want, f, o, offset, limit),
                        query::list(got, f, o, offset, limit),
                        "{f:?} {o:?}"
                    );
                }
                assert_eq!(query::list_all(want, f, o), query::list_all(got, f, o));
            }
        }

        let facet_fields: Vec<String> = [
            "kind",
            "spec.type",
            "metadata.tags",
            "spec.owner",
            "metadata.title",
            "relations.ownedby",
            "metadata.description",
            "spec.rare0",
            "Metadata.Namespace",
        ]
        .map(str::to_owned)
        .to_vec();
        for f in some_filters {
            assert_eq!(
                query::facets(want, &facet_fields, f),
                query::facets(got, &facet_fields, f)
            );
        }

        let full_texts = [
            None,
            Some(FullText {
                term: "hello".into(),
                fields: vec!["metadata.title".into()],
            }),
            Some(FullText {
                term: "SVC".into(),
                fields: vec![],
            }),
            Some(FullText {
                term: "ü".into(),
                fields: vec!["metadata.title".into(), "spec.type".into()],
            }),
            Some(FullText {
                term: "team".into(),
                fields: vec!["spec.owner".into(), "relations.ownedby".into()],
            }),
        ];
        for full_text in &full_texts {
            for o in &orders[..4] {
                for f in some_filters {
                    let req = QueryRequest {
                        filter: f.cloned(),
                        order: o.clone(),
                        full_text: full_text.clone(),
                        limit: 4,
                        ..QueryRequest::default()
                    };
                    let (a, b) = (
                        query::query(want, req.clone()).unwrap(),
                        query::query(got, req).unwrap(),
                    );
                    let page = |p: &query::QueryPage| {
                        (
                            p.items.clone(),
                            p.total_items,
                            p.next_cursor.clone(),
                            p.prev_cursor.clone(),
                        )
                    };
                    assert_eq!(page(&a), page(&b), "{full_text:?} {o:?} {f:?}");
                    if let Some(cursor) = a.next_cursor {
                        let next = QueryRequest {
                            cursor: Some(cursor),
                            limit: 4,
                            ..QueryRequest::default()
                        };
                        assert_eq!(
                            page(&query::query(want, next.clone()).unwrap()),
                            page(&query::query(got, next).unwrap())
                        );
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A chain of updates answers exactly like building the resulting entity set afresh,
        /// on the incremental path, the rebuild path and whichever `update` picks.
        #[test]
        fn update_answers_like_build(
            initial in prop::collection::vec(arb_entity(), 0..40),
            steps in prop::collection::vec(
                (prop::collection::vec(arb_entity(), 0..10), prop::collection::vec(arb_removal(), 0..8)),
                1..4,
            ),
        ) {
            let mut current = Snapshot::build(initial.into_iter().map(|e| (e, None)).collect());
            for (upserts, removals) in steps {
                let removals: Vec<String> = removals
                    .into_iter()
                    .enumerate()
                    .map(|(i, (existing, pick, upper))| {
                        let key = match current.len() {
                            n if existing && n > 0 => current.entity(pick.index(n) as u32).key.clone(),
                            _ => format!("component:default/svc-{i}"),
                        };
                        if upper { key.to_uppercase() } else { key }
                    })
                    .collect();
                let gone: std::collections::HashSet<String> =
                    removals.iter().map(|r| search::lower(r).into_owned()).collect();
                let want = Snapshot::build(
                    current
                        .iter()
                        .filter(|e| !gone.contains(&e.key))
                        .chain(upserts.iter())
                        .map(|e| (e.clone(), None))
                        .collect(),
                );
                let incremental = current.update_with(upserts.clone(), &removals, |_, _| false);
                assert_same(&want, &incremental);
                assert_same(&want, &current.update_with(upserts.clone(), &removals, |_, _| true));
                assert_same(&want, &current.update(upserts, &removals));
                // The removed and replaced uids are gone unless an entity still has them.
                for e in current.iter() {
                    let still = want.iter().any(|w| w.uid == e.uid);
                    prop_assert_eq!(incremental.get_by_uid(&e.uid).is_some(), still);
                }
                current = incremental;
            }
        }
    }

    #[test]
    fn update_examples() {
        let s = sample();
        // An upsert of an existing key with a new body, a new entity first in ref order, and
        // a removal, in one change.
        let changed = stitched_from(
            &json!({"kind": "Component", "metadata": {"name": "B-SVC", "uid": "u2"},
                                            "spec": {"type": "Website"}}),
        );
        let first = stitched_from(
            &json!({"kind": "API", "metadata": {"name": "a", "uid": "u9"},
                                          "spec": {"type": "service"}}),
        );
        let u = s.update(vec![changed, first], &["Group:Default/Team-A".to_owned()]);
        assert_eq!(
            u.iter().map(|e| e.entity_ref.as_str()).collect::<Vec<_>>(),
            [
                "api:default/a",
                "api:prod/c-api",
                "component:default/A-Web",
                "component:default/B-SVC"
            ]
        );
        assert_eq!(
            u.get_by_uid("u2").unwrap().entity_ref,
            "component:default/B-SVC"
        );
        assert!(u.get_by_uid("u0").is_none());
        let m = |f: Filter| names(&u, &u.matching(Some(&f)));
        assert_eq!(m(eq("spec.type", &["service"])), ["api:default/a"]);
        assert_eq!(
            m(eq("spec.type", &["website"])),
            ["component:default/A-Web", "component:default/B-SVC"]
        );
        assert!(m(eq("metadata.tags", &["java"])).is_empty());
        assert!(u.key_id("metadata.tags").is_none());
        assert!(u.key_id("metadata.description").is_none());
        // Facets see the new spelling next to the old one.
        let f = crate::query::facets(&u, &["spec.type".to_owned()], None);
        assert_eq!(
            f[0].1,
            [
                ("Website".to_owned(), 1),
                ("openapi".to_owned(), 1),
                ("service".to_owned(), 1),
                ("website".to_owned(), 1)
            ]
        );
        // Nothing changes: an equal snapshot.
        let same = s.update(vec![], &[]);
        assert_same(&s, &same);
        // Everything removed.
        let keys: Vec<String> = s.iter().map(|e| e.key.clone()).collect();
        let none = s.update(vec![], &keys);
        assert!(none.is_empty());
        assert_same(&Snapshot::empty(), &none);
    }

    // ---- benchmark ----

    /// A synthetic catalog shaped like a real one: ~1.3 KB per entity, URLs in annotations,
    /// relations, tags, a handful of kinds and types, 1 in 100 names (all components) about payments.
    pub(crate) fn synthetic(n: usize) -> Vec<Value> {
        let kinds = [
            "Component",
            "Component",
            "Component",
            "API",
            "Resource",
            "System",
            "Group",
            "User",
            "User",
            "Location",
        ];
        let types = [
            "service", "website", "library", "openapi", "grpc", "database",
        ];
        let words = [
            "billing", "search", "ledger", "auth", "profile", "catalog", "ingest", "report",
            "notify",
        ];
        (0..n)
            .map(|i| {
                let kind = kinds[i % kinds.len()];
                let word = if i % 100 == 10 { "payments" } else { words[i % words.len()] };
                let name = format!("{word}-{}-{i}", words[(i / 7) % words.len()]);
                let team = format!("team-{}", i % 300);
                json!({
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": kind,
                    "metadata": {
                        "name": name,
                        "namespace": "default",
                        "uid": format!("{:08x}-1c2d-4e5f-8a9b-{:012x}", i.wrapping_mul(2654435761) % 0xffff_ffff, i),
                        "etag": format!("{:040x}", i * 7919),
                        "title": format!("The {} {} ({i})", word.to_uppercase(), kind),
                        "description": format!("{word} handles {} for the {team} squad. Owned and run in production.", words[(i / 3) % words.len()]),
                        "annotations": {
                            "backstage.io/managed-by-location": format!("url:https://github.com/Acme/{name}/blob/main/catalog-info.yaml"),
                            "backstage.io/managed-by-origin-location": format!("url:https://github.com/Acme/{name}/blob/main/catalog-info.yaml"),
                            "backstage.io/source-location": format!("url:https://github.com/Acme/{name}/tree/main/"),
                            "github.com/project-slug": format!("Acme/{name}"),
                        },
                        "tags": [word, if i % 2 == 0 { "java" } else { "go" }],
                        "links": [{"url": format!("https://runbooks.acme.io/{name}"), "title": "Runbook"}],
                    },
                    "spec": {
                        "type": types[i % types.len()],
                        "lifecycle": if i % 5 == 0 { "experimental" } else { "production" },
                        "owner": format!("group:{team}"),
                        "system": format!("system-{}", i % 120),
                        "dependsOn": [format!("resource:default/db-{}", i % 500)],
                    },
                    "relations": [
                        {"type": "ownedBy", "targetRef": format!("group:default/{team}"), "target": {"kind": "group", "namespace": "default", "name": team}},
                        {"type": "partOf", "targetRef": format!("system:default/system-{}", i % 120), "target": {"kind": "system", "namespace": "default", "name": format!("system-{}", i % 120)}},
                        {"type": "dependsOn", "targetRef": format!("resource:default/db-{}", i % 500), "target": {"kind": "resource", "namespace": "default", "name": format!("db-{}", i % 500)}},
                    ],
                    "status": {"items": []},
                })
            })
            .collect()
    }

    /// User+system CPU time of this process so far, so build figures can be read apart from
    /// load on a shared machine.
    fn cpu_time() -> std::time::Duration {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: u64 = fields
            .get(11..13)
            .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
        std::time::Duration::from_millis(ticks * 10)
    }

    fn p50(mut f: impl FnMut()) -> std::time::Duration {
        let mut times: Vec<std::time::Duration> = (0..101)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        times.sort();
        times[50]
    }

    #[test]
    #[ignore = "benchmark; run in release with --ignored --nocapture"]
    fn index_benchmark() {
        use crate::query::{self, FullText, Order, QueryRequest};
        for n in [23_000usize, 117_000] {
            let values = synthetic(n);
            let stitched: Vec<Arc<Stitched>> = values.iter().map(stitched_from).collect();
            let body_bytes: usize = stitched.iter().map(|s| s.body.len()).sum();

            let (t, c) = (std::time::Instant::now(), cpu_time());
            let s = Snapshot::build(stitched.iter().map(|e| (e.clone(), None)).collect());
            let build_unparsed = (t.elapsed(), cpu_time() - c);
            drop(s);
            let (t, c) = (std::time::Instant::now(), cpu_time());
            let s = Snapshot::build(
                stitched
                    .iter()
                    .cloned()
                    .zip(values.iter().map(Some))
                    .collect(),
            );
            let build_parsed = (t.elapsed(), cpu_time() - c);
            drop(values);

            let filter = Filter::All(vec![
                eq("kind", &["component"]),
                eq("spec.type", &["service"]),
            ]);
            let list = p50(|| {
                let (page, _) = query::list(&s, Some(&filter), &[], 0, Some(50));
                assert_eq!(page.len(), 50);
            });
            let comp = eq("kind", &["component"]);
            let facets = p50(|| {
                let f = query::facets(&s, &["spec.type".to_owned()], Some(&comp));
                assert!(!f[0].1.is_empty());
            });
            let mut total = 0;
            let full_text = p50(|| {
                let page = query::query(
                    &s,
                    QueryRequest {
                        filter: Some(comp.clone()),
                        order: vec![Order {
                            field: "metadata.name".into(),
                            descending: false,
                        }],
                        full_text: Some(FullText {
                            term: "payments".into(),
                            fields: vec!["metadata.name".into(), "metadata.title".into()],
                        }),
                        limit: 20,
                        ..QueryRequest::default()
                    },
                )
                .unwrap();
                total = page.total_items;
                assert_eq!(page.items.len(), 20);
            });
            let ordered = p50(|| {
                let (page, _) = query::list(
                    &s,
                    Some(&comp),
                    &[Order {
                        field: "metadata.name".into(),
                        descending: true,
                    }],
                    0,
                    Some(50),
                );
                assert_eq!(page.len(), 50);
            });
            let by_ref = p50(|| {
                assert!(s.get("Component:default/payments-search-10").is_some());
            });

            // Incremental updates: a third of the changed entities get a new title, a third
            // are new, a third are removed (a change of 1 is one new title).
            let mut update_times = Vec::new();
            for count in [1usize, 100, 2000, n / 4] {
                let (mut upserts, mut removals) = (Vec::new(), Vec::new());
                for c in 0..count {
                    let old = s.entity(((c * 7919 + 13) % s.len()) as u32);
                    let mut v: Value = serde_json::from_str(&old.body).unwrap();
                    match c % 3 {
                        0 => {
                            v["metadata"]["title"] = json!(format!("Changed title {c}"));
                            upserts.push(stitched_from(&v));
                        }
                        1 => {
                            v["metadata"]["name"] = json!(format!("new-{c}"));
                            v["metadata"]["uid"] = json!(format!("new-uid-{c}"));
                            upserts.push(stitched_from(&v));
                        }
                        _ => removals.push(old.key.clone()),
                    }
                }
                let mut times: Vec<std::time::Duration> = (0..5)
                    .map(|_| {
                        let t = std::time::Instant::now();
                        let u = s.update_with(upserts.clone(), &removals, |_, _| false);
                        let elapsed = t.elapsed();
                        assert!(u.len().abs_diff(s.len()) <= count);
                        elapsed
                    })
                    .collect();
                times.sort();
                update_times.push((count, times[2]));
            }
            println!(
                "n={n}: bodies {:.1} MiB, index {:.1} MiB; build (wall, cpu) {:?} parsing bodies / {:?} parsed given; \
                 p50 list kind+type limit 50 {:?}; facets spec.type|kind {:?}; full text (total {total}) {:?}; \
                 list order desc name limit 50 {:?}; get by ref {:?}; \
                 update (changed entities, median wall) {update_times:?}",
                body_bytes as f64 / 1048576.0,
                s.index_bytes() as f64 / 1048576.0,
                build_unparsed,
                build_parsed,
                list,
                facets,
                full_text,
                ordered,
                by_ref,
            );
        }
    }
}
