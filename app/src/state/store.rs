//! The committed store: a Jellyfish Merkle Tree (the app hash and proofs) and an ordered index
//! (prefix iteration), both in one redb database.
//!
//! Two engines answer alike (a unit test compares roots, values, proofs and windows height by
//! height): the **redb engine** below, which every node runs ([`Storage::open`]), and the
//! **memory engine** (`memory.rs`, [`Storage::in_memory`]) for stores that never outlive their
//! process — scenario tests, the simulator, dry runs — which keeps the same tables as ordered
//! maps, so nothing is paged or checksummed. Both compute a block on the same **live tree**
//! (`live.rs`): the newest version of the tree in memory, which gives the block's root, its new
//! nodes (already encoded as `jmt_nodes` stores them) and its stale nodes exactly as jmt's own
//! insertion would (a unit test compares all three with jmt block by block). It is read from the
//! store once, at the first block after opening, and again only if a computed block is not the
//! one committed (a block is computed in place); jmt itself only reads: values and proofs at
//! any stored height.
//!
//! Tables
//! - `jmt_nodes`:  version (u64 BE) ‖ borsh(NodeKey) → borsh(Node). Every version's new nodes; old
//!   ones are kept (unless pruning is on, below), so any stored height can be read and proved. The
//!   version comes first so that each commit appends at the end of the table instead of inserting
//!   at random places.
//! - `jmt_values`: version (u64 BE) ‖ key_hash (32) → key_len (u32 LE) ‖ key ‖ value. The value
//!   of every leaf node, under the leaf's own version: a block writes one record for each key it
//!   sets, and copies the record of each leaf it moves to a new position without writing it
//!   (jmt gives a moved leaf the block's version; moves are rare: a new key landing next to an
//!   old one, or a deletion leaving a leaf alone under its parent). Version first, so that a
//!   block's records are appended at the end of the table instead of inserted at ~10k random
//!   places. The value of a key at version v is found by walking the tree of v to its leaf
//!   (whose version names the record); a key without a leaf there has no value (deletions
//!   write nothing). The key itself is kept beside the value because non-existence proofs name
//!   their neighbours' keys (preimages).
//! - `state`:      key → value at the latest committed height (the ordered index), lagging by a
//!   few blocks: a commit writes only a slice of the changes it does not hold yet, which reads
//!   take over it from memory (`index`; store format 3).
//! - `deleted`:    version (u64 BE) ‖ key → (empty): the keys a block deleted, kept until the
//!   `state` table holds them (with `jmt_values`, what brings the pending changes back when the
//!   store is opened).
//! - `roots`:      height (u64) → app hash.
//! - `stale`:      stale_since_version (u64 BE) ‖ kind (1) ‖ stored key → (empty). What version
//!   `stale_since_version` replaced: kind 0 = a `jmt_nodes` key, kind 1 = a `jmt_values` key. Only
//!   written when pruning is on.
//! - `meta`:       `format`, `height`, `app_hash`, `version_offset`, `block_time`,
//!   `earliest_height`, `index_floor` (the lowest version whose changes the `state` table may
//!   miss; absent: none). `format` is [`STORE_FORMAT`], written when the file is created; a
//!   format 2 file is marked format 3 when opened, and a file of any other format is refused
//!   at opening ([`StoreError::Format`]).
//!
//! Pruning ([`StoreOptions::keep_recent`] = K > 0, default 0 = keep every version): the store
//! keeps the last K heights readable (`height − K + 1 ..= height`, never below genesis). At each
//! commit it records what the new version made stale: the tree nodes jmt reports
//! (`stale_node_index_batch`, plus the previous root, which jmt copies without reporting when a
//! block changes nothing) and the value records of the leaves it replaced, moved or deleted.
//! In the same write transaction it then deletes the nodes and value records stale since a
//! version at or below the earliest kept one (they are unreachable from every kept root), at
//! most [`PRUNE_BASE_BUDGET`] + 2 × (entries recorded by this commit) per commit, so that a big
//! backlog is worked off over several blocks instead of stalling one. `meta.earliest_height` is
//! the lowest readable height; reads below it fail with [`StoreError::HeightPruned`] (the query
//! path answers `height_unavailable`), never with wrong data. The app hash does not depend on
//! pruning. Roots (`roots`) are kept. Nodes and value records written while pruning was off have
//! no stale entries and are never deleted, although heights below `earliest_height` are refused
//! all the same. Turning pruning off keeps `earliest_height`.
//!
//! Heights map to tree versions as `version = height − version_offset`, where `version_offset =
//! initial_height − 1` is fixed at genesis (the tree needs contiguous versions starting at 0).
//!
//! A block is committed in two steps, because CometBFT 0.38 wants the app hash at the end of
//! FinalizeBlock but the state must only become durable at Commit: [`Storage::prepare`] computes the
//! new root and the node batch on the live tree without writing, and [`Storage::commit`] makes
//! the block the one every read sees and hands the nodes, values, index, root and height to a
//! thread that writes them in one durable redb transaction while the next block runs (reads of
//! the latest state take the block's changes over the previous snapshot until then; the next
//! `prepare` waits for the write). A crash before that write is durable loses nothing CometBFT
//! cannot replay: the store reopens at the previous height and CometBFT's handshake replays the
//! block.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use jmt::storage::{HasPreimage, LeafNode, Node, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Sha256Jmt, Version};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{fatal, Changes, StateRead};

mod check;
mod index;
mod live;
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
const DELETED: TableDefinition<&[u8], ()> = TableDefinition::new("deleted");

/// The layout of the tables above. Format 1 (files written before this constant existed, which
/// carry no `format`) kept value records by key hash first; this store does not read it.
/// Format 2 kept the `state` table complete at every commit: it reads as a format 3 store with
/// nothing pending, and is marked format 3 when opened (an earlier build, which would take a
/// lagging `state` table for the whole state, refuses it from then on).
pub const STORE_FORMAT: u64 = 3;

/// The earlier format this store reads (see [`STORE_FORMAT`]).
pub const READABLE_EARLIER_FORMAT: u64 = 2;

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
    #[error("this store keeps only the newest state and its roots: {0} needs the tree's history")]
    NoHistory(&'static str),
    #[error(
        "the store file is of format {found}; this build reads formats \
         {READABLE_EARLIER_FORMAT} and {STORE_FORMAT} only \
         (a new store can be filled again from the blocks: replay or state sync)"
    )]
    Format { found: u64 },
}

fn backend<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The format of a store whose `meta` table is `meta`, when it is not [`STORE_FORMAT`]: a store
/// with a height and no `format` is format 1; an empty one has none yet.
fn format_of(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<u64>, StoreError> {
    match meta.get("format").map_err(backend)? {
        Some(v) => {
            let found = u64::from_be_bytes(
                v.value()
                    .try_into()
                    .map_err(|_| backend("meta format is not 8 bytes"))?,
            );
            Ok((found != STORE_FORMAT && found != READABLE_EARLIER_FORMAT).then_some(found))
        }
        None if meta.get("height").map_err(backend)?.is_some() => Ok(Some(1)),
        None => Ok(None),
    }
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
    batch: live::Batch,
    changes: Changes,
}

pub struct Storage {
    engine: Engine,
    options: StoreOptions,
    /// Stale entries a commit may delete beyond twice what it recorded ([`PRUNE_BASE_BUDGET`]).
    prune_base_budget: usize,
    committed: Option<Committed>,
    /// The lowest readable height (`meta.earliest_height`; the genesis height when unset).
    earliest: Option<u64>,
    /// The committed tree in memory, where blocks are computed ([`live`]); read from the store
    /// at the first block after opening.
    live: Option<live::LiveTree>,
    /// A computed genesis (always a tree of its own, from empty), until it is committed.
    genesis: Option<live::LiveTree>,
    /// Threads a large block's tree is computed and encoded on ([`Storage::set_hash_threads`]).
    hash_threads: usize,
    /// How far the `state` table may lag ([`index`]).
    lag: index::Lag,
}

/// Where a store keeps its tables.
enum Engine {
    /// A redb database: a file (every node) or, in tests, redb's own in-memory backend.
    Redb(Box<Redb>),
    /// Ordered maps in this process ([`memory`]): tests, the simulator, dry runs.
    Memory(memory::MemDb),
}

struct Redb {
    db: Arc<Database>,
    /// A read snapshot of the committed state, renewed once each commit is written.
    snapshot: Snapshot,
    /// The newest commit, while a thread of its own writes it ([`Storage::commit`]).
    in_flight: Option<InFlight>,
    /// Changes of written commits that the `state` table does not hold yet ([`index`]).
    pending: index::PendingMap,
    /// The last key of the last slice of `pending` written.
    cursor: Option<Vec<u8>>,
    /// `meta.index_floor` as the last commit wrote it.
    floor: Option<Version>,
    /// The slice the last written commit took from `pending`, freed by the next writer.
    freed: Option<Arc<index::PendingMap>>,
    /// The slice the next commit writes, taken from `pending` once the last commit is written
    /// (so that Commit, which CometBFT holds its mempool for, does not), and the lowest version
    /// left in `pending` after it.
    staged: Option<(Arc<index::PendingMap>, Option<Version>)>,
    /// Holds every key of `in_flight`'s changes and slice, `pending` and `staged`
    /// ([`index::KeyFilter`]): a block's keys are added when it is prepared, the pending
    /// changes' keys when the store is opened, and it is built anew from the layers once full,
    /// at the start of a `prepare`.
    filter: index::KeyFilter,
    /// Tests: commits are written only once this is finished.
    #[cfg(test)]
    hold: Option<Arc<Done>>,
}

struct Snapshot {
    state: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
}

/// A commit being written: its state changes and the slice of the pending changes it writes
/// into the `state` table, which reads take over the snapshot until it is written, and the
/// writer's outcome.
struct InFlight {
    version: Version,
    changes: Arc<Changes>,
    /// The commit writes its own changes into the `state` table (genesis), not only `writing`.
    into_index: bool,
    writing: Arc<index::PendingMap>,
    done: Arc<Done>,
}

#[derive(Default)]
struct Done {
    outcome: Mutex<Option<Result<(), String>>>,
    signal: Condvar,
}

impl Done {
    fn finish(&self, outcome: Result<(), StoreError>) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(outcome.map_err(|e| e.to_string()));
        self.signal.notify_all();
    }

    /// Blocks until the write is finished; its outcome.
    fn wait(&self) -> Result<(), StoreError> {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = &*slot {
                return outcome
                    .clone()
                    .map_err(|e| backend(format!("writing the last commit: {e}")));
            }
            slot = self.signal.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Redb {
    fn drop(&mut self) {
        // a test that fails while it holds the writer lets it go, so that it reports its
        // failure instead of waiting here for a write that is never released
        #[cfg(test)]
        if std::thread::panicking() {
            if let Some(hold) = &self.hold {
                hold.finish(Ok(()));
            }
        }
        // a store closed right after a commit leaves the file with that commit written
        if let Some(f) = &self.in_flight {
            if let Err(e) = f.done.wait() {
                tracing::error!("{e}");
            }
        }
    }
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
            live: None,
            genesis: None,
            hash_threads: 1,
            lag: index::LAG,
        })
    }

    /// An in-memory store that keeps only the newest state and each height's root: no values
    /// at past heights, no proofs, no tree nodes (each block's root is still computed in full,
    /// on the live tree). For a process that only executes blocks, such as the simulator; its
    /// roots are the same as every other store's.
    pub fn in_memory_newest_only() -> Result<Self, StoreError> {
        let mut s = Self::in_memory_with(StoreOptions { keep_recent: 1 })?;
        if let Engine::Memory(m) = &mut s.engine {
            m.newest_only = true;
        }
        Ok(s)
    }

    /// Threads a large block's new tree is computed (changed and hashed) and encoded on (1 by
    /// default; the App sets its `hash_threads`). Only the speed depends on it: the roots and
    /// nodes are the same.
    pub fn set_hash_threads(&mut self, threads: usize) {
        self.hash_threads = threads.max(1);
    }

    /// Whether this store keeps the tree's history (nodes and value records).
    fn keeps_history(&self) -> bool {
        !matches!(&self.engine, Engine::Memory(m) if m.newest_only)
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
        // a file of another format is refused before anything is written to it
        {
            let tx = db.begin_read().map_err(backend)?;
            match tx.open_table(META) {
                Ok(meta) => {
                    if let Some(found) = format_of(&meta)? {
                        return Err(StoreError::Format { found });
                    }
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        {
            let tx = db.begin_write().map_err(backend)?;
            tx.open_table(NODES).map_err(backend)?;
            tx.open_table(VALUES).map_err(backend)?;
            tx.open_table(STATE).map_err(backend)?;
            tx.open_table(ROOTS).map_err(backend)?;
            tx.open_table(STALE).map_err(backend)?;
            tx.open_table(DELETED).map_err(backend)?;
            {
                let mut meta = tx.open_table(META).map_err(backend)?;
                let format = meta
                    .get("format")
                    .map_err(backend)?
                    .map(|v| v.value().to_vec());
                if format.as_deref() != Some(STORE_FORMAT.to_be_bytes().as_slice()) {
                    // a new file, or one of the earlier format this build reads (any other was
                    // refused above)
                    meta.insert("format", STORE_FORMAT.to_be_bytes().as_slice())
                        .map_err(backend)?;
                }
            }
            tx.commit().map_err(backend)?;
        }
        let mut storage = Self {
            engine: Engine::Redb(Box::new(Redb {
                db: Arc::new(db),
                snapshot: Snapshot { state: None },
                in_flight: None,
                pending: index::PendingMap::new(),
                cursor: None,
                floor: None,
                freed: None,
                staged: None,
                filter: index::KeyFilter::default(),
                #[cfg(test)]
                hold: None,
            })),
            options,
            prune_base_budget: PRUNE_BASE_BUDGET,
            committed: None,
            earliest: None,
            live: None,
            genesis: None,
            hash_threads: 1,
            lag: index::LAG,
        };
        storage.committed = storage.read_committed()?;
        storage.earliest = storage.read_meta_u64("earliest_height")?;
        storage.recover_pending()?;
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
            Engine::Redb(_) => self.written()?.db.begin_read().map_err(backend)?,
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

    /// Waits for the last commit's write (see [`Storage::commit`]) and reads from it on.
    fn settle(&mut self) -> Result<(), StoreError> {
        let Engine::Redb(r) = &mut self.engine else {
            return Ok(());
        };
        let Some(f) = &r.in_flight else {
            return Ok(());
        };
        f.done.wait()?;
        let Some(f) = r.in_flight.take() else {
            return Ok(());
        };
        if !f.into_index {
            // the writer has let go of the changes: they move into the pending ones
            let changes = Arc::try_unwrap(f.changes).unwrap_or_else(|shared| (*shared).clone());
            for (k, value) in changes {
                r.pending.insert(
                    k,
                    index::Pending {
                        version: f.version,
                        value,
                    },
                );
            }
        }
        r.freed = Some(f.writing);
        let slice = index::take_slice(
            &mut r.pending,
            &mut r.cursor,
            self.lag,
            r.floor,
            f.version + 1,
        );
        r.staged = Some((Arc::new(slice), index::oldest(&r.pending)));
        self.renew_snapshot()
    }

    /// Reads the changes the `state` table does not hold back into memory (see [`index`]).
    fn recover_pending(&mut self) -> Result<(), StoreError> {
        let floor = self.read_meta_u64("index_floor")?;
        let newest = self
            .committed
            .as_ref()
            .map(|c| c.height.saturating_sub(c.version_offset));
        let r = match &mut self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(_) => return Ok(()),
        };
        r.floor = floor;
        if let (Some(floor), Some(newest)) = (floor, newest) {
            let tx = r.db.begin_read().map_err(backend)?;
            let values = tx.open_table(VALUES).map_err(backend)?;
            let deleted = tx.open_table(DELETED).map_err(backend)?;
            r.pending = index::recover(&values, &deleted, floor, newest)?;
        }
        r.rebuild_filter();
        Ok(())
    }

    /// Sets how far the `state` table may lag (tests: lags that small stores reach).
    #[cfg(test)]
    fn set_lag(&mut self, lag: index::Lag) {
        self.lag = lag;
    }

    /// Waits until the last commit is written to the file (it is durable then); at once for the
    /// memory engine.
    pub fn flush(&self) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Redb(_) => self.written().map(|_| ()),
            Engine::Memory(_) => Ok(()),
        }
    }

    /// The redb engine once the last commit is written (for reads of its tables).
    fn written(&self) -> Result<&Redb, StoreError> {
        let r = self.redb()?;
        if let Some(f) = &r.in_flight {
            f.done.wait()?;
        }
        Ok(r)
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
        &mut self,
        height: u64,
        changes: Changes,
        genesis_version_offset: Option<u64>,
    ) -> Result<Prepared, StoreError> {
        self.settle()?;
        if let Engine::Redb(r) = &mut self.engine {
            // the changes' keys go into the filter before Commit puts the changes in a layer
            // (and Commit does not spend the time); it is built anew only here, where no
            // prepared changes wait outside the layers
            if r.filter.is_full() {
                r.rebuild_filter();
            }
            for k in changes.keys() {
                r.filter.add(k);
            }
        }
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
        let record = self.keeps_history();
        let (app_hash, batch) = if version == 0 {
            let mut tree = live::LiveTree::new();
            let computed = tree.apply(&changes, 0, record, self.hash_threads)?;
            self.genesis = Some(tree);
            computed
        } else {
            self.genesis = None;
            let tree = match self.live.take() {
                Some(tree) if tree.is_committed() => tree,
                // none yet, or a block was computed over it and not committed: the committed
                // tree is read again
                _ => {
                    let previous = version - 1;
                    let tree = match &self.engine {
                        Engine::Redb(_) => {
                            live::LiveTree::load(&self.tree_reader(previous)?, previous)?
                        }
                        Engine::Memory(m) if m.newest_only => {
                            live::LiveTree::rebuild(m.state.iter(), previous, self.hash_threads)?
                        }
                        Engine::Memory(m) => live::LiveTree::load(&m.at(previous), previous)?,
                    };
                    // the tree read again must be the committed one, or no block is computed
                    if let Some(c) = &self.committed {
                        if tree.root_hash() != c.app_hash {
                            return Err(StoreError::Tree(format!(
                                "the tree read again for height {height} has root {}, not the \
                                 committed app hash {}",
                                hex::encode_upper(tree.root_hash()),
                                hex::encode_upper(c.app_hash)
                            )));
                        }
                    }
                    tree
                }
            };
            let tree = self.live.insert(tree);
            tree.apply(&changes, version, record, self.hash_threads)?
        };
        Ok(Prepared {
            height,
            app_hash,
            block_time: 0,
            version,
            version_offset,
            batch,
            changes,
        })
    }

    /// Commits a prepared block: from now on every read sees it, and it is written durably, in
    /// one redb transaction, on a thread of its own while the node goes on (CometBFT holds its
    /// mempool for the length of Commit, and a durable write of a block grows with the state).
    /// Until that write is done, reads of the latest state take the block's changes over the
    /// previous commit's snapshot, and reads that need the tables (a height's values and
    /// proofs, roots, a snapshot's view) wait for it; the next block's `prepare` waits for it
    /// too, so at most one commit is ever unwritten, and a failed write stops the next block.
    /// A crash before the write is durable leaves the store at the previous height, which
    /// CometBFT's handshake replays (as after a crash during Commit).
    pub fn commit(&mut self, prepared: Prepared) -> Result<Committed, StoreError> {
        self.settle()?;
        let Prepared {
            height,
            app_hash,
            block_time,
            version,
            version_offset,
            batch,
            changes,
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
                    batch,
                    &changes,
                    keep_recent,
                    earliest - version_offset,
                )?;
                self.advance_live(version);
                return Ok(self.committed_now(
                    earliest,
                    height,
                    app_hash,
                    version_offset,
                    block_time,
                ));
            }
        };
        // the slice of the pending changes this commit writes into the `state` table, and the
        // lowest version the table misses after it (genesis writes its own changes there too)
        let into_index = version == 0;
        let (writing, left) = match r.staged.take() {
            Some(staged) => staged,
            // none staged since the store was opened
            None => {
                let slice =
                    index::take_slice(&mut r.pending, &mut r.cursor, self.lag, r.floor, version);
                (Arc::new(slice), index::oldest(&r.pending))
            }
        };
        let floor = match (left, into_index) {
            (Some(o), _) => Some(o.min(version)),
            (None, false) => Some(version),
            (None, true) => None,
        };
        r.floor = floor;
        let changes = Arc::new(changes);
        let job = CommitWrite {
            height,
            app_hash,
            block_time,
            version,
            version_offset,
            earliest,
            write_earliest: earliest != version_offset || self.earliest.is_some(),
            keep_recent,
            prune_base_budget: self.prune_base_budget,
            batch,
            changes: changes.clone(),
            into_index,
            writing: writing.clone(),
            floor,
        };
        // the slice the previous commit wrote, freed on the writer's thread
        let freed = r.freed.take();
        let done = Arc::new(Done::default());
        let (db, finished) = (r.db.clone(), done.clone());
        #[cfg(test)]
        let hold = r.hold.clone();
        std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || {
                #[cfg(test)]
                if let Some(hold) = hold {
                    let _ = hold.wait();
                }
                // a panic in the write is an error for whoever waits, never a wait for ever
                // (nodeopd's panic hook ends the process first; this is for library users)
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    write_commit(&db, &job)
                }))
                .unwrap_or_else(|_| Err(backend("the store's writer thread panicked")));
                // the store may be reopened as soon as it is told: let go of the file first, and
                // of the changes, which the store takes back
                drop(job);
                drop(db);
                finished.finish(outcome);
                drop(freed);
            })
            .map_err(backend)?;
        r.in_flight = Some(InFlight {
            version,
            changes,
            into_index,
            writing,
            done,
        });
        self.advance_live(version);
        Ok(self.committed_now(earliest, height, app_hash, version_offset, block_time))
    }

    /// The live tree after the block of `version` is written: that block's tree (or, if it was
    /// not the one computed last, none, and the next block reads the tree from the store).
    fn advance_live(&mut self, version: Version) {
        if version == 0 {
            self.live = self.genesis.take();
        }
        if let Some(tree) = &mut self.live {
            if !tree.commit(version) {
                self.live = None;
            }
        }
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
            Engine::Redb(_) => self.written()?.db.begin_read().map_err(backend)?,
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
            Engine::Redb(_) => self
                .tree_reader(version)?
                .get_value_option(version, key_hash),
            // the newest height is the only one kept (`version_of` refuses the others)
            Engine::Memory(m) if m.newest_only => return Ok(m.state.get(key).cloned()),
            Engine::Memory(m) => m.at(version).get_value_option(version, key_hash),
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
            Engine::Redb(_) => Sha256Jmt::new(&self.tree_reader(version)?)
                .get_with_ics23_proof(key.to_vec(), version),
            Engine::Memory(m) if m.newest_only => return Err(StoreError::NoHistory("a proof")),
            Engine::Memory(m) => {
                Sha256Jmt::new(&m.at(version)).get_with_ics23_proof(key.to_vec(), version)
            }
        }
        .map_err(|e| StoreError::Tree(e.to_string()))
    }

    /// The stored tree read at `version` (the version its preimages are looked up at).
    fn tree_reader(&self, version: Version) -> Result<TreeAt<TreeSnapshot>, StoreError> {
        let tx = self.written()?.db.begin_read().map_err(backend)?;
        Ok(TreeAt {
            tables: TreeSnapshot {
                nodes: tx.open_table(NODES).map_err(backend)?,
                values: tx.open_table(VALUES).map_err(backend)?,
            },
            version,
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
        index::for_each_merged(
            table.iter().map_err(backend)?,
            r.layers().range(Bound::Unbounded),
            |k, v| {
                f(k, v);
                true
            },
        )
    }
}

impl Redb {
    /// What reads of the latest state take over the snapshot's `state` table.
    fn layers(&self) -> index::Layers<'_> {
        index::Layers {
            newest: self.in_flight.as_ref().map(|f| &*f.changes),
            pending: &self.pending,
            writing: [
                self.in_flight.as_ref().map(|f| &*f.writing),
                self.staged.as_ref().map(|(s, _)| &**s),
            ],
            filter: &self.filter,
        }
    }

    /// Builds the key filter anew from every layer.
    fn rebuild_filter(&mut self) {
        let newest = self.in_flight.as_ref().map(|f| &*f.changes);
        let writing = self.in_flight.as_ref().map(|f| &*f.writing);
        let staged = self.staged.as_ref().map(|(s, _)| &**s);
        let count = newest.map_or(0, |c| c.len())
            + self.pending.len()
            + writing.map_or(0, |w| w.len())
            + staged.map_or(0, |s| s.len());
        let keys = newest
            .into_iter()
            .flat_map(|c| c.keys())
            .chain(self.pending.keys())
            .chain(writing.into_iter().flat_map(|w| w.keys()))
            .chain(staged.into_iter().flat_map(|s| s.keys()))
            .map(Vec::as_slice);
        self.filter = index::KeyFilter::of(count, keys);
    }
}

impl StateRead for Storage {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        let r = match &self.engine {
            Engine::Redb(r) => r,
            Engine::Memory(m) => return m.state.get(key).cloned(),
        };
        if let Some(v) = r.layers().get(key) {
            return v.map(<[u8]>::to_vec);
        }
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
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        let fail = |e: &dyn std::fmt::Display| -> ! {
            fatal(&format!("iterating {}: {e}", super::display_key(prefix)))
        };
        let layers = r.layers();
        let collect = |k: &[u8], v: &[u8]| {
            if !k.starts_with(prefix) {
                return false;
            }
            out.push((k.to_vec(), v.to_vec()));
            out.len() < limit
        };
        let merged = match r.snapshot.state.as_ref() {
            Some(table) => match table.range::<&[u8]>((lower, Bound::Unbounded)) {
                Ok(range) => index::for_each_merged(range, layers.range(lower), collect),
                Err(e) => fail(&e),
            },
            None => index::for_each_merged(std::iter::empty(), layers.range(lower), collect),
        };
        if let Err(e) = merged {
            fail(&e);
        }
        out
    }
}

/// What a commit writes, handed to the thread that writes it.
struct CommitWrite {
    height: u64,
    app_hash: [u8; 32],
    block_time: i64,
    version: Version,
    version_offset: u64,
    earliest: u64,
    /// Whether `meta.earliest_height` is written (it is once it differs from the genesis).
    write_earliest: bool,
    keep_recent: u64,
    prune_base_budget: usize,
    batch: live::Batch,
    changes: Arc<Changes>,
    /// Write `changes` into the `state` table too (genesis).
    into_index: bool,
    /// The slice of the pending changes written into the `state` table.
    writing: Arc<index::PendingMap>,
    /// `meta.index_floor` after this commit.
    floor: Option<Version>,
}

/// A commit's durable write transaction: the tree's new nodes and value records, the stale
/// records and what pruning deletes, the state index, the root and the height.
fn write_commit(db: &Database, job: &CommitWrite) -> Result<(), StoreError> {
    let CommitWrite {
        height,
        app_hash,
        block_time,
        version,
        version_offset,
        earliest,
        write_earliest,
        keep_recent,
        prune_base_budget,
        ref batch,
        ref changes,
        into_index,
        ref writing,
        floor,
    } = *job;
    let changes: &Changes = changes;
    let tx = db.begin_write().map_err(backend)?;
    write_tree(&tx, version, batch, changes)?;
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
            for k in &batch.stale {
                mark(STALE_NODE, k)?;
            }
            if version > 0 {
                // jmt copies an unchanged root to the new version without reporting the old
                // one stale; every version has its own root, so the previous one always is
                mark(STALE_NODE, &node_key_bytes(&root_node_key(version - 1)?)?)?;
                for &(v, h) in &batch.stale_values {
                    mark(STALE_VALUE, &value_key(v, h))?;
                }
            }
        }
        let mut state = tx.open_table(STATE).map_err(backend)?;
        let mut put = |k: &[u8], v: Option<&[u8]>| -> Result<(), StoreError> {
            match v {
                Some(v) => state.insert(k, v).map_err(backend)?,
                None => state.remove(k).map_err(backend)?,
            };
            Ok(())
        };
        for (k, p) in writing.iter() {
            put(k, p.value.as_deref())?;
        }
        let mut deleted = tx.open_table(DELETED).map_err(backend)?;
        if into_index {
            for (k, v) in changes {
                put(k, v.as_deref())?;
            }
        } else {
            // what recovers the pending changes after a stop: the values are in `jmt_values`
            for (k, v) in changes {
                if v.is_none() {
                    deleted
                        .insert(index::deleted_key(version, k).as_slice(), ())
                        .map_err(backend)?;
                }
            }
        }
        // deletions the `state` table holds are not needed any more
        let below = floor.unwrap_or(u64::MAX).to_be_bytes();
        let done: Vec<Vec<u8>> = deleted
            .range::<&[u8]>(..below.as_slice())
            .map_err(backend)?
            .map(|e| e.map(|(k, _)| k.value().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        for k in &done {
            deleted.remove(k.as_slice()).map_err(backend)?;
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
        if write_earliest {
            meta.insert("earliest_height", earliest.to_be_bytes().as_slice())
                .map_err(backend)?;
        }
        match floor {
            Some(floor) => meta.insert("index_floor", floor.to_be_bytes().as_slice()),
            None => meta.remove("index_floor"),
        }
        .map_err(backend)?;
        // delete what no kept version can reach (stale since a version ≤ the earliest kept)
        let budget = prune_base_budget + 2 * recorded;
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
    tx.commit().map_err(backend)
}

/// A block's new tree nodes and its value records (one per changed key, deletions included).
fn write_tree(
    tx: &redb::WriteTransaction,
    version: Version,
    batch: &live::Batch,
    changes: &Changes,
) -> Result<(), StoreError> {
    let mut nodes = tx.open_table(NODES).map_err(backend)?;
    debug_assert_eq!(
        batch.nodes.first().map(|(k, _)| k.clone()),
        Some(node_key_bytes(&root_node_key(version)?)?)
    );
    for (k, v) in &batch.nodes {
        nodes.insert(k.as_slice(), v.as_slice()).map_err(backend)?;
    }
    let mut values = tx.open_table(VALUES).map_err(backend)?;
    // the records of the leaves the block moved, under the block's version
    let mut moved = Vec::with_capacity(batch.moved.len());
    for &(from, h) in &batch.moved {
        let record = values
            .get(value_key(from, h).as_slice())
            .map_err(backend)?
            .ok_or_else(|| {
                StoreError::Tree(format!(
                    "the value record of moved leaf {} (version {from}) is missing",
                    hex::encode_upper(h)
                ))
            })?
            .value()
            .to_vec();
        moved.push((value_key(version, h), record));
    }
    for (k, record) in &moved {
        values
            .insert(k.as_slice(), record.as_slice())
            .map_err(backend)?;
    }
    let mut record = Vec::new();
    for ((k, v), h) in batch.hashed(changes)? {
        let Some(v) = v else { continue };
        encode_value_record(&mut record, k, v);
        values
            .insert(value_key(version, *h).as_slice(), record.as_slice())
            .map_err(backend)?;
    }
    Ok(())
}

/// The `jmt_values` key of the record of the leaf of `key_hash` at `version`.
fn value_key(version: Version, key_hash: [u8; 32]) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..8].copy_from_slice(&version.to_be_bytes());
    k[8..].copy_from_slice(&key_hash);
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

fn encode_value_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    out.clear();
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// (key, value) of a value record; `None` if the record is malformed.
fn decode_value_record(record: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(record.get(..4)?.try_into().ok()?) as usize;
    let key = record.get(4..4usize.checked_add(len)?)?;
    Some((key, &record[4 + len..]))
}

/// The tree tables of one engine, as [`TreeAt`] reads them.
pub(super) trait TreeTables {
    /// Calls `f` with the encoded node stored under `key` (a `jmt_nodes` key).
    fn with_node<T>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> T) -> anyhow::Result<Option<T>>;
    /// Calls `f` with the (key, value) of the value record of the leaf of `key_hash` at
    /// `version`.
    fn with_record<T>(
        &self,
        version: Version,
        key_hash: [u8; 32],
        f: impl FnOnce(&[u8], &[u8]) -> T,
    ) -> anyhow::Result<Option<T>>;
}

/// The stored tree read at one version: what jmt reads for a proof, and what the live tree is
/// loaded from. A value is found by walking the tree of the version asked to the key's leaf,
/// whose version names the value record; preimages (the keys a non-existence proof names) are
/// looked up in the tree of `version`.
pub(super) struct TreeAt<T> {
    pub(super) tables: T,
    pub(super) version: Version,
}

impl<T: TreeTables> TreeAt<T> {
    /// The version of the leaf of `key_hash` in the tree of `version` (the version its value
    /// record is stored under), or `None` when the key has no leaf there.
    fn leaf_version(
        &self,
        version: Version,
        key_hash: [u8; 32],
    ) -> anyhow::Result<Option<Version>> {
        let mut at = version;
        for depth in 0..=64 {
            let key = live::stored_key(at, &key_hash, depth);
            let step = self
                .tables
                .with_node(&key, |bytes| live::step(bytes, &key_hash, depth))?
                .ok_or_else(|| {
                    anyhow::anyhow!("tree node of version {at} at depth {depth} is missing")
                })??;
            match step {
                live::Step::Absent => return Ok(None),
                live::Step::Leaf => return Ok(Some(at)),
                live::Step::Child(v) => at = v,
            }
        }
        anyhow::bail!("the tree of version {version} is deeper than a key hash")
    }

    /// Calls `f` with the (key, value) of `key_hash` in the tree of `version`.
    fn record<R>(
        &self,
        version: Version,
        key_hash: KeyHash,
        f: impl FnOnce(&[u8], &[u8]) -> R,
    ) -> anyhow::Result<Option<R>> {
        let Some(at) = self.leaf_version(version, key_hash.0)? else {
            return Ok(None);
        };
        match self.tables.with_record(at, key_hash.0, f)? {
            Some(out) => Ok(Some(out)),
            None => anyhow::bail!(
                "the value record of leaf {} (version {at}) is missing",
                hex::encode_upper(key_hash.0)
            ),
        }
    }
}

impl<T: TreeTables> HasPreimage for TreeAt<T> {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        self.record(self.version, key_hash, |key, _| key.to_vec())
    }
}

impl<T: TreeTables> TreeReader for TreeAt<T> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let k = node_key_bytes(node_key)?;
        Ok(self.tables.with_node(&k, borsh::from_slice)?.transpose()?)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.record(max_version, key_hash, |_, value| value.to_vec())
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used when restoring a tree from chunks (state sync), which this store does not do.
        anyhow::bail!("tree restore is not supported by this store")
    }
}

/// The redb engine's tree tables in one read transaction.
struct TreeSnapshot {
    nodes: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl TreeTables for TreeSnapshot {
    fn with_node<T>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> T) -> anyhow::Result<Option<T>> {
        Ok(self.nodes.get(key)?.map(|v| f(v.value())))
    }

    fn with_record<T>(
        &self,
        version: Version,
        key_hash: [u8; 32],
        f: impl FnOnce(&[u8], &[u8]) -> T,
    ) -> anyhow::Result<Option<T>> {
        match self.values.get(value_key(version, key_hash).as_slice())? {
            Some(v) => {
                let (key, value) = decode_value_record(v.value())
                    .ok_or_else(|| anyhow::anyhow!("stored tree value record is malformed"))?;
                Ok(Some(f(key, value)))
            }
            None => Ok(None),
        }
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
        let tx = self.written().unwrap().db.begin_read().unwrap();
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
        let tx = self.written().unwrap().db.begin_read().unwrap();
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

    /// What jmt's own key-by-key `put_value_set` makes of `c` at `version` over the tree `s`
    /// holds, deletions first (as the store applies a block): its root, new nodes and stale
    /// nodes. (The root does not depend on the order; which nodes a block rewrites can: a leaf
    /// that a deletion moves up and a write moves back down is rewritten.)
    /// `jmt_nodes` key → borsh(Node).
    type Encoded = BTreeMap<Vec<u8>, Vec<u8>>;

    fn jmt_reference(
        s: &Storage,
        c: &Changes,
        version: Version,
    ) -> ([u8; 32], Encoded, BTreeSet<Vec<u8>>) {
        let value_set: Vec<(KeyHash, Option<OwnedValue>)> = c
            .iter()
            .filter(|(_, v)| v.is_none())
            .chain(c.iter().filter(|(_, v)| v.is_some()))
            .map(|(k, v)| (KeyHash::with::<sha2::Sha256>(k), v.clone()))
            .collect();
        let (root, batch) = match &s.engine {
            Engine::Redb(_) => Sha256Jmt::new(&s.tree_reader(version).unwrap())
                .put_value_set(value_set, version)
                .unwrap(),
            Engine::Memory(m) => Sha256Jmt::new(&m.at(version))
                .put_value_set(value_set, version)
                .unwrap(),
        };
        let stale = batch
            .stale_node_index_batch
            .iter()
            .map(|i| {
                assert_eq!(i.stale_since_version, version);
                node_key_bytes(&i.node_key).unwrap()
            })
            .collect();
        let nodes = batch
            .node_batch
            .nodes()
            .iter()
            .map(|(k, n)| (node_key_bytes(k).unwrap(), borsh::to_vec(n).unwrap()))
            .collect();
        (root.0, nodes, stale)
    }

    fn nodes_of(b: &live::Batch) -> Encoded {
        let nodes: BTreeMap<_, _> = b.nodes.iter().cloned().collect();
        assert_eq!(nodes.len(), b.nodes.len(), "a node written twice");
        nodes
    }

    fn stale_of(b: &live::Batch) -> BTreeSet<Vec<u8>> {
        let stale: BTreeSet<_> = b.stale.iter().cloned().collect();
        assert_eq!(stale.len(), b.stale.len(), "a node stale twice");
        stale
    }

    /// The live tree computes every block as jmt's key-by-key insertion does (same root, same
    /// new nodes, same stale nodes), in both engines, over a tree that grows, shrinks, empties
    /// and fills again: blocks of writes only, of writes and deletions, of deletions only,
    /// empty ones, blocks computed and then dropped for another block at the same height, and
    /// (file store) a tree read back from the store after reopening.
    #[test]
    fn the_live_tree_builds_the_same_tree_as_jmt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        // the same blocks hashed on one thread and on three (below a few changes the tree stays
        // on one thread: in tests from 2 changes on, so that most blocks take both paths)
        let mut threaded = Storage::in_memory().unwrap();
        threaded.set_hash_threads(3);
        let mut stores = [
            ("memory", Storage::in_memory().unwrap()),
            ("file", Storage::open(&path).unwrap()),
            ("memory, 3 threads", threaded),
        ];
        let mut genesis = Changes::new();
        for i in 0..KEYS / 2 {
            genesis.insert(key(i), Some(format!("g{i}").into_bytes()));
        }
        for (name, s) in &mut stores {
            let (root, nodes, stale) = jmt_reference(s, &genesis, 0);
            let p = s.prepare(1, genesis.clone(), Some(1)).unwrap();
            assert_eq!(p.app_hash, root, "{name} genesis root");
            assert_eq!(nodes_of(&p.batch), nodes, "{name} genesis nodes");
            assert_eq!(stale_of(&p.batch), stale);
            s.commit(p).unwrap();
        }
        let mut rng = Rng(11);
        let (mut batched, mut mixed, mut deletions_only, mut emptied) = (0, 0, 0, 0);
        for height in 2..=220u64 {
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
            if height % 37 == 0 {
                // delete everything there is: the tree empties (and fills again after)
                c = Changes::new();
                for i in 0..KEYS + height {
                    c.insert(key(i), None);
                }
            }
            if height % 11 == 0 {
                c.retain(|_, v| v.is_none());
            }
            let writes = c.values().filter(|v| v.is_some()).count();
            match (writes, c.len() - writes) {
                (0, 0) => {}
                (0, _) => deletions_only += 1,
                (_, 0) => batched += 1,
                _ => mixed += 1,
            }
            for (name, s) in &mut stores {
                if height % 7 == 0 {
                    // a block computed and dropped: FinalizeBlock run again with other txs
                    let mut other = random_block(&mut rng, height + 1);
                    other.insert(key(0), None);
                    s.prepare(height, other, None).unwrap();
                }
                let (root, nodes, stale) = jmt_reference(s, &c, height - 1);
                let p = s.prepare(height, c.clone(), None).unwrap();
                assert_eq!(p.app_hash, root, "{name} root at {height}");
                assert_eq!(nodes_of(&p.batch), nodes, "{name} nodes at {height}");
                assert_eq!(stale_of(&p.batch), stale, "{name} stale at {height}");
                s.commit(p).unwrap();
                if *name == "file" && height % 17 == 0 {
                    // the next block reads the tree back from the file
                    drop(std::mem::replace(s, Storage::in_memory().unwrap()));
                    *s = Storage::open(&path).unwrap();
                }
            }
            if stores[0].1.get_raw(&key(KEYS + height)).is_none()
                && (0..KEYS).all(|i| stores[0].1.get_raw(&key(i)).is_none())
                && c.len() > KEYS as usize
            {
                emptied += 1;
            }
        }
        assert!(batched >= 40, "only {batched} blocks of writes only");
        assert!(mixed >= 40, "only {mixed} blocks of writes and deletions");
        assert!(
            deletions_only >= 10,
            "only {deletions_only} blocks of deletions only"
        );
        assert!(emptied >= 3, "the tree emptied {emptied} times");
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

    /// The `state` table as written (what reads take it over is left out).
    fn state_table(s: &Storage) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let tx = s.written().unwrap().db.begin_read().unwrap();
        let t = tx.open_table(STATE).unwrap();
        t.iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value().to_vec(), v.value().to_vec())
            })
            .collect()
    }

    /// Every way of reading the latest state gives `model`.
    fn check_latest(s: &Storage, model: &BTreeMap<Vec<u8>, Vec<u8>>, at: &str) {
        for i in 0..KEYS {
            let k = key(i);
            assert_eq!(s.get_raw(&k).as_ref(), model.get(&k), "{at}: key {i}");
        }
        let mut all = BTreeMap::new();
        s.iter_all(|k, v| {
            assert!(
                all.insert(k.to_vec(), v.to_vec()).is_none(),
                "{at}: a key twice"
            );
        })
        .unwrap();
        assert_eq!(&all, model, "{at}: iter_all");
        let view = s.state_view().unwrap();
        let mut viewed = BTreeMap::new();
        view.for_each(|k, v| {
            viewed.insert(k.to_vec(), v.to_vec());
            Ok::<_, ()>(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(&viewed, model, "{at}: view");
        for (prefix, after, limit) in [
            (&b"key/00"[..], None, 100),
            (b"key/00", None, 3),
            (b"key/001", Some(&b"key/0013"[..]), 4),
            (b"key/", Some(b"key/0020"), 7),
            (b"key/003", Some(b"key/0039"), 5),
        ] {
            let want: Vec<_> = model
                .iter()
                .filter(|(k, _)| k.starts_with(prefix) && after.is_none_or(|a| k.as_slice() > a))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                s.prefix_raw(prefix, after, limit),
                want,
                "{at}: prefix {prefix:?} after {after:?}"
            );
        }
    }

    /// The `state` table lags the tree by a few blocks (a slice of the pending changes is
    /// written at each commit) and every read of the latest state sees through it: single
    /// keys, prefixes with their bounds and limits, the whole state and a view, while the
    /// newest commit is being written and after, and after the store is closed and opened
    /// again (the pending changes, deletions included, come back from the stored records).
    #[test]
    fn the_state_table_lags_and_every_read_of_the_latest_state_sees_through_it() {
        for lag in [
            index::Lag {
                flush_all_below: 0,
                blocks: 3,
                max_age: 12,
            },
            // slices too small to keep up: the age bound writes everything
            index::Lag {
                flush_all_below: 0,
                blocks: 50,
                max_age: 5,
            },
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.redb");
            let mut rng = Rng(7);
            let mut model = BTreeMap::new();
            let mut s = Storage::open(&path).unwrap();
            s.set_lag(lag);
            let genesis: Changes = (0..KEYS)
                .filter(|i| i % 3 != 0)
                .map(|i| (key(i), Some(format!("g{i}").into_bytes())))
                .collect();
            apply(&mut model, &genesis);
            commit(&mut s, 1, genesis, Some(1));
            let (mut lagged, mut recovered) = (0, 0);
            for height in 2..=90u64 {
                let c = random_block(&mut rng, height);
                let p = s.prepare(height, c.clone(), None).unwrap();
                // computed, not committed: reads still see the previous height (the slice the
                // commit will write is staged by now)
                check_latest(&s, &model, &format!("{lag:?} height {height} computed"));
                apply(&mut model, &c);
                s.commit(p).unwrap();
                // read while the commit may still be being written
                check_latest(&s, &model, &format!("{lag:?} height {height}"));
                if state_table(&s) != model {
                    lagged += 1;
                }
                let r = s.redb().unwrap();
                let version = height - 1;
                let floor = r.floor.unwrap_or(version);
                assert!(
                    version - floor <= lag.max_age,
                    "{lag:?} height {height}: changes of version {floor} still pending"
                );
                if height % 11 == 0 {
                    drop(s);
                    s = Storage::open(&path).unwrap();
                    s.set_lag(lag);
                    if !s.redb().unwrap().pending.is_empty() {
                        recovered += 1;
                    }
                    check_latest(&s, &model, &format!("{lag:?} reopened at {height}"));
                }
            }
            // the table did lag, and reopening did bring pending changes back
            assert!(
                lagged > 40 && recovered > 4,
                "{lag:?}: {lagged} {recovered}"
            );
            assert_eq!(s.committed().unwrap().height, 90);
        }
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

    /// A format 2 store (its `state` table complete at every commit, no `deleted` table) opens
    /// with nothing pending, reads as it was, is marked format 3, and goes on committing.
    #[test]
    fn a_format_2_store_is_read_and_marked_format_3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let hash = {
            let mut s = Storage::open(&path).unwrap();
            commit(
                &mut s,
                1,
                changes(&[("a", Some("1")), ("b", Some("2"))]),
                Some(1),
            );
            commit(&mut s, 2, changes(&[("a", Some("3")), ("b", None)]), None)
        };
        {
            // what a format 2 store holds after the same two blocks
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            {
                let mut state = tx.open_table(STATE).unwrap();
                state.insert(&b"a"[..], &b"3"[..]).unwrap();
                state.remove(&b"b"[..]).unwrap();
                let mut meta = tx.open_table(META).unwrap();
                meta.insert("format", 2u64.to_be_bytes().as_slice())
                    .unwrap();
                meta.remove("index_floor").unwrap();
            }
            tx.delete_table(DELETED).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(
            Storage::probe_file(&path).unwrap().committed.map(|c| c.0),
            Some(2)
        );
        let mut s = Storage::open(&path).unwrap();
        assert!(s.redb().unwrap().pending.is_empty());
        assert_eq!(s.committed().unwrap().app_hash, hash);
        assert_eq!(s.get_raw(b"a"), Some(b"3".to_vec()));
        assert_eq!(s.get_raw(b"b"), None);
        assert_eq!(s.read_meta_u64("format").unwrap(), Some(STORE_FORMAT));
        commit(&mut s, 3, changes(&[("c", Some("4"))]), None);
        drop(s);
        let s = Storage::open(&path).unwrap();
        let mut all = BTreeMap::new();
        s.iter_all(|k, v| {
            all.insert(k.to_vec(), v.to_vec());
        })
        .unwrap();
        assert_eq!(
            all,
            BTreeMap::from([
                (b"a".to_vec(), b"3".to_vec()),
                (b"c".to_vec(), b"4".to_vec())
            ])
        );
    }

    /// A file of another store format (one written before `format` existed has a height and no
    /// `format`) is refused by the startup probe and by opening, and nothing is written to it.
    #[test]
    fn a_store_of_another_format_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let mut s = Storage::open(&path).unwrap();
            let g = s.prepare(1, changes(&[("k", Some("v"))]), Some(1)).unwrap();
            s.commit(g).unwrap();
        }
        assert_eq!(
            Storage::probe_file(&path).unwrap().committed.map(|c| c.0),
            Some(1)
        );
        for (format, found) in [(None, 1), (Some(7u64), 7)] {
            {
                let db = Database::create(&path).unwrap();
                let tx = db.begin_write().unwrap();
                {
                    let mut meta = tx.open_table(META).unwrap();
                    match format {
                        None => meta.remove("format").unwrap(),
                        Some(f) => meta.insert("format", f.to_be_bytes().as_slice()).unwrap(),
                    };
                }
                tx.commit().unwrap();
            }
            // the startup probe (read-only) leaves the file's bytes as they were
            let before = std::fs::read(&path).unwrap();
            match Storage::probe_file(&path) {
                Err(StoreError::Format { found: f }) => assert_eq!(f, found),
                other => panic!("format {format:?}: the probe gave {other:?}"),
            }
            assert!(
                std::fs::read(&path).unwrap() == before,
                "the probe changed the file"
            );
            // opening refuses before writing anything: the probe still finds the same
            for _ in 0..2 {
                match Storage::open(&path) {
                    Err(StoreError::Format { found: f }) => assert_eq!(f, found),
                    Err(e) => panic!("format {format:?}: wrong error {e}"),
                    Ok(_) => panic!("format {format:?}: opened"),
                }
            }
        }
    }

    /// A block finalized but not committed leaves nothing in the file: reopened, the store is
    /// at the previous height and takes another block at that height; blocks computed and
    /// dropped in the same process leave nothing either, and the block that is committed gives
    /// the memory engine's root.
    #[test]
    fn a_block_is_written_only_by_its_commit() {
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
            // block 5 computed, then the process dies before Commit: the file as it is then
            let _p = s.prepare(5, changes(&[("lost", Some("x"))]), None).unwrap();
            std::fs::copy(&path, dir.path().join("crashed.redb")).unwrap();
        }
        let path = dir.path().join("crashed.redb");
        let mut s = Storage::open(&path).unwrap();
        assert_eq!(s.committed().unwrap().height, 4);
        assert_eq!(s.get_raw(b"lost"), None);
        // the same process computes another block 5 first (its CometBFT restarted in between)
        s.prepare(5, changes(&[("also lost", Some("y"))]), None)
            .unwrap();
        let block5 = changes(&[("k", Some("v5")), ("k2", Some("w"))]);
        let p = s.prepare(5, block5.clone(), None).unwrap();
        let written = s.commit(p).unwrap().app_hash;
        let p = plain.prepare(5, block5, None).unwrap();
        assert_eq!(written, plain.commit(p).unwrap().app_hash);
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

    /// A commit is read (values, prefix ranges with its writes and deletions) from the moment
    /// `commit` returns, before its write is done; reads of its tables (a proof of its height)
    /// wait for the write; a closed store has it written.
    #[test]
    fn a_commit_is_read_before_it_is_written_and_its_tables_once_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let mut s = Storage::open(&path).unwrap();
        let g = changes(&[
            ("p/a", Some("1")),
            ("p/b", Some("2")),
            ("p/c", Some("3")),
            ("q/x", Some("9")),
        ]);
        let g = s.prepare(1, g, Some(1)).unwrap();
        s.commit(g).unwrap();
        let go = Arc::new(Done::default());
        match &mut s.engine {
            Engine::Redb(r) => r.hold = Some(go.clone()),
            Engine::Memory(_) => unreachable!("a file store"),
        }
        let block = changes(&[
            ("p/0", Some("0")),
            ("p/b", None),
            ("p/bb", Some("22")),
            ("p/c", Some("33")),
            ("q/x", None),
        ]);
        let p = s.prepare(2, block, None).unwrap();
        let root = s.commit(p).unwrap().app_hash;
        // the file still holds height 1
        {
            let tx = s.redb().unwrap().db.begin_read().unwrap();
            let state = tx.open_table(STATE).unwrap();
            assert_eq!(state.get(&b"p/c"[..]).unwrap().unwrap().value(), b"3");
            let meta = tx.open_table(META).unwrap();
            let height = meta.get("height").unwrap().unwrap().value().to_vec();
            assert_eq!(height, 1u64.to_be_bytes());
        }
        let kv = |k: &str, v: &str| (k.as_bytes().to_vec(), v.as_bytes().to_vec());
        assert_eq!(s.committed().unwrap().height, 2);
        assert_eq!(s.get_raw(b"p/c"), Some(b"33".to_vec()));
        assert_eq!(s.get_raw(b"p/b"), None);
        assert_eq!(s.get_raw(b"q/x"), None);
        assert_eq!(s.get_raw(b"p/a"), Some(b"1".to_vec()));
        let all = vec![
            kv("p/0", "0"),
            kv("p/a", "1"),
            kv("p/bb", "22"),
            kv("p/c", "33"),
        ];
        assert_eq!(s.prefix_raw(b"p/", None, 10), all);
        assert_eq!(s.prefix_raw(b"p/", None, 2), all[..2].to_vec());
        assert_eq!(s.prefix_raw(b"p/", Some(b"p/a"), 2), all[2..].to_vec());
        assert_eq!(s.prefix_raw(b"p/b", None, 10), vec![kv("p/bb", "22")]);
        assert_eq!(s.prefix_raw(b"q/", None, 10), Vec::new());
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            go.finish(Ok(()));
        });
        let (v, proof) = s.get_with_proof(b"p/c", 2).unwrap();
        assert_eq!(v, Some(b"33".to_vec()));
        assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
            &proof,
            &jmt::ics23_spec(),
            &root.to_vec(),
            b"p/c",
            b"33"
        ));
        release.join().unwrap();
        assert_eq!(s.root_at(2).unwrap(), Some(root));
        let p = s.prepare(3, changes(&[("p/a", None)]), None).unwrap();
        s.commit(p).unwrap();
        drop(s);
        let s = Storage::open(&path).unwrap();
        assert_eq!(s.committed().unwrap().height, 3);
        assert_eq!(
            s.prefix_raw(b"p/", None, 10),
            all[..1]
                .iter()
                .chain(&all[2..])
                .cloned()
                .collect::<Vec<_>>()
        );
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

    #[test]
    fn a_newest_only_store_has_every_root_and_the_newest_state_and_refuses_history_clearly() {
        let mut full = Storage::in_memory().unwrap();
        let mut newest = Storage::in_memory_newest_only().unwrap();
        let mut rng = Rng(0x5eed_0006);
        let mut model = BTreeMap::new();
        for n in 0..=200u64 {
            let height = 3 + n;
            let c = random_block(&mut rng, n);
            apply(&mut model, &c);
            let genesis = (n == 0).then_some(3);
            let a = commit(&mut full, height, c.clone(), genesis);
            let b = commit(&mut newest, height, c, genesis);
            assert_eq!(a, b, "root at {height}");
            assert_eq!(newest.root_at(height).unwrap(), Some(a));
            for i in 0..KEYS {
                let k = key(i);
                assert_eq!(
                    newest.get_raw(&k).as_ref(),
                    model.get(&k),
                    "{i} at {height}"
                );
                assert_eq!(newest.get_at(&k, height).unwrap().as_ref(), model.get(&k));
            }
            assert!(matches!(
                newest.get_with_proof(&key(1), height),
                Err(StoreError::NoHistory(_))
            ));
            if height > 3 {
                assert!(matches!(
                    newest.get_at(&key(1), height - 1),
                    Err(StoreError::HeightPruned { .. })
                ));
            }
            // it holds no tree nodes or value records, however long it runs
            let stats = newest.stats().unwrap();
            assert_eq!((stats.jmt_nodes, stats.jmt_values, stats.stale), (0, 0, 0));
        }
        assert_eq!(collect_all(&newest).unwrap(), model);
        // a computed block that is not committed is dropped, and the next one still computes
        let c = random_block(&mut rng, 1);
        let dropped = newest.prepare(204, c.clone(), None).unwrap();
        drop(dropped);
        let again = newest.prepare(204, c.clone(), None).unwrap();
        let want = full.prepare(204, c, None).unwrap().app_hash;
        assert_eq!(again.app_hash, want);
    }
}
