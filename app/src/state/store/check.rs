//! Checks of a store file at startup, so that a damaged file is refused with a reason before
//! anything writes to it.
//!
//! [`Storage::probe_file`] opens the file read-only (redb's read-only open never repairs or
//! writes) and tells a missing file, a clean one, one left by a crash (redb repairs it when it
//! is opened for writing: that is normal after `kill -9`) and one that cannot be read at all
//! (truncated, overwritten, not a redb file) apart. A clean file's newest height is read back:
//! its root must be recorded, the tree must prove a key against it, and every entry of the
//! ordered index must read.

use std::path::Path;

use jmt::Sha256Jmt;
use redb::{DatabaseError, ReadableDatabase, ReadableTable};

use super::{
    backend, Storage, StoreError, TreeAt, TreeSnapshot, META, NODES, ROOTS, STATE, VALUES,
};

/// What a store file looks like before it is opened for writing, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProbe {
    pub state: FileState,
    /// The newest committed height and the version offset (`None`: nothing committed).
    pub committed: Option<(u64, u64)>,
}

impl FileProbe {
    /// What Info would answer as the last block height: 0 for an empty or genesis-only store.
    pub fn last_block_height(&self) -> u64 {
        match self.committed {
            Some((height, offset)) if height > offset => height,
            _ => 0,
        }
    }
}

/// How a store file was left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    /// No file: a new node.
    Missing,
    /// Closed cleanly.
    Clean,
    /// Left by a crash: redb repairs it when it is opened for writing.
    NeedsRepair,
}

impl Storage {
    /// Looks at the file at `path` without writing to it. An error means the file cannot be
    /// used at all (its message says why).
    pub fn probe_file(path: &Path) -> Result<FileProbe, StoreError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileProbe {
                    state: FileState::Missing,
                    committed: None,
                })
            }
            Err(e) => return Err(backend(e)),
        };
        if !meta.is_file() {
            return Err(backend("not a regular file"));
        }
        if meta.len() == 0 {
            return Err(backend("the file is empty (0 bytes): truncated"));
        }
        match redb::ReadOnlyDatabase::open(path) {
            Ok(db) => verify(&db).map(|committed| FileProbe {
                state: FileState::Clean,
                committed,
            }),
            Err(DatabaseError::RepairAborted) => {
                // A crash or a truncation: repair a copy-on-write view of the file in memory
                // (the file itself is only read) and check what the repair gives.
                let view = CopyOnWrite::open(path).map_err(backend)?;
                let db = redb::Database::builder()
                    .create_with_backend(view)
                    .map_err(|e| backend(format!("not repairable: {e}")))?;
                verify(&db).map(|committed| FileProbe {
                    state: FileState::NeedsRepair,
                    committed,
                })
            }
            Err(e @ DatabaseError::DatabaseAlreadyOpen) => Err(backend(e)),
            Err(e) => Err(backend(format!("not a readable store: {e}"))),
        }
    }
}

/// Reads the newest committed height back from `db` (see the module doc).
fn verify(db: &impl ReadableDatabase) -> Result<Option<(u64, u64)>, StoreError> {
    {
        let tx = db.begin_read().map_err(backend)?;
        let bad = |e: &dyn std::fmt::Display| backend(format!("not a readable store: {e}"));
        let meta = tx.open_table(META).map_err(|e| bad(&e))?;
        let u64_of = |k: &str| -> Result<Option<u64>, StoreError> {
            match meta.get(k).map_err(|e| bad(&e))? {
                Some(v) => Ok(Some(u64::from_be_bytes(
                    v.value()
                        .try_into()
                        .map_err(|_| bad(&format!("meta {k} is not 8 bytes")))?,
                ))),
                None => Ok(None),
            }
        };
        let roots = tx.open_table(ROOTS).map_err(|e| bad(&e))?;
        let state = tx.open_table(STATE).map_err(|e| bad(&e))?;
        let tables = TreeSnapshot {
            nodes: tx.open_table(NODES).map_err(|e| bad(&e))?,
            values: tx.open_table(VALUES).map_err(|e| bad(&e))?,
        };
        let (Some(height), Some(offset)) = (u64_of("height")?, u64_of("version_offset")?) else {
            // nothing committed yet: every table must still read
            for entry in state.iter().map_err(|e| bad(&e))? {
                entry.map_err(|e| bad(&e))?;
            }
            return Ok(None);
        };
        // a store of another layout is not read (and not called corrupt)
        if let Some(found) = super::format_of(&meta)? {
            return Err(StoreError::Format { found });
        }
        let corrupted = |what: String| backend(format!("height {height}: {what}"));
        let app_hash: [u8; 32] = meta
            .get("app_hash")
            .map_err(|e| bad(&e))?
            .ok_or_else(|| corrupted("no app hash recorded".into()))?
            .value()
            .try_into()
            .map_err(|_| corrupted("the app hash is not 32 bytes".into()))?;
        match roots.get(height).map_err(|e| bad(&e))? {
            Some(root) if root.value() == app_hash.as_slice() => {}
            Some(_) => return Err(corrupted("the recorded root is not the app hash".into())),
            None => return Err(corrupted("no root recorded".into())),
        }
        // the tree proves a key against the app hash of the newest height
        let version = height
            .checked_sub(offset)
            .ok_or_else(|| corrupted(format!("version offset {offset} above the height")))?;
        let probe = b"nodeop/startup-probe";
        let tree = TreeAt { tables, version };
        let (value, proof) = Sha256Jmt::new(&tree)
            .get_with_ics23_proof(probe.to_vec(), version)
            .map_err(|e| corrupted(format!("the tree cannot be read: {e}")))?;
        let spec = jmt::ics23_spec();
        let root = app_hash.to_vec();
        let verified = match &value {
            Some(v) => ics23::verify_membership::<ics23::HostFunctionsManager>(
                &proof, &spec, &root, probe, v,
            ),
            None => ics23::verify_non_membership::<ics23::HostFunctionsManager>(
                &proof, &spec, &root, probe,
            ),
        };
        if !verified {
            return Err(corrupted(
                "the tree does not prove against the app hash".into(),
            ));
        }
        // every entry of the latest state reads
        for entry in state.iter().map_err(|e| bad(&e))? {
            entry.map_err(|e| corrupted(format!("the state table cannot be read: {e}")))?;
        }
        Ok(Some((height, offset)))
    }
}

const BLOCK: u64 = 4096;

/// A file seen through an in-memory layer: reads come from the layer or the file, writes go to
/// the layer only. The file is opened read-only.
#[derive(Debug)]
struct CopyOnWrite {
    file: std::fs::File,
    file_len: u64,
    len: std::sync::Mutex<u64>,
    blocks: std::sync::Mutex<std::collections::BTreeMap<u64, Vec<u8>>>,
}

impl CopyOnWrite {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let file_len = file.metadata()?.len();
        Ok(Self {
            file,
            file_len,
            len: std::sync::Mutex::new(file_len),
            blocks: std::sync::Mutex::new(Default::default()),
        })
    }

    /// Block `index` as the file has it (zeros past its end).
    fn file_block(&self, index: u64) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; BLOCK as usize];
        let start = index * BLOCK;
        if start < self.file_len {
            let n = (self.file_len - start).min(BLOCK) as usize;
            self.file.read_exact_at(&mut buf[..n], start)?;
        }
        Ok(buf)
    }

    fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl redb::StorageBackend for CopyOnWrite {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(*Self::lock(&self.len))
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        if offset + out.len() as u64 > *Self::lock(&self.len) {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let blocks = Self::lock(&self.blocks);
        let mut done = 0usize;
        while done < out.len() {
            let at = offset + done as u64;
            let (index, within) = (at / BLOCK, (at % BLOCK) as usize);
            let n = (BLOCK as usize - within).min(out.len() - done);
            match blocks.get(&index) {
                Some(b) => out[done..done + n].copy_from_slice(&b[within..within + n]),
                None => out[done..done + n]
                    .copy_from_slice(&self.file_block(index)?[within..within + n]),
            }
            done += n;
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        *Self::lock(&self.len) = len;
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut blocks = Self::lock(&self.blocks);
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let (index, within) = (at / BLOCK, (at % BLOCK) as usize);
            let n = (BLOCK as usize - within).min(data.len() - done);
            let b = match blocks.entry(index) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(self.file_block(index)?),
            };
            b[within..within + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        let mut len = Self::lock(&self.len);
        *len = (*len).max(offset + data.len() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Changes;

    fn written(path: &Path) {
        let mut s = Storage::open(path).unwrap();
        let mut c = Changes::new();
        for i in 0..2_000u32 {
            c.insert(format!("k/{i:06}").into_bytes(), Some(vec![7; 100]));
        }
        let p = s.prepare(1, c, Some(1)).unwrap();
        s.commit(p).unwrap();
    }

    #[test]
    fn clean_missing_empty_truncated_and_overwritten_files_are_told_apart_without_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        assert_eq!(
            Storage::probe_file(&path).unwrap().state,
            FileState::Missing
        );
        written(&path);
        let probe = Storage::probe_file(&path).unwrap();
        assert_eq!(probe.state, FileState::Clean);
        assert_eq!(
            (probe.committed, probe.last_block_height()),
            (Some((1, 1)), 0)
        );
        let good = std::fs::read(&path).unwrap();

        std::fs::write(&path, b"").unwrap();
        assert!(Storage::probe_file(&path).is_err());
        for len in [100, good.len() / 2, good.len() - 1] {
            std::fs::write(&path, &good[..len]).unwrap();
            let before = std::fs::read(&path).unwrap();
            assert!(Storage::probe_file(&path).is_err(), "truncated to {len}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
        }
        let mut garbage = good.clone();
        for b in garbage.iter_mut().take(4096) {
            *b = 0x5a;
        }
        std::fs::write(&path, &garbage).unwrap();
        assert!(Storage::probe_file(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "nothing written");
    }

    #[test]
    fn a_file_left_by_a_crash_needs_repair_and_the_repair_is_checked_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        written(&path);
        let mut s = Storage::open(&path).unwrap();
        let p = s.prepare(2, Changes::new(), None).unwrap();
        s.commit(p).unwrap();
        // once the commit is written (a kill before that leaves height 1, which CometBFT replays)
        s.settle().unwrap();
        // the file as it is while the store is open: what kill -9 leaves
        let crashed = dir.path().join("crashed.redb");
        std::fs::copy(&path, &crashed).unwrap();
        drop(s);
        let before = std::fs::read(&crashed).unwrap();
        let probe = Storage::probe_file(&crashed).unwrap();
        assert_eq!(probe.state, FileState::NeedsRepair);
        assert_eq!(probe.last_block_height(), 2);
        assert_eq!(
            std::fs::read(&crashed).unwrap(),
            before,
            "the probe wrote nothing"
        );
        // the real open repairs it, and the state is there
        let s = Storage::open(&crashed).unwrap();
        assert_eq!(s.committed().unwrap().height, 2);
    }
}
