//! The engine's record of every entity it serves, found by key: a hash table of [`Current`]
//! keyed by the stitched entity's own key, so the key is not stored a second time.
//!
//! A `HashMap<String, Current>` held each key twice (the map's and the entity's) and a 72-byte
//! slot; at 117,000 entities the table alone, half empty after rounding up to a power of two,
//! was 18 MiB, and the copied keys 5 MiB more.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::index::Stitched;

/// What the engine remembers about one served entity.
pub(super) struct Current {
    pub stitched: Arc<Stitched>,
    pub input_hash: [u8; 20],
    /// The root location this entity came through; shared by all of that root's entities.
    pub origin: Arc<str>,
}

impl Current {
    pub fn key(&self) -> &str {
        &self.stitched.key
    }
}

/// Every [`Current`], one per key.
#[derive(Default)]
pub(super) struct Currents {
    table: HashTable<Current>,
    hasher: foldhash::fast::RandomState,
}

impl Currents {
    pub fn with_capacity(n: usize) -> Self {
        Currents {
            table: HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn get(&self, key: &str) -> Option<&Current> {
        self.table.find(self.hash(key), |c| c.key() == key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds `current`, replacing the one with the same key.
    pub fn insert(&mut self, current: Current) {
        let hash = self.hash(current.key());
        let hasher = &self.hasher;
        match self.table.entry(
            hash,
            |c| c.key() == current.key(),
            |c| hasher.hash_one(c.key()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = current,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(current);
            }
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Ok(e) = self.table.find_entry(self.hash(key), |c| c.key() == key) {
            e.remove();
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Current> {
        self.table.iter()
    }

    /// Heap bytes of the table (the entities are counted with the snapshot).
    pub fn heap_bytes(&self) -> usize {
        // hashbrown keeps a control byte per bucket beside each slot, and at least an eighth
        // of the buckets free.
        let buckets = (self.table.capacity() * 8 / 7).next_power_of_two();
        buckets * (std::mem::size_of::<Current>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(key: &str, n: u8) -> Current {
        Current {
            stitched: Arc::new(Stitched::from_json(
                key.into(),
                format!("uid-{key}"),
                "etag".into(),
                "{}",
            )),
            input_hash: [n; 20],
            origin: "file:/x".into(),
        }
    }

    #[test]
    fn finds_replaces_and_removes_by_the_entity_key() {
        let mut m = Currents::with_capacity(2);
        m.insert(current("component:default/a", 1));
        m.insert(current("component:default/b", 2));
        m.insert(current("component:default/a", 3));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("component:default/a").unwrap().input_hash, [3; 20]);
        assert!(m.contains_key("component:default/b"));
        m.remove("component:default/b");
        m.remove("component:default/nope");
        assert!(!m.contains_key("component:default/b"));
        let keys: Vec<&str> = m.iter().map(Current::key).collect();
        assert_eq!(keys, ["component:default/a"]);
    }
}
