//! A set of distinct strings numbered in insertion order, with hash lookups: the hash table of
//! the engine (catalog keys, revoked license ids, overrides of features a catalog does not have).
//!
//! One small open-addressing table, not generic, instead of a general hash map per key and value
//! type: the size-budgeted wasm build links this one table (and no `hashbrown`).

use std::hash::Hasher;

/// Distinct strings, each at the position it was first inserted at.
#[derive(Clone, Default)]
pub(crate) struct KeyIndex {
    keys: Vec<Box<str>>,
    /// Open addressing with linear probing, at most half full: 0 is an empty slot; otherwise the
    /// high 32 bits hold a tag of the key's hash (see [`tag`]) and the low 32 bits its position + 1.
    slots: Box<[u64]>,
}

/// A probe compares strings only when the tags agree. The tag folds both halves of the hash: on
/// 32-bit targets (wasm32) FxHasher's hash is a `usize`, whose high half is zero.
fn tag(hash: u64) -> u64 {
    (hash ^ (hash >> 32)) & 0xffff_ffff
}

fn hash(key: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(key.as_bytes());
    hasher.finish()
}

impl KeyIndex {
    /// The position of `key` (`Ok`), or the empty slot where it would go (`Err`). The table must
    /// have at least one empty slot.
    fn find(&self, key: &str, hash: u64) -> Result<usize, usize> {
        let mask = self.slots.len().wrapping_sub(1);
        let tag = tag(hash);
        let mut at = (hash as usize) & mask;
        loop {
            let slot = *self.slots.get(at).ok_or(at)?;
            if slot == 0 {
                return Err(at);
            }
            if slot >> 32 == tag {
                let position = (slot & 0xffff_ffff) as usize - 1;
                if self.keys.get(position).is_some_and(|k| **k == *key) {
                    return Ok(position);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// The position of `key`.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        if self.keys.is_empty() {
            return None;
        }
        self.find(key, hash(key)).ok()
    }

    /// Whether `key` is in the set.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds `key` at the next position (`Ok`), unless it is there already (`Err`, its position).
    pub(crate) fn insert(&mut self, key: &str) -> Result<usize, usize> {
        let h = hash(key);
        if !self.keys.is_empty() {
            self.find(key, h).map_or(Ok(()), Err)?;
        }
        let position = self.keys.len();
        if (position + 1) * 2 > self.slots.len() {
            self.slots = vec![0; (self.slots.len() * 2).max(8)].into_boxed_slice();
            for (i, k) in self.keys.iter().enumerate() {
                place(&mut self.slots, hash(k), i);
            }
        }
        place(&mut self.slots, h, position);
        self.keys.push(key.into());
        Ok(position)
    }

    /// How many keys the set holds.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Puts `position` in the first empty slot from `hash` on.
fn place(slots: &mut [u64], hash: u64, position: usize) {
    let mask = slots.len().wrapping_sub(1);
    let mut at = (hash as usize) & mask;
    while let Some(slot) = slots.get_mut(at) {
        if *slot == 0 {
            *slot = tag(hash) << 32 | (position as u64 + 1);
            return;
        }
        at = (at + 1) & mask;
    }
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.keys.iter()).finish()
    }
}

/// Two sets are equal when they hold the same keys, in any order.
impl PartialEq for KeyIndex {
    fn eq(&self, other: &KeyIndex) -> bool {
        self.len() == other.len() && self.keys.iter().all(|k| other.contains(k))
    }
}

impl Eq for KeyIndex {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_numbered_in_insertion_order_and_found_again() {
        let mut index = KeyIndex::default();
        assert_eq!(index.get("a"), None);
        assert_eq!(index.insert("a"), Ok(0));
        assert_eq!(index.insert(""), Ok(1));
        assert_eq!(index.insert("b"), Ok(2));
        assert_eq!(index.insert("a"), Err(0));
        assert_eq!(index.insert(""), Err(1));
        assert_eq!(
            (index.get("b"), index.get(""), index.get("c")),
            (Some(2), Some(1), None)
        );
        assert_eq!(index.len(), 3);
        assert!(index.contains("a") && !index.contains("A"));
    }

    #[test]
    fn a_growing_index_finds_every_key() {
        let mut index = KeyIndex::default();
        for i in 0..5000 {
            assert_eq!(index.insert(&format!("k{i}")), Ok(i));
        }
        for i in 0..5000 {
            assert_eq!(index.get(&format!("k{i}")), Some(i));
            assert_eq!(index.insert(&format!("k{i}")), Err(i));
        }
        assert_eq!(index.get("k5000"), None);
        assert_eq!(index.len(), 5000);
    }

    #[test]
    fn equal_indices_hold_the_same_keys_in_any_order() {
        let mut a = KeyIndex::default();
        let mut b = KeyIndex::default();
        for k in ["x", "y", "z"] {
            let _ = a.insert(k);
        }
        for k in ["z", "x", "y", "x"] {
            let _ = b.insert(k);
        }
        assert_eq!(a, b);
        let _ = b.insert("w");
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), r#"{"x", "y", "z"}"#);
    }
}
