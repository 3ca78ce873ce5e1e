//! The memory engine: the same store (the same tree, roots, proofs, history window and what
//! pruning deletes as the redb engine; a pruning backlog goes at once, with no per-commit
//! budget) held in ordered maps, for stores that never outlive their process:
//! scenario tests, the simulator, genesis dry runs. Tree nodes are kept encoded as the live tree
//! hands them over (the redb engine's keys and values), so Commit moves them in without paging
//! or checksums; only proofs decode them.
//!
//! A store made by `Storage::in_memory_newest_only` keeps only the newest state and each
//! height's root (the live tree computes every root in full; no nodes, value records or stale
//! lists are made or kept), for a process that only executes blocks: the simulator.
//!
//! A node is never asked to keep a memory store; `nodeopd` always opens a file (redb). The two
//! engines are held to the same answers by the store's tests, which run every scenario on both
//! and compare roots, values and proofs height by height.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use jmt::storage::{Node, TreeUpdateBatch};
use jmt::{KeyHash, Version};

use super::live::Batch;
use super::{backend, node_key_bytes, root_node_key, StoreError, TreeAt, TreeTables};
use crate::state::Changes;

/// (version, key hash) → (key, value): the value of every leaf under the leaf's version, as in
/// the redb engine's `jmt_values`.
type ValueRecords = BTreeMap<(Version, [u8; 32]), (Vec<u8>, Vec<u8>)>;

/// One version's entries that a later version made stale (pruning only).
struct Stale {
    since: Version,
    nodes: Vec<Vec<u8>>,
    values: Vec<(Version, [u8; 32])>,
}

#[derive(Default)]
pub(super) struct MemDb {
    /// Every kept version's tree nodes: `jmt_nodes` key → borsh(Node), as in the redb engine
    /// (only proofs read them back; blocks are computed on the live tree).
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    values: ValueRecords,
    /// The latest committed state, shared with [`super::StateView`]s taken from it.
    pub(super) state: Arc<BTreeMap<Vec<u8>, Vec<u8>>>,
    pub(super) roots: BTreeMap<u64, [u8; 32]>,
    /// What each version made stale, oldest first.
    stale: VecDeque<Stale>,
    /// Keep only `state` and `roots` ([`super::Storage::in_memory_newest_only`]).
    pub(super) newest_only: bool,
}

impl MemDb {
    pub(super) fn stats(&self) -> super::StoreStats {
        super::StoreStats {
            jmt_nodes: self.nodes.len() as u64,
            jmt_values: self.values.len() as u64,
            stale: self
                .stale
                .iter()
                .map(|s| (s.nodes.len() + s.values.len()) as u64)
                .sum(),
        }
    }

    /// Writes a block at `version` (height `height`): its new nodes, value records, state and
    /// root; with `keep_recent > 0` records what it made stale, then drops everything stale since
    /// a version at or below `earliest_version` (unreachable from every kept root).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit(
        &mut self,
        height: u64,
        app_hash: [u8; 32],
        version: Version,
        batch: Batch,
        changes: &Changes,
        keep_recent: u64,
        earliest_version: Version,
    ) -> Result<(), StoreError> {
        // everything that can fail is found before anything is changed
        let mut moved = Vec::new();
        let mut written = Vec::new();
        let mut previous_root = None;
        if !self.newest_only {
            for &(from, h) in &batch.moved {
                let record = self.values.get(&(from, h)).cloned().ok_or_else(|| {
                    StoreError::Tree(format!(
                        "the value record of moved leaf {} (version {from}) is missing",
                        hex::encode_upper(h)
                    ))
                })?;
                moved.push(((version, h), record));
            }
            for ((k, v), h) in batch.hashed(changes)? {
                if let Some(v) = v {
                    written.push(((version, *h), (k.clone(), v.clone())));
                }
            }
            if keep_recent > 0 && version > 0 {
                // jmt copies an unchanged root without reporting the old one stale
                previous_root = Some(node_key_bytes(&root_node_key(version - 1)?)?);
            }
        }
        let state = Arc::make_mut(&mut self.state);
        for (k, v) in changes {
            match v {
                Some(v) => state.insert(k.clone(), v.clone()),
                None => state.remove(k),
            };
        }
        self.roots.insert(height, app_hash);
        if self.newest_only {
            return Ok(());
        }
        if let Some(previous_root) = previous_root {
            let mut nodes = batch.stale;
            nodes.push(previous_root);
            self.stale.push_back(Stale {
                since: version,
                nodes,
                values: batch.stale_values,
            });
        }
        self.nodes.extend(batch.nodes);
        self.values.extend(moved);
        self.values.extend(written);
        while self
            .stale
            .front()
            .is_some_and(|s| s.since <= earliest_version)
        {
            if let Some(s) = self.stale.pop_front() {
                for k in &s.nodes {
                    self.nodes.remove(k);
                }
                for k in &s.values {
                    self.values.remove(k);
                }
            }
        }
        Ok(())
    }

    /// Writes a restored state as `version` (see [`super::Storage::restore`]).
    pub(super) fn restore(
        &mut self,
        height: u64,
        root: [u8; 32],
        version: Version,
        batch: &TreeUpdateBatch,
        entries: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        for (key, node) in batch.node_batch.nodes() {
            if !matches!(node, Node::Null) {
                self.nodes
                    .insert(node_key_bytes(key)?, borsh::to_vec(node).map_err(backend)?);
            }
        }
        let state = Arc::make_mut(&mut self.state);
        for (k, v) in entries {
            let h = KeyHash::with::<sha2::Sha256>(k).0;
            self.values.insert((version, h), (k.clone(), v.clone()));
            state.insert(k.clone(), v.clone());
        }
        self.roots.insert(height, root);
        Ok(())
    }

    /// The tree as stored at `version`, for jmt (proofs) and the live tree.
    pub(super) fn at(&self, version: Version) -> TreeAt<&MemDb> {
        TreeAt {
            tables: self,
            version,
        }
    }
}

impl TreeTables for &MemDb {
    fn with_node<T>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> T) -> anyhow::Result<Option<T>> {
        Ok(self.nodes.get(key).map(|v| f(v)))
    }

    fn with_record<T>(
        &self,
        version: Version,
        key_hash: [u8; 32],
        f: impl FnOnce(&[u8], &[u8]) -> T,
    ) -> anyhow::Result<Option<T>> {
        Ok(self.values.get(&(version, key_hash)).map(|(k, v)| f(k, v)))
    }
}

#[cfg(test)]
impl MemDb {
    /// Stale entries of versions at or below `earliest_version` still held (none after a commit).
    pub(super) fn backlog(&self, earliest_version: Version) -> usize {
        self.stale
            .iter()
            .filter(|s| s.since <= earliest_version)
            .map(|s| s.nodes.len() + s.values.len())
            .sum()
    }
}
