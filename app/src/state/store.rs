//! The committed store: a Jellyfish Merkle Tree (the app hash and proofs) and an ordered index
//! (prefix iteration), both in one redb database.
//!
//! Two engines answer alike (a unit test compares roots, values, proofs and windows height by
//! height): the **redb engine** below, which every node runs ([`Storage::open`]), and the
//! **memory engine** (`memory.rs`, [`Storage::in_memory`]) for stores that never outlive their
//! process — scenario tests, the simulator, dry runs — which keeps the same tables as ordered
//! maps of jmt's own values, so nothing is encoded, paged or checksummed. Both compute a block's
//! root with the same code (`new_root`).
//!
//! Tables
//! - `jmt_nodes`:  version (u64 BE) ‖ borsh(NodeKey) → borsh(Node). Every version's new nodes; old
//!   ones are kept (unless pruning is on, below), so any stored height can be read and proved. The
//!   version comes first so that each commit appends at the end of the table instead of inserting
//!   at random places.
//! - `jmt_values`: key_hash (32) ‖ version (u64 BE) → tag ‖ key_len (u32 LE) ‖ key ‖ value
//!   (tag 1 = present, 0 = deleted, then no value). Big-endian versions make key order numeric
//!   order, so "newest value at or below version v" is one reverse range step. The key itself is
//!   kept beside the value because non-existence proofs name their neighbours' keys (preimages).
//! - `state`:      key → value at the latest committed height (the ordered index).
//! - `roots`:      height (u64) → app hash.
//! - `stale`:      stale_since_version (u64 BE) ‖ kind (1) ‖ stored key → (empty). What version
//!   `stale_since_version` replaced: kind 0 = a `jmt_nodes` key, kind 1 = a `jmt_values` key. Only
//!   written when pruning is on.
//! - `meta`:       `height`, `app_hash`, `version_offset`, `block_time`, `earliest_height`.
//!
//! Pruning ([`StoreOptions::keep_recent`] = K > 0, default 0 = keep every version): the store
//! keeps the last K heights readable (`height − K + 1 ..= height`, never below genesis). At each
//! commit it records what the new version made stale: the tree nodes jmt reports
//! (`stale_node_index_batch`, plus the previous root, which jmt copies without reporting when a
//! block changes nothing) and, for every changed key, its previous value record. In the same
//! write transaction it then deletes the nodes and value records stale since a version at or
//! below the earliest kept one (they are unreachable from every kept root), at most
//! [`PRUNE_BASE_BUDGET`] + 2 × (entries recorded by this commit) per commit, so that a big backlog
//! is worked off over several blocks instead of stalling one. `meta.earliest_height` is the lowest
//! readable height; reads below it fail with [`StoreError::HeightPruned`] (the query path answers
//! `height_unavailable`), never with wrong data. The app hash does not depend on pruning. Roots
//! (`roots`) and deletion markers (tombstone value records) are kept. Nodes and value records
//! written while pruning was off have no stale entries and are never deleted, although heights
//! below `earliest_height` are refused all the same. Turning pruning off keeps `earliest_height`.
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

mod check;
mod memory;
mod restore;
pub use check::{FileProbe, FileState};
pub use restore::{RestoreError, StateView};

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");
const VALUES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_values");
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const ROOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("roots");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const STALE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("stale");

const STALE_NODE: u8 = 0;
const STALE_VALUE: u8 = 1;

/// Stale entries every pruning commit may delete beyond twice what it recorded itself.
pub const PRUNE_BASE_BUDGET: usize = 10_000;

/// Entry counts of the history tables (benchmarks, operators).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub jmt_nodes: u64,
    pub jmt_values: u64,
    /// Recorded stale entries not yet deleted (pruning only).
    pub stale: u64,
}

/// How the store keeps history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Keep the last `keep_recent` heights readable and provable and delete older versions;
    /// 0 keeps every version.
    pub keep_recent: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Backend(String),
    #[error("height {height} is not stored (committed heights: {first}..={last})")]
    HeightNotStored { height: u64, first: u64, last: u64 },
    #[error(
        "height {height} is pruned; this node keeps the last {keep_recent} versions \
         (earliest available height {earliest})"
    )]
    HeightPruned {
        height: u64,
        earliest: u64,
        keep_recent: u64,
    },
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
    /// Whether [`Storage::stage`] already wrote the tree nodes and value records.
    staged: bool,
}

pub struct Storage {
    engine: Engine,
    options: StoreOptions,
    /// Stale entries a commit may delete beyond twice what it recorded ([`PRUNE_BASE_BUDGET`]).
    prune_base_budget: usize,
    committed: Option<Committed>,
    /// The lowest readable height (`meta.earliest_height`; the genesis height when unset).
    earliest: Option<u64>,
}

/// Where a store keeps its tables.
enum Engine {
    /// A redb database: a file (every node) or, in tests, redb's own in-memory backend.
    Redb(Redb),
    /// Ordered maps in this process ([`memory`]): tests, the simulator, dry runs.
    Memory(memory::MemDb),
}

struct Redb {
    db: Database,
    /// A read snapshot of the latest committed state, renewed after each commit.
    snapshot: Snapshot,
    /// What [`Storage::stage`] wrote for a block not committed yet.
    staged: Option<Written>,
}

struct Snapshot {
    state: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

impl Storage {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store at `path` with `options`.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(backend)?;
        Self::from_db(db, options)
    }

    /// A store that lives in memory only (tests, simulation, genesis dry runs): the memory
    /// engine (see the module doc).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::in_memory_with(StoreOptions::default())
    }

    /// An in-memory store with `options`.
    pub fn in_memory_with(options: StoreOptions) -> Result<Self, StoreError> {
        Ok(Self {
            engine: Engine::Memory(memory::MemDb::default()),
            options,
            prune_base_budget: PRUNE_BASE_BUDGET,
            committed: None,
            earliest: None,
        })
    }

    /// The redb engine over redb's in-memory backend: the file engine's code without a file.
    #[cfg(test)]
    fn redb_in_memory_with(options: StoreOptions) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(backend)?;
        Self::from_db(db, options)
    }

    fn redb(&self) -> Result<&Redb, StoreError> {
        match &self.engine {
            Engine::Redb(r) => Ok(r),
            Engine::Memory(_) => Err(backend("not a file store")),
        }
    }

    fn from_db(db: Database, options: StoreOptions) -> Result<Self, StoreError> {
        {
            let tx = db.begin_write().map_err(backend)?;
            tx.open_table(NODES).map_err(backend)?;
            tx.open_table(VALUES).map_err(backend)?;
            tx.open_table(STATE).map_err(backend)?;
            tx.open_table(ROOTS).map_err(backend)?;
            tx.open_table(META).map_err(backend)?;
            tx.open_table(STALE).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        let mut storage = Self {
            engine: Engine::Redb(Redb {
                db,
                snapshot: Snapshot { state: None },
                staged: None,
            }),
            options,
            prune_base_budget: PRUNE_BASE_BUDGET,
            committed: None,
            earliest: None,
        };
        storage.committed = storage.read_committed()?;
        storage.earliest = storage.read_meta_u64("earliest_height")?;
        storage.renew_snapshot()?;
        Ok(storage)
    }

    fn read_committed(&self) -> Result<Option<Committed>, StoreError> {
        let tx = self.redb()?.db.begin_read().map_err(backend)?;
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

    fn read_meta_u64(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let tx = self.redb()?.db.begin_read().map_err(backend)?;
        let meta = tx.open_table(META).map_err(backend)?;
        Ok(match meta.get(key).map_err(backend)? {
            Some(v) => {
                Some(u64::from_be_bytes(v.value().try_into().map_err(|_| {
                    backend(format!("meta {key} is not 8 bytes"))
                })?))
            }
            None => None,
        })
    }

    /// How many entries the history tables hold.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        use redb::ReadableTableMetadata;
        let tx = match &self.engine {
            Engine::Redb(r) => r.db.begin_read().map_err(backend)?,
            Engine::Memory(m) => return Ok(m.stats()),
        };
        let len = |t: TableDefinition<&[u8], &[u8]>| -> Result<u64, StoreError> {
            tx.open_table(t).map_err(backend)?.len().map_err(backend)
        };
        Ok(StoreStats {
            jmt_nodes: len(NODES)?,
            jmt_values: len(VALUES)?,
            stale: len(STALE)?,
        })
    }

    /// The options this store was opened with.
    pub fn options(&self) -> StoreOptions {
        self.options
    }

    /// The lowest height that can be read and proved, if anything is committed.
    pub fn earliest_height(&self) -> Option<u64> {
        let c = self.committed.as_ref()?;
        Some(
            self.earliest
                .unwrap_or(c.version_offset)
                .max(c.version_offset),
        )
    }

    fn renew_snapshot(&mut self) -> Result<(), StoreError> {
        if let Engine::Redb(r) = &mut self.engine {
            let tx = r.db.begin_read().map_err(backend)?;
            r.snapshot.state = Some(tx.open_table(STATE).map_err(backend)?);
        }
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
        let (root, batch) = match &self.engine {
            Engine::Redb(_) => new_root(&self.tree_reader()?, &changes, version)?,
            Engine::Memory(m) => new_root(m, &changes, version)?,
        };
        Ok(Prepared {
            height,
            app_hash: root.0,
            block_time: 0,
            version,
            version_offset,
            batch,
            changes,
            staged: false,
        })
    }

    /// Writes a prepared block's new tree nodes and value records ahead of [`Storage::commit`],
    /// in a write transaction that is not made durable by itself: the commit's durable
    /// transaction makes both durable together. Both tables are keyed by version and the
    /// committed height does not move, so until the commit nothing reads them (every read is
    /// at a committed version). After a crash before the commit they are gone (redb returns to
    /// its last durable transaction); if the process lives on and the block is finalized again,
    /// the same keys get the same bytes. Moves the bulk of the block's writes out of Commit,
    /// during which CometBFT holds its mempool.
    ///
    /// A block staged again at the same version without a commit in between (the process lived
    /// while its CometBFT restarted and replayed the height) first removes what the earlier
    /// staging wrote, so no record of a block that was never committed survives.
    pub fn stage(&mut self, prepared: &mut Prepared) -> Result<(), StoreError> {
        let Engine::Redb(r) = &mut self.engine else {
            // the memory engine writes everything at commit, where nothing is slow
            return Ok(());
        };
        if prepared.staged {
            return Ok(());
        }
        let mut tx = r.db.begin_write().map_err(backend)?;
        tx.set_durability(redb::Durability::None).map_err(backend)?;
        if let Some(earlier) = r.staged.take() {
            let mut nodes = tx.open_table(NODES).map_err(backend)?;
            for k in &earlier.nodes {
                nodes.remove(k.as_slice()).map_err(backend)?;
            }
            let mut values = tx.open_table(VALUES).map_err(backend)?;
            for k in &earlier.values {
                values.remove(k.as_slice()).map_err(backend)?;
            }
        }
        let written = write_tree(&tx, prepared.version, &prepared.batch, &prepared.changes)?;
        tx.commit().map_err(backend)?;
        r.staged = Some(written);
        prepared.staged = true;
        Ok(())
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
            staged,
        } = prepared;
        let keep_recent = self.options.keep_recent;
        // the lowest readable height after this commit: it only ever rises
        let earliest = {
            let before = match &self.committed {
                Some(c) if c.version_offset == version_offset => {
                    self.earliest.unwrap_or(version_offset)
                }
                _ => version_offset,
            };
            let window = if keep_recent > 0 {
                height.saturating_sub(keep_recent - 1)
            } else {
                0
            };
            before.max(window).max(version_offset).min(height)
        };
        let r = match &mut self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => {
                m.commit(
                    height,
                    app_hash,
                    version,
                    &batch,
                    &changes,
                    keep_recent,
                    earliest - version_offset,
                )?;
                return Ok(self.committed_now(
                    earliest,
                    height,
                    app_hash,
                    version_offset,
                    block_time,
                ));
            }
        };
        let tx = r.db.begin_write().map_err(backend)?;
        if !staged {
            write_tree(&tx, version, &batch, &changes)?;
        }
        // what was staged is this block's now
        r.staged = None;
        {
            let mut nodes = tx.open_table(NODES).map_err(backend)?;
            let mut values = tx.open_table(VALUES).map_err(backend)?;
            let mut stale = tx.open_table(STALE).map_err(backend)?;
            let mut recorded = 0usize;
            if keep_recent > 0 {
                let mut mark = |kind: u8, stored_key: &[u8]| -> Result<(), StoreError> {
                    let k = stale_key(version, kind, stored_key);
                    stale.insert(k.as_slice(), &[][..]).map_err(backend)?;
                    recorded += 1;
                    Ok(())
                };
                for index in &batch.stale_node_index_batch {
                    if index.stale_since_version != version {
                        return Err(StoreError::Tree(format!(
                            "a node stale since version {} in the batch of version {version}",
                            index.stale_since_version
                        )));
                    }
                    mark(STALE_NODE, &node_key_bytes(&index.node_key)?)?;
                }
                if version > 0 {
                    // jmt copies an unchanged root to the new version without reporting the old
                    // one stale; every version has its own root, so the previous one always is
                    mark(STALE_NODE, &node_key_bytes(&root_node_key(version - 1)?)?)?;
                    for k in changes.keys() {
                        let h = KeyHash::with::<sha2::Sha256>(k);
                        let lo = value_key(h.0, 0);
                        let hi = value_key(h.0, version);
                        let previous = values
                            .range::<&[u8]>(lo.as_slice()..hi.as_slice())
                            .map_err(backend)?
                            .next_back()
                            .transpose()
                            .map_err(backend)?
                            .map(|(k, _)| k.value().to_vec());
                        if let Some(previous) = previous {
                            mark(STALE_VALUE, &previous)?;
                        }
                    }
                }
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
            if earliest != version_offset || self.earliest.is_some() {
                meta.insert("earliest_height", earliest.to_be_bytes().as_slice())
                    .map_err(backend)?;
            }
            // delete what no kept version can reach (stale since a version ≤ the earliest kept)
            let budget = self.prune_base_budget + 2 * recorded;
            let end = (earliest - version_offset)
                .checked_add(1)
                .ok_or_else(|| backend("version overflow"))?
                .to_be_bytes();
            let mut doomed = Vec::new();
            for entry in stale.range::<&[u8]>(..end.as_slice()).map_err(backend)? {
                if doomed.len() >= budget {
                    break;
                }
                let (k, _) = entry.map_err(backend)?;
                doomed.push(k.value().to_vec());
            }
            for k in &doomed {
                let (&kind, stored_key) = k
                    .get(8..)
                    .and_then(<[u8]>::split_first)
                    .ok_or_else(|| backend("stale entry is malformed"))?;
                match kind {
                    STALE_NODE => {
                        nodes.remove(stored_key).map_err(backend)?;
                    }
                    STALE_VALUE => {
                        values.remove(stored_key).map_err(backend)?;
                    }
                    _ => return Err(backend("stale entry has an unknown kind")),
                }
                stale.remove(k.as_slice()).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        let committed = self.committed_now(earliest, height, app_hash, version_offset, block_time);
        self.renew_snapshot()?;
        Ok(committed)
    }

    /// Records a commit's height and window in this handle.
    fn committed_now(
        &mut self,
        earliest: u64,
        height: u64,
        app_hash: [u8; 32],
        version_offset: u64,
        block_time: i64,
    ) -> Committed {
        if earliest != version_offset || self.earliest.is_some() {
            self.earliest = Some(earliest);
        }
        let committed = Committed {
            height,
            app_hash,
            version_offset,
            block_time,
        };
        self.committed = Some(committed.clone());
        committed
    }

    /// The app hash committed at `height`.
    pub fn root_at(&self, height: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let tx = match &self.engine {
            Engine::Redb(r) => r.db.begin_read().map_err(backend)?,
            Engine::Memory(m) => return Ok(m.roots.get(&height).copied()),
        };
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
        let earliest = self.earliest_height().unwrap_or(c.version_offset);
        if height < earliest {
            return Err(StoreError::HeightPruned {
                height,
                earliest,
                // the window actually kept (also right after pruning was turned off)
                keep_recent: c.height - earliest + 1,
            });
        }
        Ok(height - c.version_offset)
    }

    /// The value of `key` at a committed `height`.
    pub fn get_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let version = self.version_of(height)?;
        let key_hash = KeyHash::with::<sha2::Sha256>(key);
        match &self.engine {
            Engine::Redb(_) => self.tree_reader()?.get_value_option(version, key_hash),
            Engine::Memory(m) => m.get_value_option(version, key_hash),
        }
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
        match &self.engine {
            Engine::Redb(_) => {
                Sha256Jmt::new(&self.tree_reader()?).get_with_ics23_proof(key.to_vec(), version)
            }
            Engine::Memory(m) => Sha256Jmt::new(m).get_with_ics23_proof(key.to_vec(), version),
        }
        .map_err(|e| StoreError::Tree(e.to_string()))
    }

    fn tree_reader(&self) -> Result<TreeSnapshot, StoreError> {
        let tx = self.redb()?.db.begin_read().map_err(backend)?;
        Ok(TreeSnapshot {
            nodes: tx.open_table(NODES).map_err(backend)?,
            values: tx.open_table(VALUES).map_err(backend)?,
        })
    }

    /// Every (key, value) of the latest committed state, in key order (export, invariants).
    pub fn iter_all(&self, mut f: impl FnMut(&[u8], &[u8])) -> Result<(), StoreError> {
        let r = match &self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => {
                for (k, v) in m.state.iter() {
                    f(k, v);
                }
                return Ok(());
            }
        };
        let Some(table) = &r.snapshot.state else {
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
        let r = match &self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => return m.state.get(key).cloned(),
        };
        let table = r.snapshot.state.as_ref()?;
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
        let lower: Bound<&[u8]> = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let r = match &self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => {
                return m
                    .state
                    .range::<[u8], _>((lower, Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .take(limit)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
            }
        };
        let Some(table) = r.snapshot.state.as_ref() else {
            return Vec::new();
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

/// The root of the committed tree (read through `reader`) plus `changes` at `version`, and the
/// nodes to write.
///
/// Writes go through jmt's batch insertion, which builds each new node once; deletions need
/// jmt's key-by-key path. A block with both applies its deletions first (key by key, nodes of
/// `version`) and then its writes in one batch over the tree those deletions left
/// ([`AfterDeletions`]): jmt's shape depends only on the keys, so this gives the same root, the
/// same nodes and the same stale nodes as inserting every change key by key (a unit test checks
/// all three over generated blocks).
fn new_root<R: TreeReader>(
    reader: &R,
    changes: &Changes,
    version: Version,
) -> Result<(jmt::RootHash, TreeUpdateBatch), StoreError> {
    let tree_err = |e: anyhow::Error| StoreError::Tree(e.to_string());
    let writes: Vec<(KeyHash, OwnedValue)> = changes
        .iter()
        .filter_map(|(k, v)| Some((KeyHash::with::<sha2::Sha256>(k), v.clone()?)))
        .collect();
    let deletions: Vec<(KeyHash, Option<OwnedValue>)> = changes
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| (KeyHash::with::<sha2::Sha256>(k), None))
        .collect();
    if writes.is_empty() {
        // nothing to batch (an empty block, or deletions only)
        return Sha256Jmt::new(reader)
            .put_value_set(deletions, version)
            .map_err(tree_err);
    }
    if deletions.is_empty() {
        return batch_insert(reader, writes, version);
    }
    let Some(previous_version) = version.checked_sub(1) else {
        // a genesis with deletions: there is no committed root to stand in for
        let all = changes
            .iter()
            .map(|(k, v)| (KeyHash::with::<sha2::Sha256>(k), v.clone()));
        return Sha256Jmt::new(reader)
            .put_value_set(all, version)
            .map_err(tree_err);
    };
    let (_, deleted) = Sha256Jmt::new(reader)
        .put_value_set(deletions, version)
        .map_err(tree_err)?;
    let after = AfterDeletions {
        base: reader,
        deleted: &deleted,
        previous_root: root_node_key(previous_version)?,
        root: root_node_key(version)?,
    };
    let (root, written) = batch_insert(&after, writes, version)?;
    // The writes replaced some of the deletions' own nodes (they are of `version`): those are
    // not stale, they never existed. Every other stale node is stale once.
    let mut nodes = deleted.node_batch.nodes().clone();
    let mut stale = BTreeMap::new();
    for index in deleted
        .stale_node_index_batch
        .iter()
        .chain(written.stale_node_index_batch.iter())
    {
        if index.node_key.version() == version {
            nodes.remove(&index.node_key);
        } else {
            stale.insert(index.node_key.clone(), index.clone());
        }
    }
    for (key, node) in written.node_batch.nodes() {
        nodes.insert(key.clone(), node.clone());
    }
    let mut values = deleted.node_batch.values().clone();
    values.extend(
        written
            .node_batch
            .values()
            .iter()
            .map(|(k, v)| (*k, v.clone())),
    );
    let node_batch = jmt::storage::NodeBatch::new(nodes, values);
    Ok((
        root,
        TreeUpdateBatch {
            node_batch,
            stale_node_index_batch: stale.into_values().collect(),
            // jmt's per-version counters; nothing here reads them
            node_stats: Vec::new(),
        },
    ))
}

/// jmt's batch insertion of `writes` as `version`, over the tree `reader` reads.
fn batch_insert<R: TreeReader>(
    reader: &R,
    writes: Vec<(KeyHash, OwnedValue)>,
    version: Version,
) -> Result<(jmt::RootHash, TreeUpdateBatch), StoreError> {
    let (roots, batch) = Sha256Jmt::new(reader)
        .batch_put_value_sets(vec![writes], None, version)
        .map_err(|e| StoreError::Tree(e.to_string()))?;
    let root = roots
        .first()
        .copied()
        .ok_or_else(|| StoreError::Tree("batch insertion returned no root".into()))?;
    Ok((root, batch))
}

/// The tree after a block's deletions: their new nodes (of the block's version) over the
/// committed tree, with the block's root standing in for the committed root, which is where
/// jmt's batch insertion starts.
struct AfterDeletions<'a, R> {
    base: &'a R,
    deleted: &'a TreeUpdateBatch,
    previous_root: NodeKey,
    root: NodeKey,
}

impl<R: TreeReader> TreeReader for AfterDeletions<'_, R> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let nodes = self.deleted.node_batch.nodes();
        let key = if *node_key == self.previous_root {
            &self.root
        } else {
            node_key
        };
        match nodes.get(key) {
            Some(node) => Ok(Some(node.clone())),
            None => self.base.get_node_option(node_key),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.base.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.base.get_rightmost_leaf()
    }
}

/// The keys [`write_tree`] wrote.
struct Written {
    nodes: Vec<Vec<u8>>,
    values: Vec<[u8; 40]>,
}

/// A block's new tree nodes and its value records (one per changed key, deletions included).
fn write_tree(
    tx: &redb::WriteTransaction,
    version: Version,
    batch: &TreeUpdateBatch,
    changes: &Changes,
) -> Result<Written, StoreError> {
    let mut written = Written {
        nodes: Vec::with_capacity(batch.node_batch.nodes().len()),
        values: Vec::with_capacity(changes.len()),
    };
    let mut nodes = tx.open_table(NODES).map_err(backend)?;
    debug_assert!(batch
        .node_batch
        .nodes()
        .contains_key(&root_node_key(version)?));
    for (key, node) in batch.node_batch.nodes() {
        let k = node_key_bytes(key)?;
        let v = borsh::to_vec(node).map_err(backend)?;
        nodes.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
        written.nodes.push(k);
    }
    let mut values = tx.open_table(VALUES).map_err(backend)?;
    debug_assert_eq!(batch.node_batch.values().len(), changes.len());
    let mut record = Vec::new();
    for (k, v) in changes {
        let h = KeyHash::with::<sha2::Sha256>(k);
        encode_value_record(&mut record, k, v.as_deref());
        let key = value_key(h.0, version);
        values
            .insert(key.as_slice(), record.as_slice())
            .map_err(backend)?;
        written.values.push(key);
    }
    Ok(written)
}

fn value_key(key_hash: [u8; 32], version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&key_hash);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

/// The key of the root node of `version` (empty nibble path; jmt keeps its constructor private,
/// so it is decoded from its borsh form: version, nibble count, no bytes).
fn root_node_key(version: Version) -> Result<NodeKey, StoreError> {
    let mut bytes = version.to_le_bytes().to_vec();
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    borsh::from_slice(&bytes).map_err(backend)
}

fn stale_key(stale_since: Version, kind: u8, stored_key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + stored_key.len());
    k.extend_from_slice(&stale_since.to_be_bytes());
    k.push(kind);
    k.extend_from_slice(stored_key);
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
impl Storage {
    fn table_len(&self, table: TableDefinition<&[u8], &[u8]>) -> u64 {
        use redb::ReadableTableMetadata;
        if let Engine::Memory(m) = &self.engine {
            let stats = m.stats();
            return match redb::TableHandle::name(&table) {
                "jmt_nodes" => stats.jmt_nodes,
                "jmt_values" => stats.jmt_values,
                "stale" => stats.stale,
                other => panic!("no table {other} in the memory engine"),
            };
        }
        let tx = self.redb().unwrap().db.begin_read().unwrap();
        let t = tx.open_table(table).unwrap();
        t.len().unwrap()
    }

    /// Stale entries whose version is already outside the kept window (the pruning backlog).
    fn backlog(&self) -> usize {
        let c = self.committed.as_ref().unwrap();
        let earliest_version = self.earliest_height().unwrap() - c.version_offset;
        if let Engine::Memory(m) = &self.engine {
            return m.backlog(earliest_version);
        }
        let end = (earliest_version + 1).to_be_bytes();
        let tx = self.redb().unwrap().db.begin_read().unwrap();
        let t = tx.open_table(STALE).unwrap();
        t.range::<&[u8]>(..end.as_slice()).unwrap().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// splitmix64: a fixed, seeded sequence for generated blocks.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const KEYS: u64 = 40;

    fn key(i: u64) -> Vec<u8> {
        format!("key/{i:04}").into_bytes()
    }

    /// Random updates and deletes over `KEYS` keys; every 13th block is empty.
    fn random_block(rng: &mut Rng, n: u64) -> Changes {
        let mut c = Changes::new();
        if n % 13 == 12 {
            return c;
        }
        for _ in 0..1 + rng.below(8) {
            let k = key(rng.below(KEYS));
            if rng.below(4) == 0 {
                c.insert(k, None);
            } else {
                c.insert(k, Some(format!("v{}", rng.next()).into_bytes()));
            }
        }
        c
    }

    fn apply(model: &mut BTreeMap<Vec<u8>, Vec<u8>>, c: &Changes) {
        for (k, v) in c {
            match v {
                Some(v) => model.insert(k.clone(), v.clone()),
                None => model.remove(k),
            };
        }
    }

    /// The same empty store in each engine: every behaviour below holds for both.
    fn engines(options: StoreOptions) -> [(&'static str, Storage); 2] {
        [
            ("memory", Storage::in_memory_with(options).unwrap()),
            ("redb", Storage::redb_in_memory_with(options).unwrap()),
        ]
    }

    fn commit(s: &mut Storage, height: u64, c: Changes, genesis: Option<u64>) -> [u8; 32] {
        let p = s.prepare(height, c, genesis).unwrap();
        s.commit(p).unwrap().app_hash
    }

    /// Every key at `height` reads as the model says and proves against the root of `height`.
    fn check_height(s: &Storage, height: u64, model: &BTreeMap<Vec<u8>, Vec<u8>>) {
        let root = s.root_at(height).unwrap().unwrap().to_vec();
        for i in 0..KEYS {
            let k = key(i);
            let want = model.get(&k);
            assert_eq!(
                s.get_at(&k, height).unwrap().as_ref(),
                want,
                "{i} at {height}"
            );
            let (v, proof) = s.get_with_proof(&k, height).unwrap();
            assert_eq!(v.as_ref(), want);
            let spec = jmt::ics23_spec();
            match want {
                Some(v) => assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
                    &proof, &spec, &root, &k, v
                )),
                None => assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(
                    &proof, &spec, &root, &k
                )),
            }
        }
    }

    /// A block of writes only (the batch insertion) and a block of writes and deletions (its
    /// deletions key by key, then its writes in a batch) give the same root, the same new nodes
    /// and the same stale nodes as jmt's key-by-key insertion of the same changes, over a tree
    /// that grew and shrank through many earlier blocks.
    #[test]
    fn batch_insertion_builds_the_same_tree_as_key_by_key_insertion() {
        let mut rng = Rng(11);
        let mut s = Storage::redb_in_memory_with(StoreOptions::default()).unwrap();
        commit(&mut s, 1, Changes::new(), Some(1));
        let (mut batched, mut mixed) = (0, 0);
        for height in 2..=160u64 {
            let mut c = random_block(&mut rng, height);
            if height % 3 == 0 {
                // writes only, some to new keys (splits) and some to existing ones
                c.retain(|_, v| v.is_some());
            }
            if height % 3 != 2 {
                c.insert(key(KEYS + height), Some(b"new".to_vec()));
            }
            if height % 5 == 0 {
                // delete most keys, so that internal nodes collapse under the writes
                for i in 0..KEYS {
                    if rng.below(4) != 0 {
                        c.insert(key(i), None);
                    }
                }
            }
            let writes = c.values().filter(|v| v.is_some()).count();
            if writes > 0 && writes == c.len() {
                batched += 1;
            } else if writes > 0 {
                mixed += 1;
            }
            let prepared = s.prepare(height, c.clone(), None).unwrap();
            let reader = s.tree_reader().unwrap();
            let value_set: Vec<(KeyHash, Option<OwnedValue>)> = c
                .iter()
                .map(|(k, v)| (KeyHash::with::<sha2::Sha256>(k), v.clone()))
                .collect();
            let (root, batch) = Sha256Jmt::new(&reader)
                .put_value_set(value_set, prepared.version)
                .unwrap();
            assert_eq!(root.0, prepared.app_hash, "root at {height}");
            assert_eq!(
                batch.node_batch.nodes(),
                prepared.batch.node_batch.nodes(),
                "new nodes at {height}"
            );
            let stale = |b: &TreeUpdateBatch| -> BTreeSet<NodeKey> {
                b.stale_node_index_batch
                    .iter()
                    .map(|i| i.node_key.clone())
                    .collect()
            };
            assert_eq!(stale(&batch), stale(&prepared.batch), "stale at {height}");
            assert!(prepared
                .batch
                .stale_node_index_batch
                .iter()
                .all(|i| i.stale_since_version == prepared.version));
            drop(reader);
            s.commit(prepared).unwrap();
        }
        assert!(batched >= 40, "only {batched} blocks of writes only");
        assert!(mixed >= 40, "only {mixed} blocks of writes and deletions");
    }

    fn assert_pruned(s: &Storage, height: u64) {
        assert!(
            matches!(
                s.get_at(&key(0), height),
                Err(StoreError::HeightPruned { .. })
            ),
            "{height}"
        );
        match s.get_with_proof(&key(1), height) {
            Err(e @ StoreError::HeightPruned { .. }) => assert!(
                e.to_string().starts_with(&format!(
                    "height {height} is pruned; this node keeps the last"
                )),
                "{e}"
            ),
            Err(e) => panic!("{height}: {e}"),
            Ok(_) => panic!("{height} answered"),
        }
    }

    #[test]
    fn a_pruned_store_proves_the_recent_heights_refuses_older_ones_and_has_the_same_roots() {
        let [(_, memory), (_, redb)] = engines(StoreOptions::default());
        pruned_store_scenario(memory, Storage::in_memory_with);
        pruned_store_scenario(redb, Storage::redb_in_memory_with);
    }

    fn pruned_store_scenario(
        mut full: Storage,
        make: fn(StoreOptions) -> Result<Storage, StoreError>,
    ) {
        const K: u64 = 10;
        const OFFSET: u64 = 3;
        let mut pruned = make(StoreOptions { keep_recent: K }).unwrap();
        let mut rng = Rng(0x5eed_0001);
        let mut models: BTreeMap<u64, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
        let mut model = BTreeMap::new();
        for n in 0..=200u64 {
            let height = OFFSET + n;
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            models.insert(height, model.clone());
            let genesis = (n == 0).then_some(OFFSET);
            let a = commit(&mut full, height, c.clone(), genesis);
            let b = commit(&mut pruned, height, c, genesis);
            assert_eq!(a, b, "root at {height}");
            let earliest = height.saturating_sub(K - 1).max(OFFSET);
            assert_eq!(pruned.earliest_height(), Some(earliest));
            assert_eq!(pruned.backlog(), 0);
            check_height(&pruned, height, &model);
            check_height(&pruned, earliest, &models[&earliest]);
            if earliest > OFFSET {
                assert_pruned(&pruned, earliest - 1);
            }
            if n % 20 == 0 {
                for h in earliest..=height {
                    check_height(&pruned, h, &models[&h]);
                }
                for h in OFFSET..earliest {
                    assert_pruned(&pruned, h);
                }
            }
        }
        // the keep-everything store still has every height
        for h in (OFFSET..=OFFSET + 200).step_by(17) {
            check_height(&full, h, &models[&h]);
            assert_eq!(full.root_at(h).unwrap(), pruned.root_at(h).unwrap());
        }
        let (full_nodes, pruned_nodes) = (full.table_len(NODES), pruned.table_len(NODES));
        let (full_values, pruned_values) = (full.table_len(VALUES), pruned.table_len(VALUES));
        assert!(
            pruned_nodes * 3 < full_nodes,
            "{pruned_nodes} vs {full_nodes}"
        );
        assert!(
            pruned_values * 2 < full_values,
            "{pruned_values} vs {full_values}"
        );
        assert_eq!(full.table_len(STALE), 0);
        // the latest state is the same
        assert_eq!(collect_all(&full).unwrap(), collect_all(&pruned).unwrap());
        assert_eq!(collect_all(&pruned).unwrap(), model);
    }

    #[test]
    fn a_reopened_pruned_file_store_keeps_its_window_and_goes_on_pruning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let opts = StoreOptions { keep_recent: 5 };
        let mut rng = Rng(0x5eed_0002);
        let mut models = BTreeMap::new();
        let mut model = BTreeMap::new();
        let mut hash = [0; 32];
        {
            let mut s = Storage::open_with(&path, opts).unwrap();
            for n in 0..=40u64 {
                let c = random_block(&mut rng, n);
                apply(&mut model, &c);
                models.insert(n + 1, model.clone());
                hash = commit(&mut s, n + 1, c, (n == 0).then_some(1));
            }
        }
        let mut s = Storage::open_with(&path, opts).unwrap();
        let c = s.committed().unwrap();
        assert_eq!((c.height, c.app_hash), (41, hash));
        assert_eq!(s.earliest_height(), Some(37));
        for h in 37..=41 {
            check_height(&s, h, &models[&h]);
        }
        assert_pruned(&s, 36);
        let nodes_before = s.table_len(NODES);
        for n in 41..=80u64 {
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            models.insert(n + 1, model.clone());
            commit(&mut s, n + 1, c, None);
        }
        assert_eq!(s.earliest_height(), Some(77));
        assert_eq!(s.backlog(), 0);
        for h in 77..=81 {
            check_height(&s, h, &models[&h]);
        }
        assert_pruned(&s, 76);
        // the window's size, not the chain's length, bounds the tree
        assert!(s.table_len(NODES) < nodes_before * 2, "{nodes_before}");
        drop(s);
        // pruning turned off: nothing more is deleted, the pruned heights stay refused
        let mut s = Storage::open_with(&path, StoreOptions::default()).unwrap();
        assert_eq!(s.earliest_height(), Some(77));
        assert_pruned(&s, 76);
        let c = random_block(&mut rng, 81);
        apply(&mut model, &c);
        commit(&mut s, 82, c, None);
        assert_eq!(s.earliest_height(), Some(77));
        check_height(&s, 77, &models[&77]);
        check_height(&s, 82, &model);
    }

    #[test]
    fn a_pruning_backlog_is_worked_off_over_several_commits() {
        // (the redb engine's budget; the memory engine drops a backlog at once)
        let mut rng = Rng(0x5eed_0003);
        let mut s = Storage::redb_in_memory_with(StoreOptions { keep_recent: 1000 }).unwrap();
        let mut models = BTreeMap::new();
        let mut model = BTreeMap::new();
        for n in 0..=60u64 {
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            models.insert(n, model.clone());
            commit(&mut s, n, c, (n == 0).then_some(0));
        }
        assert_eq!(s.earliest_height(), Some(0));
        let recorded = s.table_len(STALE);
        assert!(recorded > 200, "{recorded}");
        // the window shrinks to 4 with a small budget: the backlog drains block by block
        s.options = StoreOptions { keep_recent: 4 };
        s.prune_base_budget = 20;
        let mut backlogs = Vec::new();
        for n in 61..=120u64 {
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            models.insert(n, model.clone());
            commit(&mut s, n, c, None);
            let earliest = n - 3;
            assert_eq!(s.earliest_height(), Some(earliest));
            for h in earliest..=n {
                check_height(&s, h, &models[&h]);
            }
            assert_pruned(&s, earliest - 1);
            backlogs.push(s.backlog());
        }
        assert!(backlogs[0] > 0, "{backlogs:?}");
        assert!(backlogs.windows(2).all(|w| w[1] <= w[0]), "{backlogs:?}");
        assert_eq!(backlogs.last(), Some(&0), "{backlogs:?}");
    }

    #[test]
    fn pruning_enabled_on_a_store_written_without_it_refuses_the_old_heights() {
        for (_, s) in engines(StoreOptions::default()) {
            pruning_enabled_later(s);
        }
    }

    fn pruning_enabled_later(mut s: Storage) {
        let mut rng = Rng(0x5eed_0004);
        let mut model = BTreeMap::new();
        for n in 0..=30u64 {
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            commit(&mut s, n, c, (n == 0).then_some(0));
        }
        assert_eq!(s.earliest_height(), Some(0));
        assert_eq!(s.table_len(STALE), 0);
        s.options = StoreOptions { keep_recent: 3 };
        let mut models = BTreeMap::new();
        for n in 31..=40u64 {
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            models.insert(n, model.clone());
            commit(&mut s, n, c, None);
            assert_eq!(s.earliest_height(), Some(n - 2));
            for h in (n - 2).max(31)..=n {
                check_height(&s, h, &models[&h]);
            }
            assert_pruned(&s, n - 3);
        }
    }

    fn changes(pairs: &[(&str, Option<&str>)]) -> Changes {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    }

    #[test]
    fn commits_roots_at_every_height_and_proves_old_values() {
        for (_, s) in engines(StoreOptions::default()) {
            roots_and_proofs(s);
        }
    }

    fn roots_and_proofs(mut s: Storage) {
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

    /// A staged block becomes durable only with its commit: reopened without the commit, the
    /// store is at the previous height and takes another block at that height; staged and
    /// committed, it reads and proves like a block committed without staging.
    #[test]
    fn a_staged_block_is_durable_only_with_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let mut plain = Storage::in_memory().unwrap();
        {
            let mut s = Storage::open(&path).unwrap();
            for store in [&mut s, &mut plain] {
                let g = store
                    .prepare(4, changes(&[("k", Some("v"))]), Some(4))
                    .unwrap();
                store.commit(g).unwrap();
            }
            // block 5, staged, then the process dies before Commit: the file as it is then
            // (written pages included) is what a restart finds
            let mut p = s.prepare(5, changes(&[("lost", Some("x"))]), None).unwrap();
            s.stage(&mut p).unwrap();
            std::fs::copy(&path, dir.path().join("crashed.redb")).unwrap();
        }
        let path = dir.path().join("crashed.redb");
        let mut s = Storage::open(&path).unwrap();
        assert_eq!(s.committed().unwrap().height, 4);
        assert_eq!(s.get_raw(b"lost"), None);
        // the same process stages another block 5 first (its CometBFT restarted in between):
        // nothing of it may survive either
        let mut p = s
            .prepare(5, changes(&[("also lost", Some("y"))]), None)
            .unwrap();
        s.stage(&mut p).unwrap();
        let block5 = changes(&[("k", Some("v5")), ("k2", Some("w"))]);
        let mut p = s.prepare(5, block5.clone(), None).unwrap();
        s.stage(&mut p).unwrap();
        let staged = s.commit(p).unwrap().app_hash;
        let p = plain.prepare(5, block5, None).unwrap();
        assert_eq!(staged, plain.commit(p).unwrap().app_hash);
        drop(s);
        let s = Storage::open(&path).unwrap();
        assert_eq!(s.committed().unwrap().height, 5);
        for (key, want) in [
            ("k", Some("v5")),
            ("k2", Some("w")),
            ("lost", None),
            ("also lost", None),
        ] {
            let want = want.map(|v| v.as_bytes().to_vec());
            assert_eq!(s.get_at(key.as_bytes(), 5).unwrap(), want, "{key}");
            let (v, _) = s.get_with_proof(key.as_bytes(), 5).unwrap();
            assert_eq!(v, want, "{key} proved");
        }
        assert_eq!(s.get_at(b"k", 4).unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn a_height_that_does_not_follow_is_refused() {
        for (engine, mut s) in engines(StoreOptions::default()) {
            let g = s.prepare(0, changes(&[("a", Some("1"))]), Some(0)).unwrap();
            s.commit(g).unwrap();
            assert!(s.prepare(3, Changes::new(), None).is_err(), "{engine}");
        }
    }

    /// The two engines answer alike: over 300 generated blocks (updates, deletions, empty
    /// blocks), with and without pruning, the same root at every height, the same value and an
    /// equally verifying proof for every key at every kept height, the same window and the same
    /// latest state.
    #[test]
    fn the_memory_and_redb_engines_give_the_same_roots_values_proofs_and_windows() {
        for keep_recent in [0, 7] {
            let [(_, mut memory), (_, mut redb)] = engines(StoreOptions { keep_recent });
            let mut rng = Rng(0x5eed_0005 + keep_recent);
            let mut models = BTreeMap::new();
            let mut model = BTreeMap::new();
            for n in 0..=300u64 {
                let height = 5 + n;
                let c = random_block(&mut rng, n);
                apply(&mut model, &c);
                models.insert(height, model.clone());
                let genesis = (n == 0).then_some(5);
                let a = commit(&mut memory, height, c.clone(), genesis);
                let b = commit(&mut redb, height, c, genesis);
                assert_eq!(a, b, "root at {height} (keep_recent {keep_recent})");
                assert_eq!(memory.earliest_height(), redb.earliest_height());
                assert_eq!(memory.committed(), redb.committed());
                if n % 25 == 0 {
                    let earliest = redb.earliest_height().unwrap();
                    for h in earliest..=height {
                        check_height(&memory, h, &models[&h]);
                        assert_eq!(memory.root_at(h).unwrap(), redb.root_at(h).unwrap());
                        for i in 0..KEYS {
                            let (_, p) = memory.get_with_proof(&key(i), h).unwrap();
                            let (_, q) = redb.get_with_proof(&key(i), h).unwrap();
                            assert_eq!(p, q, "proof of {i} at {h}");
                        }
                    }
                    for h in 5..earliest {
                        assert_pruned(&memory, h);
                    }
                    assert_eq!(
                        memory.prefix_raw(b"key/00", Some(b"key/001"), 5),
                        redb.prefix_raw(b"key/00", Some(b"key/001"), 5)
                    );
                }
            }
            assert_eq!(collect_all(&memory).unwrap(), model);
            assert_eq!(collect_all(&redb).unwrap(), model);
            // pruning bounds the memory engine as it bounds the file
            let (m, r) = (memory.stats().unwrap(), redb.stats().unwrap());
            assert_eq!(
                (m.jmt_nodes, m.jmt_values),
                (r.jmt_nodes, r.jmt_values),
                "{keep_recent}"
            );
        }
    }
}
