//! Compact forms for the small things the engine keeps between rounds: [`Packed`] and
//! [`PackedSlice`], a string or a slice inside one allocation shared with its neighbours, and
//! [`Rare`], a slice that is almost always empty.
//!
//! Every entity's key is made on a parsing thread among millions of short-lived strings of the
//! same sizes. Kept as a `String` each, those keys pinned the allocator's 48-byte slabs after
//! the parse was over: at N = 50,000 the class held 28 MiB, a third of it in use. The same went
//! for relation targets and each entity's list of declared relations. Packed once per file on
//! the engine's thread, a file's keys are one allocation, and so are its relations.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A string in a shared buffer; clones share the buffer. Compares, hashes and prints as the
/// string it holds. Carries a byte for its holder's use ([`Packed::tag`]) in what would be
/// padding, so that a declared relation (its type and its target) stays 24 bytes.
#[derive(Clone)]
pub struct Packed {
    buf: Arc<str>,
    at: u32,
    /// [`WHOLE`] for a string too long to say here, which keeps a buffer of its own.
    len: u16,
    tag: u8,
}

/// `Packed::len` of a string that runs to the end of its buffer.
const WHOLE: u16 = u16::MAX;

impl Packed {
    /// A string with a buffer of its own, until [`Packed::pack`] moves it into a shared one.
    pub fn new(s: &str) -> Self {
        Packed {
            buf: Arc::from(s),
            at: 0,
            // A string of exactly `WHOLE` bytes reads the same either way: all of its own buffer.
            len: u16::try_from(s.len()).unwrap_or(WHOLE),
            tag: 0,
        }
    }

    /// The same string, with `tag`.
    pub fn with_tag(mut self, tag: u8) -> Self {
        self.tag = tag;
        self
    }

    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// Moves all of `items` into one new buffer, equal strings into the same bytes (strings of
    /// 64 KiB or more keep their own).
    pub fn pack<'a>(items: impl IntoIterator<Item = &'a mut Packed>) {
        let mut items: Vec<&mut Packed> = items.into_iter().filter(|p| p.len != WHOLE).collect();
        let total: usize = items.iter().map(|p| p.len()).sum();
        if items.is_empty() || total > u32::MAX as usize {
            return;
        }
        let mut text = String::with_capacity(total);
        let mut ats = Vec::with_capacity(items.len());
        let mut placed: HashMap<&str, u32> = HashMap::with_capacity(items.len());
        for p in &items {
            let at = *placed.entry(p.as_str()).or_insert_with(|| {
                text.push_str(p);
                (text.len() - p.len()) as u32
            });
            ats.push(at);
        }
        drop(placed);
        let buf: Arc<str> = Arc::from(text);
        for (p, at) in items.iter_mut().zip(ats) {
            p.buf = Arc::clone(&buf);
            p.at = at;
        }
    }

    pub fn as_str(&self) -> &str {
        let at = self.at as usize;
        match self.len {
            WHOLE => &self.buf[at..],
            len => &self.buf[at..at + len as usize],
        }
    }

    #[cfg(test)]
    pub(crate) fn shares_buffer_with(&self, other: &Packed) -> bool {
        Arc::ptr_eq(&self.buf, &other.buf)
    }
}

impl From<String> for Packed {
    fn from(s: String) -> Self {
        Packed::new(&s)
    }
}

impl From<&str> for Packed {
    fn from(s: &str) -> Self {
        Packed::new(s)
    }
}

impl Deref for Packed {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Packed {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Packed {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Packed {}

impl PartialEq<str> for Packed {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Packed {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for Packed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A slice inside one allocation shared with its neighbours (a file's entities' declared
/// relations); clones share the allocation. An empty one holds none.
#[derive(Clone)]
pub struct PackedSlice<T> {
    all: Option<Arc<[T]>>,
    at: u32,
    len: u32,
}

impl<T> PackedSlice<T> {
    /// A slice with an allocation of its own.
    pub fn new(items: Vec<T>) -> Self {
        let len = items.len() as u32;
        PackedSlice {
            all: (len > 0).then(|| Arc::from(items)),
            at: 0,
            len,
        }
    }

    /// The `len` items of `all` from `at`.
    pub fn within(all: &Arc<[T]>, at: usize, len: usize) -> Self {
        assert!(at + len <= all.len() && all.len() <= u32::MAX as usize);
        PackedSlice {
            all: (len > 0).then(|| Arc::clone(all)),
            at: at as u32,
            len: len as u32,
        }
    }
}

impl<T> Default for PackedSlice<T> {
    fn default() -> Self {
        PackedSlice {
            all: None,
            at: 0,
            len: 0,
        }
    }
}

impl<T> Deref for PackedSlice<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.all {
            Some(all) => &all[self.at as usize..(self.at + self.len) as usize],
            None => &[],
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for PackedSlice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A slice that is almost always empty (an entity's errors, a Location's targets), in 8 bytes
/// instead of a boxed slice's 16: empty, it holds nothing.
#[derive(Clone)]
pub struct Rare<T>(Option<Box<Box<[T]>>>);

impl<T> Default for Rare<T> {
    fn default() -> Self {
        Rare(None)
    }
}

impl<T> From<Vec<T>> for Rare<T> {
    fn from(items: Vec<T>) -> Self {
        Rare((!items.is_empty()).then(|| Box::new(items.into_boxed_slice())))
    }
}

impl<T> Deref for Rare<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.0.as_deref().map_or(&[], |items| &**items)
    }
}

impl<T: fmt::Debug> fmt::Debug for Rare<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::{Packed, PackedSlice, Rare};

    #[test]
    fn packed_strings_share_one_buffer_and_read_as_before() {
        let mut items: Vec<Packed> = ["component:default/a", "", "api:default/ünï-b", "x"]
            .into_iter()
            .map(Packed::from)
            .collect();
        let before: Vec<String> = items.iter().map(|p| p.to_string()).collect();
        Packed::pack(items.iter_mut());
        let after: Vec<&str> = items.iter().map(|p| p.as_str()).collect();
        assert_eq!(after, before);
        assert!(items.iter().all(|p| p.shares_buffer_with(&items[0])));
        assert!(!items[0].shares_buffer_with(&Packed::from("component:default/a")));
        assert_eq!(items[2], Packed::from("api:default/ünï-b"));
        assert_eq!(items[0], "component:default/a");
        let set: std::collections::HashSet<Packed> = items.iter().cloned().collect();
        assert!(set.contains("x"));
    }

    #[test]
    fn rare_slices_are_small_and_read_as_slices() {
        assert_eq!(std::mem::size_of::<Rare<String>>(), 8);
        assert!(Rare::<u8>::default().is_empty());
        assert!(Rare::<u8>::from(vec![]).0.is_none());
        assert_eq!(&*Rare::from(vec![1u8, 2]), &[1u8, 2]);
    }

    #[test]
    fn packed_slices_read_their_own_items() {
        let all: std::sync::Arc<[u8]> = std::sync::Arc::from(vec![1, 2, 3, 4]);
        let (a, b) = (
            PackedSlice::within(&all, 0, 1),
            PackedSlice::within(&all, 1, 3),
        );
        assert_eq!((&*a, &*b), (&[1u8][..], &[2u8, 3, 4][..]));
        assert!(PackedSlice::within(&all, 4, 0).is_empty());
        assert!(PackedSlice::<u8>::default().is_empty());
        assert_eq!(&*PackedSlice::new(vec![5u8]), &[5u8]);
    }

    #[test]
    fn long_strings_and_tags_survive_packing() {
        let long = "l".repeat(70_000);
        let mut items = [
            Packed::from("a").with_tag(3),
            Packed::from(long.as_str()).with_tag(7),
            Packed::from("b"),
        ];
        Packed::pack(items.iter_mut());
        assert_eq!(items[1].as_str(), long);
        assert_eq!((items[0].as_str(), items[2].as_str()), ("a", "b"));
        assert!(items[0].shares_buffer_with(&items[2]));
        assert!(!items[0].shares_buffer_with(&items[1]));
        assert_eq!((items[0].tag(), items[1].tag(), items[2].tag()), (3, 7, 0));
        assert_eq!(std::mem::size_of::<Packed>(), 24);
    }
}
