//! The engine's record of every entity it serves, found by key: the records in a vector, and a
//! hash table of their positions keyed by the stitched entity's own key, so the key is not
//! stored a second time.
//!
//! A `HashMap<String, Current>` held each key twice (the map's and the entity's) and a 72-byte
//! slot; at 117,000 entities the table alone, half empty after rounding up to a power of two,
//! was 18 MiB, and the copied keys 5 MiB more. Records in a `HashTable<Current>` still left
//! half of 48-byte slots empty (12.5 MiB); now only 4-byte positions round up (6.6 MiB in all).

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::index::Stitched;

/// What the engine remembers about one served entity.
pub(super) struct Current {
    pub stitched: Arc<Stitched>,
    /// The root location this entity came through; shared by all of that root's entities.
    pub origin: Arc<str>,
}

impl Current {
    pub fn key(&self) -> &str {
        self.stitched.key()
    }

    /// Whether the entity was stitched from these inputs. Its etag is their hash in hex (see
    /// `round`), so the hash is not kept a second time (20 bytes an entity).
    pub fn stitched_from(&self, input_hash: &[u8; 20]) -> bool {
        crate::stitch::is_hex_of(self.stitched.etag(), input_hash)
    }
}

/// Every [`Current`], one per key.
#[derive(Default)]
pub(super) struct Currents {
    records: Vec<Current>,
    /// Positions in `records`, hashed by the record's key.
    positions: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl Currents {
    pub fn with_capacity(n: usize) -> Self {
        Currents {
            records: Vec::with_capacity(n),
            positions: HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.position_hashed(self.hash(key), key)
    }

    fn position_hashed(&self, hash: u64, key: &str) -> Option<usize> {
        let records = &self.records;
        self.positions
            .find(hash, |&i| records[i as usize].key() == key)
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: &str) -> Option<&Current> {
        self.position(key).map(|i| &self.records[i])
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Adds `current`, replacing the one with the same key.
    pub fn insert(&mut self, current: Current) {
        let hash = self.hash(current.key());
        if let Some(i) = self.position_hashed(hash, current.key()) {
            self.records[i] = current;
            return;
        }
        let (records, hasher) = (&self.records, &self.hasher);
        let at = u32::try_from(records.len()).expect("fewer than 2^32 entities");
        self.positions
            .insert_unique(hash, at, |&i| hasher.hash_one(records[i as usize].key()));
        self.records.push(current);
    }

    /// Removes the record of `key`; the last record takes its place.
    pub fn remove(&mut self, key: &str) {
        let hash = self.hash(key);
        let records = &self.records;
        let Ok(entry) = self
            .positions
            .find_entry(hash, |&i| records[i as usize].key() == key)
        else {
            return;
        };
        let (at, _) = entry.remove();
        let at = at as usize;
        self.records.swap_remove(at);
        if let Some(moved) = self.records.get(at) {
            // It was the last record: its position still says so.
            let old = self.records.len() as u32;
            let slot = self
                .positions
                .find_mut(self.hasher.hash_one(moved.key()), |&i| i == old)
                .expect("every record has a position");
            *slot = at as u32;
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Current> {
        self.records.iter()
    }

    /// Heap bytes of the records and their positions (the entities are counted with the
    /// snapshot).
    pub fn heap_bytes(&self) -> usize {
        // hashbrown keeps a control byte per bucket beside each slot, and at least an eighth
        // of the buckets free.
        let buckets = (self.positions.capacity() * 8 / 7).next_power_of_two();
        buckets * (std::mem::size_of::<u32>() + 1)
            + self.records.capacity() * std::mem::size_of::<Current>()
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
                crate::stitch::hex(&[n; 20]),
                "{}",
            )),
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
        let a = m.get("component:default/a").unwrap();
        assert!(a.stitched_from(&[3; 20]) && !a.stitched_from(&[1; 20]));
        assert!(m.contains_key("component:default/b"));
        m.remove("component:default/b");
        m.remove("component:default/nope");
        assert!(!m.contains_key("component:default/b"));
        let keys: Vec<&str> = m.iter().map(Current::key).collect();
        assert_eq!(keys, ["component:default/a"]);
    }

    #[test]
    fn a_removal_keeps_every_other_record_found() {
        let mut m = Currents::default();
        for n in 0..100u8 {
            m.insert(current(&format!("component:default/c{n}"), n));
        }
        // First, middle and last: the last record moves into each gap.
        for n in [0u8, 50, 99] {
            m.remove(&format!("component:default/c{n}"));
        }
        assert_eq!(m.len(), 97);
        for n in 0..100u8 {
            let found = m.get(&format!("component:default/c{n}"));
            assert_eq!(found.is_some(), ![0, 50, 99].contains(&n), "c{n}");
            if let Some(c) = found {
                assert!(c.stitched_from(&[n; 20]));
            }
        }
    }
}
