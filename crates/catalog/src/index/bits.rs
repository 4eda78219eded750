//! Sets of entity ids as bitmaps, and their iterators.

/// A set of entity ids as a bitmap: a full catalog is a few thousand words, so every set
/// operation is a tight loop over memory that fits in cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits {
    pub(super) words: Vec<u64>,
    pub(super) n: usize,
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

    pub(super) fn clear_tail(&mut self) {
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

pub(super) struct BitIter {
    pub(super) w: u64,
    pub(super) base: u32,
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

pub(super) struct BitIterRev {
    pub(super) w: u64,
    pub(super) base: u32,
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
