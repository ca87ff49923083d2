//! A fixed-size set of small indices: what makes checks on resolved entitlements plain lookups.

/// A set of indices below a size fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BitSet {
    words: Box<[u64]>,
}

impl BitSet {
    /// An empty set able to hold indices below `len`.
    pub(crate) fn with_len(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)].into_boxed_slice(),
        }
    }

    /// Adds `index`; indices beyond the size are ignored.
    pub(crate) fn insert(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    /// Adds every index of `other`.
    pub(crate) fn union_with(&mut self, other: &BitSet) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a |= *b;
        }
    }

    /// Whether `index` is in the set.
    #[inline]
    pub(crate) fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
}
