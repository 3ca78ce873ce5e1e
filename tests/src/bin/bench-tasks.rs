//! Benchmark: the Session task lifecycle through the real App (FinalizeBlock + Commit to a file
//! store). Every task is one `PostTask`, three `CommitResult`s, three `RevealResult`s and one
//! `ConfirmSubmission`, each its own signed tx, sent in the first block its window allows.
//! Tasks are pipelined: every block posts `--tasks-per-block` new tasks and carries the commits,
//! reveals and confirmations of the tasks posted before, so that once the pipeline is full each
//! block holds every stage. Prints a table; asserts nothing about speed, but every tx must
//! succeed and every task must end `delivered` (a benchmark of failing txs measures nothing).
//!
//! usage: cargo run --release -p nodeop-tests --bin bench-tasks -- \
//!            [--tasks-per-block 100] [--blocks 60] [--operators 100] [--warm] [--keep-recent K]
//!
//! The genesis has `--operators` bonded operators (10_000 NOP each, capacity 100 units; all
//! of them validators signing every block) and one client account per task posted in a block.
//! Tasks are Session (committee of 3, quorum 2), Exact, difficulty 1, a 64-byte inline payload,
//! and pay twice the unit price of the block before (the price moves by at most 1/8 a block).
//! Blocks are 1 s of BFT time apart, so epochs (devnet: 10 s) and their payouts run too.
//!
//! Phases of the table: `fill` are the blocks before the first task is delivered, `steady`
//! the blocks where new tasks are posted and earlier ones delivered, `drain` the blocks after
//! the last post. `tasks/s` is tasks delivered per second of FinalizeBlock + Commit time;
//! `txs/s` counts every tx of the phase. Signing, block building and reading the committees
//! back are outside the timed part. By default every signature is verified in FinalizeBlock
//! (`cold`, as on a validator that did not see the txs in its mempool); with `--warm` every tx
//! goes through CheckTx first (untimed) and FinalizeBlock finds its signature in the cache.

#![allow(clippy::float_arithmetic)] // timing arithmetic in a benchmark, not in the state machine

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nodeop_app::app::BlockResponse;
use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::{
    keys, state as tasks, Consistency, MsgPostTask, TaskKind, TaskPayload, TaskStatus,
};
use nodeop_app::params::TxParams;
use nodeop_app::state::{StateRead, StateReadExt, Storage, StoreOptions};
use nodeop_app::tx::Msg;
use nodeop_app::AppOptions;
use nodeop_driver::chain::{add_genesis_operator, consensus_key, genesis, Key, TestChain};
use nodeop_driver::tasks::NOP;

const SELF_BOND: u128 = 10_000 * NOP;

struct Options {
    tasks_per_block: usize,
    blocks: u64,
    operators: usize,
    /// CheckTx sees every tx before its block (as on a validator whose mempool received them),
    /// so FinalizeBlock finds the signatures in the cache.
    warm: bool,
    /// The store keeps the last `keep_recent` heights (0 = every height).
    keep_recent: u64,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| -> u64 {
        match args.iter().position(|a| a == name) {
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number")),
            None => default,
        }
    };
    Options {
        tasks_per_block: value("--tasks-per-block", 100) as usize,
        blocks: value("--blocks", 60),
        operators: value("--operators", 100) as usize,
        warm: args.iter().any(|a| a == "--warm"),
        keep_recent: value("--keep-recent", 0),
    }
}

/// A signer with its next nonce.
struct Account {
    key: Key,
    nonce: u64,
}

/// What the driver does next for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Commit,
    Reveal,
    Confirm,
}

struct Pending {
    id: u64,
    /// Operator indices of the committee.
    members: Vec<usize>,
    salts: Vec<[u8; 32]>,
    result: Vec<u8>,
    stage: Stage,
    /// The first height the stage's txs may be sent in.
    at: u64,
    /// The stage's txs went into this block.
    sent_in: Option<u64>,
}

#[derive(Default)]
struct Phase {
    blocks: u64,
    txs: u64,
    delivered: u64,
    finalize: Duration,
    commit: Duration,
    max_block: Duration,
}

impl Phase {
    fn add(&mut self, txs: usize, delivered: u64, finalize: Duration, commit: Duration) {
        self.blocks += 1;
        self.txs += txs as u64;
        self.delivered += delivered;
        self.finalize += finalize;
        self.commit += commit;
        self.max_block = self.max_block.max(finalize + commit);
    }

    fn row(&self, name: &str) {
        if self.blocks == 0 {
            return;
        }
        let b = self.blocks as f64;
        let fin = self.finalize.as_secs_f64() * 1e3 / b;
        let com = self.commit.as_secs_f64() * 1e3 / b;
        let secs = (self.finalize + self.commit).as_secs_f64();
        println!(
            "| {name} | {} | {:.0} | {fin:.1} | {com:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} |",
            self.blocks,
            self.txs as f64 / b,
            fin + com,
            self.max_block.as_secs_f64() * 1e3,
            self.delivered,
            self.delivered as f64 / secs,
            self.txs as f64 / secs,
        );
    }
}

struct Bench {
    chain: TestChain,
    params: TxParams,
    operators: Vec<Account>,
    by_address: BTreeMap<Address, usize>,
    clients: Vec<Account>,
    pending: Vec<Pending>,
    posted: u64,
    delivered: u64,
}

impl Bench {
    fn sign(&self, from: &Account, msg: Msg) -> Vec<u8> {
        from.key
            .tx(&self.chain.chain_id, &self.params, from.nonce, vec![msg])
    }

    fn op_tx(&mut self, op: usize, msg: Msg) -> Vec<u8> {
        let tx = self.sign(&self.operators[op], msg);
        self.operators[op].nonce += 1;
        tx
    }

    fn next_id(&self) -> u64 {
        self.chain.app.storage().get(keys::NEXT_ID).unwrap_or(1)
    }

    /// Runs one block (every validator of the previous block signed it); returns its response
    /// and the FinalizeBlock and Commit times.
    fn run_block(&mut self, txs: Vec<Vec<u8>>) -> (BlockResponse, Duration, Duration) {
        let req = self.chain.next_request(txs);
        let t0 = Instant::now();
        let resp = self.chain.app.finalize_block(&req).expect("FinalizeBlock");
        let t1 = Instant::now();
        self.chain.commit(&req, &resp);
        let t2 = Instant::now();
        (resp, t1 - t0, t2 - t1)
    }

    /// The txs of every pending task whose stage is due at `height`.
    fn stage_txs(&mut self, height: u64) -> Vec<Vec<u8>> {
        let mut txs = Vec::new();
        for i in 0..self.pending.len() {
            let p = &self.pending[i];
            if p.sent_in.is_some() || p.at > height {
                continue;
            }
            let (id, stage, members) = (p.id, p.stage, p.members.clone());
            match stage {
                Stage::Commit => {
                    for (m, &op) in members.iter().enumerate() {
                        let p = &self.pending[i];
                        let member = &self.operators[op].key.address;
                        let msg = Msg::commit_result(id, member, &p.result, &p.salts[m]);
                        txs.push(self.op_tx(op, msg));
                    }
                }
                Stage::Reveal => {
                    for (m, &op) in members.iter().enumerate() {
                        let p = &self.pending[i];
                        let msg = Msg::reveal_result(id, &p.result, &p.salts[m]);
                        txs.push(self.op_tx(op, msg));
                    }
                }
                Stage::Confirm => {
                    let op = members[0];
                    let msg = Msg::confirm_submission(id, &format!("consumer#{id}"));
                    txs.push(self.op_tx(op, msg));
                }
            }
            self.pending[i].sent_in = Some(height);
        }
        txs
    }

    fn post_txs(&mut self, n: usize) -> Vec<Vec<u8>> {
        let price = tasks::unit_price(self.chain.app.storage());
        (0..n)
            .map(|c| {
                let serial = self.posted + c as u64;
                let mut payload = format!("bench task {serial}: ").into_bytes();
                payload.resize(64, b'.');
                let msg = Msg::from(MsgPostTask {
                    kind: TaskKind::Exact,
                    consistency: Consistency::Session,
                    payload: TaskPayload::Inline(payload),
                    difficulty_units: 1,
                    min_reputation_ppm: 0,
                    fee: 2 * price,
                });
                let tx = self.sign(&self.clients[c], msg);
                self.clients[c].nonce += 1;
                tx
            })
            .collect()
    }

    /// After block `height`: new tasks enter the pipeline, sent stages advance. Returns how
    /// many tasks were delivered in the block.
    fn advance(&mut self, height: u64, first_new: u64, next_id: u64) -> u64 {
        let storage = self.chain.app.storage();
        let mut delivered = 0;
        let mut keep = Vec::with_capacity(self.pending.len());
        for mut p in std::mem::take(&mut self.pending) {
            if p.sent_in != Some(height) {
                keep.push(p);
                continue;
            }
            let t = tasks::task(storage, p.id).expect("a pending task is in state");
            p.sent_in = None;
            match p.stage {
                Stage::Commit => {
                    p.stage = Stage::Reveal;
                    p.at = reveal_from(&t, height);
                }
                Stage::Reveal => {
                    assert_eq!(
                        t.status,
                        TaskStatus::Finalized,
                        "task {} after its three reveals in block {height}",
                        p.id
                    );
                    let s = t.submission.as_ref().expect("a finalized task's schedule");
                    let first = s.schedule[0];
                    p.members = vec![self.by_address[&first]];
                    p.stage = Stage::Confirm;
                    p.at = height + 1;
                }
                Stage::Confirm => {
                    assert_eq!(
                        t.status,
                        TaskStatus::Delivered,
                        "task {} after its confirmation in block {height}",
                        p.id
                    );
                    delivered += 1;
                    continue;
                }
            }
            keep.push(p);
        }
        for id in first_new..next_id {
            let t = tasks::task(storage, id).expect("a posted task is in state");
            let round = t.current_round();
            let members: Vec<usize> = round
                .members
                .iter()
                .map(|m| self.by_address[&m.operator])
                .collect();
            let salts = (0..members.len())
                .map(|m| {
                    let mut s = [0u8; 32];
                    s[..8].copy_from_slice(&id.to_be_bytes());
                    s[8] = m as u8;
                    s
                })
                .collect();
            keep.push(Pending {
                id,
                members,
                salts,
                result: format!("the answer to task {id}").into_bytes(),
                stage: Stage::Commit,
                at: height + 1,
                sent_in: None,
            });
        }
        self.pending = keep;
        self.delivered += delivered;
        delivered
    }
}

/// The first height a reveal is accepted after commits in block `commit_height`: the reveal
/// window opens after the commit window, `(commit_end, reveal_end]`.
fn reveal_from(t: &tasks::Task, commit_height: u64) -> u64 {
    (t.current_round().commit_end + 1).max(commit_height + 1)
}

fn check_ok(resp: &BlockResponse, txs: usize, height: u64) {
    assert_eq!(resp.tx_results.len(), txs);
    if let Some((i, r)) = resp.tx_results.iter().enumerate().find(|(_, r)| !r.is_ok()) {
        let failed = resp.tx_results.iter().filter(|r| !r.is_ok()).count();
        panic!(
            "{failed} of {txs} txs failed in block {height}; tx {i}: {}/{} {}",
            r.codespace, r.code, r.log
        );
    }
}

fn main() {
    let o = options();
    assert!(o.operators >= 3, "a Session committee needs 3 operators");
    println!(
        "nodeop bench-tasks ({} build, one thread): {} operators, {} Session tasks per block \
         for {} blocks, {} signatures, store keeps {}\n",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        },
        o.operators,
        o.tasks_per_block,
        o.blocks,
        if o.warm { "warm" } else { "cold" },
        if o.keep_recent == 0 {
            "every height".to_string()
        } else {
            format!("the last {} heights", o.keep_recent)
        }
    );

    let operators: Vec<Account> = (0..o.operators)
        .map(|i| Account {
            key: if i == 0 {
                nodeop_driver::chain::genesis_operator().0
            } else {
                Key::from_seed(&format!("bench operator {i}"))
            },
            nonce: 0,
        })
        .collect();
    let clients: Vec<Account> = (0..o.tasks_per_block)
        .map(|i| Account {
            key: Key::from_seed(&format!("bench client {i}")),
            nonce: 0,
        })
        .collect();
    let mut accounts: Vec<(Address, u128)> = clients
        .iter()
        .map(|c| (c.key.address, 1_000_000 * NOP))
        .collect();
    accounts.extend(operators.iter().map(|a| (a.key.address, 1_000 * NOP)));
    let mut g = genesis(&accounts);
    for (i, op) in operators.iter().enumerate().skip(1) {
        let seed = format!("bench operator {i}");
        add_genesis_operator(
            &mut g,
            &op.key.address,
            consensus_key(&seed),
            &format!("op-{i}"),
            SELF_BOND,
        );
    }
    g.staking.params.max_validators = o.operators as u32;

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let storage = Storage::open_with(
        &path,
        StoreOptions {
            keep_recent: o.keep_recent,
        },
    )
    .expect("store");
    let app_options = AppOptions {
        check_invariants: false,
        ..AppOptions::default()
    };
    let chain = TestChain::start_on(storage, app_options, &g);
    let params = chain.params();
    let by_address = operators
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.address, i))
        .collect();
    let mut b = Bench {
        chain,
        params,
        operators,
        by_address,
        clients,
        pending: Vec::new(),
        posted: 0,
        delivered: 0,
    };
    let p = tasks::params(b.chain.app.storage());
    println!(
        "tasks params: commit_blocks {}, reveal_blocks {}, submission_window {}; unit price at \
         genesis {} unop\n",
        p.commit_blocks,
        p.reveal_blocks,
        p.submission_window,
        tasks::unit_price(b.chain.app.storage())
    );

    let (mut fill, mut steady, mut drain) = (Phase::default(), Phase::default(), Phase::default());
    let mut block = 0u64;
    let started = Instant::now();
    while block < o.blocks || !b.pending.is_empty() {
        block += 1;
        let height = b.chain.height + 1;
        let mut txs = b.stage_txs(height);
        let posting = block <= o.blocks;
        let first_new = b.next_id();
        if posting {
            txs.extend(b.post_txs(o.tasks_per_block));
            b.posted += o.tasks_per_block as u64;
        }
        let n = txs.len();
        if o.warm {
            for tx in &txs {
                let r = b.chain.check(tx);
                assert!(r.is_ok(), "CheckTx: {}/{} {}", r.codespace, r.code, r.log);
            }
        }
        let (resp, fin, com) = b.run_block(txs);
        check_ok(&resp, n, height);
        let next_id = b.next_id();
        if posting {
            assert_eq!(
                next_id - first_new,
                o.tasks_per_block as u64,
                "every post of block {height} made a task"
            );
        }
        let before = b.delivered;
        let delivered = b.advance(height, first_new, next_id);
        let phase = if !posting {
            &mut drain
        } else if before == 0 && delivered == 0 {
            &mut fill
        } else {
            &mut steady
        };
        phase.add(n, delivered, fin, com);
        assert!(
            block < o.blocks + 1_000,
            "tasks still pending 1000 blocks after the last post"
        );
    }
    let wall = started.elapsed();
    assert_eq!(b.delivered, b.posted, "every task was delivered");

    println!(
        "| phase | blocks | txs/block | finalize ms | commit ms | block ms | max block ms | \
         delivered | tasks/s | txs/s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    fill.row("fill");
    steady.row("steady");
    drain.row("drain");
    let mut all = Phase::default();
    for ph in [&fill, &steady, &drain] {
        all.blocks += ph.blocks;
        all.txs += ph.txs;
        all.delivered += ph.delivered;
        all.finalize += ph.finalize;
        all.commit += ph.commit;
        all.max_block = all.max_block.max(ph.max_block);
    }
    all.row("all");

    let storage = b.chain.app.storage();
    let kv = storage.prefix_raw(b"", None, usize::MAX);
    let bytes: usize = kv.iter().map(|(k, v)| k.len() + v.len()).sum();
    let task_keys = kv.iter().filter(|(k, _)| k.starts_with(b"tasks/")).count();
    let task_bytes: usize = kv
        .iter()
        .filter(|(k, _)| k.starts_with(b"tasks/"))
        .map(|(k, v)| k.len() + v.len())
        .sum();
    let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!();
    println!(
        "state after {} blocks and {} delivered tasks: {} keys, {:.1} MB of keys and values \
         (tasks/: {} keys, {:.1} MB); store file {:.1} MB ({:.2} MB per block; {})",
        b.chain.height,
        b.delivered,
        kv.len(),
        bytes as f64 / 1e6,
        task_keys,
        task_bytes as f64 / 1e6,
        file as f64 / 1e6,
        file as f64 / 1e6 / b.chain.height as f64,
        if o.keep_recent == 0 {
            "every past version stays readable".to_string()
        } else {
            format!("the last {} versions stay readable", o.keep_recent)
        }
    );
    let stats = storage.stats().expect("store stats");
    println!(
        "history tables: {} jmt_nodes, {} jmt_values, {} stale entries pending",
        stats.jmt_nodes, stats.jmt_values, stats.stale
    );
    println!(
        "wall time {:.1} s (signing and driving included)",
        wall.as_secs_f64()
    );
}
