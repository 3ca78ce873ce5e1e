//! The store's side of state sync: a consistent read of one committed height, to take a
//! snapshot from in the background while blocks go on, and the write of a state rebuilt from a
//! snapshot.
//!
//! A [`StateView`] is a redb read transaction opened right after a commit: it sees the `state`
//! table and the `meta` of that height however many blocks are committed after it (redb keeps
//! the pages it reads alive until it is dropped), with a copy of the changes that table does
//! not hold yet (it lags by a few blocks: see `index`), so a snapshot of height H holds exactly
//! the state whose root is H's app hash.
//!
//! [`Storage::restore`] writes a rebuilt state as height H into an empty store: every key at
//! tree version `H − version_offset` (versions below it do not exist: the tree reader answers
//! the previous version's root as the empty tree), the ordered index, H's root and
//! `earliest_height = H`, so heights below H are refused as pruned, never answered wrongly. It
//! computes the root first and writes nothing unless the root equals the trusted app hash.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::state::Changes;

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Sha256Jmt, Version};
use redb::{ReadableDatabase, ReadableTable};

use super::{
    backend, encode_value_record, index, node_key_bytes, root_node_key, value_key, Committed,
    Engine, Storage, StoreError, META, NODES, ROOTS, STATE, VALUES,
};

/// The committed state of one height, readable from any thread for as long as it is kept.
pub struct StateView {
    committed: Committed,
    state: ViewState,
}

enum ViewState {
    /// The `state` table of that height, and what it does not hold yet (newest wins).
    Redb {
        table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
        pending: Changes,
    },
    /// The memory engine's state map of that height (later commits copy it before writing).
    Memory(Arc<BTreeMap<Vec<u8>, Vec<u8>>>),
}

impl StateView {
    /// The height, app hash, version offset and block time this view holds.
    pub fn committed(&self) -> &Committed {
        &self.committed
    }

    /// Every (key, value) of this height, in key order; stops at the first `Err` of `f`.
    pub fn for_each<E>(
        &self,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, StoreError> {
        let (table, pending) = match &self.state {
            ViewState::Redb { table, pending } => (table, pending),
            ViewState::Memory(m) => {
                for (k, v) in m.iter() {
                    if let Err(e) = f(k, v) {
                        return Ok(Err(e));
                    }
                }
                return Ok(Ok(()));
            }
        };
        let mut stopped = Ok(());
        index::for_each_merged(
            table.iter().map_err(backend)?,
            pending.iter().map(|(k, v)| (k.as_slice(), v.as_deref())),
            |k, v| {
                stopped = f(k, v);
                stopped.is_ok()
            },
        )?;
        Ok(stopped)
    }
}

/// Why a rebuilt state was not written.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "the rebuilt state's root {} is not the trusted app hash {} of height {height}",
        hex::encode_upper(.rebuilt),
        hex::encode_upper(.trusted)
    )]
    RootMismatch {
        height: u64,
        rebuilt: [u8; 32],
        trusted: [u8; 32],
    },
    #[error("the store already holds height {0}; state sync needs an empty store")]
    NotEmpty(u64),
    #[error("version offset {version_offset} is above height {height}")]
    BadOffset { height: u64, version_offset: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The tree of a store being restored: no version below the restored one exists, so the
/// "previous root" jmt starts from is the empty tree.
struct EmptyBelow<'a, R> {
    inner: &'a R,
    previous_root: Option<NodeKey>,
}

impl<R: TreeReader + HasPreimage> HasPreimage for EmptyBelow<'_, R> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner.preimage(key_hash)
    }
}

impl<R: TreeReader + HasPreimage> TreeReader for EmptyBelow<'_, R> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if self.previous_root.as_ref() == Some(node_key) {
            return Ok(Some(Node::Null));
        }
        self.inner.get_node_option(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.inner.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.inner.get_rightmost_leaf()
    }
}

impl Storage {
    /// A consistent view of the latest committed height (see [`StateView`]).
    pub fn state_view(&self) -> Result<StateView, StoreError> {
        let r = match &self.engine {
            Engine::Redb(_) => self.written()?,
            Engine::Memory(m) => {
                return Ok(StateView {
                    committed: self.committed.clone().ok_or(StoreError::Empty)?,
                    state: ViewState::Memory(m.state.clone()),
                })
            }
        };
        let tx = r.db.begin_read().map_err(backend)?;
        let meta = tx.open_table(META).map_err(backend)?;
        let get = |k: &str| -> Result<Option<Vec<u8>>, StoreError> {
            Ok(meta.get(k).map_err(backend)?.map(|v| v.value().to_vec()))
        };
        let u64_of = |k: &str| -> Result<Option<u64>, StoreError> {
            get(k)?
                .map(|v| {
                    v.try_into()
                        .map(u64::from_be_bytes)
                        .map_err(|_| backend(format!("meta {k} is not 8 bytes")))
                })
                .transpose()
        };
        let (Some(height), Some(version_offset)) = (u64_of("height")?, u64_of("version_offset")?)
        else {
            return Err(StoreError::Empty);
        };
        let app_hash: [u8; 32] = get("app_hash")?
            .ok_or_else(|| backend("meta app_hash missing"))?
            .try_into()
            .map_err(|_| backend("meta app_hash is not 32 bytes"))?;
        let block_time = u64_of("block_time")?.unwrap_or(0) as i64;
        Ok(StateView {
            committed: Committed {
                height,
                app_hash,
                version_offset,
                block_time,
            },
            state: ViewState::Redb {
                table: tx.open_table(STATE).map_err(backend)?,
                // the commit's slice is written (above): the rest, newest last (the staged slice and
                // the pending changes hold no key in common)
                pending: r
                    .staged
                    .iter()
                    .flat_map(|(slice, _)| slice.iter())
                    .chain(r.pending.iter())
                    .map(|(k, p)| (k.clone(), p.value.clone()))
                    .chain(r.in_flight.iter().flat_map(|f| {
                        f.changes
                            .iter()
                            .filter(|_| !f.into_index)
                            .map(|(k, v)| (k.clone(), v.clone()))
                    }))
                    .collect(),
            },
        })
    }

    /// Writes `entries` (in strictly increasing key order) as the state of `height` into an
    /// empty store, if and only if their root equals `trusted_app_hash`.
    pub fn restore(
        &mut self,
        height: u64,
        version_offset: u64,
        block_time: i64,
        entries: &[(Vec<u8>, Vec<u8>)],
        trusted_app_hash: [u8; 32],
    ) -> Result<Committed, RestoreError> {
        if let Some(c) = &self.committed {
            return Err(RestoreError::NotEmpty(c.height));
        }
        if version_offset > height {
            return Err(RestoreError::BadOffset {
                height,
                version_offset,
            });
        }
        let version = height - version_offset;
        let previous_root = match version {
            0 => None,
            v => Some(root_node_key(v - 1)?),
        };
        let (root, batch) = match &self.engine {
            Engine::Redb(_) => {
                rebuild(&self.tree_reader(version)?, previous_root, entries, version)?
            }
            Engine::Memory(m) => rebuild(&m.at(version), previous_root, entries, version)?,
        };
        if root.0 != trusted_app_hash {
            return Err(RestoreError::RootMismatch {
                height,
                rebuilt: root.0,
                trusted: trusted_app_hash,
            });
        }
        let r = match &mut self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => {
                m.restore(height, root.0, version, &batch, entries)?;
                let committed = Committed {
                    height,
                    app_hash: root.0,
                    version_offset,
                    block_time,
                };
                self.committed = Some(committed.clone());
                self.earliest = Some(height);
                return Ok(committed);
            }
        };
        let tx = r.db.begin_write().map_err(backend)?;
        {
            let mut nodes = tx.open_table(NODES).map_err(backend)?;
            for (key, node) in batch.node_batch.nodes() {
                if matches!(node, Node::Null) {
                    continue;
                }
                let k = node_key_bytes(key)?;
                let v = borsh::to_vec(node).map_err(backend)?;
                nodes.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
            }
            let mut values = tx.open_table(VALUES).map_err(backend)?;
            let mut state = tx.open_table(STATE).map_err(backend)?;
            let mut record = Vec::new();
            for (k, v) in entries {
                let h = KeyHash::with::<sha2::Sha256>(k);
                encode_value_record(&mut record, k, v);
                values
                    .insert(value_key(version, h.0).as_slice(), record.as_slice())
                    .map_err(backend)?;
                state.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
            }
            let mut roots = tx.open_table(ROOTS).map_err(backend)?;
            roots.insert(height, root.0.as_slice()).map_err(backend)?;
            let mut meta = tx.open_table(META).map_err(backend)?;
            meta.insert("height", height.to_be_bytes().as_slice())
                .map_err(backend)?;
            meta.insert("app_hash", root.0.as_slice())
                .map_err(backend)?;
            meta.insert("block_time", (block_time as u64).to_be_bytes().as_slice())
                .map_err(backend)?;
            meta.insert("version_offset", version_offset.to_be_bytes().as_slice())
                .map_err(backend)?;
            meta.insert("earliest_height", height.to_be_bytes().as_slice())
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        let committed = Committed {
            height,
            app_hash: root.0,
            version_offset,
            block_time,
        };
        self.committed = Some(committed.clone());
        self.earliest = Some(height);
        self.renew_snapshot()?;
        Ok(committed)
    }
}

/// The root and nodes of `entries` as the whole tree at `version`.
fn rebuild<R: TreeReader + HasPreimage>(
    reader: &R,
    previous_root: Option<NodeKey>,
    entries: &[(Vec<u8>, Vec<u8>)],
    version: Version,
) -> Result<(jmt::RootHash, TreeUpdateBatch), StoreError> {
    let empty_below = EmptyBelow {
        inner: reader,
        previous_root,
    };
    let value_set = entries
        .iter()
        .map(|(k, v)| (KeyHash::with::<sha2::Sha256>(k), Some(v.clone())));
    Sha256Jmt::new(&empty_below)
        .put_value_set(value_set, version)
        .map_err(|e| StoreError::Tree(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Changes, StateRead};

    fn commit(s: &mut Storage, height: u64, pairs: &[(&str, Option<&str>)], genesis: bool) {
        let c: Changes = pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect();
        let p = s.prepare(height, c, genesis.then_some(height)).unwrap();
        s.commit(p).unwrap();
    }

    fn entries(view: &StateView) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        view.for_each(|k, v| {
            out.push((k.to_vec(), v.to_vec()));
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
        out
    }

    #[test]
    fn a_view_keeps_its_height_while_blocks_commit_and_restores_to_the_same_root() {
        let mut s = Storage::in_memory().unwrap();
        commit(&mut s, 4, &[("a", Some("1")), ("b", Some("2"))], true);
        for h in 5..=9 {
            commit(
                &mut s,
                h,
                &[("a", Some(&format!("v{h}"))), ("c", None)],
                false,
            );
        }
        commit(&mut s, 10, &[("b", None), ("d", Some("4"))], false);
        let view = s.state_view().unwrap();
        assert_eq!(view.committed().height, 10);
        let hash10 = view.committed().app_hash;
        commit(&mut s, 11, &[("a", Some("later")), ("e", Some("5"))], false);
        // the view still reads height 10
        let pairs = entries(&view);
        assert_eq!(
            pairs,
            vec![
                (b"a".to_vec(), b"v9".to_vec()),
                (b"d".to_vec(), b"4".to_vec())
            ]
        );

        let mut restored = Storage::in_memory().unwrap();
        // a lying root is refused and nothing is written
        let wrong = restored.restore(10, 4, 77, &pairs[..1], hash10);
        assert!(
            matches!(wrong, Err(RestoreError::RootMismatch { .. })),
            "{wrong:?}"
        );
        assert!(restored.committed().is_none());
        let c = restored.restore(10, 4, 77, &pairs, hash10).unwrap();
        assert_eq!((c.height, c.app_hash, c.block_time), (10, hash10, 77));
        assert_eq!(restored.earliest_height(), Some(10));
        assert_eq!(restored.get_raw(b"a"), Some(b"v9".to_vec()));
        assert!(matches!(
            restored.get_at(b"a", 9),
            Err(StoreError::HeightPruned { .. })
        ));
        // a second restore is refused
        assert!(matches!(
            restored.restore(10, 4, 77, &pairs, hash10),
            Err(RestoreError::NotEmpty(10))
        ));
        // the restored store follows the chain: the same block gives the same root, and proofs
        // verify at the new height
        commit(
            &mut restored,
            11,
            &[("a", Some("later")), ("e", Some("5"))],
            false,
        );
        assert_eq!(restored.root_at(11).unwrap(), s.root_at(11).unwrap());
        let root = restored.root_at(11).unwrap().unwrap().to_vec();
        for (k, v) in [("a", Some("later")), ("d", Some("4")), ("b", None)] {
            let (got, proof) = restored.get_with_proof(k.as_bytes(), 11).unwrap();
            assert_eq!(got.as_deref(), v.map(str::as_bytes));
            let spec = jmt::ics23_spec();
            let ok = match v {
                Some(v) => ics23::verify_membership::<ics23::HostFunctionsManager>(
                    &proof,
                    &spec,
                    &root,
                    k.as_bytes(),
                    v.as_bytes(),
                ),
                None => ics23::verify_non_membership::<ics23::HostFunctionsManager>(
                    &proof,
                    &spec,
                    &root,
                    k.as_bytes(),
                ),
            };
            assert!(ok, "{k}");
        }
    }

    #[test]
    fn a_pruning_store_restored_from_a_view_prunes_on() {
        use super::super::StoreOptions;
        let mut s = Storage::in_memory().unwrap();
        commit(&mut s, 0, &[("k0", Some("0"))], true);
        for h in 1..=20u64 {
            commit(
                &mut s,
                h,
                &[(&format!("k{}", h % 5), Some(&format!("{h}")))],
                false,
            );
        }
        let view = s.state_view().unwrap();
        let pairs = entries(&view);
        let mut r = Storage::in_memory_with(StoreOptions { keep_recent: 3 }).unwrap();
        r.restore(20, 0, 0, &pairs, view.committed().app_hash)
            .unwrap();
        for h in 21..=30u64 {
            let pair = [(format!("k{}", h % 5), Some(format!("{h}")))];
            let refs: Vec<(&str, Option<&str>)> = pair
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect();
            commit(&mut s, h, &refs, false);
            commit(&mut r, h, &refs, false);
            assert_eq!(r.root_at(h).unwrap(), s.root_at(h).unwrap());
            assert_eq!(r.earliest_height(), Some((h - 2).max(20)));
        }
    }
}
