//! What `nodeopd start` checks before it opens the store for writing, so that a home it cannot
//! run from is refused with one line that names the file and the fix, and nothing is written
//! to the store:
//!
//! - `HOME/app/VERSION`, the home's format: a home written by a newer nodeopd is refused (an
//!   older one, or one without the file, is this format; `start` writes the file then);
//! - `HOME/app/app.toml`: an unreadable value names its line;
//! - `HOME/app/data/state.redb`: opened read-only first ([`nodeop_app::state::Storage::probe_file`]);
//!   a truncated, overwritten or unreadable file is refused (a file left by a crash is repaired
//!   on a copy in memory first, and only if that repair reads back is the real repair let run);
//! - the store's height against CometBFT's block store (`HOME/cometbft/data/blockstore.db`):
//!   the same rules as CometBFT's handshake, found before CometBFT starts — the store may not be
//!   ahead of the block store (CometBFT cannot go back), and may not end below the block store's
//!   base minus one (the blocks to replay are not there).
//!
//! CometBFT's block store is goleveldb; its height and base are read from the newest
//! `blockStore` record in the database's journal (`*.log`: every saved block rewrites it). When
//! the journal holds none (just after CometBFT compacted it) or another backend is configured,
//! the heights are unknown and that check is skipped; CometBFT's own handshake still runs.

use std::path::Path;

use anyhow::{bail, Result};
use nodeop_app::state::store::{FileProbe, READABLE_EARLIER_FORMAT, STORE_FORMAT};
use nodeop_app::state::Storage;
use nodeop_app::state::StoreError;

use crate::commands::show;
use crate::home::Home;

/// The home layout this nodeopd writes and reads (`HOME/app/VERSION`). Raise it when a home
/// written by this version cannot be read by an older one.
pub const HOME_FORMAT: u32 = 1;

/// `HOME/app/VERSION`'s text for this build.
pub fn version_file_text() -> String {
    format!(
        "home-format {HOME_FORMAT}\nwritten-by nodeopd {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Refuses a home written by a newer nodeopd; writes the file into a home that has none.
pub fn check_home_version(home: &Home) -> Result<()> {
    let path = home.version_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Err(e) = std::fs::write(&path, version_file_text()) {
                tracing::warn!("cannot write {}: {e}", show(&path));
            }
            return Ok(());
        }
        Err(e) => bail!("cannot read {}: {e}; check its permissions", show(&path)),
    };
    let format = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("home-format "))
        .and_then(|n| n.trim().parse::<u32>().ok());
    let Some(format) = format else {
        bail!(
            "{} does not start with `home-format N`; it is not a nodeop home version file: \
             restore it (this nodeopd writes `home-format {HOME_FORMAT}`)",
            show(&path)
        );
    };
    if format > HOME_FORMAT {
        let by = text
            .lines()
            .find_map(|l| l.strip_prefix("written-by "))
            .unwrap_or("a newer nodeopd");
        bail!(
            "{} says home format {format} (written by {by}), newer than this nodeopd {} reads \
             (format {HOME_FORMAT}): run that newer nodeopd, or restore a backup of the home \
             made by this version",
            show(&path),
            env!("CARGO_PKG_VERSION")
        );
    }
    Ok(())
}

/// One line out of a TOML error: where and what (toml's report spans several lines).
pub fn one_line_toml_error(path: &Path, err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    if !text.contains("TOML parse error") {
        return text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = lines.collect();
    // toml's report: "TOML parse error at line L, column C", "|", "L | source", "| ^^^", message
    let source = rest
        .iter()
        .find_map(|l| l.split_once(" | ").map(|(_, src)| src.trim()))
        .filter(|s| !s.is_empty());
    let message = rest
        .iter()
        .rev()
        .find(|l| !l.starts_with('|') && !l.contains(" | "))
        .copied();
    let mut out = first.replace('\n', " ");
    if let Some(src) = source {
        out.push_str(&format!(" (`{src}`)"));
    }
    if let Some(m) = message {
        if !out.contains(m) {
            out.push_str(&format!(": {m}"));
        }
    }
    format!(
        "{out}; fix or remove that line of {} (the file `nodeopd init` writes explains every key)",
        show(path)
    )
}

/// The store file's state, refusing a file that cannot be used. Nothing is written.
pub fn check_store_file(home: &Home) -> Result<FileProbe> {
    let path = home.store();
    match Storage::probe_file(&path) {
        Ok(probe) => Ok(probe),
        Err(StoreError::Format { found }) => bail!(
            "the store {} is of store format {found}, written by {} nodeopd; this nodeopd \
             reads formats {READABLE_EARLIER_FORMAT} and {STORE_FORMAT} only, and nothing was \
             written to it. Fix: \
             move it away (mv {} {}.format-{found}) and start again: CometBFT replays its \
             stored blocks into a new store (or, if its block store does not reach back to the \
             chain's first height, reset CometBFT's data and join by state sync)",
            show(&path),
            if found < STORE_FORMAT {
                "an earlier"
            } else {
                "a newer"
            },
            show(&home.app_data()),
            show(&home.app_data())
        ),
        Err(e) if e.to_string().contains("already open") => bail!(
            "the store {} is locked by another process: is nodeopd running on this home? Stop \
             it first",
            show(&path)
        ),
        Err(e) => bail!(
            "the store {} is damaged ({e}); nothing was written to it. Fix: restore it from a \
             backup, or move it away (mv {} {}.damaged) and resync: state sync, or a replay \
             from genesis after resetting CometBFT's data",
            show(&path),
            show(&path),
            show(&path)
        ),
    }
}

/// CometBFT's block store range, as its newest `blockStore` record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockStoreRange {
    pub base: u64,
    pub height: u64,
}

/// What is known of CometBFT's block store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockStore {
    /// No `blockstore.db` directory: CometBFT has no chain data.
    Absent,
    Range(BlockStoreRange),
    /// Another backend, or no readable record.
    Unknown,
}

/// Reads CometBFT's block store range from its goleveldb journal (see the module doc).
pub fn cometbft_block_store(home: &Home) -> BlockStore {
    let config = std::fs::read_to_string(home.config_toml()).unwrap_or_default();
    let backend = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("db_backend"))
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or("goleveldb");
    if backend != "goleveldb" {
        return BlockStore::Unknown;
    }
    let dir = block_store_dir(home, &config);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return BlockStore::Absent;
    };
    let mut newest: Option<(u64, Vec<u8>)> = None;
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(".log") {
            continue;
        }
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        for (seq, value) in journal_values(&bytes, b"blockStore") {
            if newest.as_ref().is_none_or(|(s, _)| seq >= *s) {
                newest = Some((seq, value));
            }
        }
    }
    match newest.and_then(|(_, v)| decode_block_store_state(&v)) {
        Some(range) => BlockStore::Range(range),
        None => BlockStore::Unknown,
    }
}

/// `db_dir` of config.toml (relative to CometBFT's home; `data` by default) + `blockstore.db`.
fn block_store_dir(home: &Home, config: &str) -> std::path::PathBuf {
    let db_dir = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("db_dir"))
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or("data");
    home.cometbft().join(db_dir).join("blockstore.db")
}

/// `(sequence, value)` of every put of `key` in a LevelDB journal: 32 KiB blocks of records
/// (crc32 4, length 2, type 1: full, first, middle, last), each full record a write batch
/// (sequence 8, count 4, then per entry: kind 1 — 1 put, 0 delete —, varint-prefixed key and,
/// for a put, varint-prefixed value). A torn tail (a journal being written) ends the scan.
pub fn journal_values(bytes: &[u8], key: &[u8]) -> Vec<(u64, Vec<u8>)> {
    const BLOCK: usize = 32 * 1024;
    let mut batches: Vec<Vec<u8>> = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut i = 0;
    while i + 7 <= bytes.len() {
        let left = BLOCK - i % BLOCK;
        if left < 7 {
            i += left;
            continue;
        }
        let len = u16::from_le_bytes([bytes[i + 4], bytes[i + 5]]) as usize;
        let kind = bytes[i + 6];
        if len == 0 && kind == 0 {
            i += left;
            continue;
        }
        let Some(payload) = bytes.get(i + 7..i + 7 + len) else {
            break;
        };
        i += 7 + len;
        match kind {
            1 => batches.push(payload.to_vec()),
            2 => pending = payload.to_vec(),
            3 => pending.extend_from_slice(payload),
            4 => {
                pending.extend_from_slice(payload);
                batches.push(std::mem::take(&mut pending));
            }
            _ => break,
        }
    }
    let mut out = Vec::new();
    for b in &batches {
        let Some(seq) = b
            .get(..8)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
        else {
            continue;
        };
        let count = b
            .get(8..12)
            .map_or(0, |c| u32::from_le_bytes(c.try_into().unwrap_or([0; 4])));
        let mut p = 12;
        for n in 0..count {
            let Some(&kind) = b.get(p) else { break };
            p += 1;
            let Some((k, next)) = varint_bytes(b, p) else {
                break;
            };
            p = next;
            if kind == 1 {
                let Some((v, next)) = varint_bytes(b, p) else {
                    break;
                };
                p = next;
                if k == key {
                    out.push((seq + u64::from(n), v.to_vec()));
                }
            }
        }
    }
    out
}

fn varint(b: &[u8], mut p: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let c = *b.get(p)?;
        p += 1;
        v |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return Some((v, p));
        }
    }
    None
}

fn varint_bytes(b: &[u8], p: usize) -> Option<(&[u8], usize)> {
    let (len, p) = varint(b, p)?;
    let end = p.checked_add(usize::try_from(len).ok()?)?;
    Some((b.get(p..end)?, end))
}

/// CometBFT's `BlockStoreState { int64 base = 1; int64 height = 2; }`.
fn decode_block_store_state(b: &[u8]) -> Option<BlockStoreRange> {
    let (mut base, mut height, mut p) = (0, 0, 0);
    while p < b.len() {
        let (tag, next) = varint(b, p)?;
        let (value, next) = varint(b, next)?;
        p = next;
        match tag {
            0x08 => base = value,
            0x10 => height = value,
            _ if tag & 7 == 0 => {}
            _ => return None,
        }
    }
    Some(BlockStoreRange { base, height })
}

/// The chain's initial height from genesis.json (1 when it is not there).
pub fn initial_height(home: &Home) -> u64 {
    let Ok(text) = std::fs::read_to_string(home.genesis()) else {
        return 1;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return 1;
    };
    match &v["initial_height"] {
        serde_json::Value::String(s) => s.parse().unwrap_or(1),
        serde_json::Value::Number(n) => n.as_u64().unwrap_or(1),
        _ => 1,
    }
    .max(1)
}

/// Refuses a store CometBFT cannot bring to its own height (see the module doc).
/// `app_height` is what Info would answer (0 for an empty or genesis-only store).
pub fn check_heights(home: &Home, app_height: u64, initial_height: u64) -> Result<()> {
    let store = show(&home.store());
    let config = std::fs::read_to_string(home.config_toml()).unwrap_or_default();
    let blocks = show(&block_store_dir(home, &config));
    let reset = format!(
        "reset CometBFT's data (cometbft unsafe-reset-all --keep-addr-book --home {}; a \
         validator keeps its data/priv_validator_state.json)",
        show(&home.cometbft())
    );
    match cometbft_block_store(home) {
        BlockStore::Absent if app_height > 0 => bail!(
            "the store {store} is at height {app_height} but CometBFT has no block store \
             ({blocks} is missing), so CometBFT would start the chain again below it. Fix: put \
             back the CometBFT data directory that belongs to this store, or move the store \
             away (mv {} {}.old) to replay from genesis or state sync",
            show(&home.app_data()),
            show(&home.app_data())
        ),
        BlockStore::Range(r) if r.height > 0 => {
            if app_height > r.height {
                bail!(
                    "the store {store} is at height {app_height}, ahead of CometBFT's block \
                     store {blocks} (height {}); CometBFT cannot go back. Fix: put back the \
                     CometBFT data directory that belongs to this store, or move the store \
                     away (mv {} {}.old) and let CometBFT replay it",
                    r.height,
                    show(&home.app_data()),
                    show(&home.app_data())
                );
            }
            let too_low = if app_height == 0 {
                initial_height < r.base
            } else {
                app_height + 1 < r.base
            };
            if too_low {
                bail!(
                    "the store {store} is at height {app_height}, but CometBFT's block store \
                     {blocks} starts at height {} (state sync or pruning): the blocks in \
                     between cannot be replayed. Fix: restore a store at height {} or above, \
                     or move the store away and {reset}, then join again by state sync",
                    r.base,
                    r.base.saturating_sub(1)
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-record LevelDB journal holding one write batch of `puts`.
    pub fn journal(seq: u64, puts: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut batch = seq.to_le_bytes().to_vec();
        batch.extend_from_slice(&(puts.len() as u32).to_le_bytes());
        for (k, v) in puts {
            batch.push(1);
            batch.push(k.len() as u8);
            batch.extend_from_slice(k);
            batch.push(v.len() as u8);
            batch.extend_from_slice(v);
        }
        let mut out = vec![0u8; 4];
        out.extend_from_slice(&(batch.len() as u16).to_le_bytes());
        out.push(1);
        out.extend_from_slice(&batch);
        out
    }

    #[test]
    fn the_newest_block_store_record_of_a_journal_is_found() {
        let mut j = journal(5, &[(b"H:1", b"x"), (b"blockStore", &[0x08, 1, 0x10, 7])]);
        j.extend(journal(9, &[(b"blockStore", &[0x08, 1, 0x10, 0x9c, 0x02])]));
        // a torn record at the end is ignored
        j.extend_from_slice(&[1, 2, 3, 4, 200, 0, 1, 9]);
        let values = journal_values(&j, b"blockStore");
        assert_eq!(values.len(), 2);
        let newest = values.iter().max_by_key(|(s, _)| *s).unwrap();
        assert_eq!(newest.0, 9);
        assert_eq!(
            decode_block_store_state(&newest.1),
            Some(BlockStoreRange {
                base: 1,
                height: 284
            })
        );
    }
}
