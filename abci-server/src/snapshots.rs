//! State sync on disk: snapshots taken in the background, served to peers, and the restore of
//! a node that joins by state sync. The format and every check are in
//! [`nodeop_app::state::snapshot`]; this module only stores, lists and ships bytes.
//!
//! ```text
//! HOME/app/data/snapshots/
//!   00000000000000000500/manifest       borsh(Manifest): app hash, chunk hashes, …
//!   00000000000000000500/chunk-000000   borsh(Vec<(key, value)>)
//!   .tmp-00000000000000000600/          a snapshot being written (renamed when complete)
//! ```
//!
//! Every `snapshot_interval` heights (app.toml `[state_sync]`), Commit opens a redb read
//! transaction of the height it just wrote ([`nodeop_app::state::StateView`]) and hands it to a
//! thread, which writes the chunks while blocks go on; a view stays at its height however many
//! blocks commit meanwhile. If the previous snapshot is still being written, this height is
//! skipped. Once a snapshot is complete, all but the newest `snapshot_keep_recent` are deleted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use nodeop_app::state::snapshot::{self, Manifest, SnapshotInfo, FORMAT};
use nodeop_app::state::StateView;

/// app.toml `[state_sync]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSettings {
    /// Take a snapshot at every height divisible by this; 0 takes none.
    pub interval: u64,
    /// Keep this many of the newest snapshots (at least 1).
    pub keep_recent: u32,
    /// The target size of a chunk.
    pub chunk_bytes: usize,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self {
            interval: 0,
            keep_recent: 2,
            chunk_bytes: snapshot::DEFAULT_CHUNK_BYTES,
        }
    }
}

/// The snapshots of one node home.
pub struct Snapshots {
    dir: Option<PathBuf>,
    settings: SnapshotSettings,
    busy: Arc<AtomicBool>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

fn height_dir(dir: &Path, height: u64) -> PathBuf {
    dir.join(format!("{height:020}"))
}

fn chunk_file(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("chunk-{index:06}"))
}

impl Snapshots {
    /// Snapshots under `dir`, taken and kept as `settings` say.
    pub fn new(dir: PathBuf, settings: SnapshotSettings) -> Self {
        // what an interrupted writer left behind
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        Self {
            dir: Some(dir),
            settings,
            busy: Arc::new(AtomicBool::new(false)),
            worker: Mutex::new(None),
        }
    }

    /// No snapshots: none taken, none served (restoring still works).
    #[cfg(test)]
    pub fn disabled() -> Self {
        Self {
            dir: None,
            settings: SnapshotSettings::default(),
            busy: Arc::new(AtomicBool::new(false)),
            worker: Mutex::new(None),
        }
    }

    /// Whether `height` is one to take a snapshot at.
    pub fn due(&self, height: u64) -> bool {
        self.dir.is_some()
            && self.settings.interval > 0
            && height.is_multiple_of(self.settings.interval)
    }

    /// Writes the snapshot of `view`'s height on a background thread (skipped if the previous
    /// one is still being written).
    pub fn take_in_background(&self, view: StateView) {
        let Some(dir) = self.dir.clone() else { return };
        let height = view.committed().height;
        if self.busy.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                height,
                "snapshot skipped: the previous one is still being written (raise \
                 [state_sync] snapshot_interval)"
            );
            return;
        }
        let settings = self.settings;
        let busy = self.busy.clone();
        let spawned = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                let started = Instant::now();
                match write_snapshot(&dir, &view, settings.chunk_bytes) {
                    Ok(manifest) => {
                        drop(view);
                        let pruned = prune(&dir, settings.keep_recent.max(1));
                        tracing::info!(
                            height,
                            chunks = manifest.chunk_hashes.len(),
                            entries = manifest.entries,
                            ms = started.elapsed().as_millis() as u64,
                            pruned,
                            "snapshot taken"
                        );
                    }
                    Err(e) => tracing::error!(height, "snapshot failed: {e}"),
                }
                busy.store(false, Ordering::Release);
            });
        match spawned {
            Ok(handle) => {
                if let Ok(mut w) = self.worker.lock() {
                    *w = Some(handle);
                }
            }
            Err(e) => {
                self.busy.store(false, Ordering::Release);
                tracing::error!(height, "cannot start the snapshot thread: {e}");
            }
        }
    }

    /// Waits for the snapshot being written, if any.
    #[cfg(test)]
    pub fn wait_idle(&self) {
        let handle = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// The complete snapshots, newest first.
    pub fn list(&self) -> Vec<SnapshotInfo> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let mut out: Vec<SnapshotInfo> = heights(dir)
            .into_iter()
            .filter_map(|h| {
                let bytes = std::fs::read(height_dir(dir, h).join("manifest")).ok()?;
                let manifest = Manifest::from_bytes(&bytes)?;
                Some(SnapshotInfo::new(h, &manifest))
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.height));
        out
    }

    /// Chunk `index` of the snapshot at `height`, if this node has it.
    pub fn chunk(&self, height: u64, format: u32, index: u32) -> Option<Vec<u8>> {
        let dir = self.dir.as_ref()?;
        if format != FORMAT {
            return None;
        }
        std::fs::read(chunk_file(&height_dir(dir, height), index)).ok()
    }
}

/// The heights of the complete snapshots under `dir`.
fn heights(dir: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .collect()
}

/// Writes the chunks into a temporary directory, then the manifest, then renames it.
fn write_snapshot(dir: &Path, view: &StateView, chunk_bytes: usize) -> Result<Manifest, String> {
    let height = view.committed().height;
    let tmp = dir.join(format!(".tmp-{height:020}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let manifest = snapshot::take(view, chunk_bytes, |index, bytes| {
        let path = chunk_file(&tmp, index);
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
    })
    .map_err(|e| e.to_string())?;
    let path = tmp.join("manifest");
    std::fs::write(&path, manifest.to_bytes())
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    let done = height_dir(dir, height);
    let _ = std::fs::remove_dir_all(&done);
    std::fs::rename(&tmp, &done).map_err(|e| format!("renaming {}: {e}", tmp.display()))?;
    Ok(manifest)
}

/// Deletes all but the newest `keep` snapshots; returns how many it deleted.
fn prune(dir: &Path, keep: u32) -> usize {
    let mut hs = heights(dir);
    hs.sort_unstable_by_key(|h| std::cmp::Reverse(*h));
    let mut deleted = 0;
    for h in hs.into_iter().skip(keep as usize) {
        if std::fs::remove_dir_all(height_dir(dir, h)).is_ok() {
            deleted += 1;
        }
    }
    deleted
}
