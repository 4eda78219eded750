//! [`Packed`]: a string kept inside one buffer shared with its neighbours, for the small strings
//! the engine keeps between rounds.
//!
//! Every entity's key is made on a parsing thread among millions of short-lived strings of the
//! same sizes. Kept as a `String` each, those keys pinned the allocator's 48-byte slabs after
//! the parse was over: at N = 50,000 the class held 28 MiB, a third of it in use. Packed once
//! per file on the engine's thread, a file's keys are one allocation.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A string in a shared buffer; clones share the buffer. Compares, hashes and prints as the
/// string it holds.
#[derive(Clone)]
pub struct Packed {
    buf: Arc<str>,
    at: u32,
    len: u32,
}

impl Packed {
    /// A string with a buffer of its own, until [`Packed::pack`] moves it into a shared one.
    pub fn new(s: &str) -> Self {
        Packed {
            buf: Arc::from(s),
            at: 0,
            len: s.len() as u32,
        }
    }

    /// Moves all of `items` into one new buffer, equal strings into the same bytes.
    pub fn pack<'a>(items: impl IntoIterator<Item = &'a mut Packed>) {
        let mut items: Vec<&mut Packed> = items.into_iter().collect();
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
        &self.buf[self.at as usize..(self.at + self.len) as usize]
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

#[cfg(test)]
mod tests {
    use super::Packed;

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
}
