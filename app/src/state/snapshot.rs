//! State sync snapshots: their format, how a committed state is cut into chunks, and how a
//! restoring node checks what it receives.
//!
//! Format 1 ([`FORMAT`]):
//! - a **chunk** is `borsh(Vec<(key, value)>)`: consecutive entries of the state in strictly
//!   increasing key order, about `chunk_bytes` of keys and values each (the last one smaller;
//!   a state with no entries still has one, empty, chunk);
//! - the **manifest** (CometBFT's `Snapshot.metadata`) is `borsh(`[`Manifest`]`)`: the app hash,
//!   version offset and block time of the height, the number of entries and every chunk's
//!   SHA-256;
//! - the snapshot's **hash** (`Snapshot.hash`) is the SHA-256 of the manifest.
//!
//! Trust: CometBFT's light client verifies the app hash of the snapshot's height and passes it
//! to OfferSnapshot. A [`Restore`] refuses an offer whose manifest does not hash to the offered
//! hash or names another app hash, refuses every chunk whose SHA-256 is not the manifest's (the
//! sender is rejected and the chunk fetched again from another peer), and writes nothing
//! unless the root rebuilt from all chunks equals the verified app hash
//! ([`crate::state::Storage::restore`]). The block time is the one value not covered by the app
//! hash; it only sets the time CheckTx runs messages at until the first block after the
//! snapshot is executed.
//!
//! Nothing here does I/O: `nodeopd` writes chunks to disk and serves them.

use borsh::{BorshDeserialize, BorshSerialize};
use sha2::{Digest, Sha256};

use super::store::{Committed, RestoreError, StateView};
use super::{Storage, StoreError};

/// The snapshot format this node writes and restores.
pub const FORMAT: u32 = 1;

/// The default target size of a chunk (CometBFT carries chunks of up to 16 MB).
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

/// The largest chunk size allowed (CometBFT's chunk messages are limited to 16 MB).
pub const MAX_CHUNK_BYTES: usize = 8 << 20;

/// What a snapshot holds besides its chunks (`Snapshot.metadata`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Manifest {
    pub app_hash: [u8; 32],
    pub version_offset: u64,
    pub block_time: i64,
    pub entries: u64,
    pub chunk_hashes: Vec<[u8; 32]>,
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_else(|e| super::fatal(&format!("encoding a manifest: {e}")))
    }

    /// A manifest read back from its bytes, if they decode.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        borsh::from_slice(bytes).ok()
    }

    /// The snapshot's hash: SHA-256 of the manifest bytes.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }
}

/// A snapshot as CometBFT lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub height: u64,
    pub format: u32,
    pub chunks: u32,
    pub hash: [u8; 32],
    pub metadata: Vec<u8>,
}

impl SnapshotInfo {
    pub fn new(height: u64, manifest: &Manifest) -> Self {
        Self {
            height,
            format: FORMAT,
            chunks: manifest.chunk_hashes.len() as u32,
            hash: manifest.hash(),
            metadata: manifest.to_bytes(),
        }
    }
}

/// Why taking a snapshot stopped.
#[derive(Debug, thiserror::Error)]
pub enum TakeError<E: std::fmt::Display> {
    #[error("reading the state: {0}")]
    Store(#[from] StoreError),
    #[error("writing a chunk: {0}")]
    Sink(E),
}

/// Cuts the state `view` holds into chunks of about `chunk_bytes`, handing each to `sink` in
/// order, and returns the manifest.
pub fn take<E: std::fmt::Display>(
    view: &StateView,
    chunk_bytes: usize,
    mut sink: impl FnMut(u32, &[u8]) -> Result<(), E>,
) -> Result<Manifest, TakeError<E>> {
    let chunk_bytes = chunk_bytes.clamp(1, MAX_CHUNK_BYTES);
    let mut chunk_hashes = Vec::new();
    let mut entries = 0u64;
    let mut pending: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut flush = |pending: &mut Vec<(Vec<u8>, Vec<u8>)>,
                     chunk_hashes: &mut Vec<[u8; 32]>|
     -> Result<(), E> {
        let bytes = borsh::to_vec(&*pending)
            .unwrap_or_else(|e| super::fatal(&format!("encoding a chunk: {e}")));
        let index = chunk_hashes.len() as u32;
        chunk_hashes.push(Sha256::digest(&bytes).into());
        pending.clear();
        sink(index, &bytes)
    };
    view.for_each(|k, v| {
        entries += 1;
        pending_bytes += k.len() + v.len() + 8;
        pending.push((k.to_vec(), v.to_vec()));
        if pending_bytes >= chunk_bytes {
            pending_bytes = 0;
            flush(&mut pending, &mut chunk_hashes)?;
        }
        Ok(())
    })?
    .map_err(TakeError::Sink)?;
    if !pending.is_empty() || chunk_hashes.is_empty() {
        flush(&mut pending, &mut chunk_hashes).map_err(TakeError::Sink)?;
    }
    let c = view.committed();
    Ok(Manifest {
        app_hash: c.app_hash,
        version_offset: c.version_offset,
        block_time: c.block_time,
        entries,
        chunk_hashes,
    })
}

/// Why an offered snapshot is refused (CometBFT then tries another).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error("format {0} is not {FORMAT}")]
    Format(u32),
    #[error("{0}")]
    Invalid(String),
}

/// What to do with a chunk that is not applied.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes are not the chunk the manifest names: reject the sender, fetch it again.
    #[error("chunk {index}'s SHA-256 {got} is not the manifest's {want}")]
    Corrupt {
        index: u32,
        got: String,
        want: String,
    },
    /// A chunk arrived out of order (CometBFT applies them in order; fetch it again).
    #[error("chunk {index} arrived while chunk {expected} was expected")]
    OutOfOrder { index: u32, expected: u32 },
    /// The chunk is what the manifest names, but the manifest describes no valid state:
    /// the snapshot itself is bad.
    #[error("the snapshot is invalid: {0}")]
    BadSnapshot(String),
}

/// A restore in progress: the offered snapshot and the entries received so far.
pub struct Restore {
    pub height: u64,
    pub trusted_app_hash: [u8; 32],
    pub manifest: Manifest,
    next: u32,
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Restore {
    /// Checks an offered snapshot against itself and the app hash the light client verified.
    pub fn offer(snapshot: &SnapshotInfo, trusted_app_hash: &[u8]) -> Result<Self, OfferError> {
        if snapshot.format != FORMAT {
            return Err(OfferError::Format(snapshot.format));
        }
        let invalid = |what: String| Err(OfferError::Invalid(what));
        let Ok(trusted_app_hash) = <[u8; 32]>::try_from(trusted_app_hash) else {
            return invalid(format!(
                "the trusted app hash has {} bytes, not 32",
                trusted_app_hash.len()
            ));
        };
        let digest: [u8; 32] = Sha256::digest(&snapshot.metadata).into();
        if digest != snapshot.hash {
            return invalid("the metadata does not hash to the snapshot's hash".into());
        }
        let manifest = match Manifest::try_from_slice(&snapshot.metadata) {
            Ok(m) => m,
            Err(e) => return invalid(format!("the metadata does not decode: {e}")),
        };
        if manifest.app_hash != trusted_app_hash {
            return invalid(format!(
                "the snapshot is of app hash {}, the light client verified {}",
                hex::encode_upper(manifest.app_hash),
                hex::encode_upper(trusted_app_hash)
            ));
        }
        if manifest.chunk_hashes.is_empty()
            || manifest.chunk_hashes.len() != snapshot.chunks as usize
        {
            return invalid(format!(
                "{} chunks offered, the manifest names {}",
                snapshot.chunks,
                manifest.chunk_hashes.len()
            ));
        }
        if manifest.version_offset > snapshot.height || snapshot.height == 0 {
            return invalid(format!(
                "height {} with version offset {}",
                snapshot.height, manifest.version_offset
            ));
        }
        Ok(Self {
            height: snapshot.height,
            trusted_app_hash,
            manifest,
            next: 0,
            entries: Vec::new(),
        })
    }

    /// Checks and keeps chunk `index`.
    pub fn apply(&mut self, index: u32, chunk: &[u8]) -> Result<(), ChunkError> {
        let want = self
            .manifest
            .chunk_hashes
            .get(index as usize)
            .ok_or_else(|| ChunkError::BadSnapshot(format!("there is no chunk {index}")))?;
        let got: [u8; 32] = Sha256::digest(chunk).into();
        if &got != want {
            return Err(ChunkError::Corrupt {
                index,
                got: hex::encode_upper(got),
                want: hex::encode_upper(want),
            });
        }
        if index != self.next {
            return Err(ChunkError::OutOfOrder {
                index,
                expected: self.next,
            });
        }
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = borsh::from_slice(chunk)
            .map_err(|e| ChunkError::BadSnapshot(format!("chunk {index} does not decode: {e}")))?;
        for (k, v) in pairs {
            if self.entries.last().is_some_and(|(last, _)| *last >= k) {
                return Err(ChunkError::BadSnapshot(format!(
                    "chunk {index}: keys are not in strictly increasing order"
                )));
            }
            self.entries.push((k, v));
        }
        self.next += 1;
        Ok(())
    }

    /// Whether every chunk was applied.
    pub fn is_complete(&self) -> bool {
        self.next as usize == self.manifest.chunk_hashes.len()
    }

    /// How many chunks were applied.
    pub fn applied(&self) -> u32 {
        self.next
    }

    /// Writes the rebuilt state into `storage` (which must be empty) if its root is the
    /// trusted app hash; nothing is written otherwise.
    pub fn finish(self, storage: &mut Storage) -> Result<Committed, RestoreError> {
        if self.entries.len() as u64 != self.manifest.entries {
            return Err(RestoreError::Store(StoreError::Tree(format!(
                "{} entries received, the manifest names {}",
                self.entries.len(),
                self.manifest.entries
            ))));
        }
        storage.restore(
            self.height,
            self.manifest.version_offset,
            self.manifest.block_time,
            &self.entries,
            self.trusted_app_hash,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Changes, StateRead};

    fn chain() -> Storage {
        let mut s = Storage::in_memory().unwrap();
        let mut c = Changes::new();
        for i in 0..300u32 {
            c.insert(format!("key/{i:05}").into_bytes(), Some(vec![i as u8; 40]));
        }
        let p = s.prepare(1, c, Some(1)).unwrap();
        s.commit(p).unwrap();
        let mut c = Changes::new();
        c.insert(b"key/00007".to_vec(), None);
        c.insert(b"zzz".to_vec(), Some(b"last".to_vec()));
        let p = s.prepare(2, c, None).unwrap();
        s.commit(p).unwrap();
        s
    }

    fn snapshot(s: &Storage, chunk_bytes: usize) -> (SnapshotInfo, Vec<Vec<u8>>) {
        let view = s.state_view().unwrap();
        let mut chunks = Vec::new();
        let manifest = take(&view, chunk_bytes, |i, bytes| {
            assert_eq!(i as usize, chunks.len());
            chunks.push(bytes.to_vec());
            Ok::<_, String>(())
        })
        .unwrap();
        (
            SnapshotInfo::new(view.committed().height, &manifest),
            chunks,
        )
    }

    #[test]
    fn chunks_restore_to_the_same_state_and_corrupt_ones_are_refused() {
        let s = chain();
        let hash = s.committed().unwrap().app_hash;
        let (info, chunks) = snapshot(&s, 1000);
        assert!(chunks.len() > 10, "{}", chunks.len());
        let mut restore = Restore::offer(&info, &hash).unwrap();
        let mut bad = chunks[3].clone();
        for (i, chunk) in chunks.iter().enumerate() {
            let i = i as u32;
            if i == 3 {
                bad[5] ^= 1;
                assert!(matches!(
                    restore.apply(3, &bad),
                    Err(ChunkError::Corrupt { index: 3, .. })
                ));
                assert!(matches!(
                    restore.apply(4, &chunks[4]),
                    Err(ChunkError::OutOfOrder { .. })
                ));
            }
            restore.apply(i, chunk).unwrap();
        }
        assert!(restore.is_complete());
        let mut fresh = Storage::in_memory().unwrap();
        let c = restore.finish(&mut fresh).unwrap();
        assert_eq!(c.app_hash, hash);
        assert_eq!(
            crate::state::store::collect_all(&fresh).unwrap(),
            crate::state::store::collect_all(&s).unwrap()
        );
        assert_eq!(fresh.get_raw(b"zzz"), Some(b"last".to_vec()));
    }

    #[test]
    fn offers_that_do_not_match_the_trusted_app_hash_or_themselves_are_refused() {
        let s = chain();
        let hash = s.committed().unwrap().app_hash;
        let (info, _) = snapshot(&s, 4096);
        assert!(Restore::offer(&info, &[0; 32]).is_err());
        assert!(Restore::offer(&info, &hash[..31]).is_err());
        let mut other = info.clone();
        other.format = 2;
        assert_eq!(
            Restore::offer(&other, &hash).err(),
            Some(OfferError::Format(2))
        );
        let mut other = info.clone();
        other.metadata.push(0);
        assert!(Restore::offer(&other, &hash).is_err());
        let mut other = info.clone();
        other.chunks += 1;
        assert!(Restore::offer(&other, &hash).is_err());
    }

    #[test]
    fn a_consistent_but_lying_snapshot_is_refused_at_the_end_and_writes_nothing() {
        let s = chain();
        let hash = s.committed().unwrap().app_hash;
        // a manifest that names the right app hash over chunks of another state
        let mut other = Storage::in_memory().unwrap();
        let mut c = Changes::new();
        c.insert(b"key/00001".to_vec(), Some(b"forged".to_vec()));
        let p = other.prepare(1, c, Some(1)).unwrap();
        other.commit(p).unwrap();
        let p = other.prepare(2, Changes::new(), None).unwrap();
        other.commit(p).unwrap();
        let view = other.state_view().unwrap();
        let mut chunks = Vec::new();
        let mut manifest = take(&view, 4096, |_, b| {
            chunks.push(b.to_vec());
            Ok::<_, String>(())
        })
        .unwrap();
        manifest.app_hash = hash;
        let info = SnapshotInfo::new(2, &manifest);
        let mut restore = Restore::offer(&info, &hash).unwrap();
        for (i, c) in chunks.iter().enumerate() {
            restore.apply(i as u32, c).unwrap();
        }
        let mut fresh = Storage::in_memory().unwrap();
        assert!(matches!(
            restore.finish(&mut fresh),
            Err(RestoreError::RootMismatch { .. })
        ));
        assert!(fresh.committed().is_none());
    }

    #[test]
    fn an_empty_state_is_one_empty_chunk() {
        let mut s = Storage::in_memory().unwrap();
        let p = s.prepare(0, Changes::new(), Some(0)).unwrap();
        s.commit(p).unwrap();
        let (info, chunks) = snapshot(&s, 100);
        assert_eq!(chunks.len(), 1);
        assert_eq!(info.chunks, 1);
    }
}
