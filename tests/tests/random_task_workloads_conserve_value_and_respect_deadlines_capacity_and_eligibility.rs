//! A property test: random task workloads over many blocks, with coprocessors buying committee
//! slots in Dutch auctions. Sixteen operators with fixed profiles (honest, liar, flaky, silent)
//! and varied capacities serve random posts of every consistency and kind (Exact and Numeric,
//! difficulty 1–2, with and without a reputation floor, fees at, above and below the price);
//! members commit and reveal at random heights in their windows (liars collude on one wrong
//! answer, flaky members sometimes commit late, only commit, or say nothing); scheduled
//! submitters deliver or miss their windows; accused operators dispute at random, which starts
//! re-executions.
//!
//! Five coprocessors register with collateral at random heights: two honest (they commit and
//! reveal the right result; they register alike, so their bids tie on reputation until their
//! records part), one lying (it reveals a wrong result of its own), one silent (it wins, then
//! never commits or reveals) and one overloaded (two units of capacity where the others have
//! three to seven; it bids on every auction it can, answers right or wrong, and above the
//! optimal load drops most of its commits and reveals, so its slashes are amplified). Committee
//! members auction their slots at random heights with random start and floor prices, and send
//! openings that must be refused (a zero start or a floor above the start — CheckTx refuses
//! those —, a start above the expected pay, too late in the commit window, a second auction of
//! the slot, from outside the committee, on a re-execution) and commits for a slot they offered.
//! Coprocessors bid at random heights: several in one block, in the opening block, before their
//! free capacity lets them, after the auction closed, twice, without the capacity, collateral or
//! reputation. Auctions nobody wins expire and the member commits itself. Coprocessors add and
//! withdraw collateral at random (more than is free, too). Registrations are refused too (below
//! the minimum collateral, capacity out of range or zero, twice). Epochs are short and the load
//! curve quick (see `run`), so load states move within a run.
//!
//! After every block (besides the app's own invariants, which the test chain checks after each
//! block, the coprocessors module's among them, halting on a broken one):
//! - **value**: Σ of every account's balance (module accounts included) == total supply ==
//!   genesis + minted − burned, and the supply never rises; `task_escrow` holds exactly the
//!   escrow of open tasks, a finished task holds none, and every finalized or failed task
//!   accounts for its fee to the unop;
//! - **deadlines**: every task is terminal by `posted + 2·(commit_blocks + reveal_blocks) +
//!   (max_fallbacks + 1)·submission_window`;
//! - **capacity**: no operator has more units reserved than its capacity, and its reserved units
//!   are exactly what its open duties hold;
//! - **eligibility**: every committee drawn in the block has the size its kind of round asks for,
//!   distinct members that are bonded, unjailed operators outside the excluded sets (earlier
//!   rounds; the original task of a re-execution), and a score at the draw (the recorded weight
//!   over the drawing power) at or above the task's floor;
//! - **coprocessors**, against a model the test keeps by the rules of `docs/coprocessors.md`:
//!   each coprocessor's free, locked and pending collateral, reserved units (never above its
//!   capacity), account balance, load state and reputation record; `coprocessor_collateral` ==
//!   Σ (free + locked + pending); every auction's status; every open auction belongs to an
//!   open, uncommitted, offered slot and every won one's slot is sold to its winner; the
//!   block's winner of each auction (ranked by reputation, free capacity, then
//!   `SHA-256(seed ‖ bidder)`; the first that can still take the slot) at the block's price,
//!   locking `⌈collateral_ppm × price⌉`; and each sold slot's close: an agreeing slot pays its
//!   buyer exactly the price and records a success, a disagreeing one slashes half the lock ×
//!   the load amplification, records a failure and halves the Byzantine factor, a missed commit
//!   or reveal slashes 10 % × the amplification, a round without quorum releases the lock; each
//!   records its duties, its commit's latency and its load.
//!
//! Txs that follow the rules must succeed; those that break them must be refused with their
//! codes. Over the seeded cases every coprocessor outcome must occur (the counts are printed per
//! case and in total). `PROPTEST_CASES` sets the number of cases (16 by default).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use nodeop_app::app::BlockResponse;
use nodeop_app::block::TxOutcome;
use nodeop_app::crypto::{sha256, Address};
use nodeop_app::modules::bank;
use nodeop_app::modules::coprocessors::{
    self as copro, events as cevents, keys as ckeys, settle, state as cstate, AuctionStatus,
    CoprocessorsError, CoprocessorsParams,
};
use nodeop_app::modules::reputation::component::epoch_step;
use nodeop_app::modules::reputation::{OperatorReputation, ReputationParams};
use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_app::modules::staking;
use nodeop_app::modules::tasks::state::{self as ts, Task};
use nodeop_app::modules::tasks::{
    self, keys, Consistency, MsgPostTask, TaskKind, TaskPayload, TaskStatus, TasksError,
    TasksParams,
};
use nodeop_app::state::StateRead;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::coprocessors::{
    add_collateral, bid, open, opened_id, register, withdraw_collateral, CoproGenesis,
    COPROCESSOR_BALANCE,
};
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{all_proposals, commit, numeric, reveal, tx_fee, TaskNet, NOP};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

const OPERATORS: usize = 16;
const CAPACITIES: [u64; OPERATORS] = [6, 3, 4, 8, 3, 7, 4, 5, 3, 8, 4, 6, 5, 3, 7, 4];
/// The floor of "picky" posts; honest operators stay far above it, a liar falls below it at its
/// first disagreement (its Byzantine factor halves).
const PICKY_PPM: u32 = 600_000;
/// One-second blocks: an epoch every 12 blocks, so coprocessor load states move within a run.
const EPOCH_SECONDS: i64 = 12;
const PPM: u128 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    Honest,
    Liar,
    Flaky,
    Silent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CoproProfile {
    /// Commits and reveals the right result.
    Honest,
    /// Commits and reveals a wrong result of its own.
    Lying,
    /// Never commits or reveals a slot it won.
    Silent,
    /// Little capacity, bids on every auction it can; answers right or wrong, and above the
    /// optimal load drops most of its commits and reveals.
    Overloaded,
}

const COPROCESSORS: [CoproProfile; 5] = [
    CoproProfile::Honest,
    CoproProfile::Honest,
    CoproProfile::Lying,
    CoproProfile::Silent,
    CoproProfile::Overloaded,
];

#[derive(Clone, Copy, Debug)]
enum FeeMode {
    AtPrice,
    Above(u32),
    Below,
}

#[derive(Clone, Debug)]
struct PostSpec {
    client: usize,
    consistency: u8,
    numeric: bool,
    difficulty: u64,
    picky: bool,
    fee: FeeMode,
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![
        4 => Just(Profile::Honest),
        1 => Just(Profile::Liar),
        1 => Just(Profile::Flaky),
        1 => Just(Profile::Silent),
    ]
}

fn post_spec() -> impl Strategy<Value = Option<PostSpec>> {
    let spec = (
        0..2usize,
        prop_oneof![3 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)],
        any::<bool>(),
        1..=2u64,
        prop_oneof![4 => Just(false), 1 => Just(true)],
        prop_oneof![
            4 => Just(FeeMode::AtPrice),
            2 => (1u32..5_000).prop_map(FeeMode::Above),
            1 => Just(FeeMode::Below),
        ],
    )
        .prop_map(
            |(client, consistency, numeric, difficulty, picky, fee)| PostSpec {
                client,
                consistency,
                numeric,
                difficulty,
                picky,
                fee,
            },
        );
    prop_oneof![1 => Just(None), 1 => spec.prop_map(Some)]
}

/// A refused `OpenAuction` a member (or an outsider) sends.
#[derive(Clone, Copy, Debug)]
enum BadOpen {
    ZeroStart,
    FloorAboveStart,
    AboveExpectedPay,
    TooLate,
    Outsider,
    Reexecution,
}

/// A member's sale of its slot.
#[derive(Clone, Debug)]
struct Sale {
    open_at: u64,
    start: u128,
    floor: u128,
    /// The member tries to commit in the block after the opening (refused: the slot is offered
    /// or sold).
    poke: bool,
    /// The member opens a second auction once the first is decided (refused).
    reopen: bool,
}

/// What one member (or the coprocessor holding its slot) does in one round.
#[derive(Clone, Debug)]
struct MemberPlan {
    commit_at: Option<u64>,
    reveal_at: Option<u64>,
    result: Vec<u8>,
    /// The commit is planned after the window: it must be refused.
    late: bool,
    sale: Option<Sale>,
    bad_open: Option<(u64, BadOpen)>,
}

/// A tx outcome: success (`None`) or a refusal's (codespace, code).
type Code = (&'static str, u32);

fn tasks_code(name: &str) -> Code {
    let e = TasksError::examples()
        .into_iter()
        .find(|e| e.name() == name)
        .unwrap_or_else(|| panic!("no tasks error {name}"));
    (tasks::CODESPACE, e.code())
}

fn copro_code(name: &str) -> Code {
    let e = CoprocessorsError::examples()
        .into_iter()
        .find(|e| e.name() == name)
        .unwrap_or_else(|| panic!("no coprocessors error {name}"));
    (copro::CODESPACE, e.code())
}

/// What a test expects of a tx.
#[derive(Clone, Debug)]
enum Expect {
    /// One of these outcomes (`None`: success).
    OneOf(Vec<Option<Code>>),
    Anything,
}

impl Expect {
    fn ok() -> Self {
        Expect::OneOf(vec![None])
    }

    fn refused(code: Code) -> Self {
        Expect::OneOf(vec![Some(code)])
    }

    fn ok_or(code: Code) -> Self {
        Expect::OneOf(vec![None, Some(code)])
    }

    fn fits(&self, r: &TxOutcome) -> bool {
        match self {
            Expect::Anything => true,
            Expect::OneOf(v) => v.iter().any(|o| match o {
                None => r.is_ok(),
                Some((space, code)) => !r.is_ok() && r.codespace == *space && r.code == *code,
            }),
        }
    }
}

/// What the model learns from a tx that succeeded.
#[derive(Clone, Debug)]
enum Tag {
    Plain,
    Register {
        copro: usize,
        capacity: u64,
        collateral: u128,
    },
    Open {
        predicted: u64,
    },
    Bid {
        copro: usize,
        auction: u64,
    },
    Add {
        copro: usize,
        amount: u128,
    },
    Withdraw {
        copro: usize,
        amount: u128,
    },
    /// A member's own commit after its auction expired.
    SelfCommit,
}

/// One message of the next block.
struct Planned {
    key: Key,
    msg: Msg,
    expect: Expect,
    tag: Tag,
}

impl Planned {
    fn new(key: Key, msg: Msg, expect: Expect) -> Self {
        Self {
            key,
            msg,
            expect,
            tag: Tag::Plain,
        }
    }
}

/// The model of one coprocessor.
#[derive(Clone)]
struct Copro {
    key: Key,
    profile: CoproProfile,
    register_at: u64,
    capacity: u64,
    collateral: u128,
    /// A registration that must be refused (or, sent before the real one with valid fields,
    /// succeed in its place): (height, capacity, collateral).
    extra_register: Option<(u64, u64, u128)>,
    registered: bool,
    free: u128,
    locked: u128,
    pending: u128,
    reserved: u64,
    balance: u128,
    load_ppm: u32,
    /// Units × blocks of the slots closed since the last epoch step.
    unit_blocks: u128,
    /// Over the run: tx fees paid, collateral deposited (registration and additions),
    /// withdrawals paid out, prices earned, collateral slashed.
    fees: u128,
    deposited: u128,
    withdrawn: u128,
    earned: u128,
    slashed: u128,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AState {
    Open,
    Won {
        winner: usize,
        price: u128,
        lock: u128,
        at: u64,
    },
    Expired,
    Closed(AuctionStatus),
}

/// The model of one auction.
#[derive(Clone, Debug)]
struct AuctionM {
    id: u64,
    task: u64,
    round: u8,
    member: Address,
    opened: u64,
    start: u128,
    floor: u128,
    step: u128,
    expires: u64,
    commit_end: u64,
    difficulty: u64,
    min_rep: u32,
    expected_pay: u128,
    state: AState,
    /// The winner and its price, kept after the auction closes (its record is pruned later).
    won: Option<(usize, u128)>,
    /// When the chain looks at pruning it: its close plus `task_retention`, again one retention
    /// later while its task still runs commit–reveal.
    prune_at: Option<u64>,
    /// Its record, bids and index entries are gone from the chain.
    pruned: bool,
    /// (coprocessor, height) of the bids planned on it.
    bid_plan: Vec<(usize, u64)>,
    /// Bids the overloaded coprocessor sent.
    eager_tries: u32,
}

struct Driver {
    net: TaskNet,
    profiles: BTreeMap<Address, Profile>,
    rng: Rng,
    plans: BTreeMap<(u64, u8, Address), MemberPlan>,
    /// (task, window) → who confirms at which height (None: nobody).
    confirms: BTreeMap<(u64, u32), Option<(Address, u64)>>,
    /// proposal → the height its accused disputes it (None: never).
    disputes: BTreeMap<u64, Option<u64>>,
    supply: u128,
    /// Tasks whose fee accounting was checked at finalization.
    accounted: BTreeSet<u64>,
    bound: u64,
    /// What happened, by name (events, refusals, terminal statuses, coprocessor outcomes):
    /// shows what a case covered.
    seen: BTreeMap<String, u64>,
    copros: Vec<Copro>,
    auctions: BTreeMap<u64, AuctionM>,
    /// Auctions due for pruning in the block being run → whether their task was still in
    /// commit–reveal before it.
    running_before: BTreeMap<u64, bool>,
    /// Auctions opened in the block being built, by the id they will get.
    opening: BTreeMap<u64, AuctionM>,
    /// (task, member) → auction: one auction per slot, ever.
    by_slot: BTreeMap<(u64, Address), u64>,
    /// What the winner of an auction does with the slot.
    slot_plans: BTreeMap<u64, MemberPlan>,
    /// (task, coprocessor) of every slot a coprocessor bought.
    holdings: BTreeSet<(u64, usize)>,
    /// (auction, coprocessor) of every accepted bid.
    bids_made: BTreeSet<(u64, usize)>,
    /// (maturity, coprocessor, amount) of queued withdrawals.
    withdrawals: Vec<(u64, usize, u128)>,
    next_auction_id: u64,
    /// (epoch, height) of the coprocessors' last epoch step; set by the first registration.
    load_clock: Option<(u64, u64)>,
    genesis_time: i64,
    cp: CoprocessorsParams,
    rp: ReputationParams,
    /// The highest load state each profile reached.
    max_load: BTreeMap<CoproProfile, u32>,
    /// re-execution → the task its chain started from, recorded while the tasks before it
    /// are still in state
    roots: BTreeMap<u64, u64>,
}

/// The right answer to the task `root` (a re-execution answers the task its chain of
/// re-executions started from: they all copy its payload).
fn truth(t: &Task, root: u64) -> Vec<u8> {
    match t.kind {
        TaskKind::Exact => format!("answer-{root}").into_bytes(),
        TaskKind::Numeric { .. } => numeric(1_000_000 + root as i64 * 100),
    }
}

/// What a liar answers: one wrong answer all liars share.
fn lie(t: &Task) -> Vec<u8> {
    match t.kind {
        TaskKind::Exact => b"the agreed lie".to_vec(),
        TaskKind::Numeric { .. } => numeric(-5),
    }
}

/// What a coprocessor answers when it is wrong: not the liars' answer.
fn copro_lie(t: &Task) -> Vec<u8> {
    match t.kind {
        TaskKind::Exact => b"a coprocessor's wrong answer".to_vec(),
        TaskKind::Numeric { .. } => numeric(-777_777),
    }
}

/// A member's guaranteed pay (docs/coprocessors.md): with `P = fee − ⌊fee × protocol fee⌋ −
/// ⌊fee × submission fee⌋`, `⌊P × 640_000 / (640_000 + 1_200_000 × (n − 1))⌋`.
fn expected_pay(fee: u128, members: usize, p: &TasksParams) -> u128 {
    let pool = fee
        - fee * u128::from(p.protocol_fee_ppm) / PPM
        - fee * u128::from(p.submission_fee_ppm) / PPM;
    pool * 640_000 / (640_000 + 1_200_000 * (members as u128 - 1))
}

/// `max(floor, start − step × ⌊(h − h_open) / interval⌋)`.
fn price_at(a: &AuctionM, h: u64, cp: &CoprocessorsParams) -> u128 {
    let steps = (h - a.opened) / cp.price_interval_blocks;
    a.start
        .saturating_sub(a.step * u128::from(steps))
        .max(a.floor)
}

/// `⌈price × collateral_ppm / 10⁶⌉`.
fn lock_for(price: u128, cp: &CoprocessorsParams) -> u128 {
    (price * u128::from(cp.collateral_ppm)).div_ceil(PPM)
}

/// `h_open + ⌈(10⁶ − φ) × K / 10⁶⌉` with `φ = ⌊free × 10⁶ / capacity⌋`.
fn access_height(opened: u64, free: u64, capacity: u64, cp: &CoprocessorsParams) -> u64 {
    let phi = u128::from(free) * PPM / u128::from(capacity);
    opened + ((PPM - phi) * u128::from(cp.access_spread_blocks)).div_ceil(PPM) as u64
}

/// The load state's epoch step `f ← ω + ⌊(A·(y − f) + B·f) / 10⁶⌋` in [0, 10⁶], with `y` the
/// epoch's utilisation `⌊min(unit_blocks, room) × 10⁶ / room⌋`, `room = capacity × blocks`.
fn next_load(f: u32, unit_blocks: u128, capacity: u64, blocks: u64, rp: &ReputationParams) -> u32 {
    let room = u128::from(capacity) * u128::from(blocks);
    // an epoch of no blocks: fully used if anything was held, else idle
    let y = (unit_blocks.min(room) * PPM)
        .checked_div(room)
        .unwrap_or(if unit_blocks == 0 { 0 } else { PPM }) as i128;
    let f = i128::from(f);
    let step = (i128::from(rp.load_a_ppm) * (y - f) + i128::from(rp.load_b_ppm) * f)
        .div_euclid(PPM as i128);
    (i128::from(rp.load_omega_ppm) + step).clamp(0, PPM as i128) as u32
}

/// The slash amplification of load state `f`: `1 + k_high × (f − opt) / (1 − opt)` above the
/// optimal load, 1 at or below it (ppm, floored).
fn amplification(f: u32, rp: &ReputationParams) -> u128 {
    if f <= rp.load_opt_ppm {
        return PPM;
    }
    PPM + u128::from(rp.k_high_ppm) * u128::from(f - rp.load_opt_ppm)
        / (PPM - u128::from(rp.load_opt_ppm))
}

fn ppm_of(amount: u128, ppm: u128) -> u128 {
    amount * ppm / PPM
}

impl Driver {
    fn all_tasks(&self) -> Vec<Task> {
        self.net.chain.records(keys::TASK_PREFIX)
    }

    fn profile(&self, a: &Address) -> Profile {
        self.profiles[a]
    }

    /// The task a chain of re-executions started from (the task itself if it is none).
    fn root_of(&self, t: &Task) -> u64 {
        match &t.reexec {
            Some(l) => self
                .roots
                .get(&l.original_task)
                .copied()
                .unwrap_or(l.original_task),
            None => t.id,
        }
    }

    fn epoch_of(&self, time: i64) -> u64 {
        ((time - self.genesis_time) / EPOCH_SECONDS) as u64
    }

    fn count(&mut self, what: impl Into<String>) {
        *self.seen.entry(what.into()).or_default() += 1;
    }

    /// The right answer, with noise well inside the 1 % tolerance for a Numeric task.
    fn honest_answer(&mut self, t: &Task) -> Vec<u8> {
        let v = truth(t, self.root_of(t));
        if let TaskKind::Numeric { .. } = t.kind {
            let x = i64::from_be_bytes(v.clone().try_into().unwrap());
            return numeric(x + self.rng.below(200) as i64 - 100);
        }
        v
    }

    /// What `member` answers in round `round`, committing from height `from` on.
    fn answer(&mut self, t: &Task, round: u8, member: Address, from: u64) -> MemberPlan {
        let p = self.net.params();
        let r = t.rounds[round as usize].clone();
        let commit_at = from + self.rng.below(r.commit_end + 1 - from);
        let reveal_at = r.commit_end + 1 + self.rng.below(p.reveal_blocks);
        let honest = self.honest_answer(t);
        let plan = |commit_at, reveal_at, result, late| MemberPlan {
            commit_at,
            reveal_at,
            result,
            late,
            sale: None,
            bad_open: None,
        };
        match self.profile(&member) {
            Profile::Honest => plan(Some(commit_at), Some(reveal_at), honest, false),
            Profile::Liar => plan(Some(commit_at), Some(reveal_at), lie(t), false),
            Profile::Silent => plan(None, None, honest, false),
            Profile::Flaky => match self.rng.below(5) {
                0 | 1 => plan(Some(commit_at), Some(reveal_at), honest, false),
                2 => plan(Some(commit_at), None, honest, false),
                3 => plan(Some(r.commit_end + 1), None, honest, true),
                _ => plan(None, None, honest, false),
            },
        }
    }

    fn member_plan(&mut self, t: &Task, round: u8, member: Address) -> MemberPlan {
        let p = self.net.params();
        let r = t.rounds[round as usize].clone();
        let mut plan = self.answer(t, round, member, r.assigned_height + 1);
        if t.reexec.is_some() {
            // re-execution slots are not for sale
            if self.rng.below(6) == 0 {
                plan.bad_open = Some((r.assigned_height + 1, BadOpen::Reexecution));
            }
            return plan;
        }
        let pay = expected_pay(t.fee, r.members.len(), &p);
        if pay > 0 && self.rng.below(2) == 0 {
            // sells: the opening at most two blocks before the commit window's end
            let open_at =
                r.assigned_height + 1 + self.rng.below(r.commit_end - 2 - r.assigned_height);
            let start = 1 + u128::from(self.rng.below(pay as u64));
            let floor = u128::from(self.rng.below(start as u64 + 1));
            plan.sale = Some(Sale {
                open_at,
                start,
                floor,
                poke: self.rng.below(4) == 0,
                reopen: self.rng.below(5) == 0,
            });
            plan.commit_at = None;
            plan.reveal_at = None;
            if self.rng.below(4) == 0 {
                let bad = [
                    BadOpen::ZeroStart,
                    BadOpen::FloorAboveStart,
                    BadOpen::AboveExpectedPay,
                ][self.rng.below(3) as usize];
                plan.bad_open = Some((open_at, bad));
            }
        } else if self.rng.below(6) == 0 {
            let bad = [
                BadOpen::ZeroStart,
                BadOpen::FloorAboveStart,
                BadOpen::AboveExpectedPay,
                BadOpen::TooLate,
                BadOpen::Outsider,
            ][self.rng.below(5) as usize];
            let at = match bad {
                BadOpen::TooLate => r.commit_end - 1 + self.rng.below(2),
                _ => r.assigned_height + 1,
            };
            plan.bad_open = Some((at, bad));
        }
        plan
    }

    /// What the winner of auction `a` does with the slot it won at height `won_at`.
    fn copro_slot_plan(
        &mut self,
        t: &Task,
        a: &AuctionM,
        winner: usize,
        won_at: u64,
    ) -> MemberPlan {
        let p = self.net.params();
        let commit_at = won_at + 1 + self.rng.below(a.commit_end - won_at);
        let reveal_at = a.commit_end + 1 + self.rng.below(p.reveal_blocks);
        let honest = self.honest_answer(t);
        let plan = |commit_at, reveal_at, result| MemberPlan {
            commit_at,
            reveal_at,
            result,
            late: false,
            sale: None,
            bad_open: None,
        };
        match self.copros[winner].profile {
            CoproProfile::Honest => plan(Some(commit_at), Some(reveal_at), honest),
            CoproProfile::Lying => plan(Some(commit_at), Some(reveal_at), copro_lie(t)),
            CoproProfile::Silent => plan(None, None, honest),
            // right 4 times in 5; above the optimal load it also drops commits and reveals
            // (see `messages`)
            CoproProfile::Overloaded => match self.rng.below(5) {
                0 => plan(Some(commit_at), Some(reveal_at), copro_lie(t)),
                _ => plan(Some(commit_at), Some(reveal_at), honest),
            },
        }
    }

    fn copro_of(&self, a: &Address) -> Option<usize> {
        self.copros.iter().position(|c| c.key.address == *a)
    }

    /// The expected outcome of an `OpenAuction` by `sender` at height `h`, by the rules in
    /// their order; `Err` for a message CheckTx refuses.
    fn expect_open(
        &self,
        sender: &Address,
        task_id: u64,
        start: u128,
        floor: u128,
        h: u64,
    ) -> Result<Expect, Code> {
        if start == 0 {
            return Err(copro_code("invalid_field"));
        }
        if floor > start {
            return Err(copro_code("floor_above_start"));
        }
        let opening = self
            .opening
            .values()
            .any(|a| a.task == task_id && a.member == *sender);
        if self.by_slot.contains_key(&(task_id, *sender)) || opening {
            return Ok(Expect::refused(copro_code("auction_exists")));
        }
        let Some(t) = self.net.try_task(task_id) else {
            return Ok(Expect::refused(tasks_code("unknown_task")));
        };
        if t.status != TaskStatus::Assigned || t.reexec.is_some() {
            return Ok(Expect::refused(tasks_code("wrong_task_status")));
        }
        let r = t.current_round();
        let Some(m) = r.member(sender) else {
            return Ok(Expect::refused(tasks_code("not_a_committee_member")));
        };
        if m.commit_height.is_some() {
            return Ok(Expect::refused(tasks_code("already_committed")));
        }
        if h > r.commit_end {
            return Ok(Expect::refused(tasks_code("window_closed")));
        }
        if h > r.commit_end - 2 {
            return Ok(Expect::refused(copro_code("too_late_to_auction")));
        }
        if start > expected_pay(t.fee, r.members.len(), &self.net.params()) {
            return Ok(Expect::refused(copro_code("price_above_expected_pay")));
        }
        Ok(Expect::ok())
    }

    /// The expected outcomes of a `Bid` by coprocessor `i` on `a` at height `h` (`in_block`:
    /// the bids this block accepts before it). At an epoch's first block the coprocessors'
    /// reputations take their epoch step before the txs, so a score near a task's floor may
    /// land on either side of it.
    fn expect_bid(
        &self,
        i: usize,
        a: &AuctionM,
        h: u64,
        in_block: &BTreeSet<(u64, usize)>,
        epoch_turn: bool,
    ) -> Vec<Option<Code>> {
        if a.state != AState::Open || h > a.expires {
            return vec![Some(copro_code("auction_not_open"))];
        }
        let c = &self.copros[i];
        if !c.registered {
            return vec![Some(copro_code("not_a_coprocessor"))];
        }
        if self.holdings.contains(&(a.task, i)) {
            return vec![Some(copro_code("cannot_bid"))];
        }
        let free_units = c.capacity - c.reserved;
        if free_units < a.difficulty {
            return vec![Some(copro_code("insufficient_capacity"))];
        }
        let s = self.net.chain.app.storage();
        let record = cstate::coprocessor(s, &c.key.address).expect("registered");
        let score = cstate::effective_score_ppm(s, &record);
        let rest = |reputable: bool| -> Option<Code> {
            if !reputable {
                return Some(copro_code("reputation_too_low"));
            }
            if h < access_height(a.opened, free_units, c.capacity, &self.cp) {
                return Some(copro_code("bid_too_early"));
            }
            if c.free < lock_for(price_at(a, h, &self.cp), &self.cp) {
                return Some(copro_code("insufficient_free_collateral"));
            }
            if self.bids_made.contains(&(a.id, i)) || in_block.contains(&(a.id, i)) {
                return Some(copro_code("already_bid"));
            }
            None
        };
        let mut out = vec![rest(score >= a.min_rep)];
        if epoch_turn && a.min_rep > 0 {
            out.push(rest(score < a.min_rep));
            out.dedup();
        }
        out
    }

    /// The bids planned on an auction opened at `opened`: each coprocessor but the overloaded
    /// one (it bids on everything) bids with probability ⅖ at a random height up to one block
    /// past the expiry (sometimes in the opening block; sometimes all in one block; sometimes
    /// twice in the same block).
    fn plan_bids(&mut self, opened: u64, expires: u64) -> Vec<(usize, u64)> {
        let together = self.rng.below(4) == 0;
        let common = opened + 1 + self.rng.below(expires + 1 - opened);
        let mut plan = Vec::new();
        for (i, c) in self.copros.clone().iter().enumerate() {
            if c.profile == CoproProfile::Overloaded || self.rng.below(5) < 3 {
                continue;
            }
            let at = if together {
                common
            } else if self.rng.below(6) == 0 {
                opened
            } else {
                opened + 1 + self.rng.below(expires + 1 - opened)
            };
            plan.push((i, at));
            if self.rng.below(10) == 0 {
                plan.push((i, at));
            }
        }
        // half the time the honest pair bids together, in one block
        if self.rng.below(2) == 0 {
            let at = plan
                .iter()
                .find(|(_, at)| *at > opened)
                .map_or(common, |p| p.1);
            plan.retain(|(i, _)| self.copros[*i].profile != CoproProfile::Honest);
            for (i, c) in self.copros.iter().enumerate() {
                if c.profile == CoproProfile::Honest {
                    plan.push((i, at));
                }
            }
        }
        plan
    }

    /// A refused `OpenAuction` for the slot of `member` on `t`.
    fn bad_open(
        &mut self,
        t: &Task,
        member: &Key,
        bad: BadOpen,
        h: u64,
        out: &mut Vec<Planned>,
        at_check: &mut Vec<(Key, Msg, Code)>,
    ) {
        let r = t.current_round().clone();
        let pay = expected_pay(t.fee, r.members.len(), &self.net.params());
        let (sender, start, floor) = match bad {
            BadOpen::ZeroStart => (member.clone(), 0, 0),
            BadOpen::FloorAboveStart => {
                let s = 1 + u128::from(self.rng.below(pay.max(1) as u64));
                (member.clone(), s, s + 1)
            }
            BadOpen::AboveExpectedPay => (
                member.clone(),
                pay + 1 + u128::from(self.rng.below(1_000)),
                0,
            ),
            BadOpen::TooLate | BadOpen::Reexecution => (member.clone(), pay.max(1), 0),
            BadOpen::Outsider => {
                let outsiders: Vec<Key> = self
                    .net
                    .operators
                    .iter()
                    .filter(|k| r.member(&k.address).is_none())
                    .cloned()
                    .collect();
                if outsiders.is_empty() {
                    return;
                }
                let k = outsiders[self.rng.below(outsiders.len() as u64) as usize].clone();
                (k, 1, 0)
            }
        };
        let msg = open(t.id, start, floor);
        match self.expect_open(&sender.address, t.id, start, floor, h) {
            Ok(expect) => out.push(Planned::new(sender, msg, expect)),
            Err(code) => at_check.push((sender, msg, code)),
        }
    }

    /// The member opens the auction of its slot.
    fn sell(&mut self, t: &Task, member: &Key, sale: &Sale, h: u64, out: &mut Vec<Planned>) {
        let msg = open(t.id, sale.start, sale.floor);
        let expect = self
            .expect_open(&member.address, t.id, sale.start, sale.floor, h)
            .expect("a sale's prices pass CheckTx");
        let mut tag = Tag::Plain;
        if let Expect::OneOf(v) = &expect {
            if v == &vec![None] {
                let r = t.current_round();
                let cp = &self.cp;
                let step = (sale.start - sale.floor).div_ceil(u128::from(cp.descent_intervals));
                let expires =
                    (h + cp.descent_intervals * cp.price_interval_blocks + cp.expiry_grace_blocks)
                        .min(r.commit_end - 1);
                let predicted = self.next_auction_id + self.opening.len() as u64;
                let a = AuctionM {
                    id: predicted,
                    task: t.id,
                    round: r.number,
                    member: member.address,
                    opened: h,
                    start: sale.start,
                    floor: sale.floor,
                    step,
                    expires,
                    commit_end: r.commit_end,
                    difficulty: t.difficulty_units,
                    min_rep: t.min_reputation_ppm,
                    expected_pay: expected_pay(t.fee, r.members.len(), &self.net.params()),
                    state: AState::Open,
                    won: None,
                    prune_at: None,
                    pruned: false,
                    bid_plan: self.plan_bids(h, expires),
                    eager_tries: 0,
                };
                self.opening.insert(predicted, a);
                tag = Tag::Open { predicted };
            }
        }
        out.push(Planned {
            key: member.clone(),
            msg,
            expect,
            tag,
        });
    }

    /// The messages of the next block, each with what it must do: posts and registrations
    /// first, then the members' auction openings, commits, reveals and confirmations, the
    /// coprocessors' commits and reveals for the slots they hold, bids, disputes, and last the
    /// collateral moves. Also the messages CheckTx must refuse (never included in a block).
    fn messages(&mut self, spec: Option<&PostSpec>) -> (Vec<Planned>, Vec<(Key, Msg, Code)>) {
        let h = self.net.chain.height + 1;
        let p = self.net.params();
        let mut out = Vec::new();
        let mut at_check = Vec::new();
        self.opening.clear();
        let tasks = self.all_tasks();
        for t in tasks.iter().filter(|t| t.reexec.is_some()) {
            if !self.roots.contains_key(&t.id) {
                self.roots.insert(t.id, self.root_of(t));
            }
        }
        if let Some(s) = spec {
            let price = self.net.unit_price();
            let required = price * u128::from(s.difficulty);
            let fee = match s.fee {
                FeeMode::AtPrice => required,
                FeeMode::Above(x) => required + u128::from(x),
                FeeMode::Below => required - 1,
            };
            let consistency = [
                Consistency::Eventual,
                Consistency::Session,
                Consistency::Strong,
            ][s.consistency as usize];
            let kind = if s.numeric {
                TaskKind::Numeric {
                    scale: 2,
                    tolerance_ppm: 10_000,
                }
            } else {
                TaskKind::Exact
            };
            let msg = MsgPostTask {
                kind,
                consistency,
                payload: TaskPayload::Inline(format!("job at {h}").into_bytes()),
                difficulty_units: s.difficulty,
                min_reputation_ppm: if s.picky { PICKY_PPM } else { 0 },
                fee,
            };
            let expect = match s.fee {
                FeeMode::Below => Expect::refused(tasks_code("fee_below_price")),
                _ => Expect::ok_or(tasks_code("not_enough_eligible_operators")),
            };
            let client = if s.client == 0 {
                self.net.client.clone()
            } else {
                Key::from_seed("task-client-2")
            };
            out.push(Planned::new(client, Msg::from(msg), expect));
        }
        // registrations; a coprocessor neither bids nor moves collateral in a block it
        // registers in
        let mut busy: BTreeSet<usize> = BTreeSet::new();
        let mut registering: BTreeSet<usize> = BTreeSet::new();
        for i in 0..self.copros.len() {
            let c = self.copros[i].clone();
            let mut attempts = Vec::new();
            if let Some((at, capacity, collateral)) = c.extra_register {
                if at == h {
                    attempts.push((capacity, collateral));
                }
            }
            if c.register_at == h {
                attempts.push((c.capacity, c.collateral));
            }
            for (capacity, collateral) in attempts {
                busy.insert(i);
                let msg = register(capacity, collateral);
                if capacity == 0 || collateral == 0 {
                    at_check.push((c.key.clone(), msg, copro_code("invalid_field")));
                    continue;
                }
                let expect = if c.registered || registering.contains(&i) {
                    Expect::refused(copro_code("already_registered"))
                } else if capacity > self.cp.max_capacity_units {
                    Expect::refused(copro_code("capacity_out_of_range"))
                } else if collateral < self.cp.min_collateral {
                    Expect::refused(copro_code("collateral_below_minimum"))
                } else {
                    registering.insert(i);
                    Expect::ok()
                };
                out.push(Planned {
                    key: c.key.clone(),
                    msg,
                    expect,
                    tag: Tag::Register {
                        copro: i,
                        capacity,
                        collateral,
                    },
                });
            }
        }
        for t in tasks {
            match t.status {
                TaskStatus::Assigned => {
                    let round = t.current_round().clone();
                    for m in &round.members {
                        let key = (t.id, round.number, m.operator);
                        let plan = match self.plans.get(&key) {
                            Some(p) => p.clone(),
                            None => {
                                let p = self.member_plan(&t, round.number, m.operator);
                                self.plans.insert(key, p.clone());
                                p
                            }
                        };
                        let k = self.net.key(&m.operator).clone();
                        // auction messages go before the member's commit of the same block
                        if let Some((at, bad)) = plan.bad_open {
                            if at == h {
                                self.bad_open(&t, &k, bad, h, &mut out, &mut at_check);
                            }
                        }
                        if let Some(sale) = &plan.sale {
                            if sale.open_at == h {
                                self.sell(&t, &k, sale, h, &mut out);
                            }
                            let auction = self
                                .by_slot
                                .get(&(t.id, m.operator))
                                .map(|id| self.auctions[id].clone());
                            if let Some(a) = auction {
                                if sale.poke && h == a.opened + 1 {
                                    out.push(Planned::new(
                                        k.clone(),
                                        commit(t.id, &m.operator, &truth(&t, self.root_of(&t))),
                                        Expect::refused(tasks_code("slot_offered")),
                                    ));
                                }
                                if sale.reopen && h == a.expires + 1 {
                                    let expect = self
                                        .expect_open(&k.address, t.id, sale.start, sale.floor, h)
                                        .expect("a sale's prices pass CheckTx");
                                    out.push(Planned::new(
                                        k.clone(),
                                        open(t.id, sale.start, sale.floor),
                                        expect,
                                    ));
                                }
                            }
                        }
                        if plan.commit_at == Some(h) {
                            let expect = if plan.late {
                                Expect::refused(tasks_code("window_closed"))
                            } else {
                                Expect::ok()
                            };
                            let tag = if plan.sale.is_some() && !plan.late {
                                Tag::SelfCommit
                            } else {
                                Tag::Plain
                            };
                            out.push(Planned {
                                key: k.clone(),
                                msg: commit(t.id, &m.operator, &plan.result),
                                expect,
                                tag,
                            });
                        }
                        if plan.reveal_at == Some(h) && m.commitment.is_some() {
                            out.push(Planned::new(
                                k,
                                reveal(t.id, &m.operator, &plan.result),
                                Expect::ok(),
                            ));
                        }
                    }
                    // the coprocessors holding slots of this round act for their members
                    let held: Vec<AuctionM> = self
                        .auctions
                        .values()
                        .filter(|a| {
                            a.task == t.id
                                && a.round == round.number
                                && matches!(a.state, AState::Won { .. })
                        })
                        .cloned()
                        .collect();
                    for a in held {
                        let AState::Won { winner, .. } = a.state else {
                            continue;
                        };
                        let mut plan = self.slot_plans[&a.id].clone();
                        let c = &self.copros[winner];
                        let k = c.key.clone();
                        // an overloaded coprocessor above the optimal load drops 3 in 5 of its
                        // commits and reveals
                        let acts = plan.commit_at == Some(h)
                            || (plan.reveal_at == Some(h) && plan.commit_at.is_some());
                        if acts
                            && c.profile == CoproProfile::Overloaded
                            && c.load_ppm > self.rp.load_opt_ppm
                            && self.rng.below(5) < 3
                        {
                            if plan.commit_at == Some(h) {
                                plan.commit_at = None;
                            }
                            plan.reveal_at = None;
                            self.slot_plans.insert(a.id, plan.clone());
                        }
                        if plan.commit_at == Some(h) {
                            out.push(Planned::new(
                                k.clone(),
                                commit(t.id, &a.member, &plan.result),
                                Expect::ok(),
                            ));
                        }
                        let committed = round
                            .member(&a.member)
                            .is_some_and(|m| m.commitment.is_some());
                        if plan.reveal_at == Some(h) && committed {
                            out.push(Planned::new(
                                k,
                                reveal(t.id, &a.member, &plan.result),
                                Expect::ok(),
                            ));
                        }
                    }
                }
                TaskStatus::Finalized => {
                    let sub = t.submission.clone().unwrap();
                    let key = (t.id, sub.window);
                    if !self.confirms.contains_key(&key) {
                        let start = sub.window_end - p.submission_window + 1;
                        let at = start + self.rng.below(p.submission_window);
                        let who = match sub.current_member() {
                            Some(m) => {
                                let chance = match self.profile(&m) {
                                    Profile::Honest | Profile::Liar => 4,
                                    Profile::Flaky => 2,
                                    Profile::Silent => 0,
                                };
                                (self.rng.below(5) < chance).then_some(m)
                            }
                            None => {
                                let i = self.rng.below(OPERATORS as u64 * 2) as usize;
                                self.net
                                    .operators
                                    .get(i)
                                    .map(|k| k.address)
                                    .filter(|a| self.profile(a) != Profile::Silent)
                            }
                        };
                        self.confirms.insert(key, who.map(|a| (a, at)));
                        // sometimes an operator out of turn tries first
                        if let Some(m) = sub.current_member() {
                            if self.rng.below(6) == 0 && h <= sub.window_end {
                                let i = self.rng.below(OPERATORS as u64) as usize;
                                let k = self.net.operators[i].clone();
                                if k.address != m {
                                    out.push(Planned::new(
                                        k,
                                        Msg::confirm_submission(t.id, "out-of-turn"),
                                        Expect::refused(tasks_code("not_scheduled_submitter")),
                                    ));
                                }
                            }
                        }
                    }
                    if let Some(Some((who, at))) = self.confirms.get(&key).cloned() {
                        if at == h {
                            let k = self.net.key(&who).clone();
                            out.push(Planned::new(
                                k,
                                Msg::confirm_submission(t.id, &format!("ref-{}", t.id)),
                                Expect::ok(),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        // bids: planned ones, and the overloaded coprocessor's on everything it can
        let now = self.net.chain.time.seconds;
        let epoch_turn = self.epoch_of(now + self.net.chain.block_seconds) > self.epoch_of(now);
        let mut in_block: BTreeSet<(u64, usize)> = BTreeSet::new();
        let mut maybe: BTreeSet<(u64, usize)> = BTreeSet::new();
        let mut bidders: BTreeSet<usize> = BTreeSet::new();
        let mut list: Vec<AuctionM> = self
            .auctions
            .values()
            .filter(|a| h <= a.expires + 1)
            .cloned()
            .collect();
        list.extend(self.opening.values().cloned());
        for a in list {
            let mut tries: Vec<usize> = a
                .bid_plan
                .iter()
                .filter(|(_, at)| *at == h)
                .map(|(i, _)| *i)
                .collect();
            for (i, c) in self.copros.clone().iter().enumerate() {
                if c.profile != CoproProfile::Overloaded
                    || !c.registered
                    || a.eager_tries >= 4
                    || self.bids_made.contains(&(a.id, i))
                {
                    continue;
                }
                // it knows its capacity: mostly it bids only when the slot would fit
                let fits = c.capacity - c.reserved >= a.difficulty;
                let go = match a.state {
                    AState::Open => fits || self.rng.below(8) == 0,
                    // once more, right after another coprocessor won
                    AState::Won { winner, at, .. } => winner != i && at + 1 == h,
                    _ => false,
                };
                if go {
                    tries.push(i);
                }
            }
            for i in tries {
                if busy.contains(&i) || maybe.contains(&(a.id, i)) {
                    continue;
                }
                if self.copros[i].profile == CoproProfile::Overloaded {
                    if let Some(m) = self.auctions.get_mut(&a.id) {
                        m.eager_tries += 1;
                    } else if let Some(m) = self.opening.get_mut(&a.id) {
                        m.eager_tries += 1;
                    }
                }
                let outcomes = self.expect_bid(i, &a, h, &in_block, epoch_turn);
                if outcomes == vec![None] {
                    in_block.insert((a.id, i));
                } else if outcomes.contains(&None) {
                    maybe.insert((a.id, i));
                }
                bidders.insert(i);
                out.push(Planned {
                    key: self.copros[i].key.clone(),
                    msg: bid(a.id),
                    expect: Expect::OneOf(outcomes),
                    tag: Tag::Bid {
                        copro: i,
                        auction: a.id,
                    },
                });
            }
        }
        for prop in all_proposals(&self.net.chain) {
            if prop.offence != Offence::ResultMismatch || prop.status != ProposalStatus::Pending {
                continue;
            }
            let at = match self.disputes.get(&prop.id) {
                Some(at) => *at,
                None => {
                    let at = (self.rng.below(2) == 0).then(|| h + self.rng.below(5));
                    self.disputes.insert(prop.id, at);
                    at
                }
            };
            if at == Some(h) {
                let k = self.net.key(&prop.operator).clone();
                out.push(Planned::new(
                    k,
                    Msg::dispute_slash(prop.id, "not me"),
                    Expect::Anything,
                ));
            }
        }
        // collateral moves, by a coprocessor that does not bid in this block
        if self.rng.below(3) == 0 {
            let i = self.rng.below(self.copros.len() as u64) as usize;
            if !bidders.contains(&i) && !busy.contains(&i) {
                let c = self.copros[i].clone();
                let unknown = Expect::refused(copro_code("not_a_coprocessor"));
                if self.rng.below(2) == 0 {
                    let amount = u128::from(1 + self.rng.below(20)) * NOP;
                    out.push(Planned {
                        key: c.key.clone(),
                        msg: add_collateral(amount),
                        expect: if c.registered { Expect::ok() } else { unknown },
                        tag: Tag::Add { copro: i, amount },
                    });
                } else {
                    let amount = match self.rng.below(5) {
                        // a part of what is free
                        0 | 1 if c.free > 1 => 1 + u128::from(self.rng.below((c.free / 2) as u64)),
                        // nearly all of it: later bids may lack collateral
                        2 if c.free > 20_000 => c.free - u128::from(self.rng.below(20_000)),
                        // more than is free
                        _ => c.free + 1 + u128::from(self.rng.below(NOP as u64)),
                    };
                    let expect = if !c.registered {
                        unknown
                    } else if amount > c.free {
                        Expect::refused(copro_code("insufficient_free_collateral"))
                    } else {
                        Expect::ok()
                    };
                    out.push(Planned {
                        key: c.key.clone(),
                        msg: withdraw_collateral(amount),
                        expect,
                        tag: Tag::Withdraw { copro: i, amount },
                    });
                }
            }
        }
        (out, at_check)
    }

    /// Runs one block of the planned messages (one tx per message, nonces in order per signer)
    /// and checks what each tx must have done and every property after the block.
    fn step(&mut self, spec: Option<&PostSpec>) -> Result<(), TestCaseError> {
        let (msgs, at_check) = self.messages(spec);
        let params = self.net.chain.params();
        // CheckTx refuses these before any state is read, so no proposer includes them
        for (k, m, (space, code)) in at_check {
            let nonce = self.net.chain.account(&k.address).nonce;
            let tx = k.tx(&self.net.chain.chain_id, &params, nonce, vec![m.clone()]);
            let r = self.net.chain.check(&tx);
            prop_assert!(
                r.codespace == space && r.code == code,
                "CheckTx of {} expected {}/{}, got {}/{} {}",
                m.type_name(),
                space,
                code,
                r.codespace,
                r.code,
                r.log
            );
            let name = r.log.split(':').next().unwrap_or("").to_string();
            self.count(format!("refused at CheckTx {name}"));
        }
        let pre_ops: BTreeMap<Address, staking::Operator> =
            staking::state::operators(self.net.chain.app.storage())
                .into_iter()
                .map(|o| (o.address, o))
                .collect();
        let mut nonces: BTreeMap<Address, u64> = BTreeMap::new();
        let mut txs = Vec::new();
        for pl in &msgs {
            let n = nonces
                .entry(pl.key.address)
                .or_insert_with(|| self.net.chain.account(&pl.key.address).nonce);
            txs.push(
                pl.key
                    .tx(&self.net.chain.chain_id, &params, *n, vec![pl.msg.clone()]),
            );
            *n += 1;
        }
        let pre_records: Vec<OperatorReputation> = self
            .copros
            .iter()
            .map(|c| cstate::reputation_record(self.net.chain.app.storage(), &c.key.address))
            .collect();
        let prev_hash = self
            .net
            .chain
            .app
            .storage()
            .committed()
            .map(|c| c.app_hash)
            .unwrap_or_default();
        // the chain decides a pruning in coprocessors' end block, which runs before tasks' (the
        // only place a task leaves commit–reveal): so on the tasks' status before this block
        let upcoming = self.net.chain.height + 1;
        self.running_before = self
            .auctions
            .values()
            .filter(|a| !a.pruned && a.prune_at == Some(upcoming))
            .map(|a| {
                let running = ts::task(self.net.chain.app.storage(), a.task)
                    .is_some_and(|t| t.status == TaskStatus::Assigned);
                (a.id, running)
            })
            .collect();
        let resp = self.net.chain.block(txs.clone());
        let h = self.net.chain.height;
        for e in resp
            .events
            .iter()
            .chain(resp.tx_results.iter().flat_map(|r| r.events.iter()))
        {
            *self.seen.entry(e.kind.clone()).or_default() += 1;
        }
        for r in resp.tx_results.iter().filter(|r| !r.is_ok()) {
            let name = r.log.split(':').next().unwrap_or("").to_string();
            *self.seen.entry(format!("refused {name}")).or_default() += 1;
        }
        for (pl, r) in msgs.iter().zip(&resp.tx_results) {
            prop_assert!(
                pl.expect.fits(r),
                "block {}: {} expected {:?}, got {}/{} {}",
                h,
                pl.msg.type_name(),
                pl.expect,
                r.codespace,
                r.code,
                r.log
            );
        }
        self.follow_coprocessors(h, prev_hash, pre_records, &msgs, &txs, &resp)?;
        self.check(h, &pre_ops, &resp)?;
        self.check_coprocessors(h)
    }

    /// Moves the coprocessor model through block `h` in the app's order — begin block (the
    /// epoch step of the load states), the txs, coprocessors' end block (the block's bids,
    /// expiries, matured withdrawals), tasks' end block (sold slots whose round closed) —
    /// checking the auctions' records on the way.
    fn follow_coprocessors(
        &mut self,
        h: u64,
        prev_hash: [u8; 32],
        mut records: Vec<OperatorReputation>,
        msgs: &[Planned],
        txs: &[Vec<u8>],
        resp: &BlockResponse,
    ) -> Result<(), TestCaseError> {
        let now = self.epoch_of(self.net.chain.time.seconds);
        if let Some((mut epoch, mut from)) = self.load_clock {
            if epoch < now {
                let rp = self.rp.clone();
                while epoch < now {
                    epoch += 1;
                    let blocks = h - from;
                    for (c, record) in self.copros.iter_mut().zip(records.iter_mut()) {
                        if !c.registered {
                            continue;
                        }
                        c.load_ppm = next_load(c.load_ppm, c.unit_blocks, c.capacity, blocks, &rp);
                        c.unit_blocks = 0;
                        // decay toward neutral and the factor's recovery are reputation's
                        *record = epoch_step(record, &rp, c.capacity, blocks);
                    }
                    from = h;
                }
                self.load_clock = Some((epoch, from));
            }
        }

        let mut block_bids: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for ((pl, bytes), r) in msgs.iter().zip(txs).zip(&resp.tx_results) {
            if let Some(i) = self.copro_of(&pl.key.address) {
                prop_assert!(
                    r.events.iter().any(|e| e.kind == nodeop_app::events::TX),
                    "an included tx pays its fee: {}",
                    r.log
                );
                let fee = tx_fee(bytes);
                self.copros[i].balance -= fee;
                self.copros[i].fees += fee;
            }
            if !r.is_ok() {
                continue;
            }
            match pl.tag.clone() {
                Tag::Plain => {}
                Tag::Register {
                    copro: i,
                    capacity,
                    collateral,
                } => {
                    let c = &mut self.copros[i];
                    c.registered = true;
                    c.capacity = capacity;
                    c.free = collateral;
                    c.balance -= collateral;
                    c.deposited += collateral;
                    if self.load_clock.is_none() {
                        self.load_clock = Some((now, h));
                    }
                }
                Tag::Open { predicted } => {
                    let id = opened_id(r).expect("an auction_opened event");
                    prop_assert_eq!(id, predicted, "auction ids count up");
                    let a = self.opening.remove(&predicted).expect("a planned auction");
                    let e = r
                        .events
                        .iter()
                        .find(|e| e.kind == cevents::AUCTION_OPENED)
                        .expect("an auction_opened event");
                    let attrs = (
                        e.get("expected_pay"),
                        e.get("step"),
                        e.get("expires_height"),
                    );
                    let (pay, step, expires) = (
                        a.expected_pay.to_string(),
                        a.step.to_string(),
                        a.expires.to_string(),
                    );
                    prop_assert_eq!(
                        attrs,
                        (
                            Some(pay.as_str()),
                            Some(step.as_str()),
                            Some(expires.as_str())
                        ),
                        "auction {}",
                        id
                    );
                    self.by_slot.insert((a.task, a.member), id);
                    self.next_auction_id = id + 1;
                    self.auctions.insert(id, a);
                }
                Tag::Bid { copro: i, auction } => {
                    self.bids_made.insert((auction, i));
                    block_bids.entry(auction).or_default().push(i);
                }
                Tag::Add { copro: i, amount } => {
                    let c = &mut self.copros[i];
                    c.free += amount;
                    c.balance -= amount;
                    c.deposited += amount;
                }
                Tag::Withdraw { copro: i, amount } => {
                    let c = &mut self.copros[i];
                    c.free -= amount;
                    c.pending += amount;
                    self.withdrawals
                        .push((h + self.cp.withdrawal_delay_blocks, i, amount));
                }
                Tag::SelfCommit => self.count("member committed itself after its auction expired"),
            }
        }

        // the block's bids, auction by auction in id order
        let free_at_bid: Vec<u64> = self
            .copros
            .iter()
            .map(|c| c.capacity - c.reserved)
            .collect();
        for (id, bidders) in block_bids {
            let a = self.auctions[&id].clone();
            prop_assert_eq!(a.state, AState::Open, "auction {} took bids", id);
            let price = price_at(&a, h, &self.cp);
            let need = lock_for(price, &self.cp);
            let seed = sha256(&[
                b"nodeop/seed",
                &prev_hash,
                &h.to_be_bytes(),
                b"coprocessors/bid",
                &id.to_be_bytes(),
            ]);
            let mut ranked = Vec::new();
            for &i in &bidders {
                let addr = self.copros[i].key.address;
                let b = cstate::bid(self.net.chain.app.storage(), id, &addr)
                    .expect("an accepted bid is stored");
                prop_assert_eq!(
                    (b.height, b.price, b.free_units),
                    (h, price, free_at_bid[i]),
                    "bid of {:?} coprocessor on auction {}",
                    self.copros[i].profile,
                    id
                );
                ranked.push((
                    b.effective_score_ppm,
                    b.free_units,
                    sha256(&[&seed, &addr.0]),
                    i,
                ));
            }
            ranked.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
            if let [first, second, ..] = ranked.as_slice() {
                if first.0 == second.0 {
                    self.count(if first.1 != second.1 {
                        "bids tied on reputation, ranked by free capacity"
                    } else {
                        "bids tied on reputation and free capacity, ranked by the seeded hash"
                    });
                }
            }
            let winner = ranked
                .iter()
                .find(|(score, _, _, i)| {
                    let c = &self.copros[*i];
                    let free_units = c.capacity - c.reserved;
                    !self.holdings.contains(&(a.task, *i))
                        && free_units >= a.difficulty
                        && *score >= a.min_rep
                        && h >= access_height(a.opened, free_units, c.capacity, &self.cp)
                        && c.free >= need
                })
                .map(|r| r.3);
            let app = cstate::auction(self.net.chain.app.storage(), id).expect("the auction");
            match winner {
                Some(i) => {
                    let addr = self.copros[i].key.address;
                    prop_assert_eq!(
                        (
                            app.status,
                            app.winner,
                            app.price,
                            app.collateral_locked,
                            app.won_height,
                            app.bids
                        ),
                        (
                            AuctionStatus::Won,
                            Some(addr),
                            price,
                            need,
                            Some(h),
                            ranked.len() as u32
                        ),
                        "auction {} at {}",
                        id,
                        h
                    );
                    let won_bid = cstate::bid(self.net.chain.app.storage(), id, &addr);
                    prop_assert!(won_bid.is_some_and(|b| b.won));
                    let c = &mut self.copros[i];
                    c.free -= need;
                    c.locked += need;
                    c.reserved += a.difficulty;
                    let profile = c.profile;
                    self.holdings.insert((a.task, i));
                    let m = self.auctions.get_mut(&id).unwrap();
                    m.state = AState::Won {
                        winner: i,
                        price,
                        lock: need,
                        at: h,
                    };
                    m.won = Some((i, price));
                    let t = self.net.task(a.task);
                    let plan = self.copro_slot_plan(&t, &a, i, h);
                    self.slot_plans.insert(id, plan);
                    self.count(format!("auction won ({profile:?} coprocessor)"));
                    if ranked.len() > 1 {
                        self.count("auction won among several bids of one block");
                    }
                    if h == a.opened {
                        self.count("auction won in its opening block");
                    }
                }
                None => {
                    // still open, unless this is its expiry block (checked below)
                    let status = if a.expires == h {
                        AuctionStatus::Expired
                    } else {
                        AuctionStatus::Open
                    };
                    prop_assert_eq!(app.status, status, "auction {} at {}", id, h);
                    self.count("bids of a block that could no longer take the slot");
                }
            }
        }

        // closed auctions due for pruning: gone unless their task still runs commit–reveal
        let retention = self.net.params().task_retention;
        for (id, running) in std::mem::take(&mut self.running_before) {
            let m = self.auctions.get_mut(&id).unwrap();
            if running {
                m.prune_at = Some(h + retention);
                self.count("auction pruning put off while its task runs");
            } else {
                m.pruned = true;
                self.count("auction pruned");
            }
        }

        // auctions that reached their expiry unsold: the member executes itself
        let expiring: Vec<AuctionM> = self
            .auctions
            .values()
            .filter(|a| a.state == AState::Open && a.expires == h)
            .cloned()
            .collect();
        for a in expiring {
            let app = cstate::auction(self.net.chain.app.storage(), a.id).expect("the auction");
            prop_assert_eq!(
                (app.status, app.closed_height),
                (AuctionStatus::Expired, Some(h)),
                "auction {}",
                a.id
            );
            let retention = self.net.params().task_retention;
            let m = self.auctions.get_mut(&a.id).unwrap();
            m.state = AState::Expired;
            m.prune_at = Some(h + retention);
            self.count("auction expired");
            let t = self.net.task(a.task);
            let fresh = self.answer(&t, a.round, a.member, h + 1);
            let plan = self
                .plans
                .get_mut(&(a.task, a.round, a.member))
                .expect("the seller's plan");
            plan.commit_at = fresh.commit_at;
            plan.reveal_at = fresh.reveal_at;
            plan.result = fresh.result;
            plan.late = fresh.late;
        }

        // matured withdrawals
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.withdrawals)
            .into_iter()
            .partition(|w| w.0 == h);
        self.withdrawals = later;
        for (_, i, amount) in due {
            let c = &mut self.copros[i];
            c.pending -= amount;
            c.balance += amount;
            c.withdrawn += amount;
        }

        // sold slots whose round closed in this block
        let won: Vec<AuctionM> = self
            .auctions
            .values()
            .filter(|a| matches!(a.state, AState::Won { .. }))
            .cloned()
            .collect();
        for a in won {
            let AState::Won {
                winner: i,
                price,
                lock,
                at,
            } = a.state
            else {
                continue;
            };
            let t = self.net.task(a.task);
            if t.status == TaskStatus::Assigned && t.current_round().number == a.round {
                continue;
            }
            let r = &t.rounds[a.round as usize];
            let m = r.member(&a.member).expect("the seller sat on the round");
            let fin = t
                .result
                .as_ref()
                .filter(|f| f.round == a.round && f.finalized_height == h);
            let profile = self.copros[i].profile;
            let amp = amplification(self.copros[i].load_ppm, &self.rp);
            let slash = |ppm: u32| ppm_of(ppm_of(lock, u128::from(ppm)), amp).min(lock);
            let line = fin.and_then(|f| f.pay.iter().find(|l| l.operator == a.member));
            let (status, paid, slashed, what) = if let Some(line) = line {
                prop_assert!(
                    line.pay >= price,
                    "task {}: the pay line {} is below the price {}",
                    t.id,
                    line.pay,
                    price
                );
                (AuctionStatus::Paid, price, 0, "paid")
            } else if m.result.is_none() {
                let what = if m.commitment.is_some() {
                    "missed_reveal"
                } else {
                    "missed_commit"
                };
                let amount = slash(self.cp.coproc_miss_slash_ppm);
                (AuctionStatus::Missed, 0, amount, what)
            } else if fin.is_some() {
                let amount = slash(self.cp.coproc_mismatch_slash_ppm);
                (AuctionStatus::Slashed, 0, amount, "result_mismatch")
            } else {
                (AuctionStatus::Released, 0, 0, "released")
            };
            let app = cstate::auction(self.net.chain.app.storage(), a.id).expect("the auction");
            prop_assert_eq!(
                (app.status, app.paid, app.slashed, app.closed_height),
                (status, paid, slashed, Some(h)),
                "auction {} ({:?} winner) closing at {}",
                a.id,
                profile,
                h
            );
            if slashed > 0 {
                // split as an automatic slash: ⌊50 %⌋ burned, the rest to the treasury
                let id = a.id.to_string();
                let e = resp
                    .events
                    .iter()
                    .find(|e| {
                        e.kind == cevents::COLLATERAL_SLASHED && e.get("auction") == Some(&id)
                    })
                    .expect("a collateral_slashed event");
                let burned = slashed / 2;
                let numbers = [
                    (slashed, "amount"),
                    (burned, "burned"),
                    (slashed - burned, "to_treasury"),
                    (lock - slashed, "released"),
                    (amp, "amplification_ppm"),
                ];
                for (value, name) in numbers {
                    let v = value.to_string();
                    prop_assert_eq!(e.get(name), Some(v.as_str()), "{} of auction {}", name, id);
                }
                prop_assert_eq!(e.get("reason"), Some(what));
            }
            let c = &mut self.copros[i];
            c.locked -= lock;
            c.reserved -= a.difficulty;
            c.unit_blocks += u128::from(a.difficulty) * u128::from(h - at);
            c.free += lock - slashed;
            c.balance += paid;
            c.earned += paid;
            c.slashed += slashed;
            // the slot's record: its load, its commit's latency, its two duties, its result
            let record = &mut records[i];
            record.epoch_unit_blocks += u128::from(a.difficulty) * u128::from(h - at);
            if let Some(committed_at) = m.commit_height {
                let delay = u128::from(committed_at - (r.assigned_height + 1));
                let commit_blocks = u128::from(self.net.params().commit_blocks);
                let late = (delay * PPM / commit_blocks).min(PPM);
                record.latency.record((PPM - late) as u32);
            }
            for met in [m.commit_height.is_some(), m.reveal_height.is_some()] {
                record.duties.record(if met { PPM as u32 } else { 0 });
            }
            match status {
                AuctionStatus::Paid => record.results.record(PPM as u32),
                AuctionStatus::Slashed => {
                    record.results.record(0);
                    record.byz_factor_ppm /= 2;
                }
                _ => {}
            }
            let retention = self.net.params().task_retention;
            let m = self.auctions.get_mut(&a.id).unwrap();
            m.state = AState::Closed(status);
            m.prune_at = Some(h + retention);
            self.count(format!("slot {what} ({profile:?} coprocessor)"));
            if slashed > 0 && amp > PPM {
                self.count(format!(
                    "slash amplified by the load state ({profile:?} coprocessor)"
                ));
            }
        }
        for (c, record) in self.copros.iter().zip(&records) {
            let e = self.max_load.entry(c.profile).or_default();
            *e = (*e).max(c.load_ppm);
            let stored = cstate::reputation_record(self.net.chain.app.storage(), &c.key.address);
            prop_assert_eq!(
                &stored,
                record,
                "reputation of the {:?} coprocessor at {}",
                c.profile,
                h
            );
        }
        Ok(())
    }

    /// The coprocessor records against the model, and the module's invariants checked from
    /// outside: the collateral account, reserved ≤ capacity, open auctions on open slots, won
    /// auctions on sold ones.
    fn check_coprocessors(&self, h: u64) -> Result<(), TestCaseError> {
        let s = self.net.chain.app.storage();
        let mut held = 0u128;
        for c in &self.copros {
            let addr = c.key.address;
            prop_assert_eq!(
                self.net.balance(&addr),
                c.balance,
                "balance of the {:?} coprocessor at {}",
                c.profile,
                h
            );
            let record = cstate::coprocessor(s, &addr);
            prop_assert_eq!(record.is_some(), c.registered);
            let Some(record) = record else {
                continue;
            };
            prop_assert_eq!(
                (
                    record.capacity_units,
                    record.reserved_units,
                    record.free_collateral,
                    record.locked_collateral,
                    record.pending_collateral
                ),
                (c.capacity, c.reserved, c.free, c.locked, c.pending),
                "the {:?} coprocessor at {}",
                c.profile,
                h
            );
            prop_assert!(record.reserved_units <= record.capacity_units);
            prop_assert_eq!(
                cstate::reputation_record(s, &addr).load_ppm,
                c.load_ppm,
                "load state of the {:?} coprocessor at {}",
                c.profile,
                h
            );
            held += c.free + c.locked + c.pending;
        }
        prop_assert_eq!(
            self.net.module_balance(bank::COPROCESSOR_COLLATERAL.name()),
            held,
            "coprocessor_collateral != Σ free + locked + pending at {}",
            h
        );
        for a in self.auctions.values().filter(|a| a.pruned) {
            prop_assert!(
                cstate::auction(s, a.id).is_none(),
                "auction {} was pruned",
                a.id
            );
            prop_assert!(
                s.prefix_raw(&ckeys::bid_prefix(a.id), None, 1).is_empty(),
                "auction {}'s bids were pruned",
                a.id
            );
        }
        let all = settle::all_auctions(s);
        prop_assert_eq!(
            all.len(),
            self.auctions.values().filter(|a| !a.pruned).count()
        );
        for app in all {
            let Some(m) = self.auctions.get(&app.id).filter(|m| !m.pruned) else {
                return Err(TestCaseError::fail(format!("unknown auction {}", app.id)));
            };
            let status = match m.state {
                AState::Open => AuctionStatus::Open,
                AState::Won { .. } => AuctionStatus::Won,
                AState::Expired => AuctionStatus::Expired,
                AState::Closed(st) => st,
            };
            prop_assert_eq!(app.status, status, "auction {} at {}", app.id, h);
            let slot = ts::slot(s, app.task_id, &app.member);
            match app.status {
                AuctionStatus::Open => {
                    let t = self.net.task(app.task_id);
                    let uncommitted = t
                        .current_round()
                        .member(&app.member)
                        .is_some_and(|m| m.commitment.is_none());
                    prop_assert!(
                        t.status == TaskStatus::Assigned
                            && uncommitted
                            && slot.is_some_and(|x| x.coprocessor.is_none()),
                        "open auction {} is not on an open, offered slot at {}",
                        app.id,
                        h
                    );
                }
                AuctionStatus::Won => {
                    let winner = app.winner.expect("a won auction has a winner");
                    prop_assert_eq!(slot.and_then(|x| x.coprocessor), Some(winner));
                    prop_assert_eq!(ts::slot_held_by(s, app.task_id, &winner), Some(app.member));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check(
        &mut self,
        h: u64,
        pre_ops: &BTreeMap<Address, staking::Operator>,
        resp: &BlockResponse,
    ) -> Result<(), TestCaseError> {
        let s = self.net.chain.app.storage();
        let p = ts::params(s);
        let sp = staking::state::params(s);

        // value: every balance sums to the supply, which only falls (slashes burn)
        let supply = bank::supply(s);
        let balances = self.net.chain.sum_of_balances();
        prop_assert_eq!(
            balances,
            supply.total_supply,
            "Σ balances != supply at {}",
            h
        );
        prop_assert_eq!(
            supply.total_supply,
            supply.genesis_supply + supply.minted - supply.burned
        );
        prop_assert!(supply.total_supply <= self.supply, "supply rose at {}", h);
        self.supply = supply.total_supply;

        let tasks = self.all_tasks();
        let escrowed: u128 = tasks
            .iter()
            .filter(|t| t.status.is_open())
            .map(|t| t.escrow)
            .sum();
        prop_assert_eq!(
            self.net.module_balance("task_escrow"),
            escrowed,
            "escrow at {}",
            h
        );
        let failed_events: BTreeMap<u64, (u128, u128)> = resp
            .events
            .iter()
            .filter(|e| {
                e.kind == nodeop_app::modules::tasks::events::TASK_FAILED
                    && e.get("refund").is_some()
            })
            .map(|e| {
                let n = |k: &str| e.get(k).unwrap().parse::<u128>().unwrap();
                (n("task") as u64, (n("refund"), n("protocol_fee")))
            })
            .collect();
        for t in &tasks {
            if !t.status.is_open() {
                prop_assert_eq!(t.escrow, 0, "finished task {} holds escrow", t.id);
            }
            if t.reexec.is_some() {
                prop_assert_eq!(t.fee, 0);
                continue;
            }
            if let (Some(fin), Some(sub)) = (&t.result, &t.submission) {
                if self.accounted.insert(t.id) {
                    let paid: u128 = fin.pay.iter().map(|l| l.pay).sum();
                    prop_assert_eq!(
                        fin.protocol_fee + paid + fin.rounding_to_treasury + sub.submission_fee,
                        t.fee,
                        "task {} fee split",
                        t.id
                    );
                    prop_assert!(!fin.agreeing.is_empty());
                }
            }
            if t.status == TaskStatus::Failed && t.finished_height == Some(h) {
                let (refund, protocol) = failed_events[&t.id];
                prop_assert_eq!(refund + protocol, t.fee, "task {} refund", t.id);
            }
        }

        // deadlines: each phase ends on time (a round aggregates by the end of its reveal
        // window, a submission window closes at its last block), and so the whole task within
        // the bound
        for t in tasks.iter().filter(|t| t.status.is_open()) {
            let max_rounds = if t.reexec.is_some() { 1 } else { 2 };
            prop_assert!(
                t.rounds.len() <= max_rounds,
                "task {} has {} rounds",
                t.id,
                t.rounds.len()
            );
            let r0 = &t.rounds[0];
            prop_assert_eq!(
                r0.reveal_end,
                r0.assigned_height + p.commit_blocks + p.reveal_blocks
            );
            if let Some(r1) = t.rounds.get(1) {
                prop_assert!(r1.assigned_height <= r0.reveal_end);
            }
            match t.status {
                TaskStatus::Assigned => prop_assert!(
                    h < t.current_round().reveal_end,
                    "task {}: round {} still open at {}, its reveal window ended at {}",
                    t.id,
                    t.current_round().number,
                    h,
                    t.current_round().reveal_end
                ),
                _ => {
                    let sub = t.submission.as_ref().unwrap();
                    let h_f = t.result.as_ref().unwrap().finalized_height;
                    prop_assert!(
                        h < sub.window_end,
                        "task {}: window {} open past its end",
                        t.id,
                        sub.window
                    );
                    prop_assert!(sub.schedule.len() <= p.max_fallbacks as usize);
                    prop_assert!(sub.window as usize <= sub.schedule.len());
                    prop_assert_eq!(
                        sub.window_end,
                        h_f + (u64::from(sub.window) + 1) * p.submission_window
                    );
                }
            }
            prop_assert!(
                h < t.posted_height + self.bound,
                "task {} ({:?}) posted at {} is still open at {} (bound {})",
                t.id,
                t.status,
                t.posted_height,
                h,
                self.bound
            );
        }

        // capacity: reserved units never exceed capacity and equal the open duties
        let mut duties: BTreeMap<Address, u64> = BTreeMap::new();
        for t in tasks.iter().filter(|t| t.status.is_open()) {
            for a in t.all_members() {
                *duties.entry(a).or_default() += t.reserved_on(&a);
            }
        }
        for k in &self.net.operators {
            let op = self.net.chain.operator(&k.address);
            let reserved = ts::reserved_units(s, &k.address);
            prop_assert!(
                reserved <= op.capacity_units,
                "{} over capacity at {}",
                k.address,
                h
            );
            prop_assert_eq!(reserved, duties.get(&k.address).copied().unwrap_or(0));
        }

        // eligibility of every committee drawn in this block
        for t in &tasks {
            for r in t.rounds.iter().filter(|r| r.assigned_height == h) {
                let size = r.members.len() as u32;
                let expected = if t.reexec.is_some() {
                    p.reexec_size
                } else if r.number == 0 {
                    p.committee(t.consistency).size
                } else {
                    2 * t.rounds[0].members.len() as u32 + 1
                };
                prop_assert_eq!(size, expected, "task {} round {} size", t.id, r.number);
                let addrs: BTreeSet<Address> = r.members.iter().map(|m| m.operator).collect();
                prop_assert_eq!(addrs.len(), r.members.len(), "repeated member");
                let mut excluded: BTreeSet<Address> = t
                    .rounds
                    .iter()
                    .filter(|o| o.number < r.number)
                    .flat_map(|o| o.members.iter().map(|m| m.operator))
                    .collect();
                if let Some(link) = &t.reexec {
                    excluded.extend(self.net.task(link.original_task).all_members());
                }
                for m in &r.members {
                    prop_assert!(!excluded.contains(&m.operator), "excluded member drawn");
                    let op = &pre_ops[&m.operator];
                    prop_assert!(op.eligible(&sp), "{} not bonded or jailed", m.operator);
                    // the draw happened on the block's state: a post's draw (posts go first)
                    // sees the pools as they were before the block
                    if r.number == 0 && t.reexec.is_none() {
                        let power = u128::from(op.power(&sp));
                        prop_assert_eq!(m.weight % power, 0);
                        let score = m.weight / power;
                        prop_assert!(
                            score >= u128::from(t.min_reputation_ppm),
                            "{} drawn with score {} under the floor {}",
                            m.operator,
                            score,
                            t.min_reputation_ppm
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

fn run(
    profiles: Vec<Profile>,
    posts: Vec<Option<PostSpec>>,
    seed: u64,
    totals: &RefCell<BTreeMap<String, u64>>,
) -> Result<(), TestCaseError> {
    let mut g = CoproGenesis::new(OPERATORS, 1, COPROCESSORS.len());
    let state = &mut g.tasks.state;
    for (op, cap) in state.staking.operators.iter_mut().zip(CAPACITIES) {
        op.capacity_units = cap;
    }
    let second = Key::from_seed("task-client-2");
    state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: second.address,
            balance: 1_000_000 * NOP,
            nonce: 0,
        });
    // short retention: pruning happens inside the run
    state.tasks.params.task_retention = 30;
    // short epochs move the load states; no issuance period ends within the run (no mint)
    state.staking.params.epoch_seconds = EPOCH_SECONDS;
    state.issuance.params.issuance_period_epochs = 1_000_000;
    // a run has few epochs: the load state follows utilisation faster (A = 0.5 instead of
    // 0.3) and the optimal load is 50 % (instead of 70 %), so that a busy coprocessor passes it
    // within them
    state.reputation.params.load_a_ppm = 500_000;
    state.reputation.params.load_opt_ppm = 500_000;
    // a lock of 175 % of the price (not 200 %): most locks are then not whole, so their rounding
    // (up) shows
    state.coprocessors.params.collateral_ppm = 1_750_000;
    let cp = state.coprocessors.params.clone();
    let rp = state.reputation.params.clone();
    let keys = g.coprocessors.clone();
    let net = g.start().net;
    let genesis_time = net.chain.time.seconds;
    let supply = net.chain.supply().total_supply;
    let profiles: BTreeMap<Address, Profile> = net
        .operators
        .iter()
        .zip(profiles)
        .map(|(k, p)| (k.address, p))
        .collect();
    let p = net.params();
    let bound = 2 * (p.commit_blocks + p.reveal_blocks)
        + (u64::from(p.max_fallbacks) + 1) * p.submission_window;
    let mut rng = Rng::new(seed);
    let twin = (3 + rng.below(5), u128::from(2 + rng.below(40)) * NOP);
    let copros = keys
        .into_iter()
        .zip(COPROCESSORS)
        .map(|(key, profile)| {
            // the honest pair registers alike, so that their bids tie on reputation until
            // their records part (then free capacity, then the seeded hash ranks them)
            let (capacity, collateral) = match profile {
                CoproProfile::Honest => twin,
                CoproProfile::Overloaded => (2, u128::from(2 + rng.below(40)) * NOP),
                _ => (3 + rng.below(5), u128::from(2 + rng.below(40)) * NOP),
            };
            let extra_register = (rng.below(2) == 0).then(|| {
                let at = 1 + rng.below(15);
                match rng.below(4) {
                    0 => (at, capacity, 1 + u128::from(rng.below(NOP as u64 - 1))),
                    1 => (at, 0, collateral),
                    2 => (at, cp.max_capacity_units + 1, collateral),
                    _ => (at, capacity, collateral),
                }
            });
            Copro {
                key,
                profile,
                register_at: 1 + rng.below(10),
                capacity,
                collateral,
                extra_register,
                registered: false,
                free: 0,
                locked: 0,
                pending: 0,
                reserved: 0,
                balance: COPROCESSOR_BALANCE,
                load_ppm: 0,
                unit_blocks: 0,
                fees: 0,
                deposited: 0,
                withdrawn: 0,
                earned: 0,
                slashed: 0,
            }
        })
        .collect();
    let mut d = Driver {
        net,
        profiles,
        rng,
        plans: BTreeMap::new(),
        confirms: BTreeMap::new(),
        disputes: BTreeMap::new(),
        supply,
        accounted: BTreeSet::new(),
        bound,
        seen: BTreeMap::new(),
        copros,
        auctions: BTreeMap::new(),
        running_before: BTreeMap::new(),
        opening: BTreeMap::new(),
        by_slot: BTreeMap::new(),
        slot_plans: BTreeMap::new(),
        holdings: BTreeSet::new(),
        bids_made: BTreeSet::new(),
        withdrawals: Vec::new(),
        next_auction_id: 1,
        load_clock: None,
        genesis_time,
        cp,
        rp,
        max_load: BTreeMap::new(),
        roots: BTreeMap::new(),
    };
    for spec in &posts {
        d.step(spec.as_ref())?;
    }
    // no more posts: every task (re-executions included) runs out. A re-executor that disagrees
    // gets its own proposal, whose dispute re-executes the re-execution (docs/tasks.md), so a
    // chain of disputes can outlast any fixed tail: run on while a task is open (each one is
    // held to its own deadline above), within a generous cap
    for _ in 0..(bound + 40) {
        d.step(None)?;
    }
    let mut extra = 0;
    while d.all_tasks().iter().any(|t| t.status.is_open()) && extra < 20 * bound {
        d.step(None)?;
        extra += 1;
    }
    if extra > 0 {
        d.count("blocks run on for a chain of re-executions");
    }
    for t in d.all_tasks() {
        prop_assert!(
            !t.status.is_open(),
            "task {} still {:?} at {}: posted at {}, re-execution of {:?}",
            t.id,
            t.status,
            d.net.chain.height,
            t.posted_height,
            t.reexec.as_ref().map(|l| l.original_task)
        );
    }
    prop_assert_eq!(d.net.module_balance("task_escrow"), 0);
    for k in &d.net.operators {
        prop_assert_eq!(ts::reserved_units(d.net.chain.app.storage(), &k.address), 0);
    }
    // every auction ended, every lock was released, only queued withdrawals are pending
    for a in d.auctions.values() {
        prop_assert!(
            matches!(a.state, AState::Expired | AState::Closed(_)),
            "auction {} still {:?}",
            a.id,
            a.state
        );
    }
    for (i, c) in d.copros.iter().enumerate() {
        let queued: u128 = d.withdrawals.iter().filter(|w| w.1 == i).map(|w| w.2).sum();
        prop_assert_eq!((c.locked, c.reserved, c.pending), (0, 0, queued));
    }
    // the run's outcomes per coprocessor, from the records it ends with: its balance moved by
    // exactly its fees, deposits, withdrawals and the prices it earned; its collateral by its
    // deposits, withdrawals and slashes
    let s = d.net.chain.app.storage();
    for (i, c) in d.copros.iter().enumerate() {
        let addr = c.key.address;
        prop_assert_eq!(
            d.net.balance(&addr) + c.fees + c.deposited,
            COPROCESSOR_BALANCE + c.withdrawn + c.earned,
            "balance of the {:?} coprocessor",
            c.profile
        );
        let collateral = cstate::coprocessor(s, &addr)
            .map(|r| r.free_collateral + r.locked_collateral + r.pending_collateral)
            .unwrap_or(0);
        prop_assert_eq!(collateral + c.withdrawn + c.slashed, c.deposited);
        let ended: Vec<AuctionStatus> = d
            .auctions
            .values()
            .filter_map(|a| match (a.state, a.won) {
                (AState::Closed(st), Some((w, _))) if w == i => Some(st),
                _ => None,
            })
            .collect();
        match c.profile {
            // an honest coprocessor is never slashed for a slot it answered with the quorum,
            // and its earnings are exactly its paid slots' prices
            CoproProfile::Honest => {
                let prices: u128 = d
                    .auctions
                    .values()
                    .filter(|a| a.state == AState::Closed(AuctionStatus::Paid))
                    .filter_map(|a| a.won.filter(|(w, _)| *w == i).map(|(_, p)| p))
                    .sum();
                prop_assert_eq!(c.earned, prices);
                prop_assert!(!ended.contains(&AuctionStatus::Missed));
            }
            // every slot the silent coprocessor won ended in a liveness slash
            CoproProfile::Silent => {
                prop_assert!(ended.iter().all(|st| *st == AuctionStatus::Missed));
                prop_assert_eq!(c.earned, 0);
            }
            // a lying coprocessor outvoted lost collateral
            CoproProfile::Lying => {
                if ended.contains(&AuctionStatus::Slashed) {
                    prop_assert!(collateral + c.withdrawn < c.deposited);
                }
            }
            CoproProfile::Overloaded => {}
        }
        *d.seen
            .entry(format!("unop earned ({:?} coprocessor)", c.profile))
            .or_default() += c.earned as u64;
        *d.seen
            .entry(format!("unop slashed ({:?} coprocessor)", c.profile))
            .or_default() += c.slashed as u64;
    }
    for (profile, load) in &d.max_load {
        d.seen.insert(
            format!("highest load state, ppm ({profile:?} coprocessor)"),
            u64::from(*load),
        );
    }
    eprintln!("{:?}", d.seen);
    let mut totals = totals.borrow_mut();
    *totals.entry("cases run".into()).or_default() += 1;
    for (k, v) in &d.seen {
        let e = totals.entry(k.clone()).or_default();
        if k.starts_with("highest") {
            *e = (*e).max(*v);
        } else {
            *e += v;
        }
    }
    Ok(())
}

/// What the seeded cases must cover between them.
const COVERED: &[&str] = &[
    "slot paid (Honest coprocessor)",
    "slot result_mismatch (Lying coprocessor)",
    "slot missed_commit (Silent coprocessor)",
    "slash amplified by the load state (Overloaded coprocessor)",
    "auction won among several bids of one block",
    "bids tied on reputation, ranked by free capacity",
    "bids tied on reputation and free capacity, ranked by the seeded hash",
    "auction won in its opening block",
    "auction expired",
    "auction pruned",
    "auction pruning put off while its task runs",
    "member committed itself after its auction expired",
    "collateral_added",
    "collateral_withdrawal_queued",
    "collateral_withdrawal_paid",
    "refused bid_too_early",
    "refused auction_not_open",
    "refused already_bid",
    "refused cannot_bid",
    "refused insufficient_capacity",
    "refused insufficient_free_collateral",
    "refused not_a_coprocessor",
    "refused price_above_expected_pay",
    "refused too_late_to_auction",
    "refused auction_exists",
    "refused slot_offered",
    "refused not_a_committee_member",
    "refused wrong_task_status",
    "refused already_registered",
    "refused collateral_below_minimum",
    "refused capacity_out_of_range",
    "refused at CheckTx invalid_field",
    "refused at CheckTx floor_above_start",
];

#[test]
fn random_task_workloads_conserve_value_and_respect_deadlines_capacity_and_eligibility() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(0x7a5c_0005),
        source_file: Some(file!()),
        ..Config::default()
    });
    let totals = RefCell::new(BTreeMap::new());
    let strategy = (
        proptest::collection::vec(profile(), OPERATORS),
        proptest::collection::vec(post_spec(), 30..70),
        any::<u64>(),
    );
    if let Err(e) = runner.run(&strategy, |(profiles, posts, seed)| {
        run(profiles, posts, seed, &totals)
    }) {
        panic!("{e}");
    }
    let totals = totals.into_inner();
    // the cases run include the recorded regressions, replayed first
    eprintln!("totals: {totals:?}");
    for what in COVERED {
        assert!(
            totals.get(*what).copied().unwrap_or(0) > 0,
            "no case covered: {what}"
        );
    }
}
