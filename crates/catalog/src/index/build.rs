//! Building a snapshot whole: search rows extracted in parallel, interned, laid out key by key.

use super::*;

/// Rows of a run of consecutive entities, produced on a worker thread.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) text: String,
    /// (entity id, row) with spans into `text`.
    pub(super) rows: Vec<(u32, search::Row)>,
}

impl Batch {
    pub(super) fn str(&self, span: search::Span) -> &str {
        &self.text[span.0 as usize..(span.0 + span.1) as usize]
    }
}

pub(super) const BATCH_ENTITIES: usize = 1024;

/// Extracts search rows on worker threads (parsing JSON dominates) and hands the batches to
/// `consume` in id order on the calling thread, which interns them meanwhile.
pub(super) fn extract_parallel(
    entities: &[(Arc<Stitched>, Option<&Value>)],
    mut consume: impl FnMut(Batch),
) {
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

pub(super) fn extract(
    chunk: &[(Arc<Stitched>, Option<&Value>)],
    first_id: u32,
    sink: &mut RowSink,
) -> Batch {
    let mut batch = Batch::default();
    for (i, (stitched, parsed)) in chunk.iter().enumerate() {
        let owned;
        let value = match parsed {
            Some(v) => *v,
            None => match serde_json::from_str::<Value>(&stitched.body()) {
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
pub(super) struct ValueTable {
    /// 0 is empty; else (high 32 bits of the hash) << 32 | (entry + 1).
    pub(super) slots: Vec<u64>,
    pub(super) len: usize,
}

impl ValueTable {
    pub(super) fn reserve_one(&mut self) {
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
    pub(super) fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Result<u32, usize> {
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

    pub(super) fn insert_at(&mut self, slot: usize, hash: u64, entry: u32) {
        self.slots[slot] = (hash >> 32) << 32 | (entry as u64 + 1);
        self.len += 1;
    }
}

/// One key's rows while building: its own value text, so sorting and the final layout read
/// one key's strings together.
#[derive(Default)]
pub(super) struct KeyBuilder {
    pub(super) name: Box<str>,
    pub(super) text: String,
    pub(super) table: ValueTable,
    /// (lower offset, lower length, spelling offset, spelling length) in `text`.
    pub(super) entries: Vec<(u32, u32, u32, u32)>,
    /// (local entry, id) in id order.
    pub(super) postings: Vec<(u32, u32)>,
    pub(super) nulls: Vec<u32>,
    pub(super) variants: Vec<(u32, u32, Box<str>)>,
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) key_table: ValueTable,
    pub(super) keys: Vec<KeyBuilder>,
}

impl Builder {
    pub(super) fn add(&mut self, batch: &Batch) {
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

    /// The snapshot's index; `entities` (sorted by key) are what relation targets may name.
    pub(super) fn finish(self, entities: &[Arc<Stitched>]) -> Snapshot {
        let Builder {
            key_table,
            mut keys,
        } = self;
        drop(key_table);
        // The value tables only served interning. Every key waits for a layout thread at once,
        // so they go now rather than one by one as their key is laid out (30 MiB at 117,000
        // entities).
        for kb in &mut keys {
            kb.table = ValueTable::default();
        }
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
                .map(|(_, ks)| {
                    ks.into_iter()
                        .map(|(i, kb)| (i, layout_key(kb, entities)))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = shares
                    .into_iter()
                    .map(|(_, ks)| {
                        scope.spawn(move || {
                            ks.into_iter()
                                .map(|(i, kb)| (i, layout_key(kb, entities)))
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
                lower_off: if e.is_ref() {
                    e.lower_off
                } else {
                    e.lower_off + text_base
                },
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
pub(super) struct KeyLayout {
    pub(super) name: Box<str>,
    pub(super) text: String,
    pub(super) masks: Vec<u8>,
    pub(super) entries: Vec<Entry>,
    pub(super) ids: Vec<u32>,
    pub(super) nulls: Vec<u32>,
    /// (entry index within the key, id, spelling), sorted.
    pub(super) variants: Vec<(u32, u32, Box<str>)>,
}

pub(super) fn layout_key(kb: KeyBuilder, entities: &[Arc<Stitched>]) -> KeyLayout {
    let KeyBuilder {
        name,
        text,
        table: _,
        entries: raw,
        postings,
        nulls,
        mut variants,
    } = kb;
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

    let refs = holds_refs(&name);
    let mut out_text = String::with_capacity(if refs { 0 } else { text.len() });
    let mut masks = Vec::new();
    let mut entries = Vec::with_capacity(raw.len());
    let mut cursor = 0;
    for (pos, &(_, e)) in order.iter().enumerate() {
        let (lo, ll, oo, ol) = raw[e as usize];
        let lower = at(lo, ll);
        let orig = at(oo, ol);
        let target = if refs {
            let (id, stop) = entity_with_key(entities, cursor, lower);
            cursor = stop;
            id
        } else {
            None
        };
        let (lower_off, lower_len) = place_value(&mut out_text, lower, target);
        let (orig_off, orig_len) = encode_spelling(lower, orig, &mut out_text, &mut masks);
        entries.push(Entry {
            lower_off,
            orig_off,
            ids_start: starts[pos],
            lower_len,
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
pub(super) fn encode_spelling(
    lower: &str,
    orig: &str,
    text: &mut String,
    masks: &mut Vec<u8>,
) -> (u32, u16) {
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
