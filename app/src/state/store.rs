//! The committed store: a Jellyfish Merkle Tree (the app hash and proofs) and an ordered index
//! (prefix iteration), both in one redb database.
//!
//! Tables
//! - `jmt_nodes`:  version (u64 BE) ‖ borsh(NodeKey) → borsh(Node). Every version's new nodes; old
//!   ones are kept, so any committed height can be read and proved. The version comes first so
//!   that each commit appends at the end of the table instead of inserting at random places.
//! - `jmt_values`: key_hash (32) ‖ version (u64 BE) → tag ‖ key_len (u32 LE) ‖ key ‖ value
//!   (tag 1 = present, 0 = deleted, then no value). Big-endian versions make key order numeric
//!   order, so "newest value at or below version v" is one reverse range step. The key itself is
//!   kept beside the value because non-existence proofs name their neighbours' keys (preimages).
//! - `state`:      key → value at the latest committed height (the ordered index).
//! - `roots`:      height (u64) → app hash.
//! - `meta`:       `height`, `app_hash`, `version_offset`.
//!
//! Heights map to tree versions as `version = height − version_offset`, where `version_offset =
//! initial_height − 1` is fixed at genesis (the tree needs contiguous versions starting at 0).
//!
//! A block is committed in two steps, because CometBFT 0.38 wants the app hash at the end of
//! FinalizeBlock but the state must only become durable at Commit: [`Storage::prepare`] computes the
//! new root and the node batch without writing, and [`Storage::commit`] writes the nodes, values,
//! index, root and height in one redb write transaction. A crash between the two loses nothing
//! CometBFT cannot replay.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Sha256Jmt, Version};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{fatal, Changes, StateRead};

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");
const VALUES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_values");
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const ROOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("roots");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    #[error("height {height} is not stored (committed heights: {first}..={last})")]
    HeightNotStored { height: u64, first: u64, last: u64 },
    #[error("nothing has been committed yet")]
    Empty,
    #[error("tree: {0}")]
    Tree(String),
}

fn backend<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// What the store holds at its newest height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub height: u64,
    pub app_hash: [u8; 32],
    pub version_offset: u64,
    /// BFT time of the committed block (genesis time for the genesis state); node metadata,
    /// not part of the app hash.
    pub block_time: i64,
}

/// A computed but not yet written block: its root and everything to write at Commit.
pub struct Prepared {
    pub height: u64,
    pub app_hash: [u8; 32],
    pub block_time: i64,
    version: Version,
    version_offset: u64,
    batch: TreeUpdateBatch,
    changes: Changes,
}

pub struct Storage {
    db: Database,
    committed: Option<Committed>,
    /// A read snapshot of the latest committed state, renewed after each commit.
    snapshot: Snapshot,
}

struct Snapshot {
    state: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

impl Storage {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(backend)?;
        Self::from_db(db)
    }

    /// A store that lives in memory only (tests, simulation, genesis dry runs).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(backend)?;
        Self::from_db(db)
    }

    fn from_db(db: Database) -> Result<Self, StoreError> {
        {
            let tx = db.begin_write().map_err(backend)?;
            tx.open_table(NODES).map_err(backend)?;
            tx.open_table(VALUES).map_err(backend)?;
            tx.open_table(STATE).map_err(backend)?;
            tx.open_table(ROOTS).map_err(backend)?;
            tx.open_table(META).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        let mut storage = Self {
            db,
            committed: None,
            snapshot: Snapshot { state: None },
        };
        storage.committed = storage.read_committed()?;
        storage.renew_snapshot()?;
        Ok(storage)
    }

    fn read_committed(&self) -> Result<Option<Committed>, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let meta = tx.open_table(META).map_err(backend)?;
        let get_u64 = |k: &str| -> Result<Option<u64>, StoreError> {
            Ok(match meta.get(k).map_err(backend)? {
                Some(v) => Some(u64::from_be_bytes(
                    v.value()
                        .try_into()
                        .map_err(|_| backend(format!("meta {k} is not 8 bytes")))?,
                )),
                None => None,
            })
        };
        let (Some(height), Some(offset)) = (get_u64("height")?, get_u64("version_offset")?) else {
            return Ok(None);
        };
        let hash = meta
            .get("app_hash")
            .map_err(backend)?
            .ok_or_else(|| backend("meta app_hash missing"))?;
        let app_hash: [u8; 32] = hash
            .value()
            .try_into()
            .map_err(|_| backend("meta app_hash is not 32 bytes"))?;
        let block_time = get_u64("block_time")?.unwrap_or(0) as i64;
        Ok(Some(Committed {
            height,
            app_hash,
            version_offset: offset,
            block_time,
        }))
    }

    fn renew_snapshot(&mut self) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        self.snapshot.state = Some(tx.open_table(STATE).map_err(backend)?);
        Ok(())
    }

    /// The newest committed height, if any.
    pub fn committed(&self) -> Option<&Committed> {
        self.committed.as_ref()
    }

    /// Computes the root of the state at `height` = the committed state plus `changes`, without
    /// writing. `version_offset` is only used for the first (genesis) commit; later heights must
    /// follow the committed one.
    pub fn prepare(
        &self,
        height: u64,
        changes: Changes,
        genesis_version_offset: Option<u64>,
    ) -> Result<Prepared, StoreError> {
        let (version, version_offset) = match (&self.committed, genesis_version_offset) {
            (_, Some(offset)) => {
                // Genesis: always version 0. A repeated InitChain (CometBFT calls it again while
                // no block is committed) rewrites identical nodes.
                if let Some(c) = &self.committed {
                    if c.height != offset {
                        return Err(StoreError::Tree(format!(
                            "genesis at height {offset} over a store already at height {}",
                            c.height
                        )));
                    }
                }
                (0, offset)
            }
            (Some(c), None) => {
                if height != c.height + 1 {
                    return Err(StoreError::Tree(format!(
                        "height {height} does not follow committed height {}",
                        c.height
                    )));
                }
                (height - c.version_offset, c.version_offset)
            }
            (None, None) => return Err(StoreError::Empty),
        };
        let reader = self.tree_reader()?;
        let tree = Sha256Jmt::new(&reader);
        let value_set: Vec<(KeyHash, Option<OwnedValue>)> = changes
            .iter()
            .map(|(k, v)| (KeyHash::with::<sha2::Sha256>(k), v.clone()))
            .collect();
        let (root, batch) = tree
            .put_value_set(value_set, version)
            .map_err(|e| StoreError::Tree(e.to_string()))?;
        Ok(Prepared {
            height,
            app_hash: root.0,
            block_time: 0,
            version,
            version_offset,
            batch,
            changes,
        })
    }

    /// Writes a prepared block durably, in one transaction.
    pub fn commit(&mut self, prepared: Prepared) -> Result<Committed, StoreError> {
        let Prepared {
            height,
            app_hash,
            block_time,
            version,
            version_offset,
            batch,
            changes,
        } = prepared;
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut nodes = tx.open_table(NODES).map_err(backend)?;
            for (key, node) in batch.node_batch.nodes() {
                let k = node_key_bytes(key)?;
                let v = borsh::to_vec(node).map_err(backend)?;
                nodes.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
            }
            let mut values = tx.open_table(VALUES).map_err(backend)?;
            debug_assert_eq!(batch.node_batch.values().len(), changes.len());
            let mut record = Vec::new();
            for (k, v) in &changes {
                let h = KeyHash::with::<sha2::Sha256>(k);
                encode_value_record(&mut record, k, v.as_deref());
                values
                    .insert(value_key(h.0, version).as_slice(), record.as_slice())
                    .map_err(backend)?;
            }
            let mut state = tx.open_table(STATE).map_err(backend)?;
            for (k, v) in &changes {
                match v {
                    Some(v) => {
                        state.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
                    }
                    None => {
                        state.remove(k.as_slice()).map_err(backend)?;
                    }
                }
            }
            let mut roots = tx.open_table(ROOTS).map_err(backend)?;
            roots.insert(height, app_hash.as_slice()).map_err(backend)?;
            let mut meta = tx.open_table(META).map_err(backend)?;
            meta.insert("height", height.to_be_bytes().as_slice())
                .map_err(backend)?;
            meta.insert("app_hash", app_hash.as_slice())
                .map_err(backend)?;
            meta.insert("block_time", (block_time as u64).to_be_bytes().as_slice())
                .map_err(backend)?;
            meta.insert("version_offset", version_offset.to_be_bytes().as_slice())
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        let committed = Committed {
            height,
            app_hash,
            version_offset,
            block_time,
        };
        self.committed = Some(committed.clone());
        self.renew_snapshot()?;
        Ok(committed)
    }

    /// The app hash committed at `height`.
    pub fn root_at(&self, height: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let roots = tx.open_table(ROOTS).map_err(backend)?;
        Ok(match roots.get(height).map_err(backend)? {
            Some(v) => Some(
                v.value()
                    .try_into()
                    .map_err(|_| backend("root is not 32 bytes"))?,
            ),
            None => None,
        })
    }

    fn version_of(&self, height: u64) -> Result<Version, StoreError> {
        let c = self.committed.as_ref().ok_or(StoreError::Empty)?;
        if height < c.version_offset || height > c.height {
            return Err(StoreError::HeightNotStored {
                height,
                first: c.version_offset,
                last: c.height,
            });
        }
        Ok(height - c.version_offset)
    }

    /// The value of `key` at a committed `height`.
    pub fn get_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let version = self.version_of(height)?;
        let reader = self.tree_reader()?;
        reader
            .get_value_option(version, KeyHash::with::<sha2::Sha256>(key))
            .map_err(|e| StoreError::Tree(e.to_string()))
    }

    /// The value of `key` at a committed `height` with an ICS23 proof (existence or
    /// non-existence) against the app hash of that height.
    pub fn get_with_proof(
        &self,
        key: &[u8],
        height: u64,
    ) -> Result<(Option<Vec<u8>>, ics23::CommitmentProof), StoreError> {
        let version = self.version_of(height)?;
        let reader = self.tree_reader()?;
        let tree = Sha256Jmt::new(&reader);
        tree.get_with_ics23_proof(key.to_vec(), version)
            .map_err(|e| StoreError::Tree(e.to_string()))
    }

    fn tree_reader(&self) -> Result<TreeSnapshot, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        Ok(TreeSnapshot {
            nodes: tx.open_table(NODES).map_err(backend)?,
            values: tx.open_table(VALUES).map_err(backend)?,
        })
    }

    /// Every (key, value) of the latest committed state, in key order (export, invariants).
    pub fn iter_all(&self, mut f: impl FnMut(&[u8], &[u8])) -> Result<(), StoreError> {
        let Some(table) = &self.snapshot.state else {
            return Ok(());
        };
        for entry in table.iter().map_err(backend)? {
            let (k, v) = entry.map_err(backend)?;
            f(k.value(), v.value());
        }
        Ok(())
    }
}

impl StateRead for Storage {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        let table = self.snapshot.state.as_ref()?;
        match table.get(key) {
            Ok(v) => v.map(|v| v.value().to_vec()),
            Err(e) => fatal(&format!("reading {}: {e}", super::display_key(key))),
        }
    }

    fn prefix_raw(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let Some(table) = self.snapshot.state.as_ref() else {
            return Vec::new();
        };
        let lower: Bound<&[u8]> = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let range = match table.range::<&[u8]>((lower, Bound::Unbounded)) {
            Ok(r) => r,
            Err(e) => fatal(&format!("iterating {}: {e}", super::display_key(prefix))),
        };
        let mut out = Vec::new();
        for entry in range {
            if out.len() >= limit {
                break;
            }
            let (k, v) = entry.unwrap_or_else(|e| {
                fatal(&format!("iterating {}: {e}", super::display_key(prefix)))
            });
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        out
    }
}

fn value_key(key_hash: [u8; 32], version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&key_hash);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn node_key_bytes(key: &NodeKey) -> Result<Vec<u8>, StoreError> {
    let mut out = key.version().to_be_bytes().to_vec();
    borsh::to_writer(&mut out, key).map_err(backend)?;
    Ok(out)
}

fn encode_value_record(out: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    out.clear();
    out.push(u8::from(value.is_some()));
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    if let Some(v) = value {
        out.extend_from_slice(v);
    }
}

/// (key, value) of a value record; `None` if the record is malformed.
fn decode_value_record(record: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (&tag, rest) = record.split_first()?;
    let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let key = rest.get(4..4 + len)?;
    let value = &rest[4 + len..];
    match tag {
        1 => Some((key, Some(value))),
        0 if value.is_empty() => Some((key, None)),
        _ => None,
    }
}

/// A read view of the tree tables for one operation.
struct TreeSnapshot {
    nodes: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl TreeSnapshot {
    /// The newest value record of `key_hash` at or below `max_version`.
    fn record<T>(
        &self,
        max_version: Version,
        key_hash: KeyHash,
        f: impl FnOnce(&[u8], Option<&[u8]>) -> T,
    ) -> anyhow::Result<Option<T>> {
        let lo = value_key(key_hash.0, 0);
        let hi = value_key(key_hash.0, max_version);
        let mut range = self.values.range::<&[u8]>(lo.as_slice()..=hi.as_slice())?;
        match range.next_back() {
            Some(entry) => {
                let (_, v) = entry?;
                let (key, value) = decode_value_record(v.value())
                    .ok_or_else(|| anyhow::anyhow!("stored tree value record is malformed"))?;
                Ok(Some(f(key, value)))
            }
            None => Ok(None),
        }
    }
}

impl HasPreimage for TreeSnapshot {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        self.record(Version::MAX, key_hash, |key, _| key.to_vec())
    }
}

impl TreeReader for TreeSnapshot {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let k = node_key_bytes(node_key)?;
        match self.nodes.get(k.as_slice())? {
            Some(v) => Ok(Some(borsh::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self
            .record(max_version, key_hash, |_, value| value.map(<[u8]>::to_vec))?
            .flatten())
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used when restoring a tree from chunks (state sync), which this store does not do.
        anyhow::bail!("tree restore is not supported by this store")
    }
}

/// A read-only map of the committed state, for callers that want a plain view.
pub fn collect_all(storage: &Storage) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StoreError> {
    let mut out = BTreeMap::new();
    storage.iter_all(|k, v| {
        out.insert(k.to_vec(), v.to_vec());
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, Option<&str>)]) -> Changes {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    }

    #[test]
    fn commits_roots_at_every_height_and_proves_old_values() {
        let mut s = Storage::in_memory().unwrap();
        let g = s
            .prepare(0, changes(&[("a", Some("1")), ("b", Some("2"))]), Some(0))
            .unwrap();
        let h0 = s.commit(g).unwrap().app_hash;
        let p = s
            .prepare(1, changes(&[("a", Some("3")), ("b", None)]), None)
            .unwrap();
        let h1 = s.commit(p).unwrap().app_hash;
        assert_ne!(h0, h1);
        // an empty block still gets a root, equal to the previous one
        let p = s.prepare(2, Changes::new(), None).unwrap();
        let h2 = s.commit(p).unwrap().app_hash;
        assert_eq!(h1, h2);
        assert_eq!(s.root_at(2).unwrap(), Some(h2));

        assert_eq!(s.get_raw(b"a"), Some(b"3".to_vec()));
        assert_eq!(s.get_raw(b"b"), None);
        assert_eq!(s.get_at(b"a", 0).unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get_at(b"b", 1).unwrap(), None);

        let (v, proof) = s.get_with_proof(b"a", 0).unwrap();
        assert_eq!(v.as_deref(), Some(&b"1"[..]));
        assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
            &proof,
            &jmt::ics23_spec(),
            &h0.to_vec(),
            b"a",
            b"1"
        ));
        // the same proof does not verify against another root or value
        assert!(!ics23::verify_membership::<ics23::HostFunctionsManager>(
            &proof,
            &jmt::ics23_spec(),
            &h1.to_vec(),
            b"a",
            b"1"
        ));
        let (v, proof) = s.get_with_proof(b"b", 2).unwrap();
        assert_eq!(v, None);
        assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(
            &proof,
            &jmt::ics23_spec(),
            &h2.to_vec(),
            b"b"
        ));
        assert!(matches!(
            s.get_at(b"a", 9),
            Err(StoreError::HeightNotStored { .. })
        ));
    }

    #[test]
    fn reopening_a_file_store_keeps_height_hash_and_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let hash = {
            let mut s = Storage::open(&path).unwrap();
            let g = s.prepare(4, changes(&[("k", Some("v"))]), Some(4)).unwrap();
            s.commit(g).unwrap();
            let p = s.prepare(5, changes(&[("k2", Some("v2"))]), None).unwrap();
            s.commit(p).unwrap().app_hash
        };
        let s = Storage::open(&path).unwrap();
        let c = s.committed().unwrap();
        assert_eq!((c.height, c.app_hash, c.version_offset), (5, hash, 4));
        assert_eq!(s.get_raw(b"k2"), Some(b"v2".to_vec()));
        assert_eq!(s.get_at(b"k", 4).unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn a_height_that_does_not_follow_is_refused() {
        let mut s = Storage::in_memory().unwrap();
        let g = s.prepare(0, changes(&[("a", Some("1"))]), Some(0)).unwrap();
        s.commit(g).unwrap();
        assert!(s.prepare(3, Changes::new(), None).is_err());
    }
}
