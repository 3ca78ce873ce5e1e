//! Experiment 001: the load-balancing model's operators, coprocessors and clients
//! ([`crate::agents`]) run block by block on the real App through the in-process driver.
//!
//! Each block: clients post tasks; every member of a new committee decides per slot (execute,
//! lie, sell, skip); members open Dutch auctions for the slots they sell; coprocessors bid by
//! their strategy; holders commit and reveal; scheduled submitters confirm delivery; operators
//! whose stake or wealth fell below their threshold undelegate. Every action is a signed tx in
//! the block, executed by `FinalizeBlock` and committed; the agents read back only what a node's
//! queries would tell them (task records, auction records, balances). Signatures are verified in
//! FinalizeBlock (no cache: the simulator never sends CheckTx).
//!
//! One period is `blocks_per_period` blocks of one second and one staking epoch, so the
//! reputation decay, the load state and the epoch fee payout step once per period.
#![allow(clippy::float_arithmetic)] // metrics and agent draws are floats; the chain decides in integers

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use nodeop_app::app::BlockResponse;
use nodeop_app::crypto::{sha256, Address};
use nodeop_app::modules::coprocessors::{handler as copro_handler, state as copro, AuctionStatus};
use nodeop_app::modules::reputation;
use nodeop_app::modules::slashing::{self, resolver::Resolver, Offence, ProposalStatus};
use nodeop_app::modules::staking;
use nodeop_app::modules::tasks::{
    state as tasks, Consistency, MsgPostTask, TaskKind, TaskPayload, TaskStatus, TasksParams,
};
use nodeop_app::params::TxParams;
use nodeop_app::state::{StateReadExt, Storage};
use nodeop_app::tx::{Msg, TxBody};
use nodeop_app::AppOptions;
use nodeop_driver::chain::{self, add_genesis_operator, consensus_key, Key, TestChain};
use nodeop_driver::coprocessors::{add_genesis_coprocessor, bid, open};
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{posted_id, NOP};
use serde::Deserialize;

use crate::agents::{
    assign_classes, between, chance, shuffle, stochastic_round, unit, weighted, ClientAgent,
    ClientConfig, CoprocessorAgent, CoprocessorConfig, DemandConfig, OperatorAgent, OperatorConfig,
    Profile, SlotChoice, Strategy,
};

/// Chain parameters the experiment sets (the rest are the devnet's).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    pub slashing_factor_ppm: u32,
    pub result_mismatch_ppm: u32,
    pub load_opt_ppm: u32,
    pub k_low_ppm: u32,
    pub k_high_ppm: u32,
    pub issuance_period_epochs: u64,
    pub task_retention: u64,
    /// The task unit price's floor and genesis value, unop per difficulty unit.
    pub min_unit_price: u64,
}

/// Extra runs: each value replaces the base run's, one parameter at a time.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    pub slashing_factor_ppm: Vec<u32>,
    pub k_low_ppm: Vec<u32>,
    #[serde(default)]
    pub k_high_ppm: Vec<u32>,
    #[serde(default)]
    pub load_opt_ppm: Vec<u32>,
    /// Periods of the sweep runs (0: as the base run).
    pub periods: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancing {
    pub title: String,
    pub seed: u64,
    pub operators: usize,
    pub coprocessors: usize,
    pub periods: u64,
    pub blocks_per_period: u64,
    /// Runs at once (0: every core).
    pub threads: usize,
    pub chain: ChainConfig,
    pub operator: OperatorConfig,
    pub coprocessor: CoprocessorConfig,
    pub clients: ClientConfig,
    pub demand: DemandConfig,
    pub sweep: SweepConfig,
    /// After every block: App invariants on, and Σ balances = total supply asserted.
    #[serde(default)]
    pub check_every_block: bool,
}

impl LoadBalancing {
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.operators < 7 {
            p.push("operators: at least 7 (a Strong committee)".into());
        }
        if self.blocks_per_period == 0 || self.periods == 0 {
            p.push("periods and blocks_per_period must be positive".into());
        }
        if self.clients.difficulty.is_empty()
            || self.clients.difficulty.len() != self.clients.difficulty_weights.len()
        {
            p.push("clients.difficulty and difficulty_weights: same non-zero length".into());
        }
        if self.clients.clients == 0 {
            p.push("clients.clients must be positive".into());
        }
        if let Some([lo, hi]) = self.clients.max_unit_price_nop {
            if !(lo > 0.0 && lo <= hi) {
                p.push("clients.max_unit_price_nop: 0 < low ≤ high".into());
            }
        }
        if self.clients.fee_markup[0] < 1.0 {
            p.push("clients.fee_markup starts at 1.0 or more (the chain refuses less)".into());
        }
        if !(0.0..=1.0).contains(&self.operator.auction_floor)
            || self.operator.auction_floor > self.operator.auction_start
            || self.operator.auction_start > 1.0
        {
            p.push("operator: 0 ≤ auction_floor ≤ auction_start ≤ 1".into());
        }
        p
    }
}

/// One variant of the experiment: the base run or a sweep point.
#[derive(Clone, Debug)]
pub struct Variant {
    pub label: String,
    pub slashing_factor_ppm: u32,
    pub k_low_ppm: u32,
    pub k_high_ppm: u32,
    pub load_opt_ppm: u32,
    pub periods: u64,
}

impl Variant {
    /// The four swept constants, in the sweep's order.
    pub fn constants(&self) -> [u32; 4] {
        [
            self.slashing_factor_ppm,
            self.k_low_ppm,
            self.k_high_ppm,
            self.load_opt_ppm,
        ]
    }

    /// Whether `self` has `other`'s constants except, perhaps, the one at `except`
    /// (an index into [`Variant::constants`]).
    pub fn same_but(&self, other: &Variant, except: usize) -> bool {
        let (a, b) = (self.constants(), other.constants());
        (0..4).all(|i| i == except || a[i] == b[i])
    }
}

// ------------------------------------------------------------------ task bookkeeping

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Signer {
    Client(usize),
    Operator(usize),
    Coprocessor(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SlotStep {
    Open,
    Auction(u64),
    Commit,
    Committed,
    Skipped,
}

struct Slot {
    member: usize,
    holder: Signer,
    step: SlotStep,
    at: u64,
    sent_in: Option<u64>,
    result: Vec<u8>,
    salt: [u8; 32],
    /// Counted in the member's busy units.
    busy: bool,
}

impl Slot {
    /// What `std::mem::replace` leaves behind while a slot is taken out to be worked on.
    fn placeholder() -> Self {
        Self {
            member: 0,
            holder: Signer::Operator(0),
            step: SlotStep::Skipped,
            at: 0,
            sent_in: None,
            result: Vec::new(),
            salt: [0; 32],
            busy: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Slots,
    Reveal,
    /// Read the task once the chain has reached `at`.
    Wait,
    Confirm,
}

#[derive(Clone)]
struct Spec {
    numeric: bool,
    truth: Vec<u8>,
    lie: Vec<u8>,
    difficulty: u64,
}

struct Pending {
    id: u64,
    spec: Spec,
    round: usize,
    slots: Vec<Slot>,
    stage: Stage,
    at: u64,
    sent_in: Option<u64>,
    start_price: u128,
    floor_price: u128,
    reveal_end: u64,
    finalized_height: u64,
    schedule: Vec<Address>,
    window: usize,
}

/// A result_mismatch proposal its accused means to dispute.
struct DisputePlan {
    proposal: u64,
    op: usize,
    /// The disputed task's truth and lie, for the re-execution.
    spec: Spec,
}

struct OpenAuction {
    task: u64,
    slot: usize,
    a: copro::Auction,
    bidders: BTreeSet<usize>,
}

/// Per-period counters reset at each period's end.
#[derive(Clone, Default)]
struct Counters {
    demand: f64,
    posted: u64,
    refused: u64,
    priced_out: u64,
    unaffordable: u64,
    finalized: u64,
    wrong: u64,
    failed: u64,
    delivered: u64,
    undelivered: u64,
    slots: u64,
    opened: u64,
    won: u64,
    expired: u64,
    bids: u64,
    failed_txs: u64,
    txs: u64,
    won_by_strategy: [u64; 3],
    disputes: u64,
    upheld: u64,
    overturned: u64,
    voted: u64,
}

/// One row of `periods.csv`.
#[derive(Clone, Debug, Default)]
pub struct PeriodRow {
    pub period: u64,
    pub height: u64,
    pub demand: f64,
    pub posted: u64,
    pub refused: u64,
    pub priced_out: u64,
    pub unaffordable: u64,
    pub finalized: u64,
    pub wrong: u64,
    pub failed: u64,
    pub delivered: u64,
    pub undelivered: u64,
    pub slots: u64,
    pub auctions_opened: u64,
    pub auctions_won: u64,
    pub auctions_expired: u64,
    pub bids: u64,
    pub txs: u64,
    pub failed_txs: u64,
    pub active_operators: u64,
    pub active_by_profile: [u64; 4],
    pub score_by_profile: [f64; 4],
    pub active_coprocessors: u64,
    pub unit_price: u128,
    pub operator_reward_nop: f64,
    pub honest_reward_nop: f64,
    pub coprocessor_reward_nop: f64,
    pub operator_slashed_nop: f64,
    pub reward_p10: f64,
    pub reward_p50: f64,
    pub reward_p90: f64,
    pub reward_gini: f64,
    pub won_by_strategy: [u64; 3],
    pub coprocessor_gini: f64,
    pub mean_coprocessor_load: f64,
    pub disputes: u64,
    pub disputes_upheld: u64,
    pub disputes_overturned: u64,
    pub disputes_voted: u64,
}

/// One row of `operators.csv`.
#[derive(Clone, Debug)]
pub struct OperatorRow {
    pub index: usize,
    pub profile: Profile,
    pub stake_nop: f64,
    pub capacity_units: u64,
    pub compute_units: u64,
    pub left_period: Option<u64>,
    pub self_bond_nop: f64,
    pub reward_nop: f64,
    pub slashed_nop: f64,
    pub score_ppm: u32,
    pub slots: u64,
    pub slots_self: u64,
    pub slots_sold: u64,
    pub slots_skipped: u64,
    pub lies: u64,
    pub proposals: u64,
    pub disputes: u64,
    pub disputes_won: u64,
    pub disputes_saved_nop: f64,
}

/// One row of `coprocessors.csv`.
#[derive(Clone, Debug)]
pub struct CoprocessorRow {
    pub index: usize,
    pub strategy: Strategy,
    pub capacity_units: u64,
    pub collateral_nop: f64,
    pub won: u64,
    pub errors: u64,
    pub reward_nop: f64,
    pub mean_load_ppm: f64,
    pub final_load_ppm: u32,
    pub reward_weight_ppm: u32,
    pub retired_period: Option<u64>,
}

/// Where the time went.
#[derive(Clone, Debug, Default)]
pub struct Timing {
    pub finalize: Duration,
    pub commit: Duration,
    /// Agents: deciding, signing, reading state back.
    pub agents: Duration,
    pub total: Duration,
    /// CPU time of the run (Linux: /proc/thread-self/stat of the run's thread when it has one
    /// thread; the process's over the runs sharing it otherwise), when readable; on a shared
    /// machine wall time also counts other processes' turns.
    pub cpu: Option<Duration>,
    /// Threads that signed and verified for the run.
    pub threads: usize,
    pub blocks: u64,
    pub txs: u64,
    pub msgs: u64,
    pub tasks: u64,
}

pub struct RunResult {
    pub variant: Variant,
    pub periods: Vec<PeriodRow>,
    pub operators: Vec<OperatorRow>,
    pub coprocessors: Vec<CoprocessorRow>,
    /// (operator, coprocessor) → slots won.
    pub graph: BTreeMap<(usize, usize), u64>,
    /// Per period, slots won by each coprocessor (period-major).
    pub wins: Vec<Vec<u32>>,
    pub timing: Timing,
}

// ------------------------------------------------------------------ the simulation

struct Sim<'a> {
    cfg: &'a LoadBalancing,
    variant: Variant,
    rng: Rng,
    chain: TestChain,
    params: TxParams,
    tasks_params: TasksParams,
    operators: Vec<OperatorAgent>,
    op_by_address: BTreeMap<Address, usize>,
    coprocessors: Vec<CoprocessorAgent>,
    copro_by_address: BTreeMap<Address, usize>,
    clients: Vec<ClientAgent>,
    next_client: usize,
    pending: Vec<Pending>,
    auctions: BTreeMap<u64, OpenAuction>,
    serial: u64,
    counters: Counters,
    rows: Vec<PeriodRow>,
    /// Wealth at the end of the last period (operators, coprocessors).
    last_wealth: Vec<u128>,
    graph: BTreeMap<(usize, usize), u64>,
    wins: Vec<Vec<u32>>,
    period_wins: Vec<u32>,
    timing: Timing,
    /// Threads that sign the agents' txs and verify a block's signatures.
    threads: usize,
    /// Operators that undelegate their self-bond in the next block.
    leaving: Vec<(usize, u128)>,
    /// Proposals to dispute (from the next block on, until their deadline).
    plans: Vec<DisputePlan>,
    /// Disputes sent in the current block (`Tag::Dispute` indexes this).
    sent_disputes: Vec<DisputePlan>,
    /// Disputed proposals not yet decided → (accused, already put to the vote).
    watched: BTreeMap<u64, (usize, bool)>,
}

const OPERATOR_BALANCE: u128 = 1_000 * NOP;
const COPROCESSOR_BALANCE: u128 = 1_000 * NOP;
const CLIENT_BALANCE: u128 = 1_000_000 * NOP;
/// What a client sets aside for a post's tx fee when it checks that it can pay (a post's tx is
/// a few hundred bytes; the devnet's fee per byte makes that far less than this).
const POST_TX_FEE_ALLOWANCE: u128 = NOP;
const NUMERIC_TOLERANCE_PPM: u32 = 10_000;

fn nop(x: u128) -> f64 {
    x as f64 / NOP as f64
}

fn signed_nop(now: u128, then: u128) -> f64 {
    nop(now) - nop(then)
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a LoadBalancing, variant: Variant, seed: u64, threads: usize) -> Self {
        let mut rng = Rng::new(seed);
        let oc = &cfg.operator;
        let shares = [
            oc.profiles.honest,
            oc.profiles.lazy,
            oc.profiles.liar,
            oc.profiles.flaky,
        ];
        let profiles = assign_classes(&mut rng, cfg.operators, &shares);
        let operators: Vec<OperatorAgent> = (0..cfg.operators)
            .map(|i| {
                let key = if i == 0 {
                    chain::genesis_operator().0.with_libsecp256k1()
                } else {
                    Key::from_seed(&format!("sim-operator-{i}")).with_libsecp256k1()
                };
                let stake = if i == 0 {
                    chain::GENESIS_SELF_BOND
                } else {
                    u128::from(between(&mut rng, oc.stake_nop)) * NOP
                };
                OperatorAgent {
                    key,
                    profile: Profile::ALL[profiles[i]],
                    stake,
                    capacity_units: between(&mut rng, oc.capacity_units),
                    compute_units: between(&mut rng, oc.compute_units),
                    busy_units: 0,
                    initial_wealth: stake + OPERATOR_BALANCE,
                    left: None,
                    offline: false,
                    nonce: 0,
                    slots: 0,
                    slots_sold: 0,
                    slots_self: 0,
                    slots_skipped: 0,
                    lies: 0,
                    proposals: 0,
                    disputes: 0,
                    disputes_won: 0,
                    disputes_saved: 0,
                }
            })
            .collect();
        let cc = &cfg.coprocessor;
        let sshares = [
            cc.strategies.early_high,
            cc.strategies.late_low,
            cc.strategies.load_aware,
        ];
        let strategies = assign_classes(&mut rng, cfg.coprocessors, &sshares);
        let coprocessors: Vec<CoprocessorAgent> = (0..cfg.coprocessors)
            .map(|i| {
                let collateral = u128::from(between(&mut rng, cc.collateral_nop)) * NOP;
                CoprocessorAgent {
                    key: Key::from_seed(&format!("sim-coprocessor-{i}")).with_libsecp256k1(),
                    strategy: Strategy::ALL[strategies[i]],
                    capacity_units: between(&mut rng, cc.capacity_units),
                    collateral,
                    initial_wealth: collateral + COPROCESSOR_BALANCE,
                    retired: None,
                    nonce: 0,
                    won: 0,
                    errors: 0,
                    load_sum: 0,
                }
            })
            .collect();
        let clients: Vec<ClientAgent> = (0..cfg.clients.clients)
            .map(|i| ClientAgent {
                key: Key::from_seed(&format!("sim-client-{i}")).with_libsecp256k1(),
                nonce: 0,
                max_unit_price: ClientAgent::max_unit_price(&cfg.clients, seed, i),
            })
            .collect();

        // genesis
        let mut accounts: Vec<(Address, u128)> = Vec::new();
        accounts.extend(operators.iter().map(|o| (o.key.address, OPERATOR_BALANCE)));
        accounts.extend(
            coprocessors
                .iter()
                .map(|c| (c.key.address, COPROCESSOR_BALANCE)),
        );
        accounts.extend(clients.iter().map(|c| (c.key.address, CLIENT_BALANCE)));
        let mut state = chain::genesis(&accounts);
        for (i, o) in operators.iter().enumerate().skip(1) {
            add_genesis_operator(
                &mut state,
                &o.key.address,
                consensus_key(&format!("sim-operator-{i}")),
                &format!("op-{i}"),
                o.stake,
            );
        }
        let op_by_address: BTreeMap<Address, usize> = operators
            .iter()
            .enumerate()
            .map(|(i, o)| (o.key.address, i))
            .collect();
        for op in &mut state.staking.operators {
            op.capacity_units = operators[op_by_address[&op.address]].capacity_units;
        }
        state.staking.params.epoch_seconds = cfg.blocks_per_period as i64;
        state.staking.params.max_validators = (cfg.operators as u32).max(100);
        state.tasks.params = TasksParams {
            task_retention: cfg.chain.task_retention,
            max_block_seconds: 1,
            min_unit_price: u128::from(cfg.chain.min_unit_price),
            initial_unit_price: u128::from(cfg.chain.min_unit_price),
            ..TasksParams::default()
        };
        state.tasks.unit_price = u128::from(cfg.chain.min_unit_price);
        state.slashing.params.max_task_lifetime_seconds =
            state.tasks.params.max_task_lifetime_seconds();
        state.slashing.params.slashing_factor_ppm = variant.slashing_factor_ppm;
        state.slashing.params.result_mismatch_ppm = cfg.chain.result_mismatch_ppm;
        state.reputation.params.load_opt_ppm = variant.load_opt_ppm;
        state.reputation.params.k_low_ppm = variant.k_low_ppm;
        state.reputation.params.k_high_ppm = variant.k_high_ppm;
        state.issuance.params.issuance_period_epochs = cfg.chain.issuance_period_epochs;
        for (i, c) in coprocessors.iter().enumerate() {
            add_genesis_coprocessor(
                &mut state,
                &c.key.address,
                &format!("copro-{i}"),
                c.capacity_units,
                c.collateral,
            );
        }
        // the coprocessors' epoch clock starts at genesis (what the chain also does for
        // genesis-registered coprocessors whose genesis leaves the marks out; written out here)
        if !coprocessors.is_empty() {
            state.coprocessors.last_epoch = Some(0);
            state.coprocessors.last_epoch_height = Some(1);
        }
        let copro_by_address = coprocessors
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key.address, i))
            .collect();

        let options = AppOptions {
            check_invariants: cfg.check_every_block,
            verify_threads: threads,
            hash_threads: threads,
            ..AppOptions::default()
        };
        // the newest state and each block's root (computed in full); no history or proofs,
        // which nothing here reads
        let storage = Storage::in_memory_newest_only().expect("in-memory store");
        let chain = TestChain::start_on(storage, options, &state);
        let params = chain.params();
        let tasks_params = tasks::params(chain.app.storage());
        let last_wealth = operators
            .iter()
            .map(|o| o.initial_wealth)
            .chain(coprocessors.iter().map(|c| c.initial_wealth))
            .collect();
        let n_copro = coprocessors.len();
        Sim {
            cfg,
            variant,
            rng,
            chain,
            params,
            tasks_params,
            operators,
            op_by_address,
            coprocessors,
            copro_by_address,
            clients,
            next_client: 0,
            pending: Vec::new(),
            auctions: BTreeMap::new(),
            serial: 0,
            counters: Counters::default(),
            rows: Vec::new(),
            last_wealth,
            graph: BTreeMap::new(),
            wins: Vec::new(),
            period_wins: vec![0; n_copro],
            timing: Timing::default(),
            threads,
            leaving: Vec::new(),
            plans: Vec::new(),
            sent_disputes: Vec::new(),
            watched: BTreeMap::new(),
        }
    }

    /// A new task at the chain's unit price `price`.
    fn spec(&mut self, price: u128) -> (MsgPostTask, Spec) {
        let c = &self.cfg.clients;
        let d = c.difficulty[weighted(&mut self.rng, &c.difficulty_weights)];
        let consistency = match weighted(
            &mut self.rng,
            &[
                c.consistency.eventual,
                c.consistency.session,
                c.consistency.strong,
            ],
        ) {
            0 => Consistency::Eventual,
            1 => Consistency::Session,
            _ => Consistency::Strong,
        };
        let numeric = chance(&mut self.rng, c.numeric_share);
        let markup = c.fee_markup[0] + unit(&mut self.rng) * (c.fee_markup[1] - c.fee_markup[0]);
        let min = price * u128::from(d);
        let fee = ((min as f64 * markup) as u128).max(min);
        let s = self.serial;
        self.serial += 1;
        let (kind, truth, lie) = if numeric {
            let v = 1_000 + (sha256(&[b"truth", &s.to_be_bytes()])[0] as i64) * 1_000;
            (
                TaskKind::Numeric {
                    scale: 2,
                    tolerance_ppm: NUMERIC_TOLERANCE_PPM,
                },
                v.to_be_bytes().to_vec(),
                (v * 2).to_be_bytes().to_vec(),
            )
        } else {
            (
                TaskKind::Exact,
                sha256(&[b"truth", &s.to_be_bytes()]).to_vec(),
                sha256(&[b"lie", &s.to_be_bytes()]).to_vec(),
            )
        };
        let msg = MsgPostTask {
            kind,
            consistency,
            payload: TaskPayload::Inline(format!("sim task {s}").into_bytes()),
            difficulty_units: d,
            min_reputation_ppm: 0,
            fee,
        };
        (
            msg,
            Spec {
                numeric,
                truth,
                lie,
                difficulty: d,
            },
        )
    }

    fn garbage(&mut self, numeric: bool) -> Vec<u8> {
        if numeric {
            // far from any truth (values are at most 256_000)
            (10_000_000 + (self.rng.next_u64() >> 40) as i64)
                .to_be_bytes()
                .to_vec()
        } else {
            self.rng.bytes::<32>().to_vec()
        }
    }

    fn address(&self, s: Signer) -> Address {
        match s {
            Signer::Client(i) => self.clients[i].key.address,
            Signer::Operator(i) => self.operators[i].key.address,
            Signer::Coprocessor(i) => self.coprocessors[i].key.address,
        }
    }

    /// Slots of the current round of task `t`, decided by their members.
    fn init_slots(&mut self, p: &mut Pending, t: &tasks::Task, height: u64) {
        let round = t.current_round();
        p.round = t.rounds.len() - 1;
        p.reveal_end = round.reveal_end;
        let n = round.members.len();
        let expected = copro_handler::expected_pay(t.fee, &self.tasks_params, n).unwrap_or(0);
        p.start_price = (expected as f64 * self.cfg.operator.auction_start) as u128;
        p.floor_price =
            ((expected as f64 * self.cfg.operator.auction_floor) as u128).min(p.start_price);
        p.slots.clear();
        for (m, member) in round.members.iter().enumerate() {
            let op = self.op_by_address[&member.operator];
            let mut salt = [0u8; 32];
            salt[..8].copy_from_slice(&p.id.to_be_bytes());
            salt[8] = p.round as u8;
            salt[9] = m as u8;
            let mut choice =
                self.operators[op].choose(&mut self.rng, &self.cfg.operator, p.spec.difficulty);
            // a slot can be sold only in round 0, with a price, and two blocks before the
            // commit window's end
            if choice == SlotChoice::Sell
                && (p.round > 0 || p.start_price == 0 || height + 3 > round.commit_end)
            {
                choice = self.operators[op].answer(&mut self.rng, &self.cfg.operator);
            }
            self.operators[op].slots += 1;
            self.counters.slots += 1;
            let mut slot = Slot {
                member: op,
                holder: Signer::Operator(op),
                step: SlotStep::Commit,
                at: height + 1,
                sent_in: None,
                result: Vec::new(),
                salt,
                busy: false,
            };
            match choice {
                SlotChoice::Skip => {
                    slot.step = SlotStep::Skipped;
                    self.operators[op].slots_skipped += 1;
                }
                SlotChoice::Sell => {
                    slot.step = SlotStep::Open;
                    self.operators[op].slots_sold += 1;
                }
                answer => self.execute_self(&mut slot, &p.spec, answer),
            }
            p.slots.push(slot);
        }
    }

    fn execute_self(&mut self, slot: &mut Slot, spec: &Spec, answer: SlotChoice) {
        let op = slot.member;
        slot.result = match answer {
            SlotChoice::Lie => {
                self.operators[op].lies += 1;
                spec.lie.clone()
            }
            SlotChoice::Garbage => {
                self.operators[op].lies += 1;
                self.garbage(spec.numeric)
            }
            _ => spec.truth.clone(),
        };
        self.operators[op].slots_self += 1;
        self.operators[op].busy_units += spec.difficulty;
        slot.busy = true;
        slot.holder = Signer::Operator(op);
        slot.step = SlotStep::Commit;
    }

    fn release(&mut self, p: &mut Pending) {
        for s in &mut p.slots {
            if s.busy {
                s.busy = false;
                let o = &mut self.operators[s.member];
                o.busy_units = o.busy_units.saturating_sub(p.spec.difficulty);
            }
        }
    }

    fn begin_period(&mut self, period: u64) {
        let storage = self.chain.app.storage();
        let mut leaving = Vec::new();
        for (i, o) in self.operators.iter_mut().enumerate() {
            o.offline = o.profile == Profile::Flaky
                && chance(&mut self.rng, self.cfg.operator.flaky_offline);
            if o.left.is_some() {
                continue;
            }
            let Some(rec) = staking::state::operator(storage, &o.key.address) else {
                continue;
            };
            let bond = rec.self_bond();
            let wealth = bond + nodeop_app::modules::bank::account(storage, &o.key.address).balance;
            let low_stake = (bond as f64) < self.cfg.operator.leave_stake_fraction * o.stake as f64;
            let low_wealth =
                (wealth as f64) < self.cfg.operator.leave_wealth_fraction * o.initial_wealth as f64;
            if (low_stake || low_wealth) && period > 0 {
                o.left = Some(period);
                if bond > 0 {
                    leaving.push((i, bond));
                }
            }
        }
        self.leaving = leaving;
        for c in &mut self.coprocessors {
            if c.retired.is_none() {
                if let Some(r) = copro::coprocessor(storage, &c.key.address) {
                    if r.free_collateral + r.locked_collateral
                        < u128::from(self.cfg.coprocessor.retire_collateral_nop) * NOP
                    {
                        c.retired = Some(period);
                    }
                }
            }
        }
    }
}

/// Messages a signer sends in one block: paying ones and fee-free duties.
#[derive(Default)]
struct Outbox {
    paying: Vec<(Msg, Tag)>,
    duties: Vec<(Msg, Tag)>,
}

/// A block's signed txs, and each tx's signer and message tags.
type Signed = (Vec<Vec<u8>>, Vec<(Signer, Vec<Tag>)>);

/// What a message was for (to read its outcome back).
#[derive(Clone, Copy, Debug)]
enum Tag {
    Post(usize),
    Open(usize, usize),
    Commit(usize, usize),
    Reveal,
    Confirm(usize),
    Bid,
    Leave,
    /// Index into `Sim::sent_disputes`.
    Dispute(usize),
}

impl Sim<'_> {
    fn signer_key(&self, s: Signer) -> &Key {
        match s {
            Signer::Client(i) => &self.clients[i].key,
            Signer::Operator(i) => &self.operators[i].key,
            Signer::Coprocessor(i) => &self.coprocessors[i].key,
        }
    }

    fn nonce_mut(&mut self, s: Signer) -> &mut u64 {
        match s {
            Signer::Client(i) => &mut self.clients[i].nonce,
            Signer::Operator(i) => &mut self.operators[i].nonce,
            Signer::Coprocessor(i) => &mut self.coprocessors[i].nonce,
        }
    }

    /// Collects every agent's messages for block `h`.
    fn actions(&mut self, h: u64, specs: &mut Vec<Spec>) -> BTreeMap<Signer, Outbox> {
        let mut out: BTreeMap<Signer, Outbox> = BTreeMap::new();
        let period = (h - 1) / self.cfg.blocks_per_period;
        // clients: the period's demand spread over its blocks
        let demand = self.cfg.clients.tasks_per_period * self.cfg.demand.multiplier(period)
            / self.cfg.blocks_per_period as f64;
        self.counters.demand += demand;
        let n = stochastic_round(&mut self.rng, demand);
        let price = tasks::unit_price(self.chain.app.storage());
        // what each client already committed in this block: its posts' fees and tx fees
        let mut spent: BTreeMap<usize, u128> = BTreeMap::new();
        for _ in 0..n {
            let c = self.next_client;
            self.next_client = (c + 1) % self.clients.len();
            if price > self.clients[c].max_unit_price {
                self.counters.priced_out += 1;
                continue;
            }
            let (msg, spec) = self.spec(price);
            let cost = msg.fee.saturating_add(POST_TX_FEE_ALLOWANCE);
            let balance = nodeop_app::modules::bank::account(
                self.chain.app.storage(),
                &self.clients[c].key.address,
            )
            .balance;
            let spent = spent.entry(c).or_insert(0);
            if balance < spent.saturating_add(cost) {
                self.counters.unaffordable += 1;
                continue;
            }
            *spent += cost;
            specs.push(spec);
            out.entry(Signer::Client(c))
                .or_default()
                .paying
                .push((msg.into(), Tag::Post(specs.len() - 1)));
        }
        // operators leaving
        for (i, bond) in std::mem::take(&mut self.leaving) {
            let addr = self.operators[i].key.address;
            out.entry(Signer::Operator(i))
                .or_default()
                .paying
                .push((Msg::undelegate(&addr, bond), Tag::Leave));
        }
        // task stages
        for ti in 0..self.pending.len() {
            let id = self.pending[ti].id;
            match self.pending[ti].stage {
                Stage::Slots => {
                    for si in 0..self.pending[ti].slots.len() {
                        let p = &self.pending[ti];
                        let s = &p.slots[si];
                        if s.sent_in.is_some() || s.at > h {
                            continue;
                        }
                        let member = self.operators[s.member].key.address;
                        let (signer, msg, tag, duty) = match s.step {
                            SlotStep::Open => (
                                Signer::Operator(s.member),
                                open(id, p.start_price, p.floor_price),
                                Tag::Open(ti, si),
                                false,
                            ),
                            SlotStep::Commit => (
                                s.holder,
                                Msg::commit_result(id, &member, &s.result, &s.salt),
                                Tag::Commit(ti, si),
                                true,
                            ),
                            _ => continue,
                        };
                        let o = out.entry(signer).or_default();
                        if duty {
                            o.duties.push((msg, tag));
                        } else {
                            o.paying.push((msg, tag));
                        }
                        self.pending[ti].slots[si].sent_in = Some(h);
                    }
                }
                Stage::Reveal if self.pending[ti].at <= h => {
                    for si in 0..self.pending[ti].slots.len() {
                        let s = &self.pending[ti].slots[si];
                        if s.step != SlotStep::Committed {
                            continue;
                        }
                        let holder = s.holder;
                        let reveals = match holder {
                            Signer::Operator(op) => {
                                let o = &self.operators[op];
                                o.performs_duty(&mut self.rng, &self.cfg.operator)
                            }
                            _ => true,
                        };
                        if reveals {
                            let s = &self.pending[ti].slots[si];
                            let msg = Msg::reveal_result(id, &s.result, &s.salt);
                            out.entry(holder)
                                .or_default()
                                .duties
                                .push((msg, Tag::Reveal));
                        }
                    }
                    self.pending[ti].sent_in = Some(h);
                }
                Stage::Confirm if self.pending[ti].at <= h => {
                    let p = &self.pending[ti];
                    let Some(&who) = p.schedule.get(p.window) else {
                        continue;
                    };
                    let op = self.op_by_address[&who];
                    if self.operators[op].performs_duty(&mut self.rng, &self.cfg.operator) {
                        let msg = Msg::confirm_submission(id, &format!("consumer#{id}"));
                        out.entry(Signer::Operator(op))
                            .or_default()
                            .duties
                            .push((msg, Tag::Confirm(ti)));
                        self.pending[ti].sent_in = Some(h);
                    } else {
                        self.next_window(ti);
                    }
                }
                _ => {}
            }
        }
        self.bids(h, &mut out);
        self.disputes(&mut out);
        out
    }

    /// The accused of planned disputes send `DisputeSlash` (with the dispute bond) while the
    /// proposal is pending and its deadline is after the next block's time. An offline or
    /// duty-skipping operator tries again in the next block; one that cannot pay the bond and
    /// the fee gives up.
    fn disputes(&mut self, out: &mut BTreeMap<Signer, Outbox>) {
        if self.plans.is_empty() {
            return;
        }
        let storage = self.chain.app.storage();
        let bond = slashing::state::params(storage).dispute_bond;
        let next_time = self.chain.time.seconds + self.chain.block_seconds;
        let mut keep = Vec::new();
        for plan in std::mem::take(&mut self.plans) {
            let Some(prop) = slashing::state::proposal(storage, plan.proposal) else {
                continue;
            };
            if prop.status != ProposalStatus::Pending || next_time >= prop.deadline {
                continue;
            }
            let o = &self.operators[plan.op];
            if !o.performs_duty(&mut self.rng, &self.cfg.operator) {
                keep.push(plan);
                continue;
            }
            let balance = nodeop_app::modules::bank::account(storage, &o.key.address).balance;
            // the bond and a tx fee (well under 1 NOP)
            if balance < bond + NOP {
                continue;
            }
            let msg = Msg::dispute_slash(plan.proposal, "my revealed result is the true one");
            out.entry(Signer::Operator(plan.op))
                .or_default()
                .paying
                .push((msg, Tag::Dispute(self.sent_disputes.len())));
            self.sent_disputes.push(plan);
        }
        self.plans = keep;
    }

    /// After a task aggregated: its members whose result was the true one (their own, or the
    /// coprocessor's they bought, which they check by computing the task) plan to dispute the
    /// result_mismatch proposal raised against them. Liars never dispute: a re-execution that
    /// clears one liar's true answer would raise proposals against the fellow liars that
    /// outvoted it.
    fn plan_disputes(&mut self, p: &Pending) {
        let storage = self.chain.app.storage();
        for s in &p.slots {
            let o = &mut self.operators[s.member];
            let key =
                slashing::keys::infraction(&o.key.address, Offence::ResultMismatch.index(), p.id);
            if let Some(proposal) = storage.get::<u64>(&key) {
                o.proposals += 1;
                if o.profile == Profile::Liar || s.result != p.spec.truth {
                    continue;
                }
                self.plans.push(DisputePlan {
                    proposal,
                    op: s.member,
                    spec: p.spec.clone(),
                });
            }
        }
    }

    /// Reads the outcome of the disputes still open.
    fn watch_disputes(&mut self) {
        if self.watched.is_empty() {
            return;
        }
        let storage = self.chain.app.storage();
        let mut decided = Vec::new();
        for (&id, (op, voted)) in self.watched.iter_mut() {
            let Some(prop) = slashing::state::proposal(storage, id) else {
                decided.push(id);
                continue;
            };
            match prop.status {
                ProposalStatus::Executed => {
                    self.counters.upheld += 1;
                    decided.push(id);
                }
                ProposalStatus::Overturned => {
                    self.counters.overturned += 1;
                    self.operators[*op].disputes_won += 1;
                    self.operators[*op].disputes_saved += prop.amount;
                    decided.push(id);
                }
                _ => {
                    let to_vote = prop
                        .dispute
                        .as_ref()
                        .is_some_and(|d| d.resolver == Resolver::ValidatorVote);
                    if to_vote && !*voted {
                        *voted = true;
                        self.counters.voted += 1;
                    }
                }
            }
        }
        for id in decided {
            self.watched.remove(&id);
        }
    }

    /// The scheduled submitter let its window pass: the next one's turn.
    fn next_window(&mut self, ti: usize) {
        let w = self.tasks_params.submission_window;
        let p = &mut self.pending[ti];
        p.window += 1;
        p.sent_in = None;
        p.at = p.finalized_height + w * p.window as u64 + 1;
    }

    /// Coprocessors' bids on open auctions in block `h`.
    fn bids(&mut self, h: u64, out: &mut BTreeMap<Signer, Outbox>) {
        if self.auctions.is_empty() {
            return;
        }
        let storage = self.chain.app.storage();
        let cp = copro::params(storage);
        // each coprocessor's view of itself (free units and collateral), as its record says
        let mut view: Vec<Option<(copro::Coprocessor, u64, u128)>> = self
            .coprocessors
            .iter()
            .map(|c| {
                if c.retired.is_some() {
                    return None;
                }
                copro::coprocessor(storage, &c.key.address).map(|r| {
                    let free = r.capacity_units.saturating_sub(r.reserved_units);
                    let coll = r.free_collateral;
                    (r, free, coll)
                })
            })
            .collect();
        let mut order: Vec<usize> = (0..self.coprocessors.len()).collect();
        shuffle(&mut self.rng, &mut order);
        let ids: Vec<u64> = self.auctions.keys().copied().collect();
        for id in ids {
            let (a, bidders) = {
                let oa = &self.auctions[&id];
                (oa.a.clone(), oa.bidders.clone())
            };
            let a = &a;
            if h > a.expires_height {
                continue;
            }
            let steps = (h - a.opened_height) / a.interval_blocks.max(1);
            let price = a
                .start_price
                .saturating_sub(a.step.saturating_mul(u128::from(steps)))
                .max(a.floor_price);
            let lock = (price * u128::from(cp.collateral_ppm)).div_ceil(1_000_000);
            let floor_height = a.opened_height + cp.descent_intervals * a.interval_blocks;
            let mut chosen = Vec::new();
            for &c in &order {
                if chosen.len() >= self.cfg.coprocessor.bidders_per_auction {
                    break;
                }
                if bidders.contains(&c) {
                    continue;
                }
                let Some((rec, free, coll)) = &view[c] else {
                    continue;
                };
                if *free < a.difficulty_units || *coll < lock || rec.capacity_units == 0 {
                    continue;
                }
                let used = 1.0 - *free as f64 / rec.capacity_units as f64;
                let phi = (*free as u128 * 1_000_000 / u128::from(rec.capacity_units)) as u64;
                let wait =
                    ((1_000_000 - phi.min(1_000_000)) * a.access_spread_blocks).div_ceil(1_000_000);
                let allowed = (a.opened_height + wait).max(a.opened_height + 1);
                let Some(at) = self.coprocessors[c].bid_height(
                    &self.cfg.coprocessor,
                    used,
                    allowed,
                    floor_height,
                ) else {
                    continue;
                };
                // a late bidder that would miss the auction bids in its last block
                if at > h && at <= a.expires_height {
                    continue;
                }
                if copro_handler::bid_refusal(storage, a, rec, h).is_some() {
                    continue;
                }
                chosen.push(c);
            }
            for c in chosen {
                if let Some((_, free, coll)) = &mut view[c] {
                    *free -= a.difficulty_units;
                    *coll -= lock;
                }
                out.entry(Signer::Coprocessor(c))
                    .or_default()
                    .paying
                    .push((bid(id), Tag::Bid));
                self.counters.bids += 1;
                if let Some(oa) = self.auctions.get_mut(&id) {
                    oa.bidders.insert(c);
                }
            }
        }
    }

    /// Signs the outboxes into txs: each signer's paying messages, then its duties (fee 0),
    /// at most `max_msgs_per_tx` to a tx. Nonces are taken in order; the signatures are made
    /// on `self.threads` threads (deterministic: the same bytes whatever the count).
    fn sign(&mut self, out: BTreeMap<Signer, Outbox>) -> Signed {
        let max = self.params.max_msgs_per_tx.max(1) as usize;
        let mut jobs = Vec::new();
        let mut tags = Vec::new();
        for (signer, o) in out {
            let per_tx = if matches!(signer, Signer::Client(_)) {
                1
            } else {
                max
            };
            for (chunk, paying) in o
                .paying
                .chunks(per_tx)
                .map(|c| (c, true))
                .chain(o.duties.chunks(max).map(|c| (c, false)))
            {
                let nonce = *self.nonce_mut(signer);
                *self.nonce_mut(signer) += 1;
                let msgs: Vec<Msg> = chunk.iter().map(|(m, _)| m.clone()).collect();
                self.timing.msgs += chunk.len() as u64;
                jobs.push((signer, nonce, msgs, paying));
                tags.push((signer, chunk.iter().map(|(_, t)| *t).collect()));
            }
        }
        let (chain_id, params) = (&self.chain.chain_id, &self.params);
        let this = &*self;
        let sign_one = |(signer, nonce, msgs, paying): (Signer, u64, Vec<Msg>, bool)| {
            let key = this.signer_key(signer);
            if paying {
                key.tx(chain_id, params, nonce, msgs)
            } else {
                key.sign(TxBody {
                    chain_id: chain_id.clone(),
                    nonce,
                    fee: 0,
                    memo: String::new(),
                    msgs,
                })
                .to_bytes()
            }
        };
        let txs = par_map(jobs, self.threads, sign_one);
        (txs, tags)
    }

    fn block(&mut self) {
        let t0 = Instant::now();
        let h = self.chain.height + 1;
        let bpp = self.cfg.blocks_per_period;
        let period = (h - 1) / bpp;
        if (h - 1).is_multiple_of(bpp) {
            self.begin_period(period);
        }
        let mut specs = Vec::new();
        let out = self.actions(h, &mut specs);
        let (txs, tags) = self.sign(out);
        let n_txs = txs.len();
        let req = self.chain.next_request(txs);
        let t1 = Instant::now();
        let resp = self.chain.app.finalize_block(&req).expect("FinalizeBlock");
        let t2 = Instant::now();
        self.chain.commit(&req, &resp);
        let t3 = Instant::now();
        if self.cfg.check_every_block {
            assert_eq!(
                self.chain.sum_of_balances(),
                self.chain.supply().total_supply,
                "Σ balances = total supply after block {h}"
            );
        }
        self.after(h, &resp, tags, specs);
        self.counters.txs += n_txs as u64;
        self.timing.txs += n_txs as u64;
        self.timing.blocks += 1;
        if h.is_multiple_of(bpp) {
            self.end_period(period, h);
        }
        let t4 = Instant::now();
        self.timing.finalize += t2 - t1;
        self.timing.commit += t3 - t2;
        self.timing.agents += (t1 - t0) + (t4 - t3);
    }

    /// Reads the block's outcome back into the agents' bookkeeping.
    fn after(
        &mut self,
        h: u64,
        resp: &BlockResponse,
        tags: Vec<(Signer, Vec<Tag>)>,
        specs: Vec<Spec>,
    ) {
        let mut specs: Vec<Option<Spec>> = specs.into_iter().map(Some).collect();
        let mut resync = BTreeSet::new();
        let mut new_tasks: Vec<(u64, Spec)> = Vec::new();
        let sent_disputes = std::mem::take(&mut self.sent_disputes);
        for (r, (signer, tags)) in resp.tx_results.iter().zip(tags) {
            let ok = r.is_ok();
            if !ok {
                if std::env::var_os("NODEOP_SIM_DEBUG").is_some() {
                    eprintln!(
                        "block {h}: {signer:?} {tags:?}: {}/{} {}",
                        r.codespace, r.code, r.log
                    );
                }
                self.counters.failed_txs += 1;
                resync.insert(signer);
            }
            for tag in tags {
                match tag {
                    Tag::Post(i) => {
                        if let (true, Some(id)) = (ok, posted_id(r)) {
                            self.counters.posted += 1;
                            new_tasks.push((id, specs[i].take().expect("one post per spec")));
                        } else {
                            self.counters.refused += 1;
                        }
                    }
                    Tag::Open(ti, si) if !ok => {
                        // the offer never opened: the member executes the slot itself
                        let spec = std::mem::replace(
                            &mut self.pending[ti].spec,
                            Spec {
                                numeric: false,
                                truth: Vec::new(),
                                lie: Vec::new(),
                                difficulty: 0,
                            },
                        );
                        let mut slot =
                            std::mem::replace(&mut self.pending[ti].slots[si], Slot::placeholder());
                        let answer =
                            self.operators[slot.member].answer(&mut self.rng, &self.cfg.operator);
                        self.execute_self(&mut slot, &spec, answer);
                        slot.at = h + 1;
                        slot.sent_in = None;
                        self.pending[ti].slots[si] = slot;
                        self.pending[ti].spec = spec;
                    }
                    Tag::Commit(ti, si) if !ok => {
                        self.pending[ti].slots[si].step = SlotStep::Skipped;
                    }
                    Tag::Confirm(ti) if !ok => self.next_window(ti),
                    Tag::Dispute(i) if ok => {
                        let plan = &sent_disputes[i];
                        self.counters.disputes += 1;
                        self.operators[plan.op].disputes += 1;
                        self.watched.insert(plan.proposal, (plan.op, false));
                        let prop =
                            slashing::state::proposal(self.chain.app.storage(), plan.proposal);
                        let resolver = prop.and_then(|p| p.dispute).map(|d| d.resolver);
                        if let Some(Resolver::Reexecution { task_id }) = resolver {
                            new_tasks.push((task_id, plan.spec.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
        for s in resync {
            let addr = self.address(s);
            *self.nonce_mut(s) = self.chain.account(&addr).nonce;
        }
        self.advance(h);
        self.watch_disputes();
        for (id, spec) in new_tasks {
            let t = tasks::task(self.chain.app.storage(), id).expect("a posted task is in state");
            let mut p = Pending {
                id,
                spec,
                round: 0,
                slots: Vec::new(),
                stage: Stage::Slots,
                at: h + 1,
                sent_in: None,
                start_price: 0,
                floor_price: 0,
                reveal_end: 0,
                finalized_height: 0,
                schedule: Vec::new(),
                window: 0,
            };
            self.init_slots(&mut p, &t, h);
            self.pending.push(p);
        }
    }

    /// Moves every pending task and auction on after block `h`.
    fn advance(&mut self, h: u64) {
        // auctions opened in this block
        for ti in 0..self.pending.len() {
            for si in 0..self.pending[ti].slots.len() {
                let s = &self.pending[ti].slots[si];
                if s.sent_in != Some(h) {
                    continue;
                }
                match s.step {
                    SlotStep::Open => {
                        let member = self.operators[s.member].key.address;
                        let id = self.pending[ti].id;
                        if let Some(a) =
                            copro::auction_of_slot(self.chain.app.storage(), id, &member)
                        {
                            self.counters.opened += 1;
                            self.pending[ti].slots[si].step = SlotStep::Auction(a.id);
                            self.auctions.insert(
                                a.id,
                                OpenAuction {
                                    task: id,
                                    slot: si,
                                    a,
                                    bidders: BTreeSet::new(),
                                },
                            );
                        }
                    }
                    SlotStep::Commit => self.pending[ti].slots[si].step = SlotStep::Committed,
                    _ => {}
                }
            }
        }
        // auctions won or expired
        let index: BTreeMap<u64, usize> = self
            .pending
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        let ids: Vec<u64> = self.auctions.keys().copied().collect();
        for id in ids {
            let a =
                copro::auction(self.chain.app.storage(), id).expect("an open auction is in state");
            if a.status == AuctionStatus::Open {
                continue;
            }
            let oa = self.auctions.remove(&id).expect("listed");
            let Some(&ti) = index.get(&oa.task) else {
                continue;
            };
            let spec_numeric = self.pending[ti].spec.numeric;
            match (a.status, a.winner) {
                (AuctionStatus::Expired, _) | (_, None) => {
                    self.counters.expired += 1;
                    let mut slot = std::mem::replace(
                        &mut self.pending[ti].slots[oa.slot],
                        Slot::placeholder(),
                    );
                    let answer =
                        self.operators[slot.member].answer(&mut self.rng, &self.cfg.operator);
                    let spec = std::mem::replace(&mut self.pending[ti].spec, empty_spec());
                    self.execute_self(&mut slot, &spec, answer);
                    self.pending[ti].spec = spec;
                    slot.at = h + 1;
                    slot.sent_in = None;
                    self.pending[ti].slots[oa.slot] = slot;
                }
                (_, Some(winner)) => {
                    self.counters.won += 1;
                    let c = self.copro_by_address[&winner];
                    let member = self.pending[ti].slots[oa.slot].member;
                    *self.graph.entry((member, c)).or_default() += 1;
                    self.period_wins[c] += 1;
                    self.coprocessors[c].won += 1;
                    let s = self.coprocessors[c].strategy as usize;
                    self.counters.won_by_strategy[s] += 1;
                    let wrong = chance(&mut self.rng, self.cfg.coprocessor.error_rate);
                    let result = if wrong {
                        self.coprocessors[c].errors += 1;
                        self.garbage(spec_numeric)
                    } else {
                        self.pending[ti].spec.truth.clone()
                    };
                    let slot = &mut self.pending[ti].slots[oa.slot];
                    slot.holder = Signer::Coprocessor(c);
                    slot.result = result;
                    slot.step = SlotStep::Commit;
                    slot.at = h + 1;
                    slot.sent_in = None;
                }
            }
        }
        // stages
        let mut keep = Vec::with_capacity(self.pending.len());
        for mut p in std::mem::take(&mut self.pending) {
            let done = self.advance_task(&mut p, h);
            if !done {
                keep.push(p);
            }
        }
        self.pending = keep;
    }

    /// Returns true when the task leaves the simulation.
    fn advance_task(&mut self, p: &mut Pending, h: u64) -> bool {
        match p.stage {
            Stage::Slots => {
                let settled = p
                    .slots
                    .iter()
                    .all(|s| matches!(s.step, SlotStep::Committed | SlotStep::Skipped));
                if settled {
                    let t = tasks::task(self.chain.app.storage(), p.id).expect("open task");
                    let round = t.current_round();
                    if p.slots.iter().all(|s| s.step == SlotStep::Skipped) {
                        p.stage = Stage::Wait;
                        p.at = round.reveal_end;
                    } else {
                        p.stage = Stage::Reveal;
                        p.at = (round.commit_end + 1).max(h + 1);
                    }
                    p.sent_in = None;
                }
                false
            }
            Stage::Reveal => {
                if p.sent_in == Some(h) {
                    p.stage = Stage::Wait;
                    p.at = h;
                    return self.read_task(p, h);
                }
                false
            }
            Stage::Wait => {
                if h >= p.at {
                    return self.read_task(p, h);
                }
                false
            }
            Stage::Confirm => {
                if p.sent_in == Some(h) {
                    self.counters.delivered += 1;
                    return true;
                }
                if p.window >= p.schedule.len() {
                    self.counters.undelivered += 1;
                    return true;
                }
                false
            }
        }
    }

    /// After the reveals: finalized, escalated, failed or still waiting.
    fn read_task(&mut self, p: &mut Pending, h: u64) -> bool {
        let Some(t) = tasks::task(self.chain.app.storage(), p.id) else {
            self.release(p);
            return true;
        };
        match t.status {
            TaskStatus::Assigned if t.rounds.len() - 1 > p.round => {
                self.release(p);
                p.stage = Stage::Slots;
                p.sent_in = None;
                self.init_slots(p, &t, h);
                false
            }
            TaskStatus::Assigned => {
                p.at = p.reveal_end.max(h + 1);
                false
            }
            TaskStatus::Reexecuted => {
                // a dispute's re-execution: no pay, no delivery; its own outvoted members may
                // dispute in turn
                self.release(p);
                self.plan_disputes(p);
                true
            }
            TaskStatus::Finalized => {
                self.release(p);
                self.plan_disputes(p);
                self.counters.finalized += 1;
                let r = t.result.as_ref().expect("a finalized task's result");
                let right = if p.spec.numeric {
                    let v = i64::from_be_bytes(r.result[..8].try_into().unwrap_or([0; 8]));
                    let truth = i64::from_be_bytes(p.spec.truth[..8].try_into().unwrap_or([0; 8]));
                    (v - truth).unsigned_abs() * 1_000_000
                        <= u64::from(NUMERIC_TOLERANCE_PPM) * truth.unsigned_abs().max(1)
                } else {
                    r.result == p.spec.truth
                };
                if !right {
                    self.counters.wrong += 1;
                }
                p.finalized_height = r.finalized_height;
                p.schedule = t
                    .submission
                    .as_ref()
                    .map(|s| s.schedule.clone())
                    .unwrap_or_default();
                p.window = 0;
                p.stage = Stage::Confirm;
                p.at = h + 1;
                p.sent_in = None;
                if p.schedule.is_empty() {
                    self.counters.undelivered += 1;
                    return true;
                }
                false
            }
            TaskStatus::Failed => {
                self.release(p);
                self.counters.failed += 1;
                true
            }
            _ => {
                self.release(p);
                true
            }
        }
    }
}

fn empty_spec() -> Spec {
    Spec {
        numeric: false,
        truth: Vec::new(),
        lie: Vec::new(),
        difficulty: 0,
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Gini coefficient of non-negative values (0: equal, → 1: one takes all); negative values are
/// shifted so the smallest is 0.
pub fn gini(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let min = values
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let mut v: Vec<f64> = values.iter().map(|x| x - min).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let sum: f64 = v.iter().sum();
    if sum <= 0.0 {
        return 0.0;
    }
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * x)
        .sum();
    (2.0 * weighted) / (n * sum) - (n + 1.0) / n
}

impl Sim<'_> {
    fn operator_wealth(&self, i: usize) -> (u128, u128, Option<staking::Operator>) {
        let storage = self.chain.app.storage();
        let o = &self.operators[i];
        let balance = nodeop_app::modules::bank::account(storage, &o.key.address).balance;
        let rec = staking::state::operator(storage, &o.key.address);
        let bond = rec.as_ref().map_or(0, |r| r.self_bond());
        let mut unbonding = 0;
        if o.left.is_some() {
            unbonding = self
                .chain
                .records::<staking::UnbondingEntry>(staking::keys::UNBONDING_PREFIX)
                .iter()
                .filter(|e| e.delegator == o.key.address)
                .map(|e| e.amount)
                .sum();
        }
        (balance + bond + unbonding, bond, rec)
    }

    fn coprocessor_wealth(&self, i: usize) -> (u128, u32) {
        let storage = self.chain.app.storage();
        let c = &self.coprocessors[i];
        let balance = nodeop_app::modules::bank::account(storage, &c.key.address).balance;
        let coll = copro::coprocessor(storage, &c.key.address).map_or(0, |r| {
            r.free_collateral + r.locked_collateral + r.pending_collateral
        });
        let load = copro::reputation_record(storage, &c.key.address).load_ppm;
        (balance + coll, load)
    }

    fn end_period(&mut self, period: u64, h: u64) {
        let storage = self.chain.app.storage();
        let sp = staking::state::params(storage);
        let c = std::mem::take(&mut self.counters);
        let mut row = PeriodRow {
            period,
            height: h,
            demand: c.demand,
            priced_out: c.priced_out,
            unaffordable: c.unaffordable,
            posted: c.posted,
            refused: c.refused,
            finalized: c.finalized,
            wrong: c.wrong,
            failed: c.failed,
            delivered: c.delivered,
            undelivered: c.undelivered,
            slots: c.slots,
            auctions_opened: c.opened,
            auctions_won: c.won,
            auctions_expired: c.expired,
            bids: c.bids,
            txs: c.txs,
            failed_txs: c.failed_txs,
            won_by_strategy: c.won_by_strategy,
            disputes: c.disputes,
            disputes_upheld: c.upheld,
            disputes_overturned: c.overturned,
            disputes_voted: c.voted,
            unit_price: tasks::unit_price(storage),
            ..PeriodRow::default()
        };
        let mut score_sum = [0f64; 4];
        let mut rewards = Vec::new();
        let mut op_reward = 0.0;
        let mut slashed = 0.0;
        for i in 0..self.operators.len() {
            let (wealth, _bond, rec) = self.operator_wealth(i);
            let o = &self.operators[i];
            let delta = signed_nop(wealth, self.last_wealth[i]);
            op_reward += signed_nop(wealth, o.initial_wealth);
            if o.profile == Profile::Honest {
                row.honest_reward_nop += signed_nop(wealth, o.initial_wealth);
            }
            slashed += rec.as_ref().map_or(0.0, |r| nop(r.slashed_total));
            let active = o.left.is_none() && rec.as_ref().is_some_and(|r| r.eligible(&sp));
            if active {
                row.active_operators += 1;
                let p = o.profile as usize;
                row.active_by_profile[p] += 1;
                score_sum[p] +=
                    reputation::effective_score_ppm(storage, &o.key.address) as f64 / 1e6;
                rewards.push(delta);
            }
            self.last_wealth[i] = wealth;
        }
        for ((score, sum), n) in row
            .score_by_profile
            .iter_mut()
            .zip(score_sum)
            .zip(row.active_by_profile)
        {
            if n > 0 {
                *score = sum / n as f64;
            }
        }
        rewards.sort_by(f64::total_cmp);
        row.reward_p10 = percentile(&rewards, 0.1);
        row.reward_p50 = percentile(&rewards, 0.5);
        row.reward_p90 = percentile(&rewards, 0.9);
        row.reward_gini = gini(&rewards);
        row.operator_reward_nop = op_reward;
        row.operator_slashed_nop = slashed;
        let n_ops = self.operators.len();
        let mut copro_reward = 0.0;
        let mut load_sum = 0.0;
        for i in 0..self.coprocessors.len() {
            let (wealth, load) = self.coprocessor_wealth(i);
            let c = &mut self.coprocessors[i];
            copro_reward += signed_nop(wealth, c.initial_wealth);
            c.load_sum += u128::from(load);
            load_sum += load as f64 / 1e6;
            if c.retired.is_none() {
                row.active_coprocessors += 1;
            }
            self.last_wealth[n_ops + i] = wealth;
        }
        row.coprocessor_reward_nop = copro_reward;
        row.mean_coprocessor_load = load_sum / self.coprocessors.len().max(1) as f64;
        let wins: Vec<f64> = self.period_wins.iter().map(|&w| w as f64).collect();
        row.coprocessor_gini = gini(&wins);
        self.wins.push(std::mem::replace(
            &mut self.period_wins,
            vec![0; self.coprocessors.len()],
        ));
        self.rows.push(row);
    }

    fn finish(self) -> RunResult {
        let storage = self.chain.app.storage();
        let rp = reputation::state::params(storage);
        let periods = self.rows.len().max(1) as f64;
        let operators = (0..self.operators.len())
            .map(|i| {
                let (wealth, bond, rec) = self.operator_wealth(i);
                let o = &self.operators[i];
                OperatorRow {
                    index: i,
                    profile: o.profile,
                    stake_nop: nop(o.stake),
                    capacity_units: o.capacity_units,
                    compute_units: o.compute_units,
                    left_period: o.left,
                    self_bond_nop: nop(bond),
                    reward_nop: signed_nop(wealth, o.initial_wealth),
                    slashed_nop: rec.as_ref().map_or(0.0, |r| nop(r.slashed_total)),
                    score_ppm: reputation::effective_score_ppm(storage, &o.key.address),
                    slots: o.slots,
                    slots_self: o.slots_self,
                    slots_sold: o.slots_sold,
                    slots_skipped: o.slots_skipped,
                    lies: o.lies,
                    proposals: o.proposals,
                    disputes: o.disputes,
                    disputes_won: o.disputes_won,
                    disputes_saved_nop: nop(o.disputes_saved),
                }
            })
            .collect();
        let coprocessors = (0..self.coprocessors.len())
            .map(|i| {
                let (wealth, load) = self.coprocessor_wealth(i);
                let c = &self.coprocessors[i];
                CoprocessorRow {
                    index: i,
                    strategy: c.strategy,
                    capacity_units: c.capacity_units,
                    collateral_nop: nop(c.collateral),
                    won: c.won,
                    errors: c.errors,
                    reward_nop: signed_nop(wealth, c.initial_wealth),
                    mean_load_ppm: c.load_sum as f64 / periods,
                    final_load_ppm: load,
                    reward_weight_ppm: reputation::score::reward_weight_ppm(load, &rp),
                    retired_period: c.retired,
                }
            })
            .collect();
        RunResult {
            variant: self.variant,
            periods: self.rows,
            operators,
            coprocessors,
            graph: self.graph,
            wins: self.wins,
            timing: self.timing,
        }
    }
}

/// CPU time of the run's thread (Linux: /proc/thread-self/stat), when readable.
fn thread_cpu() -> Option<Duration> {
    stat_cpu("/proc/thread-self/stat")
}

/// CPU time of the whole process (Linux: /proc/self/stat).
fn process_cpu() -> Option<Duration> {
    stat_cpu("/proc/self/stat")
}

/// utime + stime of a /proc stat file (fields 14 and 15, after the parenthesised command
/// name), in 10 ms ticks.
fn stat_cpu(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// `f` over `items` in order, on up to `threads` threads (this one included), in contiguous
/// parts; the results in the items' order.
fn par_map<T: Send, R: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    const MIN_PER_THREAD: usize = 16;
    let threads = threads.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(per).collect();
        if part.is_empty() {
            break;
        }
        parts.push(part);
    }
    let f = &f;
    std::thread::scope(|s| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let helpers: Vec<_> = parts
            .map(|part| s.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.into_iter().map(f).collect();
        for h in helpers {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// Runs one variant to the end on `threads` threads (1: this one only; more sign the agents'
/// txs and verify a block's signatures in parallel, with the same results); `progress`
/// prints a line every tenth of the run. `runs_at_once` is how many variants share the
/// machine: with `threads > 1` the reported CPU time is the process's over that count.
pub fn run_variant(
    cfg: &LoadBalancing,
    variant: Variant,
    seed: u64,
    progress: bool,
    threads: usize,
    runs_at_once: usize,
) -> RunResult {
    let started = Instant::now();
    let threads = threads.max(1);
    let cpu_now = || {
        if threads > 1 {
            process_cpu().map(|c| c / runs_at_once.max(1) as u32)
        } else {
            thread_cpu()
        }
    };
    let cpu0 = cpu_now();
    let periods = variant.periods;
    let label = variant.label.clone();
    let mut sim = Sim::new(cfg, variant, seed, threads);
    let blocks = periods * cfg.blocks_per_period;
    let tick = (periods / 10).max(1);
    for _ in 0..blocks {
        sim.block();
        let h = sim.chain.height;
        if progress && h.is_multiple_of(cfg.blocks_per_period) {
            let p = h / cfg.blocks_per_period;
            if p.is_multiple_of(tick) || p == periods {
                let secs = started.elapsed().as_secs_f64();
                let tasks: u64 = sim.rows.iter().map(|r| r.posted).sum();
                let bar_len = 20 * p / periods;
                eprintln!(
                    "[{label:<14}] [{}{}] period {p}/{periods}: {tasks} tasks, {:.0} tasks/s, {:.0} s ({} tasks and {} auctions open)",
                    "#".repeat(bar_len as usize),
                    ".".repeat(20 - bar_len as usize),
                    tasks as f64 / secs.max(1e-9),
                    secs,
                    sim.pending.len(),
                    sim.auctions.len(),
                );
            }
        }
    }
    sim.timing.tasks = sim.rows.iter().map(|r| r.posted).sum();
    sim.timing.total = started.elapsed();
    sim.timing.cpu = cpu_now().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    sim.timing.threads = threads;
    if progress {
        let t = &sim.timing;
        eprintln!(
            "[{label:<14}] done: {} blocks, {} txs, {} msgs, {} tasks in {:.1} s: FinalizeBlock {:.1} s, Commit {:.1} s, agents {:.1} s",
            t.blocks,
            t.txs,
            t.msgs,
            t.tasks,
            t.total.as_secs_f64(),
            t.finalize.as_secs_f64(),
            t.commit.as_secs_f64(),
            t.agents.as_secs_f64()
        );
    }
    sim.finish()
}

/// The base run first, then the sweep points (each changes one parameter of the base).
pub fn variants(cfg: &LoadBalancing) -> Vec<Variant> {
    let c = &cfg.chain;
    let base = Variant {
        label: "base".into(),
        slashing_factor_ppm: c.slashing_factor_ppm,
        k_low_ppm: c.k_low_ppm,
        k_high_ppm: c.k_high_ppm,
        load_opt_ppm: c.load_opt_ppm,
        periods: cfg.periods,
    };
    let sweep_periods = if cfg.sweep.periods == 0 {
        cfg.periods
    } else {
        cfg.sweep.periods
    };
    let sw = &cfg.sweep;
    let lists: [(&str, &Vec<u32>); 4] = [
        ("slash", &sw.slashing_factor_ppm),
        ("k_low", &sw.k_low_ppm),
        ("k_high", &sw.k_high_ppm),
        ("load_opt", &sw.load_opt_ppm),
    ];
    let mut out = vec![base.clone()];
    let sweeping = lists.iter().any(|(_, l)| !l.is_empty());
    if sweeping && sweep_periods != cfg.periods {
        // the base parameters at the sweep's length, so that the sweep compares like with like
        out.push(Variant {
            label: format!("base @{sweep_periods}"),
            periods: sweep_periods,
            ..base.clone()
        });
    }
    for (which, (name, values)) in lists.iter().enumerate() {
        for &v in values.iter() {
            let mut x = Variant {
                label: format!("{name} {:.2}", v as f64 / 1e6),
                periods: sweep_periods,
                ..base.clone()
            };
            match which {
                0 => x.slashing_factor_ppm = v,
                1 => x.k_low_ppm = v,
                2 => x.k_high_ppm = v,
                _ => x.load_opt_ppm = v,
            }
            out.push(x);
        }
    }
    out
}

/// Every variant, `threads` at a time; results in variant order whatever the thread count.
pub fn run_all(cfg: &LoadBalancing, progress: bool) -> Result<Vec<RunResult>> {
    let problems = cfg.problems();
    if !problems.is_empty() {
        bail!("scenario: {}", problems.join("; "));
    }
    let vs = variants(cfg);
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.threads
    }
    .min(vs.len())
    .max(1);
    // cores the runs leave free go to each run's signing and verifying
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_run = (cores / threads).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<RunResult>>> =
        std::sync::Mutex::new((0..vs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= vs.len() {
                    break;
                }
                // every variant starts from the same seed: the same agents and demand, one
                // parameter changed
                let r = run_variant(cfg, vs[i].clone(), cfg.seed, progress, per_run, threads);
                results.lock().expect("no thread panicked")[i] = Some(r);
            });
        }
    });
    Ok(results
        .into_inner()
        .expect("no thread panicked")
        .into_iter()
        .map(|r| r.expect("every variant ran"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::par_map;

    #[test]
    fn par_map_keeps_the_order_whatever_the_threads() {
        for n in [0usize, 1, 15, 16, 33, 100, 1000] {
            let want: Vec<usize> = (0..n).map(|i| i * 3 + 1).collect();
            for threads in [1, 2, 3, 8] {
                let got = par_map((0..n).collect(), threads, |i| i * 3 + 1);
                assert_eq!(got, want, "{n} items on {threads} threads");
            }
        }
    }
}
