//! One immutable index over documents, laid out to stay small: every document's strings in one
//! arena (a catalog page's location is not stored but derived from the entity ref), facet keys
//! and values interned and each distinct facet list stored once, the term dictionary as one
//! sorted string with offsets, and postings as flat arrays of (document, fields) pairs.
//!
//! Matching, per typed word: every term that starts with it (exact matches score highest, then
//! prefixes the closer they are to the whole term), and, for words of 4 characters or more,
//! names and titles within 1–2 edits. A document must match every word. Its score sums, per
//! word, the best field weight times the match quality; a name equal to or starting with the
//! whole term adds a bonus.

use std::collections::HashMap;

use crate::document::{DocType, Document};
use crate::fuzzy::{allowed_edits, prefix_distance};
use crate::query::{Hit, MAX_WORDS, Query, QueryError, Results};
use crate::snippet;
use crate::tokenize::{cut, query_terms, terms};

/// Field bits in postings, and their weights (index = bit).
const NAME: u8 = 1;
const TITLE: u8 = 2;
const KEYWORDS: u8 = 4;
const OWNER: u8 = 8;
const TEXT: u8 = 16;
const WEIGHTS: [f32; 5] = [10.0, 8.0, 4.0, 2.0, 1.0];
/// Typos count only in these fields.
const FUZZY_FIELDS: u8 = NAME | TITLE;

/// The strings of one document in the arena, in this order (entity and owner are interned:
/// an API's operations share its ref, and thousands of documents share an owner). The location
/// is last: most documents' is derived, not stored (see [`LOCATION_SUFFIXES`]), and the last
/// string is the one whose end is read from the next document.
const F_NAME: usize = 0;
const F_TITLE: usize = 1;
const F_KEYWORDS: usize = 2;
const F_TEXT: usize = 3;
const F_LOCATION: usize = 4;
const STRINGS: usize = 5;
/// At most this much of a document's text is kept (for snippets and the API's `text`); all of
/// it, up to [`crate::tokenize::MAX_FIELD_BYTES`], is searchable. Docs pages are long, and
/// their whole text in memory would cost more than the rest of the index.
pub const MAX_STORED_TEXT: usize = 4 * 1024;
/// Joins keywords in the arena: a character no tokenizer keeps.
const KEYWORD_SEP: char = '\u{1f}';
/// The locations derived instead of stored: a catalog document's is
/// `/catalog/{namespace}/{kind}/{name}` (see `entities.rs`) followed by one of these (an entity:
/// nothing; an API's operation: `#definition`); [`Stored::location`] says which. They are
/// derived from the lower-cased ref, so a name with capitals keeps its location stored
/// (`entities.rs` keeps the name's case): only a location equal to the derivation, byte for
/// byte, is left out of the arena. At 10,000 components that is 1.2 MiB of arena.
const LOCATION_SUFFIXES: [&str; 2] = ["", "#definition"];
/// A facet value equal to the document's name (an entity's `name`, a docs page's `path`):
/// kept as this id instead of interned. Otherwise every entity's facet list would differ from
/// all others by its name, and no list could be shared (see [`Index::facet_at`]).
const NAME_VALUE: u32 = u32::MAX;

/// One document: 40 bytes (asserted in the tests), as there are tens of thousands.
#[derive(Debug)]
struct Stored {
    doc_type: DocType,
    /// 0: the location is in the arena; `i` > 0: it is derived, with
    /// `LOCATION_SUFFIXES[i - 1]` (its arena string is then empty).
    location: u8,
    source: u32,
    entity: u32,
    owner: u32,
    /// Arena offsets: the start of each of the [`STRINGS`] strings. The last one ends where
    /// the next document's first starts (or at the arena's end): documents are stored one after
    /// the other with nothing between them, so storing that end too would repeat it.
    at: [u32; STRINGS],
    /// The document's facet list (see [`Index::facet_at`]).
    facets: u32,
}

/// An immutable search index. Build it with [`Index::build`]; rebuild to change it.
#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Stored>,
    arena: String,
    /// Interned facet keys, facet values and source names.
    /// Interned string `i` is `pool[pool_at[i]..pool_at[i + 1]]` (one allocation for all).
    pool: String,
    pool_at: Vec<u32>,
    /// (key, value) string ids ([`NAME_VALUE`] for a value equal to the name): the distinct
    /// facet lists end to end. Entities' lists repeat (same kind, namespace, type, lifecycle and
    /// owner; the name is `NAME_VALUE`), so each is stored once and documents refer to it by id:
    /// at 10,000 components, 32,212 documents have 15,719 lists (the API operations' differ by
    /// method and path, the docs pages' by entity).
    facets: Vec<(u32, u32)>,
    /// Facet list `i` is `facets[facet_at[i]..facet_at[i + 1]]`.
    facet_at: Vec<u32>,
    /// Sorted terms: term `t` is `term_text[term_at[t]..term_at[t + 1]]`.
    term_text: String,
    term_at: Vec<u32>,
    /// Term `t`'s postings are `post_bytes[post_at[t]..post_at[t + 1]]`: per document (ids
    /// ascending) a LEB128 varint of the id's distance from the previous one shifted left by 5,
    /// with the bits of the fields the term is in below. Most take 1–2 bytes instead of 5.
    post_at: Vec<u32>,
    post_bytes: Vec<u8>,
    /// Terms that appear in a name or title: the only ones matched with typos.
    fuzzy_terms: Vec<u32>,
}

/// An index under construction: documents stored as they come, postings encoded per term as
/// they come (ids only grow), and the terms sorted by [`Builder::finish`].
#[derive(Default)]
struct Builder {
    index: Index,
    ids: HashMap<Box<str>, u32>,
    /// Facet list ids by their (key, value) ids, to store each distinct list once.
    lists: HashMap<Box<[(u32, u32)]>, u32>,
    /// The list being stored, kept to reuse its allocation.
    list: Vec<(u32, u32)>,
    postings: HashMap<String, Postings>,
}

/// One term's postings while the index is built, already in the index's encoding: a pair list
/// would take 8 bytes a posting (16 with a vector's spare room) where this takes 1–2, and at
/// 150,000 documents that difference was most of a rebuild's peak.
#[derive(Default)]
struct Postings {
    bytes: Vec<u8>,
    /// The last document written, which the next one's distance is taken from.
    prev: u32,
    /// The newest document and its fields, written once a later document comes (a document
    /// adds each of its fields in turn).
    pending: Option<(u32, u8)>,
    /// Every field the term is in.
    fields: u8,
}

impl Postings {
    fn add(&mut self, doc: u32, field: u8) {
        self.fields |= field;
        match &mut self.pending {
            Some((d, f)) if *d == doc => *f |= field,
            _ => {
                self.flush();
                self.pending = Some((doc, field));
            }
        }
    }

    /// Writes the pending document: a LEB128 varint of its distance from the previous one,
    /// shifted left by 5, with the field bits below.
    fn flush(&mut self) {
        let Some((doc, field)) = self.pending.take() else {
            return;
        };
        let mut v = (u64::from(doc - self.prev) << 5) | u64::from(field);
        self.prev = doc;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.bytes.push(byte);
                break;
            }
            self.bytes.push(byte | 0x80);
        }
    }
}

impl Builder {
    /// The id of interned string `s`, interned now if new.
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        if self.index.pool_at.is_empty() {
            self.index.pool_at.push(0);
        }
        let id = self.index.pool_at.len() as u32 - 1;
        self.index.pool.push_str(s);
        self.index.pool_at.push(self.index.pool.len() as u32);
        self.ids.insert(s.into(), id);
        id
    }

    /// Stores a document's strings, with its facet list's id (from [`Builder::facet_list`]);
    /// its postings are the caller's.
    fn store(
        &mut self,
        doc_type: DocType,
        source: &str,
        entity: &str,
        owner: &str,
        parts: [&str; STRINGS],
        facets: u32,
    ) -> u32 {
        let id = self.index.docs.len() as u32;
        let location = derivable_location(entity, parts[F_LOCATION]);
        let mut at = [0u32; STRINGS];
        for (i, p) in parts.iter().enumerate() {
            at[i] = self.index.arena.len() as u32;
            // An empty title reads as the name (see `Index::string`): store only a different one.
            // A derived location is not stored at all.
            let skip = (i == F_TITLE && *p == parts[F_NAME]) || (i == F_LOCATION && location > 0);
            if !skip {
                self.index.arena.push_str(p);
            }
        }
        let stored = Stored {
            doc_type,
            location,
            source: self.intern(source),
            entity: self.intern(entity),
            owner: self.intern(owner),
            at,
            facets,
        };
        self.index.docs.push(stored);
        id
    }

    /// The id of the facet list of a document named `name`, stored now if no document before
    /// had the same one.
    fn facet_list<'a>(
        &mut self,
        name: &str,
        facets: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> u32 {
        let mut list = std::mem::take(&mut self.list);
        list.clear();
        for (k, v) in facets {
            let v = if v == name {
                NAME_VALUE
            } else {
                self.intern(v)
            };
            list.push((self.intern(k), v));
        }
        let id = match self.lists.get(list.as_slice()) {
            Some(&id) => id,
            None => {
                let index = &mut self.index;
                if index.facet_at.is_empty() {
                    index.facet_at.push(0);
                }
                let id = index.facet_at.len() as u32 - 1;
                index.facets.extend_from_slice(&list);
                index.facet_at.push(index.facets.len() as u32);
                self.lists.insert(list.as_slice().into(), id);
                id
            }
        };
        self.list = list;
        id
    }

    /// Adds a new document: stored, and its fields tokenized into postings.
    fn add(&mut self, doc: &Document) {
        let keywords = doc.keywords.join(&KEYWORD_SEP.to_string());
        let facets = self.facet_list(
            &doc.name,
            doc.facets.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let id = self.store(
            doc.doc_type,
            &doc.source,
            &doc.entity,
            &doc.owner,
            [
                &doc.name,
                &doc.title,
                &keywords,
                cut(&doc.text, MAX_STORED_TEXT),
                &doc.location,
            ],
            facets,
        );
        let postings = &mut self.postings;
        let mut add = |text: &str, field: u8| {
            for term in terms(text) {
                postings.entry(term).or_default().add(id, field);
            }
        };
        add(&doc.name, NAME);
        add(&doc.title, TITLE);
        for k in &doc.keywords {
            add(k, KEYWORDS);
        }
        // The owner is matched by its name, not its kind or namespace.
        add(owner_name(&doc.owner), OWNER);
        add(&doc.text, TEXT);
    }

    /// Sorts the terms and encodes the postings.
    fn finish(self) -> Index {
        let mut index = self.index;
        let mut sorted: Vec<(String, Postings)> = self.postings.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        index.term_at.reserve_exact(sorted.len() + 1);
        index.post_at.reserve_exact(sorted.len() + 1);
        index
            .post_bytes
            .reserve_exact(sorted.iter().map(|(_, p)| p.bytes.len() + 5).sum());
        for (t, (term, mut list)) in sorted.into_iter().enumerate() {
            list.flush();
            index.term_at.push(index.term_text.len() as u32);
            index.term_text.push_str(&term);
            index.post_at.push(index.post_bytes.len() as u32);
            if list.fields & FUZZY_FIELDS != 0 {
                index.fuzzy_terms.push(t as u32);
            }
            index.post_bytes.extend_from_slice(&list.bytes);
        }
        index.term_at.push(index.term_text.len() as u32);
        index.post_at.push(index.post_bytes.len() as u32);
        index.post_bytes.shrink_to_fit();
        index.arena.shrink_to_fit();
        index.pool.shrink_to_fit();
        index.pool_at.shrink_to_fit();
        index.term_text.shrink_to_fit();
        index.facets.shrink_to_fit();
        index.facet_at.shrink_to_fit();
        index.docs.shrink_to_fit();
        index.fuzzy_terms.shrink_to_fit();
        index
    }
}

impl Index {
    /// Indexes `documents` (their order is the tie-breaker of last resort).
    pub fn build(documents: impl IntoIterator<Item = Document>) -> Index {
        let mut b = Builder::default();
        for doc in documents {
            b.add(&doc);
        }
        b.finish()
    }

    /// A new index with the documents of this one that `keep` accepts, then `documents` (taken
    /// one at a time: a first build need not hold every document at once). Kept documents are
    /// copied with their postings (no text is tokenized again), so a change to a few entities
    /// costs a pass over the postings, not a rebuild of every document.
    pub fn rebuild(
        &self,
        keep: impl Fn(u32) -> bool,
        documents: impl IntoIterator<Item = Document>,
    ) -> Index {
        let mut b = Builder::default();
        let mut remap = vec![u32::MAX; self.docs.len()];
        // The new id of each old facet list once stored. Documents sharing an old list share
        // the new one: a value was kept as `NAME_VALUE` exactly when it equals the name, and
        // still does.
        let mut lists = vec![u32::MAX; self.facet_at.len().saturating_sub(1)];
        for d in self.ids().filter(|&d| keep(d)) {
            let s = &self.docs[d as usize];
            let list = &mut lists[s.facets as usize];
            if *list == u32::MAX {
                *list = b.facet_list(
                    self.string(d, F_NAME),
                    self.facets_of(d)
                        .iter()
                        .map(|&(k, v)| (self.interned(k), self.facet_value(d, v))),
                );
            }
            // A derived location is given back whole, and found derivable again.
            let location = self.location(d);
            let mut parts: [&str; STRINGS] = std::array::from_fn(|i| self.string(d, i));
            parts[F_LOCATION] = &location;
            remap[d as usize] = b.store(
                s.doc_type,
                self.interned(s.source),
                self.entity_of(d),
                self.interned(s.owner),
                parts,
                *list,
            );
        }
        for t in 0..self.terms() as u32 {
            let mut list = Postings::default();
            for (d, f) in self.postings(t) {
                let n = remap[d as usize];
                if n != u32::MAX {
                    list.add(n, f);
                }
            }
            if list.pending.is_some() {
                b.postings.insert(self.term(t).to_owned(), list);
            }
        }
        for doc in documents {
            b.add(&doc);
        }
        b.finish()
    }

    /// Interned string `i`.
    fn interned(&self, i: u32) -> &str {
        &self.pool[self.pool_at[i as usize] as usize..self.pool_at[i as usize + 1] as usize]
    }

    /// Documents indexed.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Distinct terms indexed.
    pub fn terms(&self) -> usize {
        self.term_at.len().saturating_sub(1)
    }

    /// Bytes held by the index's own arrays (what it adds to the process's memory, allocator
    /// overhead aside).
    pub fn heap_bytes(&self) -> usize {
        self.heap_parts().iter().map(|(_, n)| n).sum::<usize>() + self.fuzzy_terms.capacity() * 4
    }

    /// [`Index::heap_bytes`] by part, for the benchmark.
    pub fn heap_parts(&self) -> Vec<(&'static str, usize)> {
        vec![
            (
                "documents",
                self.docs.capacity() * std::mem::size_of::<Stored>(),
            ),
            ("text arena", self.arena.capacity()),
            (
                "interned strings",
                self.pool.capacity() + self.pool_at.capacity() * 4,
            ),
            (
                "facets",
                self.facets.capacity() * 8 + self.facet_at.capacity() * 4,
            ),
            (
                "terms",
                self.term_text.capacity() + self.term_at.capacity() * 4,
            ),
            (
                "postings",
                self.post_bytes.capacity() + self.post_at.capacity() * 4,
            ),
        ]
    }

    /// One of a document's strings as stored in the arena. A title equal to the name is stored
    /// once, as the name (most entities have no title of their own, and an operation's title is
    /// its id). A derived location reads as empty here: see [`Index::location`].
    fn string(&self, doc: u32, field: usize) -> &str {
        let at = &self.docs[doc as usize].at;
        // Where string `i` ends: the next one's start, or for the last the next document's.
        let end = |i: usize| {
            if i + 1 < STRINGS {
                at[i + 1]
            } else {
                self.docs
                    .get(doc as usize + 1)
                    .map_or(self.arena.len() as u32, |next| next.at[0])
            }
        };
        let field = if field == F_TITLE && at[F_TITLE] == end(F_TITLE) {
            F_NAME
        } else {
            field
        };
        &self.arena[at[field] as usize..end(field) as usize]
    }

    /// A document's location in pieces, to be read end to end (unused ones empty): its arena
    /// string, or the pieces of the catalog page it was found equal to when stored.
    fn location_parts(&self, doc: u32) -> [&str; 7] {
        let s = &self.docs[doc as usize];
        if s.location == 0 {
            return [self.string(doc, F_LOCATION), "", "", "", "", "", ""];
        }
        let [a, b, c, d, e, f] =
            catalog_location(self.entity_of(doc)).expect("derived from this ref when stored");
        [a, b, c, d, e, f, LOCATION_SUFFIXES[s.location as usize - 1]]
    }

    /// A document's location, as it was given.
    fn location(&self, doc: u32) -> std::borrow::Cow<'_, str> {
        if self.docs[doc as usize].location == 0 {
            self.string(doc, F_LOCATION).into()
        } else {
            self.location_parts(doc).concat().into()
        }
    }

    /// Compares two documents' locations as strings, without putting derived ones together
    /// (this runs in sorting; `str` orders by bytes).
    fn cmp_location(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (a, b) = (self.location_parts(a), self.location_parts(b));
        a.iter()
            .flat_map(|s| s.bytes())
            .cmp(b.iter().flat_map(|s| s.bytes()))
    }

    /// A document's facet list: (key, value) ids.
    fn facets_of(&self, doc: u32) -> &[(u32, u32)] {
        let i = self.docs[doc as usize].facets as usize;
        &self.facets[self.facet_at[i] as usize..self.facet_at[i + 1] as usize]
    }

    /// The string of facet value id `v` of document `doc` ([`NAME_VALUE`]: its name).
    fn facet_value(&self, doc: u32, v: u32) -> &str {
        if v == NAME_VALUE {
            self.string(doc, F_NAME)
        } else {
            self.interned(v)
        }
    }

    fn term(&self, t: u32) -> &str {
        &self.term_text[self.term_at[t as usize] as usize..self.term_at[t as usize + 1] as usize]
    }

    /// Term `t`'s (document, fields) pairs, decoded as they are read.
    fn postings(&self, t: u32) -> impl Iterator<Item = (u32, u8)> + '_ {
        let bytes = &self.post_bytes
            [self.post_at[t as usize] as usize..self.post_at[t as usize + 1] as usize];
        let mut at = 0;
        let mut doc = 0u32;
        std::iter::from_fn(move || {
            if at >= bytes.len() {
                return None;
            }
            let mut v = 0u64;
            let mut shift = 0;
            loop {
                let b = bytes[at];
                at += 1;
                v |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    break;
                }
                shift += 7;
            }
            doc += (v >> 5) as u32;
            Some((doc, (v & 0x1f) as u8))
        })
    }

    /// The entity (lower-cased ref) a document belongs to.
    pub fn entity_of(&self, doc: u32) -> &str {
        self.interned(self.docs[doc as usize].entity)
    }

    /// The source a document came from.
    pub fn source_of(&self, doc: u32) -> &str {
        self.interned(self.docs[doc as usize].source)
    }

    /// Document `doc` as it was given.
    pub fn document(&self, doc: u32) -> Document {
        let s = &self.docs[doc as usize];
        let keywords = self.string(doc, F_KEYWORDS);
        Document {
            doc_type: s.doc_type,
            source: self.source_of(doc).to_owned(),
            entity: self.entity_of(doc).to_owned(),
            name: self.string(doc, F_NAME).to_owned(),
            title: self.string(doc, F_TITLE).to_owned(),
            keywords: if keywords.is_empty() {
                Vec::new()
            } else {
                keywords.split(KEYWORD_SEP).map(str::to_owned).collect()
            },
            owner: self.interned(s.owner).to_owned(),
            text: self.string(doc, F_TEXT).to_owned(),
            location: self.location(doc).into_owned(),
            facets: self
                .facets_of(doc)
                .iter()
                .map(|&(k, v)| {
                    (
                        self.interned(k).to_owned(),
                        self.facet_value(doc, v).to_owned(),
                    )
                })
                .collect(),
        }
    }

    /// Every document id, in order.
    pub fn ids(&self) -> std::ops::Range<u32> {
        0..self.docs.len() as u32
    }

    /// The terms starting with `prefix`, as a range of term ids.
    fn prefix_range(&self, prefix: &str) -> std::ops::Range<u32> {
        let n = self.terms() as u32;
        let lo = partition(n, |t| self.term(t) < prefix);
        let hi = lo + partition(n - lo, |t| self.term(lo + t).starts_with(prefix));
        lo..hi
    }

    /// Answers `query`: one page of ranked, highlighted hits and the total.
    pub fn search(&self, query: &Query) -> Result<Results, QueryError> {
        query.check()?;
        let mut words = query_terms(&query.term);
        words.truncate(MAX_WORDS);
        let allowed = self.facets_match(query);
        let scored: Vec<(u32, f32)> = if words.is_empty() {
            // No term: everything the filters allow, in title order (browsing by type or kind).
            self.ids()
                .filter(|&d| allowed(d))
                .map(|d| (d, 0.0))
                .collect()
        } else {
            self.matching(&words)
                .into_iter()
                .filter(|&(d, _)| allowed(d))
                .collect()
        };
        // Counts per type before the type selection, so a page can offer the other types.
        let mut by_type = [0usize; 3];
        for &(d, _) in &scored {
            by_type[self.docs[d as usize].doc_type as usize] += 1;
        }
        let scored: Vec<(u32, f32)> = if query.types.is_empty() {
            scored
        } else {
            scored
                .into_iter()
                .filter(|&(d, _)| query.types.contains(&self.docs[d as usize].doc_type))
                .collect()
        };
        let total = scored.len();
        let start = query.page.saturating_mul(query.limit).min(total);
        let end = (start + query.limit).min(total);
        let order = |a: &(u32, f32), b: &(u32, f32)| {
            b.1.total_cmp(&a.1)
                .then_with(|| {
                    let (ta, tb) = (self.string(a.0, F_TITLE), self.string(b.0, F_TITLE));
                    ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
                })
                .then_with(|| self.cmp_location(a.0, b.0))
                .then(a.0.cmp(&b.0))
        };
        let mut scored = scored;
        if end < scored.len() && end > 0 {
            scored.select_nth_unstable_by(end - 1, order);
            scored.truncate(end);
        }
        scored.sort_unstable_by(order);
        let word_chars: Vec<Vec<char>> = words.iter().map(|w| w.chars().collect()).collect();
        let hits = scored[start..end]
            .iter()
            .enumerate()
            .map(|(i, &(d, score))| {
                let document = self.document(d);
                let mut highlight = Vec::new();
                if let Some(t) = snippet::mark_all(&document.title, &word_chars) {
                    highlight.push(("title", t));
                }
                if let Some(t) = snippet::window(&document.text, &word_chars) {
                    highlight.push(("text", t));
                }
                Hit {
                    document,
                    rank: start + i + 1,
                    score,
                    highlight,
                }
            })
            .collect();
        Ok(Results {
            hits,
            total,
            by_type: DocType::ALL
                .into_iter()
                .zip(by_type)
                .filter(|&(_, n)| n > 0)
                .collect(),
            page: query.page,
            next_page: (end < total).then_some(query.page + 1),
            previous_page: query.page.checked_sub(1),
        })
    }

    /// Whether a document passes the query's filters.
    fn facets_match<'a>(&'a self, query: &'a Query) -> impl Fn(u32) -> bool + 'a {
        // Per filter, the interned key and the ids of the values it accepts (ignoring case):
        // a document is then checked with integer comparisons only.
        let interned =
            || (0..self.pool_at.len().saturating_sub(1) as u32).map(|i| (i, self.interned(i)));
        let filters: Vec<Option<(u32, Vec<u32>)>> = query
            .filters
            .iter()
            .map(|(k, values)| {
                let key = interned().find(|(_, s)| s == k)?.0;
                let ids = interned()
                    .filter(|(_, s)| values.iter().any(|v| v.eq_ignore_ascii_case(s)))
                    .map(|(i, _)| i)
                    .collect();
                Some((key, ids))
            })
            .collect();
        move |d: u32| {
            let facets = self.facets_of(d);
            filters
                .iter()
                .zip(&query.filters)
                .all(|(f, (_, values))| match f {
                    // A facet no document has: nothing matches it.
                    None => false,
                    Some((key, ids)) => facets.iter().any(|&(k, v)| {
                        k == *key
                            && if v == NAME_VALUE {
                                // Not interned: compared as the ids above were.
                                let name = self.string(d, F_NAME);
                                values.iter().any(|v| v.eq_ignore_ascii_case(name))
                            } else {
                                ids.binary_search(&v).is_ok()
                            }
                    }),
                })
        }
    }

    /// Documents matching every word, with their scores (unordered).
    fn matching(&self, words: &[String]) -> Vec<(u32, f32)> {
        let n = self.docs.len();
        let mut best = vec![0f32; n];
        let mut total = vec![0f32; n];
        let mut candidates: Vec<u32> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let mut touched: Vec<u32> = Vec::new();
            let mut note = |d: u32, s: f32, best: &mut Vec<f32>| {
                let b = &mut best[d as usize];
                if *b == 0.0 {
                    touched.push(d);
                }
                if s > *b {
                    *b = s;
                }
            };
            let range = self.prefix_range(word);
            for t in range.clone() {
                let term_len = self.term(t).len();
                // Exact 1.0; a prefix 0.5–0.8, more the more of the term is typed.
                let quality = if term_len == word.len() {
                    1.0
                } else {
                    0.5 + 0.3 * word.len() as f32 / term_len as f32
                };
                for (d, fields) in self.postings(t) {
                    note(d, field_weight(fields) * quality, &mut best);
                }
            }
            let chars: Vec<char> = word.chars().collect();
            let edits = allowed_edits(chars.len());
            if edits > 0 {
                let min_len = chars.len().saturating_sub(edits as usize);
                for &t in &self.fuzzy_terms {
                    if range.contains(&t) {
                        continue;
                    }
                    let term = self.term(t);
                    if term.len() < min_len {
                        continue;
                    }
                    let Some(d) = prefix_distance(&chars, term, edits) else {
                        continue;
                    };
                    let quality = 0.4 - 0.1 * d as f32;
                    for (d, fields) in self.postings(t) {
                        let fields = fields & FUZZY_FIELDS;
                        if fields != 0 {
                            note(d, field_weight(fields) * quality, &mut best);
                        }
                    }
                }
            }
            if i == 0 {
                candidates = touched.clone();
            } else {
                // Keep only candidates this word matched too.
                candidates.retain(|&d| best[d as usize] > 0.0);
            }
            for &d in &candidates {
                total[d as usize] += best[d as usize];
            }
            for d in touched {
                best[d as usize] = 0.0;
            }
        }
        let whole = words.join("-");
        candidates
            .into_iter()
            .map(|d| {
                let name = self.string(d, F_NAME);
                (d, total[d as usize] + name_bonus(name, &whole))
            })
            .collect()
    }
}

/// The pieces of the location `entities.rs` gives the documents of entity `entity` (a
/// lower-cased `kind:namespace/name`), before a suffix: `/catalog/{namespace}/{kind}/{name}`.
/// `None` for a ref not of that form.
fn catalog_location(entity: &str) -> Option<[&str; 6]> {
    let (kind, rest) = entity.split_once(':')?;
    let (namespace, name) = rest.split_once('/')?;
    Some(["/catalog/", namespace, "/", kind, "/", name])
}

/// What [`Stored::location`] is for a document of `entity` at `location`: `i` > 0 when the
/// location is exactly [`catalog_location`] followed by `LOCATION_SUFFIXES[i - 1]`, else 0.
fn derivable_location(entity: &str, location: &str) -> u8 {
    let Some(parts) = catalog_location(entity) else {
        return 0;
    };
    let mut rest = location;
    for p in parts {
        match rest.strip_prefix(p) {
            Some(r) => rest = r,
            None => return 0,
        }
    }
    LOCATION_SUFFIXES
        .iter()
        .position(|s| *s == rest)
        .map_or(0, |i| i as u8 + 1)
}

/// The weight of the best field in `fields`.
fn field_weight(fields: u8) -> f32 {
    WEIGHTS[fields.trailing_zeros().min(4) as usize]
}

/// The name part of a ref (`group:default/team-a` → `team-a`).
fn owner_name(owner: &str) -> &str {
    owner.rsplit(['/', ':']).next().unwrap_or(owner)
}

/// The bonus for a name equal to the whole typed term (+20) or starting with it (+5), compared
/// lower-cased with every run of other characters as one `-` (`whole` is the query's words
/// joined by `-`). Streams the name: this runs for every candidate of a one-letter prefix.
fn name_bonus(name: &str, whole: &str) -> f32 {
    let mut want = whole.chars();
    let mut last_sep = true;
    for c in name.chars() {
        let c = if c.is_alphanumeric() {
            last_sep = false;
            c.to_ascii_lowercase()
        } else if last_sep {
            continue;
        } else {
            last_sep = true;
            '-'
        };
        match want.next() {
            Some(w) if w == c => {}
            // The whole term was typed and the name goes on: a prefix.
            None => return 5.0,
            Some(_) => return 0.0,
        }
    }
    if want.next().is_none() { 20.0 } else { 0.0 }
}

/// The first `i` in `0..n` where `pred` turns false (`pred` true then false over the range).
fn partition(n: u32, pred: impl Fn(u32) -> bool) -> u32 {
    let (mut lo, mut hi) = (0u32, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entity document as `entities.rs` makes it (name `name`, location given).
    fn doc(entity: &str, name: &str, location: &str) -> Document {
        Document {
            doc_type: DocType::SoftwareCatalog,
            source: "catalog".into(),
            entity: entity.into(),
            name: name.into(),
            title: name.into(),
            keywords: vec!["java".into()],
            owner: "group:default/team-a".into(),
            text: "Takes card payments.".into(),
            location: location.into(),
            facets: vec![
                ("kind".into(), "Component".into()),
                ("namespace".into(), "default".into()),
                ("name".into(), name.into()),
                ("lifecycle".into(), "production".into()),
            ],
        }
    }

    #[test]
    fn stored_documents_stay_small() {
        assert_eq!(std::mem::size_of::<Stored>(), 40);
    }

    #[test]
    fn locations_round_trip_derived_or_not() {
        let e = "component:default/payments";
        let docs = vec![
            // Derivable: not stored.
            doc(e, "payments", "/catalog/default/component/payments"),
            doc(
                e,
                "listPayments",
                "/catalog/default/component/payments#definition",
            ),
            // Not derivable: the name's case kept, other suffixes, other pages, none at all.
            doc(
                "component:default/payments-ui",
                "Payments-UI",
                "/catalog/default/component/Payments-UI",
            ),
            doc(e, "payments", "/catalog/default/component/payments#other"),
            doc(e, "payments", "/catalog/default/component/payments/"),
            doc(e, "payments", "/catalog/default/component/payment"),
            doc(
                e,
                "getting-started",
                "/docs/default/component/payments/getting-started/",
            ),
            doc(e, "payments", ""),
            doc("not-a-ref", "x", "/catalog/default/component/x"),
        ];
        let index = Index::build(docs.clone());
        for (d, want) in docs.iter().enumerate() {
            assert_eq!(&index.document(d as u32), want);
        }
        // A rebuild copies them unchanged too.
        let again = index.rebuild(|_| true, []);
        for (d, want) in docs.iter().enumerate() {
            assert_eq!(&again.document(d as u32), want);
        }
        // Comparing pieces orders as comparing the strings.
        for a in index.ids() {
            for b in index.ids() {
                assert_eq!(
                    index.cmp_location(a, b),
                    docs[a as usize].location.cmp(&docs[b as usize].location),
                    "{a} {b}"
                );
            }
        }
    }

    #[test]
    fn derivable_locations_take_no_arena() {
        let e = "component:default/payments";
        let arena = |location: &str| Index::build([doc(e, "payments", location)]).arena.len();
        let derived = "/catalog/default/component/payments";
        assert_eq!(arena(derived), arena(""));
        assert_eq!(arena(&format!("{derived}#definition")), arena(""));
        assert_eq!(
            arena("/catalog/default/component/Payments"),
            arena("") + derived.len()
        );
    }

    #[test]
    fn facet_lists_are_shared_and_names_still_filter() {
        let docs = ["payments", "ledger", "inventory"].map(|n| {
            doc(
                &format!("component:default/{n}"),
                n,
                &format!("/catalog/default/component/{n}"),
            )
        });
        let index = Index::build(docs.clone());
        // One list for all three: each `name` facet reads as the document's name.
        assert_eq!(index.facet_at.len(), 2);
        assert_eq!(index.facets.len(), docs[0].facets.len());
        for (d, want) in docs.iter().enumerate() {
            assert_eq!(&index.document(d as u32), want);
        }
        let filtered = |key: &str, value: &str| {
            let q = Query {
                filters: vec![(key.into(), vec![value.into()])],
                ..Query::new("")
            };
            let r = index.search(&q).unwrap();
            r.hits
                .iter()
                .map(|h| h.document.name.clone())
                .collect::<Vec<_>>()
        };
        // Ignoring case, as any facet value.
        assert_eq!(filtered("name", "LEDGER"), ["ledger"]);
        assert_eq!(filtered("name", "nothing"), Vec::<String>::new());
        assert_eq!(filtered("kind", "component").len(), 3);
        // A key no document has matches nothing, even asked for a name.
        assert_eq!(filtered("path", "ledger"), Vec::<String>::new());
        // A rebuild keeping some documents and adding one still shares the one list.
        let mut added = doc(
            "component:default/audit",
            "Audit",
            "/catalog/default/component/Audit",
        );
        added.title = "Audit log".into();
        let again = index.rebuild(|d| d != 1, [added.clone()]);
        assert_eq!(again.facet_at.len(), 2);
        let want = [&docs[0], &docs[2], &added];
        for (d, want) in want.iter().enumerate() {
            assert_eq!(&&again.document(d as u32), want);
        }
    }
}
