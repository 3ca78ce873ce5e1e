//! Buffered writes over a parent state.
//!
//! An [`Overlay`] records puts and deletes in an ordered map and answers reads from that map first,
//! then from its parent. The owner decides what happens to the buffered changes: take them with
//! [`Overlay::into_changes`] and apply them to the parent (the tx or block succeeded), or drop the
//! overlay (it failed). Overlays nest: a tx's messages run on an overlay over the tx's fee and nonce
//! overlay, which runs over the block's overlay, which runs over the committed store.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::{StateRead, StateWrite};

/// Buffered changes: `Some(value)` is a put, `None` a delete. Ordered, so applying them is
/// deterministic.
pub type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

pub struct Overlay<S> {
    parent: S,
    changes: Changes,
}

impl<S: StateRead> Overlay<S> {
    pub fn new(parent: S) -> Self {
        Self {
            parent,
            changes: Changes::new(),
        }
    }

    pub fn with_changes(parent: S, changes: Changes) -> Self {
        Self { parent, changes }
    }

    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    pub fn into_changes(self) -> Changes {
        self.changes
    }

    pub fn into_parts(self) -> (S, Changes) {
        (self.parent, self.changes)
    }

    pub fn parent(&self) -> &S {
        &self.parent
    }

    /// Applies a child's changes to this overlay.
    pub fn apply(&mut self, child: Changes) {
        if self.changes.is_empty() {
            self.changes = child;
        } else {
            self.changes.extend(child);
        }
    }

    pub fn clear(&mut self) {
        self.changes.clear();
    }
}

impl<S: StateRead> StateRead for Overlay<S> {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.changes.get(key) {
            Some(change) => change.clone(),
            None => self.parent.get_raw(key),
        }
    }

    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        if limit == 0 {
            return Vec::new();
        }
        // Merge the parent's entries with ours. The parent is asked for `limit + deletions in
        // range` entries so that entries we delete cannot leave the page short.
        let lower: Bound<&[u8]> = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let mine: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = self
            .changes
            .range::<[u8], _>((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect();
        let deletions = mine.iter().filter(|(_, v)| v.is_none()).count();
        let theirs = self
            .parent
            .prefix_raw(prefix, start_after, limit.saturating_add(deletions));

        let mut out = Vec::new();
        let mut a = mine.into_iter().peekable();
        let mut b = theirs.into_iter().peekable();
        while out.len() < limit {
            let take_mine = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((ka, _)), Some((kb, _))) => ka.as_slice() <= kb.as_slice(),
            };
            if take_mine {
                let (k, v) = a.next().expect("peeked");
                if b.peek().is_some_and(|(kb, _)| kb == k) {
                    b.next();
                }
                if let Some(v) = v {
                    out.push((k.clone(), v.clone()));
                }
            } else {
                out.push(b.next().expect("peeked"));
            }
        }
        out
    }
}

impl<S: StateRead> StateWrite for Overlay<S> {
    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert(key, Some(value));
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.changes.insert(key, None);
    }
}

/// An empty state (for building genesis in memory and for tests).
#[derive(Default, Clone, Copy)]
pub struct Empty;

impl StateRead for Empty {
    fn get_raw(&self, _key: &[u8]) -> Option<Vec<u8>> {
        None
    }
    fn prefix_raw(&self, _: &[u8], _: Option<&[u8]>, _: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
}

/// An in-memory ordered map used as a parent state (tests, genesis dry runs).
impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.get(key).cloned()
    }
    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let lower: Bound<&[u8]> = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        self.range::<[u8], _>((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut m = BTreeMap::new();
        for k in [
            b"a/1".to_vec(),
            b"a/3".to_vec(),
            b"a/5".to_vec(),
            b"b/1".to_vec(),
        ] {
            m.insert(k.clone(), k);
        }
        m
    }

    #[test]
    fn reads_see_own_writes_then_parent() {
        let parent = base();
        let mut o = Overlay::new(&parent);
        o.put_raw(b"a/2".to_vec(), b"x".to_vec());
        o.delete(b"a/3".to_vec());
        assert_eq!(o.get_raw(b"a/2"), Some(b"x".to_vec()));
        assert_eq!(o.get_raw(b"a/3"), None);
        assert_eq!(o.get_raw(b"a/1"), Some(b"a/1".to_vec()));
        let keys: Vec<_> = o
            .prefix_raw(b"a/", None, 10)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            vec![b"a/1".to_vec(), b"a/2".to_vec(), b"a/5".to_vec()]
        );
        let page: Vec<_> = o
            .prefix_raw(b"a/", Some(b"a/1"), 1)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(page, vec![b"a/2".to_vec()]);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(20261120),
            ..ProptestConfig::default()
        })]
        // The overlay's merged view equals the parent with the changes applied.
        #[test]
        fn prefix_matches_applied_model(
            parent in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 1..4), proptest::collection::vec(any::<u8>(), 0..3), 0..20),
            changes in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 1..4), proptest::option::of(proptest::collection::vec(any::<u8>(), 0..3)), 0..20),
            prefix in proptest::collection::vec(0u8..4, 0..2),
            after in proptest::option::of(proptest::collection::vec(0u8..4, 0..3)),
            limit in 0usize..30,
        ) {
            let mut model = parent.clone();
            for (k, v) in &changes {
                match v { Some(v) => { model.insert(k.clone(), v.clone()); } None => { model.remove(k); } }
            }
            let o = Overlay::with_changes(&parent, changes.clone());
            let got = o.prefix_raw(&prefix, after.as_deref(), limit);
            let want = model.prefix_raw(&prefix, after.as_deref(), limit);
            prop_assert_eq!(got, want);
        }
    }
}
