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

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};

use super::live::Batch;
use super::{backend, node_key_bytes, root_node_key, StoreError};
use crate::state::Changes;

/// (key hash, version) → (key, value; `None` = deleted at that version).
type ValueRecords = BTreeMap<([u8; 32], Version), (Vec<u8>, Option<Vec<u8>>)>;

/// One version's entries that a later version made stale (pruning only).
struct Stale {
    since: Version,
    nodes: Vec<Vec<u8>>,
    values: Vec<([u8; 32], Version)>,
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
        let hashes: Vec<[u8; 32]> = changes
            .keys()
            .map(|k| KeyHash::with::<sha2::Sha256>(k).0)
            .collect();
        if keep_recent > 0 && version > 0 {
            let mut stale = Stale {
                since: version,
                nodes: batch.stale,
                values: Vec::with_capacity(changes.len()),
            };
            // jmt copies an unchanged root without reporting the old one stale
            stale
                .nodes
                .push(node_key_bytes(&root_node_key(version - 1)?)?);
            for &h in &hashes {
                if let Some((&previous, _)) = self.values.range((h, 0)..(h, version)).next_back() {
                    stale.values.push(previous);
                }
            }
            self.stale.push_back(stale);
        }
        self.nodes.extend(batch.nodes);
        for ((k, v), h) in changes.iter().zip(hashes) {
            self.values.insert((h, version), (k.clone(), v.clone()));
        }
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
            self.values
                .insert((h, version), (k.clone(), Some(v.clone())));
            state.insert(k.clone(), v.clone());
        }
        self.roots.insert(height, root);
        Ok(())
    }

    fn newest(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> Option<&(Vec<u8>, Option<Vec<u8>>)> {
        self.values
            .range((key_hash.0, 0)..=(key_hash.0, max_version))
            .next_back()
            .map(|(_, v)| v)
    }
}

impl HasPreimage for MemDb {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.newest(Version::MAX, key_hash).map(|(k, _)| k.clone()))
    }
}

impl TreeReader for MemDb {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.nodes.get(&node_key_bytes(node_key)?) {
            Some(bytes) => Ok(Some(borsh::from_slice(bytes)?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self
            .newest(max_version, key_hash)
            .and_then(|(_, v)| v.clone()))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("tree restore is not supported by this store")
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
