//! Benchmark: blocks of signed transfers through the real App (decode, verify, execute, new root,
//! commit to a file store), at several state sizes. Prints a table; asserts nothing about speed.
//!
//! usage: cargo run --release -p nodeop-tests --bin bench-transfers -- [--sizes 10000,100000,1000000]
//!        [--threads 1,2] [--blocks 3]
//!
//! To profile only the timed blocks: `mkfifo /tmp/ctl; BENCH_PERF_CTL=/tmp/ctl perf record
//! --control fifo:/tmp/ctl -D -1 -g -- target/release/bench-transfers …`.
//!
//! Each row is `--blocks` consecutive blocks (3 by default). Columns: `finalize` is FinalizeBlock (every tx
//! decoded, signature-checked, executed on overlays, the tree's new root and nodes computed on
//! the store's live tree, nothing written), `commit` is Commit (what CometBFT waits for: the block
//! handed to the store's writer thread, which writes its nodes, value records, index, root and
//! height in one durable redb transaction while the next block runs), both per block; `flush` is the wait, after the last Commit, until
//! that block is written. `tx/s` is the row's txs over the whole time, flush included, so every
//! write is paid for (the more blocks a row has, the nearer it comes to a node's sustained rate,
//! where each write overlaps the next block and no final wait is left over). `cold` blocks verify every signature; `warm` blocks arrive after
//! CheckTx saw their txs, as on a validator whose mempool received them, and skip
//! re-verification through the signature cache. `threads` is `verify_threads` and `hash_threads`:
//! how many threads decode and verify a block's txs while it executes and hash and encode its
//! new tree after (execution is one thread). `cpu ms/block` is the CPU time of the whole process
//! (every thread, the writer's included) over the row, per block: with C cores a block cannot
//! take less wall time than that over C. `MB written/block` is what the process handed to the
//! kernel's `write` calls per block (the store's dirty pages).

#![allow(clippy::float_arithmetic)] // timing arithmetic in a benchmark, not in the state machine

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use nodeop_app::crypto::Verifier;
use nodeop_app::state::Storage;
use nodeop_app::tx::Tx;
use nodeop_app::AppOptions;
use nodeop_driver::chain::{genesis, TestChain};
use nodeop_driver::rng::Rng;
use nodeop_driver::workload::Population;

const SENDERS: usize = 10_000;
/// Consecutive blocks per row by default: each block's write overlaps the next block, as on a
/// node.
const BLOCKS: usize = 3;

fn main() {
    let mut sizes = vec![10_000usize, 100_000, 1_000_000];
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sizes") {
        sizes = args
            .get(i + 1)
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or(sizes);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1usize, cores];
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        threads = args
            .get(i + 1)
            .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or(threads);
    }
    threads.dedup();
    let blocks = args
        .iter()
        .position(|a| a == "--blocks")
        .and_then(|i| args.get(i + 1))
        .and_then(|b| b.parse().ok())
        .unwrap_or(BLOCKS)
        .max(1);
    println!("nodeop bench-transfers (release build, {cores} cores, {blocks} blocks a row)\n");
    signature_rates();
    println!();
    println!(
        "| accounts | block txs | sigs | threads | finalize ms | commit ms | flush ms | tx/s | cpu ms/block | MB written/block | ok txs |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut reads = Vec::new();
    for &n in &sizes {
        reads.push(run_size(n, &threads, blocks));
    }
    println!();
    println!("Reads from the file store after the blocks above (µs per read, {READS} reads each):");
    println!();
    println!("| accounts | value at the newest height | value 5 heights back | with proof (present) | with proof (absent) |");
    println!("|---:|---:|---:|---:|---:|");
    for r in reads {
        println!("{r}");
    }
}

/// Reads per kind in the reads table.
const READS: usize = 2_000;

/// One row of the reads table: account values at the newest and an older height, and with
/// proofs of presence and of absence, read from the store as queries read them.
fn reads_row(
    accounts: usize,
    storage: &Storage,
    addresses: &[nodeop_app::crypto::Address],
) -> String {
    use nodeop_app::modules::bank::keys;
    let height = storage.committed().expect("committed").height;
    let keys: Vec<Vec<u8>> = addresses
        .iter()
        .step_by((addresses.len() / READS).max(1))
        .take(READS)
        .map(keys::account)
        .collect();
    let time = |f: &dyn Fn(&[u8])| -> f64 {
        let t = Instant::now();
        for k in &keys {
            f(k);
        }
        t.elapsed().as_secs_f64() * 1e6 / keys.len() as f64
    };
    let newest = time(&|k| {
        assert!(storage.get_at(k, height).expect("read").is_some());
    });
    let older = time(&|k| {
        assert!(storage.get_at(k, height - 5).expect("read").is_some());
    });
    let present = time(&|k| {
        assert!(storage
            .get_with_proof(k, height)
            .expect("proof")
            .0
            .is_some());
    });
    let absent = time(&|k| {
        let mut missing = k.to_vec();
        missing.push(0);
        assert!(storage
            .get_with_proof(&missing, height)
            .expect("proof")
            .0
            .is_none());
    });
    format!("| {accounts} | {newest:.1} | {older:.1} | {present:.1} | {absent:.1} |")
}

/// CPU time of the whole process so far (every thread, user and system), in milliseconds, from
/// `/proc/self/stat` (0 where there is none).
fn process_cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the command name (which is in parentheses): utime and stime are 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // the kernel reports clock ticks of 1/100 s (USER_HZ) on Linux
    (ticks(11) + ticks(12)) * 10.0
}

/// Bytes the process has handed to `write`-like calls so far (`wchar` of `/proc/self/io`: the
/// store's pages, before the kernel writes them out; 0 where there is none).
fn process_written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// With `BENCH_PERF_CTL` set to the control FIFO of `perf record --control fifo:PATH -D -1`,
/// perf samples only the timed blocks (not genesis, signing or setup).
fn perf_control(command: &str) {
    if let Some(path) = std::env::var_os("BENCH_PERF_CTL") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) {
            let _ = writeln!(f, "{command}");
        }
    }
}

fn signature_rates() {
    let mut rng = Rng::new(1);
    let pop = Population::new(&mut rng, 200, 0);
    let params = nodeop_app::params::TxParams::default();
    let mut p = pop;
    let txs: Vec<Tx> = p
        .transfers(&mut rng, &params, 5_000)
        .iter()
        .map(|b| borsh::from_slice(b).unwrap())
        .collect();
    let digests: Vec<[u8; 32]> = txs.iter().map(|t| t.body.sign_bytes()).collect();

    let v = Verifier::default();
    let t = Instant::now();
    for (tx, d) in txs.iter().zip(&digests) {
        v.verify(&tx.pubkey, d, &tx.signature).unwrap();
    }
    let secp = txs.len() as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    for (tx, d) in txs.iter().zip(&digests) {
        let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&tx.pubkey).unwrap();
        let sig = k256::ecdsa::Signature::from_slice(&tx.signature).unwrap();
        key.verify_prehash(d, &sig).unwrap();
    }
    let k256 = txs.len() as f64 / t.elapsed().as_secs_f64();
    println!("| secp256k1 verification | per second |");
    println!("|---|---:|");
    println!("| libsecp256k1 (`secp256k1` 0.31, used by the app) | {secp:.0} |");
    println!("| pure Rust (`k256` 0.13) | {k256:.0} |");
}

fn run_size(accounts: usize, threads: &[usize], row_blocks: usize) -> String {
    let mut rng = Rng::new(accounts as u64);
    let senders = SENDERS.min(accounts);
    let mut pop = Population::new(&mut rng, senders, accounts - senders);
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = Storage::open(&dir.path().join("state.redb")).expect("store");
    let options = AppOptions {
        check_invariants: false,
        verify_threads: threads[0],
        hash_threads: threads[0],
        // a warm block of 10k txs goes through CheckTx first: no mempool bound here
        mempool: nodeop_app::MempoolLimits {
            max_txs: u64::MAX,
            max_txs_bytes: u64::MAX,
        },
        ..AppOptions::default()
    };
    let t = Instant::now();
    let mut chain = TestChain::start_on(storage, options, &genesis(&pop.genesis_accounts()));
    eprintln!(
        "  genesis with {accounts} accounts: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let params = chain.params();
    // warm the store's caches with one block
    let warmup = pop.transfers(&mut rng, &params, 1_000);
    chain.finalize_and_commit(warmup);

    let mut runs = Vec::new();
    for &t in threads {
        runs.extend([(1_000, false, t), (10_000, false, t)]);
    }
    runs.push((10_000, true, threads[0]));
    for (txs_per_block, warm, t) in runs {
        chain.app.set_verify_threads(t);
        chain.app.set_hash_threads(t);
        let blocks: Vec<Vec<Vec<u8>>> = (0..row_blocks)
            .map(|_| pop.transfers(&mut rng, &params, txs_per_block))
            .collect();
        if warm {
            for tx in blocks.iter().flatten() {
                let out = chain.check(tx);
                assert!(out.is_ok(), "CheckTx refused a warm tx: {}", out.log);
            }
        }
        // nothing of an earlier row still being written
        chain.app.storage().flush().expect("flush");
        perf_control("enable");
        let (cpu0, written0) = (process_cpu_ms(), process_written_bytes());
        let (mut fin, mut com, mut ok) = (0.0, 0.0, 0);
        for txs in blocks {
            let req = chain.next_request(txs);
            let t0 = Instant::now();
            let resp = chain.app.finalize_block(&req).expect("finalize");
            let t1 = Instant::now();
            chain.commit(&req, &resp);
            let t2 = Instant::now();
            ok += resp.tx_results.iter().filter(|r| r.is_ok()).count();
            fin += (t1 - t0).as_secs_f64() * 1e3;
            com += (t2 - t1).as_secs_f64() * 1e3;
        }
        let t3 = Instant::now();
        chain.app.storage().flush().expect("flush");
        let flush = t3.elapsed().as_secs_f64() * 1e3;
        perf_control("disable");
        let cpu = process_cpu_ms() - cpu0;
        let written = (process_written_bytes() - written0) as f64 / 1e6;
        let total = fin + com + flush;
        let n = row_blocks as f64;
        println!(
            "| {accounts} | {txs_per_block} | {} | {t} | {:.0} | {:.0} | {flush:.0} | {:.0} | {:.0} | {:.1} | {ok} |",
            if warm { "warm" } else { "cold" },
            fin / n,
            com / n,
            (row_blocks * txs_per_block) as f64 / (total / 1e3),
            cpu / n,
            written / n
        );
    }
    chain.app.storage().flush().expect("flush");
    let addresses: Vec<_> = pop.genesis_accounts().iter().map(|(a, _)| *a).collect();
    reads_row(accounts, chain.app.storage(), &addresses)
}
