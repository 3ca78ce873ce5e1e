//! Benchmark: the Session task lifecycle through the real App (FinalizeBlock + Commit to a file
//! store), in two modes run one after the other on fresh chains, each printing the same table:
//!
//! - `plain`: every task is one `PostTask`, three `CommitResult`s, three `RevealResult`s and one
//!   `ConfirmSubmission`, each its own signed tx, sent in the first block its window allows.
//! - `auction`: the same tasks, but half of the member slots are sold in Dutch auctions
//!   (docs/coprocessors.md) to honest coprocessors registered at genesis, which then commit and
//!   reveal for the slots they bought. Members 0 and 2 of even-numbered tasks and member 1 of
//!   odd-numbered ones (1.5 slots per task) send `OpenAuction` in the block after the post,
//!   starting at the member's expected pay and falling to half of it. From the next block on,
//!   until the slot is sold, the next `--bidders` coprocessors in turn that may bid at that
//!   height (`bid_refusal`, the node's own check: capacity, collateral, early access by free
//!   capacity, one slot per task) send `Bid`; the block's settlement picks the winner, which
//!   commits in the next block and reveals with the members. An auction that expires unsold
//!   gives the slot back to its member, who commits itself.
//!
//! Tasks are pipelined: every block posts `--tasks-per-block` new tasks and carries the commits,
//! reveals and confirmations (and auction txs) of the tasks posted before, so that once the
//! pipeline is full each block holds every stage. Asserts nothing about speed, but every tx must
//! succeed, every task must end `delivered` (a benchmark of failing txs measures nothing), and in
//! `auction` mode every auction opened must be won or expired and every won slot paid.
//!
//! usage: cargo run --release -p nodeop-tests --bin bench-tasks -- \
//!            [--mode both|plain|auction] [--tasks-per-block 100] [--blocks 60] \
//!            [--operators 100] [--warm] [--keep-recent K] \
//!            [--coprocessors 10] [--bidders 2] [--coprocessor-capacity 1000]
//!
//! The genesis has `--operators` bonded operators (10_000 NOP each, capacity 100 units; all
//! of them validators signing every block) and one client account per task posted in a block;
//! in `auction` mode also `--coprocessors` coprocessors with `--coprocessor-capacity` units and
//! 10_000 NOP of free collateral each (with the defaults every auction is sold in the block after
//! its opening, one price step down). Tasks are Session (committee of 3, quorum 2), Exact,
//! difficulty 1, a 64-byte inline payload, and pay twice the unit price of the block before (the
//! price moves by at most 1/8 a block). Blocks are 1 s of BFT time apart, so epochs (devnet:
//! 10 s) and their payouts run too.
//!
//! Phases of the table: `fill` are the blocks before the first task is delivered, `steady`
//! the blocks where new tasks are posted and earlier ones delivered, `drain` the blocks after
//! the last post. `tasks/s` is tasks delivered per second of FinalizeBlock + Commit time;
//! `txs/s` counts every tx of the phase. The auction columns count the blocks' events:
//! `auction_opened`, `bid_placed`, `auction_won`, `auction_expired`, and the prices of
//! `coprocessor_paid` (what coprocessors earned, in NOP). Signing, block building and reading
//! committees, auctions and coprocessors back are outside the timed part. By default every
//! signature is verified in FinalizeBlock (`cold`, as on a validator that did not see the txs in
//! its mempool); with `--warm` every tx goes through CheckTx first (untimed) and FinalizeBlock
//! finds its signature in the cache.

#![allow(clippy::float_arithmetic)] // timing arithmetic in a benchmark, not in the state machine

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nodeop_app::app::BlockResponse;
use nodeop_app::crypto::Address;
use nodeop_app::modules::coprocessors::{
    events as copro_events, handler as copro_handler, state as copro, AuctionStatus,
};
use nodeop_app::modules::tasks::{
    keys, state as tasks, Consistency, MsgPostTask, TaskKind, TaskPayload, TaskStatus, TasksParams,
};
use nodeop_app::params::TxParams;
use nodeop_app::state::{StateRead, StateReadExt, Storage, StoreOptions};
use nodeop_app::tx::Msg;
use nodeop_app::AppOptions;
use nodeop_driver::chain::{add_genesis_operator, consensus_key, genesis, Key, TestChain};
use nodeop_driver::coprocessors::{add_genesis_coprocessor, bid, open};
use nodeop_driver::tasks::{events_of, NOP};

const SELF_BOND: u128 = 10_000 * NOP;
/// Each coprocessor's free collateral at genesis.
const COPROCESSOR_COLLATERAL: u128 = 10_000 * NOP;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Every member commits and reveals its own slot.
    Plain,
    /// Half of the member slots are sold to coprocessors.
    Auction,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Auction => "auction",
        }
    }
}

struct Options {
    modes: Vec<Mode>,
    tasks_per_block: usize,
    blocks: u64,
    operators: usize,
    /// CheckTx sees every tx before its block (as on a validator whose mempool received them),
    /// so FinalizeBlock finds the signatures in the cache.
    warm: bool,
    /// The store keeps the last `keep_recent` heights (0 = every height).
    keep_recent: u64,
    /// Coprocessors registered at genesis (auction mode).
    coprocessors: usize,
    /// Coprocessors that bid on an unsold auction in each block.
    bidders: usize,
    coprocessor_capacity: u64,
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
    let modes = match args.iter().position(|a| a == "--mode") {
        None => vec![Mode::Plain, Mode::Auction],
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("both") => vec![Mode::Plain, Mode::Auction],
            Some("plain") => vec![Mode::Plain],
            Some("auction") => vec![Mode::Auction],
            other => panic!("--mode is both, plain or auction, not {other:?}"),
        },
    };
    Options {
        modes,
        tasks_per_block: value("--tasks-per-block", 100) as usize,
        blocks: value("--blocks", 60),
        operators: value("--operators", 100) as usize,
        warm: args.iter().any(|a| a == "--warm"),
        keep_recent: value("--keep-recent", 0),
        coprocessors: value("--coprocessors", 10) as usize,
        bidders: value("--bidders", 2) as usize,
        coprocessor_capacity: value("--coprocessor-capacity", 1_000),
    }
}

/// A signer with its next nonce.
struct Account {
    key: Key,
    nonce: u64,
}

/// Who signs a slot's commit and reveal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signer {
    Operator(usize),
    Coprocessor(usize),
}

/// What the driver does next for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Each slot moves on its own (auction, bids, commit) until every slot has committed.
    Commit,
    Reveal,
    Confirm,
}

/// What the driver does next for one slot while its task is in the commit stage.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SlotStep {
    /// The member puts the slot up for auction.
    Open,
    /// Coprocessors bid on the slot's auction; `tried` have bid already.
    Bid {
        auction: u64,
        tried: Vec<usize>,
    },
    /// The holder commits.
    Commit,
    Committed,
}

struct Slot {
    /// The member's operator index.
    member: usize,
    salt: [u8; 32],
    /// Who commits and reveals: the member, or the coprocessor that bought the slot.
    holder: Signer,
    step: SlotStep,
    /// The first height the step's txs may be sent in.
    at: u64,
    /// The step's txs went into this block.
    sent_in: Option<u64>,
}

struct Pending {
    id: u64,
    slots: Vec<Slot>,
    result: Vec<u8>,
    /// The auctions' start (the member's expected pay) and floor (half of it).
    start_price: u128,
    floor_price: u128,
    /// The member that confirms the submission (the first of the schedule).
    submitter: usize,
    stage: Stage,
    /// The first height the reveal or the confirmation may be sent in.
    at: u64,
    /// The reveals or the confirmation went into this block.
    sent_in: Option<u64>,
}

/// Auction events of some blocks.
#[derive(Clone, Copy, Default)]
struct Auctions {
    opened: u64,
    bids: u64,
    won: u64,
    expired: u64,
    /// `coprocessor_paid` events, and the sum of their prices.
    paid: u64,
    pay: u128,
}

impl Auctions {
    fn of(resp: &BlockResponse) -> Self {
        let count = |kind| events_of(resp, kind).count() as u64;
        let pay = events_of(resp, copro_events::COPROCESSOR_PAID)
            .map(|e| {
                e.get("price")
                    .and_then(|p| p.parse::<u128>().ok())
                    .expect("a coprocessor_paid event carries its price")
            })
            .sum();
        Self {
            opened: count(copro_events::AUCTION_OPENED),
            bids: count(copro_events::BID_PLACED),
            won: count(copro_events::AUCTION_WON),
            expired: count(copro_events::AUCTION_EXPIRED),
            paid: count(copro_events::COPROCESSOR_PAID),
            pay,
        }
    }

    fn add(&mut self, o: &Auctions) {
        self.opened += o.opened;
        self.bids += o.bids;
        self.won += o.won;
        self.expired += o.expired;
        self.paid += o.paid;
        self.pay += o.pay;
    }
}

#[derive(Default)]
struct Phase {
    blocks: u64,
    txs: u64,
    delivered: u64,
    finalize: Duration,
    commit: Duration,
    max_block: Duration,
    auctions: Auctions,
}

const TABLE_HEADER: &str = "| phase | blocks | txs/block | finalize ms | commit ms | block ms | \
    max block ms | delivered | tasks/s | txs/s | auctions | bids | won | expired | \
    copro pay NOP |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

impl Phase {
    fn add(&mut self, txs: usize, delivered: u64, finalize: Duration, commit: Duration) {
        self.blocks += 1;
        self.txs += txs as u64;
        self.delivered += delivered;
        self.finalize += finalize;
        self.commit += commit;
        self.max_block = self.max_block.max(finalize + commit);
    }

    fn merge(&mut self, o: &Phase) {
        self.blocks += o.blocks;
        self.txs += o.txs;
        self.delivered += o.delivered;
        self.finalize += o.finalize;
        self.commit += o.commit;
        self.max_block = self.max_block.max(o.max_block);
        self.auctions.add(&o.auctions);
    }

    fn tasks_per_s(&self) -> f64 {
        self.delivered as f64 / (self.finalize + self.commit).as_secs_f64()
    }

    fn block_ms(&self) -> f64 {
        (self.finalize + self.commit).as_secs_f64() * 1e3 / self.blocks as f64
    }

    fn row(&self, name: &str) {
        if self.blocks == 0 {
            return;
        }
        let b = self.blocks as f64;
        let fin = self.finalize.as_secs_f64() * 1e3 / b;
        let com = self.commit.as_secs_f64() * 1e3 / b;
        let secs = (self.finalize + self.commit).as_secs_f64();
        let a = &self.auctions;
        println!(
            "| {name} | {} | {:.0} | {fin:.1} | {com:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} | \
             {} | {} | {} | {} | {:.3} |",
            self.blocks,
            self.txs as f64 / b,
            fin + com,
            self.max_block.as_secs_f64() * 1e3,
            self.delivered,
            self.tasks_per_s(),
            self.txs as f64 / secs,
            a.opened,
            a.bids,
            a.won,
            a.expired,
            a.pay as f64 / NOP as f64,
        );
    }
}

struct Bench {
    mode: Mode,
    chain: TestChain,
    params: TxParams,
    tasks_params: TasksParams,
    operators: Vec<Account>,
    by_address: BTreeMap<Address, usize>,
    coprocessors: Vec<Account>,
    copro_by_address: BTreeMap<Address, usize>,
    /// Coprocessors asked per unsold auction and block.
    bidders: usize,
    /// The coprocessor the next bidder search starts at (round robin).
    next_bidder: usize,
    clients: Vec<Account>,
    pending: Vec<Pending>,
    posted: u64,
    delivered: u64,
    /// Slots put up for auction.
    offered: u64,
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

    fn copro_tx(&mut self, c: usize, msg: Msg) -> Vec<u8> {
        let tx = self.sign(&self.coprocessors[c], msg);
        self.coprocessors[c].nonce += 1;
        tx
    }

    fn signer_tx(&mut self, signer: Signer, msg: Msg) -> Vec<u8> {
        match signer {
            Signer::Operator(op) => self.op_tx(op, msg),
            Signer::Coprocessor(c) => self.copro_tx(c, msg),
        }
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

    /// The txs of every pending task and slot whose step is due at `height`.
    fn stage_txs(&mut self, height: u64) -> Vec<Vec<u8>> {
        let mut txs = Vec::new();
        for i in 0..self.pending.len() {
            let p = &self.pending[i];
            let (id, stage) = (p.id, p.stage);
            if stage == Stage::Commit {
                self.slot_txs(i, height, &mut txs);
                continue;
            }
            if p.sent_in.is_some() || p.at > height {
                continue;
            }
            match stage {
                Stage::Commit => unreachable!("slots are sent above"),
                Stage::Reveal => {
                    for s in 0..self.pending[i].slots.len() {
                        let p = &self.pending[i];
                        let slot = &p.slots[s];
                        let msg = Msg::reveal_result(id, &p.result, &slot.salt);
                        txs.push(self.signer_tx(slot.holder, msg));
                    }
                }
                Stage::Confirm => {
                    let op = self.pending[i].submitter;
                    let msg = Msg::confirm_submission(id, &format!("consumer#{id}"));
                    txs.push(self.op_tx(op, msg));
                }
            }
            self.pending[i].sent_in = Some(height);
        }
        txs
    }

    /// The txs of task `i`'s slots due at `height` (commit stage).
    fn slot_txs(&mut self, i: usize, height: u64, txs: &mut Vec<Vec<u8>>) {
        for s in 0..self.pending[i].slots.len() {
            let p = &self.pending[i];
            let slot = &p.slots[s];
            if slot.sent_in.is_some() || slot.at > height {
                continue;
            }
            let (id, member, holder) = (p.id, slot.member, slot.holder);
            match slot.step.clone() {
                SlotStep::Open => {
                    let msg = open(id, p.start_price, p.floor_price);
                    txs.push(self.op_tx(member, msg));
                }
                SlotStep::Bid { auction, tried } => {
                    let bidders = self.bidders_for(auction, &tried, height);
                    if bidders.is_empty() {
                        self.pending[i].slots[s].at = height + 1;
                        continue;
                    }
                    for &c in &bidders {
                        txs.push(self.copro_tx(c, bid(auction)));
                    }
                    if let SlotStep::Bid { tried, .. } = &mut self.pending[i].slots[s].step {
                        tried.extend(bidders);
                    }
                }
                SlotStep::Commit => {
                    let member = self.operators[member].key.address;
                    let msg = Msg::commit_result(id, &member, &p.result, &slot.salt);
                    txs.push(self.signer_tx(holder, msg));
                }
                SlotStep::Committed => continue,
            }
            self.pending[i].slots[s].sent_in = Some(height);
        }
    }

    /// Up to `bidders` coprocessors, in turn, that have not bid on `auction` yet and that the
    /// node would let bid in block `height` (read from the state after the block before, which
    /// the block's txs cannot make worse for a bidder: nothing in them reserves capacity or
    /// locks collateral before the block's settlement).
    fn bidders_for(&mut self, auction: u64, tried: &[usize], height: u64) -> Vec<usize> {
        let storage = self.chain.app.storage();
        let a = copro::auction(storage, auction).expect("an auction being bid on is in state");
        let n = self.coprocessors.len();
        let mut chosen = Vec::new();
        for k in 0..n {
            if chosen.len() == self.bidders {
                break;
            }
            let c = (self.next_bidder + k) % n;
            if tried.contains(&c) {
                continue;
            }
            let record = copro::coprocessor(storage, &self.coprocessors[c].key.address)
                .expect("registered at genesis");
            if copro_handler::bid_refusal(storage, &a, &record, height).is_none() {
                chosen.push(c);
            }
        }
        if let Some(&last) = chosen.last() {
            self.next_bidder = (last + 1) % n;
        }
        chosen
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

    /// After block `height`: new tasks enter the pipeline, sent stages advance, auctions that
    /// were sold or expired hand their slot to its holder. Returns how many tasks were
    /// delivered in the block.
    fn advance(&mut self, height: u64, first_new: u64, next_id: u64) -> u64 {
        let storage = self.chain.app.storage();
        let mut delivered = 0;
        let mut keep = Vec::with_capacity(self.pending.len());
        for mut p in std::mem::take(&mut self.pending) {
            match p.stage {
                Stage::Commit => {
                    for slot in &mut p.slots {
                        if slot.sent_in == Some(height) {
                            slot.sent_in = None;
                            match slot.step {
                                SlotStep::Open => {
                                    let member = &self.operators[slot.member].key.address;
                                    let a = copro::auction_of_slot(storage, p.id, member)
                                        .expect("the auction the member opened");
                                    assert_eq!(a.status, AuctionStatus::Open);
                                    slot.step = SlotStep::Bid {
                                        auction: a.id,
                                        tried: Vec::new(),
                                    };
                                    slot.at = height + 1;
                                }
                                SlotStep::Commit => slot.step = SlotStep::Committed,
                                SlotStep::Bid { .. } | SlotStep::Committed => {}
                            }
                        }
                        if let SlotStep::Bid { auction, .. } = slot.step {
                            let a = copro::auction(storage, auction).expect("an auction");
                            match a.status {
                                AuctionStatus::Open => slot.at = slot.at.max(height + 1),
                                AuctionStatus::Won => {
                                    let winner = a.winner.expect("a won auction's winner");
                                    slot.holder =
                                        Signer::Coprocessor(self.copro_by_address[&winner]);
                                    slot.step = SlotStep::Commit;
                                    slot.at = height + 1;
                                }
                                AuctionStatus::Expired => {
                                    slot.holder = Signer::Operator(slot.member);
                                    slot.step = SlotStep::Commit;
                                    slot.at = height + 1;
                                }
                                other => panic!(
                                    "auction {auction} of task {} is {} before its slot committed",
                                    p.id,
                                    other.name()
                                ),
                            }
                        }
                    }
                    if p.slots.iter().all(|s| s.step == SlotStep::Committed) {
                        let t = tasks::task(storage, p.id).expect("a pending task is in state");
                        p.stage = Stage::Reveal;
                        p.at = reveal_from(&t, height);
                    }
                }
                Stage::Reveal | Stage::Confirm if p.sent_in != Some(height) => {}
                Stage::Reveal => {
                    let t = tasks::task(storage, p.id).expect("a pending task is in state");
                    assert_eq!(
                        t.status,
                        TaskStatus::Finalized,
                        "task {} after its reveals in block {height}",
                        p.id
                    );
                    let s = t.submission.as_ref().expect("a finalized task's schedule");
                    p.submitter = self.by_address[&s.schedule[0]];
                    p.stage = Stage::Confirm;
                    p.at = height + 1;
                    p.sent_in = None;
                }
                Stage::Confirm => {
                    let t = tasks::task(storage, p.id).expect("a pending task is in state");
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
            let members = &t.current_round().members;
            let n = members.len();
            let start_price =
                copro_handler::expected_pay(t.fee, &self.tasks_params, n).expect("no overflow");
            let slots: Vec<Slot> = members
                .iter()
                .enumerate()
                .map(|(m, member)| {
                    let mut salt = [0u8; 32];
                    salt[..8].copy_from_slice(&id.to_be_bytes());
                    salt[8] = m as u8;
                    // half of all slots: members 0 and 2 of even tasks, member 1 of odd ones
                    let sold =
                        self.mode == Mode::Auction && (id as usize * n + m).is_multiple_of(2);
                    let op = self.by_address[&member.operator];
                    Slot {
                        member: op,
                        salt,
                        holder: Signer::Operator(op),
                        step: if sold {
                            SlotStep::Open
                        } else {
                            SlotStep::Commit
                        },
                        at: height + 1,
                        sent_in: None,
                    }
                })
                .collect();
            let offered = slots.iter().filter(|s| s.step == SlotStep::Open).count();
            assert!(
                offered == 0 || start_price > 0,
                "task {id}'s fee {} leaves no pay to auction",
                t.fee
            );
            self.offered += offered as u64;
            keep.push(Pending {
                id,
                slots,
                result: format!("the answer to task {id}").into_bytes(),
                start_price,
                floor_price: start_price / 2,
                submitter: 0,
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

/// The first height a reveal is accepted after the last commit in block `commit_height`: the
/// reveal window opens after the commit window, `(commit_end, reveal_end]`.
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

/// What one mode's run measured.
struct Summary {
    steady: Phase,
    all: Phase,
}

fn run(o: &Options, mode: Mode) -> Summary {
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
    let coprocessors: Vec<Account> = match mode {
        Mode::Plain => Vec::new(),
        Mode::Auction => (0..o.coprocessors)
            .map(|i| Account {
                key: Key::from_seed(&format!("bench coprocessor {i}")),
                nonce: 0,
            })
            .collect(),
    };
    let mut accounts: Vec<(Address, u128)> = clients
        .iter()
        .map(|c| (c.key.address, 1_000_000 * NOP))
        .collect();
    accounts.extend(operators.iter().map(|a| (a.key.address, 1_000 * NOP)));
    accounts.extend(coprocessors.iter().map(|a| (a.key.address, 1_000 * NOP)));
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
    for (i, c) in coprocessors.iter().enumerate() {
        add_genesis_coprocessor(
            &mut g,
            &c.key.address,
            &format!("bench-copro-{i}"),
            o.coprocessor_capacity,
            COPROCESSOR_COLLATERAL,
        );
    }

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
    let tasks_params = tasks::params(chain.app.storage());
    let by_address = operators
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.address, i))
        .collect();
    let copro_by_address = coprocessors
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.address, i))
        .collect();
    let mut b = Bench {
        mode,
        chain,
        params,
        tasks_params,
        operators,
        by_address,
        coprocessors,
        copro_by_address,
        bidders: o.bidders,
        next_bidder: 0,
        clients,
        pending: Vec::new(),
        posted: 0,
        delivered: 0,
        offered: 0,
    };
    let p = &b.tasks_params;
    match mode {
        Mode::Plain => println!("## plain: every member commits and reveals its own slot\n"),
        Mode::Auction => println!(
            "## auction: half of the member slots sold to {} coprocessors ({} units, {} NOP of \
             collateral each), {} bidder(s) per unsold auction and block\n",
            o.coprocessors,
            o.coprocessor_capacity,
            COPROCESSOR_COLLATERAL / NOP,
            o.bidders
        ),
    }
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
        phase.auctions.add(&Auctions::of(&resp));
        assert!(
            block < o.blocks + 1_000,
            "tasks still pending 1000 blocks after the last post"
        );
    }
    let wall = started.elapsed();
    assert_eq!(b.delivered, b.posted, "every task was delivered");

    println!("{TABLE_HEADER}");
    fill.row("fill");
    steady.row("steady");
    drain.row("drain");
    let mut all = Phase::default();
    for ph in [&fill, &steady, &drain] {
        all.merge(ph);
    }
    all.row("all");

    let a = &all.auctions;
    assert_eq!(
        a.opened, b.offered,
        "every slot put up for auction opened one"
    );
    assert_eq!(
        a.won + a.expired,
        a.opened,
        "every auction was won or expired"
    );
    assert_eq!(a.paid, a.won, "every coprocessor that won a slot was paid");
    if mode == Mode::Auction {
        println!(
            "\n{} of {} member slots auctioned; {:.2} bids per auction; {:.1} txs per delivered \
             task; coprocessors paid {:.3} NOP in all ({:.4} NOP per won slot)",
            a.opened,
            3 * b.posted,
            a.bids as f64 / a.opened.max(1) as f64,
            all.txs as f64 / b.delivered as f64,
            a.pay as f64 / NOP as f64,
            a.pay as f64 / NOP as f64 / a.won.max(1) as f64,
        );
    }

    let storage = b.chain.app.storage();
    let kv = storage.prefix_raw(b"", None, usize::MAX);
    let bytes: usize = kv.iter().map(|(k, v)| k.len() + v.len()).sum();
    let of_module = |prefix: &[u8]| {
        let keys = kv.iter().filter(|(k, _)| k.starts_with(prefix));
        let bytes: usize = keys.clone().map(|(k, v)| k.len() + v.len()).sum();
        (keys.count(), bytes as f64 / 1e6)
    };
    let (task_keys, task_mb) = of_module(b"tasks/");
    let (copro_keys, copro_mb) = of_module(b"coprocessors/");
    let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!();
    println!(
        "state after {} blocks and {} delivered tasks: {} keys, {:.1} MB of keys and values \
         (tasks/: {} keys, {:.1} MB; coprocessors/: {} keys, {:.1} MB); store file {:.1} MB \
         ({:.2} MB per block; {})",
        b.chain.height,
        b.delivered,
        kv.len(),
        bytes as f64 / 1e6,
        task_keys,
        task_mb,
        copro_keys,
        copro_mb,
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
    // the same arguments give the same chain: compare this line across builds and machines
    if let Some(c) = storage.committed() {
        println!(
            "app hash at height {}: {}",
            c.height,
            hex::encode_upper(c.app_hash)
        );
    }
    println!(
        "wall time {:.1} s (signing and driving included)\n",
        wall.as_secs_f64()
    );
    Summary { steady, all }
}

fn main() {
    let o = options();
    assert!(o.operators >= 3, "a Session committee needs 3 operators");
    if o.modes.contains(&Mode::Auction) {
        // a task of 3 members may sell 2 slots, each to a different coprocessor
        assert!(o.coprocessors >= 2, "--coprocessors must be at least 2");
        assert!(o.bidders >= 1, "--bidders must be at least 1");
    }
    println!(
        "nodeop bench-tasks ({} build; execution on one thread, signatures verified and the \
         tree hashed on {}): {} operators, {} Session tasks per block for {} blocks, {} \
         signatures, store keeps {}; modes: {}\n",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        },
        AppOptions::default().verify_threads,
        o.operators,
        o.tasks_per_block,
        o.blocks,
        if o.warm { "warm" } else { "cold" },
        if o.keep_recent == 0 {
            "every height".to_string()
        } else {
            format!("the last {} heights", o.keep_recent)
        },
        o.modes
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let runs: Vec<(Mode, Summary)> = o.modes.iter().map(|&m| (m, run(&o, m))).collect();
    if runs.len() > 1 {
        println!("## the modes side by side (steady phase, and all blocks)\n");
        println!(
            "| mode | txs/task | steady block ms | steady tasks/s | all block ms | all tasks/s | \
             auctions | won | expired | copro pay NOP |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (mode, s) in &runs {
            let a = &s.all.auctions;
            println!(
                "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.0} | {} | {} | {} | {:.3} |",
                mode.name(),
                s.all.txs as f64 / s.all.delivered as f64,
                s.steady.block_ms(),
                s.steady.tasks_per_s(),
                s.all.block_ms(),
                s.all.tasks_per_s(),
                a.opened,
                a.won,
                a.expired,
                a.pay as f64 / NOP as f64,
            );
        }
    }
}
