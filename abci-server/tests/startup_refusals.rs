//! `nodeopd start` refuses a home it cannot run from with one line that names the file and the
//! fix, before it writes anything to the store: a damaged store file (overwritten, truncated),
//! a store of an earlier format, an app.toml with a bad value, a home written by a newer nodeopd, and a store ahead of or
//! behind CometBFT's block store by more than a replay can fix.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nodeop_app::state::{Changes, Storage};

/// A home with what `start` reads before it serves: app.toml, an empty data dir, and
/// CometBFT's config dir.
fn home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    std::fs::create_dir_all(home.join("app/data")).unwrap();
    std::fs::create_dir_all(home.join("cometbft/config")).unwrap();
    std::fs::create_dir_all(home.join("cometbft/data")).unwrap();
    // port 0: a start that is not refused listens anywhere and is stopped by the test
    std::fs::write(
        home.join("app/app.toml"),
        "[abci]\nladdr = \"tcp://127.0.0.1:0\"\n",
    )
    .unwrap();
    (dir, home)
}

/// A store committed through `height` (genesis at 0).
fn store_at(home: &Path, height: u64) {
    let mut s = Storage::open(&home.join("app/data/state.redb")).unwrap();
    for h in 0..=height {
        let mut c = Changes::new();
        for i in 0..200u32 {
            c.insert(
                format!("k/{h}/{i:04}").into_bytes(),
                Some(vec![h as u8; 64]),
            );
        }
        let p = s.prepare(h, c, (h == 0).then_some(0)).unwrap();
        s.commit(p).unwrap();
    }
}

/// A goleveldb journal in CometBFT's block store holding one `blockStore` record.
fn block_store(home: &Path, base: u64, height: u64) {
    let varint = |mut v: u64, out: &mut Vec<u8>| loop {
        if v < 0x80 {
            out.push(v as u8);
            break;
        }
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    };
    let mut state = vec![0x08];
    varint(base, &mut state);
    state.push(0x10);
    varint(height, &mut state);
    let mut batch = 7u64.to_le_bytes().to_vec();
    batch.extend_from_slice(&1u32.to_le_bytes());
    batch.push(1);
    batch.push(10);
    batch.extend_from_slice(b"blockStore");
    batch.push(state.len() as u8);
    batch.extend_from_slice(&state);
    let mut record = vec![0u8; 4];
    record.extend_from_slice(&(batch.len() as u16).to_le_bytes());
    record.push(1);
    record.extend_from_slice(&batch);
    let dir = home.join("cometbft/data/blockstore.db");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("000001.log"), record).unwrap();
}

/// Runs `nodeopd start`; returns its stderr if it exits within 20 s, or stops it and panics.
fn start_refused(home: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nodeopd"))
        .args(["start", "--home"])
        .arg(home)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!status.success(), "start succeeded: {err}");
            return err;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            let out = child.wait_with_output().unwrap();
            panic!(
                "nodeopd start was not refused:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The refusal is one line (the `nodeopd: error:` line), naming `file` and saying `fix`.
fn assert_one_line(err: &str, file: &Path, fix: &str) {
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "more than one line:\n{err}");
    let line = lines[0];
    assert!(line.starts_with("nodeopd: error: "), "{line}");
    assert!(
        line.contains(&file.display().to_string()),
        "the line does not name {}: {line}",
        file.display()
    );
    assert!(line.contains(fix), "the line does not say {fix:?}: {line}");
}

#[test]
fn an_overwritten_store_file_is_refused_and_left_as_it_was() {
    let (_dir, home) = home();
    store_at(&home, 3);
    let path = home.join("app/data/state.redb");
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().take(8192) {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = start_refused(&home);
    assert_one_line(&err, &path, "restore it from a backup");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the store was written"
    );
}

#[test]
fn a_store_of_an_earlier_format_is_refused_and_left_as_it_was() {
    let (_dir, home) = home();
    store_at(&home, 3);
    let path = home.join("app/data/state.redb");
    // format 1 files carry no `format` in their meta table
    {
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
            let mut meta = tx.open_table(meta).unwrap();
            assert!(meta.remove("format").unwrap().is_some());
        }
        tx.commit().unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let err = start_refused(&home);
    assert_one_line(&err, &path, "of store format 1");
    assert!(err.contains("CometBFT replays its stored blocks"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the store was written"
    );
}

#[test]
fn a_truncated_store_file_is_refused_and_left_as_it_was() {
    let (_dir, home) = home();
    store_at(&home, 3);
    let path = home.join("app/data/state.redb");
    let bytes = std::fs::read(&path).unwrap();
    let truncated = &bytes[..bytes.len() * 2 / 3];
    std::fs::write(&path, truncated).unwrap();
    let err = start_refused(&home);
    assert_one_line(&err, &path, "restore it from a backup");
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        truncated,
        "the store was written"
    );
    // an empty file too
    std::fs::write(&path, b"").unwrap();
    assert_one_line(&start_refused(&home), &path, "restore it from a backup");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn an_app_toml_with_a_bad_value_names_the_line_and_the_fix() {
    let (_dir, home) = home();
    let path = home.join("app/app.toml");
    for (text, says) in [
        (
            "[state_sync]\nsnapshot_interval = -5\n",
            "snapshot_interval = -5",
        ),
        ("[app]\nkeep_recent = \"many\"\n", "keep_recent"),
        ("[mempool]\nmax_txs = 10\nmax_txz = 3\n", "max_txz"),
        (
            "[state_sync]\nsnapshot_chunk_bytes = 5\n",
            "snapshot_chunk_bytes = 5",
        ),
        ("[abci]\nladdr = \"unix:///tmp/x\"\n", "only tcp://"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = start_refused(&home);
        assert_one_line(&err, &path, says);
    }
    assert!(
        !home.join("app/data/state.redb").exists(),
        "a store was created"
    );
}

#[test]
fn a_home_written_by_a_newer_nodeopd_is_refused() {
    let (_dir, home) = home();
    let path = home.join("app/VERSION");
    std::fs::write(&path, "home-format 99\nwritten-by nodeopd 9.0.0\n").unwrap();
    let err = start_refused(&home);
    assert_one_line(&err, &path, "run that newer nodeopd");
    assert!(err.contains("nodeopd 9.0.0"), "{err}");
    assert!(!home.join("app/data/state.redb").exists());
    std::fs::write(&path, "something else\n").unwrap();
    assert_one_line(&start_refused(&home), &path, "home-format");
}

#[test]
fn a_store_ahead_of_cometbfts_block_store_is_refused_without_a_write() {
    let (_dir, home) = home();
    store_at(&home, 30);
    let path = home.join("app/data/state.redb");
    let before = std::fs::read(&path).unwrap();
    // CometBFT's data was wiped: no block store at all
    let err = start_refused(&home);
    assert_one_line(&err, &path, "put back the CometBFT data directory");
    assert!(err.contains("height 30"), "{err}");
    // CometBFT's block store ends below the store (an older backup of CometBFT's data)
    block_store(&home, 1, 12);
    let err = start_refused(&home);
    assert_one_line(&err, &path, "ahead of CometBFT's block store");
    assert!(err.contains("(height 12)"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the store was written"
    );
}

#[test]
fn a_store_behind_the_base_of_cometbfts_block_store_is_refused_without_a_write() {
    let (_dir, home) = home();
    store_at(&home, 30);
    let path = home.join("app/data/state.redb");
    let before = std::fs::read(&path).unwrap();
    // CometBFT's blocks start at 500 (it state-synced, or pruned): 31..499 cannot be replayed
    block_store(&home, 500, 620);
    let err = start_refused(&home);
    assert_one_line(&err, &path, "cannot be replayed");
    assert!(err.contains("starts at height 500"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the store was written"
    );
    // an empty store under a block store that does not start at genesis: the same
    std::fs::remove_file(&path).unwrap();
    let err = start_refused(&home);
    assert_one_line(&err, &path, "cannot be replayed");
    assert!(!path.exists(), "a store was created");
}
