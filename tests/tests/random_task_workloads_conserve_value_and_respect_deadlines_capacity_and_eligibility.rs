//! A property test: random task workloads over many blocks. Sixteen operators with fixed
//! profiles (honest, liar, flaky, silent) and varied capacities serve random posts of every
//! consistency and kind (Exact and Numeric, difficulty 1–2, with and without a reputation
//! floor, fees at, above and below the price); members commit and reveal at random heights in
//! their windows (liars collude on one wrong answer, flaky members sometimes commit late, only
//! commit, or say nothing); scheduled submitters deliver or miss their windows; accused operators
//! dispute at random, which starts re-executions. After every block:
//! - **value**: Σ of every account's balance == total supply == genesis + minted − burned, and
//!   the supply never rises; `task_escrow` holds exactly the escrow of open tasks, a finished task
//!   holds none, and every finalized or failed task accounts for its fee to the unop;
//! - **deadlines**: every task is terminal by `posted + 2·(commit_blocks + reveal_blocks) +
//!   (max_fallbacks + 1)·submission_window`;
//! - **capacity**: no operator has more units reserved than its capacity, and its reserved units
//!   are exactly what its open duties hold;
//! - **eligibility**: every committee drawn in the block has the size its kind of round asks for,
//!   distinct members that are bonded, unjailed operators outside the excluded sets (earlier
//!   rounds; the original task of a re-execution), and a score at the draw (the recorded weight
//!   over the drawing power) at or above the task's floor.
//!
//! Txs that follow the rules (commits and reveals in their windows, confirmations by the
//! window's member) must succeed; those that break them (late commits, confirmations out of
//! turn, fees below the price) must be refused with their codes.

use std::collections::{BTreeMap, BTreeSet};

use nodeop_app::crypto::Address;
use nodeop_app::modules::bank;
use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_app::modules::staking;
use nodeop_app::modules::tasks::state::{self as ts, Task};
use nodeop_app::modules::tasks::{
    keys, Consistency, MsgPostTask, TaskKind, TaskPayload, TaskStatus, TasksError,
};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{all_proposals, commit, numeric, reveal, TaskGenesis, TaskNet, NOP};
use proptest::prelude::*;

const OPERATORS: usize = 16;
const CAPACITIES: [u64; OPERATORS] = [6, 3, 4, 8, 3, 7, 4, 5, 3, 8, 4, 6, 5, 3, 7, 4];
/// The floor of "picky" posts; honest operators stay far above it, a liar falls below it at its
/// first disagreement (its Byzantine factor halves).
const PICKY_PPM: u32 = 600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    Honest,
    Liar,
    Flaky,
    Silent,
}

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

/// What one member does in one round.
#[derive(Clone, Debug)]
struct MemberPlan {
    commit_at: Option<u64>,
    reveal_at: Option<u64>,
    result: Vec<u8>,
    /// The commit is planned after the window: it must be refused.
    late: bool,
}

/// What a test expects of a tx.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Ok,
    Refused(u32),
    /// Success or this refusal (a post that may find too few eligible operators).
    OkOr(u32),
    Anything,
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
    /// What happened, by name (events, refusals, terminal statuses): shows what a case covered.
    seen: BTreeMap<String, u64>,
}

/// The right answer to a task (a re-execution answers its original task).
fn truth(t: &Task) -> Vec<u8> {
    let id = t.reexec.as_ref().map(|l| l.original_task).unwrap_or(t.id);
    match t.kind {
        TaskKind::Exact => format!("answer-{id}").into_bytes(),
        TaskKind::Numeric { .. } => numeric(1_000_000 + id as i64 * 100),
    }
}

/// What a liar answers: one wrong answer all liars share.
fn lie(t: &Task) -> Vec<u8> {
    match t.kind {
        TaskKind::Exact => b"the agreed lie".to_vec(),
        TaskKind::Numeric { .. } => numeric(-5),
    }
}

impl Driver {
    fn all_tasks(&self) -> Vec<Task> {
        self.net.chain.records(keys::TASK_PREFIX)
    }

    fn profile(&self, a: &Address) -> Profile {
        self.profiles[a]
    }

    fn member_plan(&mut self, t: &Task, round: u8, member: Address) -> MemberPlan {
        let p = self.net.params();
        let r = &t.rounds[round as usize];
        let commit_at = r.assigned_height + 1 + self.rng.below(p.commit_blocks);
        let reveal_at = r.commit_end + 1 + self.rng.below(p.reveal_blocks);
        let honest = {
            let mut v = truth(t);
            if let TaskKind::Numeric { .. } = t.kind {
                // noise well inside the 1 % tolerance
                let x = i64::from_be_bytes(v.clone().try_into().unwrap());
                v = numeric(x + self.rng.below(200) as i64 - 100);
            }
            v
        };
        let plan = |commit_at, reveal_at, result, late| MemberPlan {
            commit_at,
            reveal_at,
            result,
            late,
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

    /// The messages of the next block, posts first, each with what it must do.
    fn messages(&mut self, spec: Option<&PostSpec>) -> Vec<(Key, Msg, Expect)> {
        let h = self.net.chain.height + 1;
        let p = self.net.params();
        let mut out = Vec::new();
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
            let not_enough = TasksError::NotEnoughEligible {
                needed: 0,
                eligible: 0,
                min_reputation_ppm: 0,
                difficulty: 0,
            }
            .code();
            let expect = match s.fee {
                FeeMode::Below => Expect::Refused(
                    TasksError::FeeBelowPrice {
                        fee: 0,
                        difficulty: 0,
                        unit_price: 0,
                        required: 0,
                    }
                    .code(),
                ),
                _ => Expect::OkOr(not_enough),
            };
            let client = if s.client == 0 {
                self.net.client.clone()
            } else {
                Key::from_seed("task-client-2")
            };
            out.push((client, Msg::from(msg), expect));
        }
        for t in self.all_tasks() {
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
                        if plan.commit_at == Some(h) {
                            let expect = if plan.late {
                                Expect::Refused(
                                    TasksError::WindowClosed {
                                        phase: "",
                                        closed_at: 0,
                                        height: 0,
                                    }
                                    .code(),
                                )
                            } else {
                                Expect::Ok
                            };
                            out.push((k.clone(), commit(t.id, &m.operator, &plan.result), expect));
                        }
                        if plan.reveal_at == Some(h) && m.commitment.is_some() {
                            out.push((k, reveal(t.id, &m.operator, &plan.result), Expect::Ok));
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
                                    let code = TasksError::NotScheduledSubmitter {
                                        task: 0,
                                        window: 0,
                                        expected: String::new(),
                                    }
                                    .code();
                                    out.push((
                                        k,
                                        Msg::confirm_submission(t.id, "out-of-turn"),
                                        Expect::Refused(code),
                                    ));
                                }
                            }
                        }
                    }
                    if let Some(Some((who, at))) = self.confirms.get(&key).cloned() {
                        if at == h {
                            let k = self.net.key(&who).clone();
                            out.push((
                                k,
                                Msg::confirm_submission(t.id, &format!("ref-{}", t.id)),
                                Expect::Ok,
                            ));
                        }
                    }
                }
                _ => {}
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
                out.push((k, Msg::dispute_slash(prop.id, "not me"), Expect::Anything));
            }
        }
        out
    }

    /// Runs one block of `msgs` (one tx per message, nonces in order per signer) and checks
    /// what each tx must have done and every property after the block.
    fn step(&mut self, spec: Option<&PostSpec>) -> Result<(), TestCaseError> {
        let msgs = self.messages(spec);
        let pre_ops: BTreeMap<Address, staking::Operator> =
            staking::state::operators(self.net.chain.app.storage())
                .into_iter()
                .map(|o| (o.address, o))
                .collect();
        let mut nonces: BTreeMap<Address, u64> = BTreeMap::new();
        let params = self.net.chain.params();
        let mut txs = Vec::new();
        for (k, m, _) in &msgs {
            let n = nonces
                .entry(k.address)
                .or_insert_with(|| self.net.chain.account(&k.address).nonce);
            txs.push(k.tx(&self.net.chain.chain_id, &params, *n, vec![m.clone()]));
            *n += 1;
        }
        let resp = self.net.chain.block(txs);
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
        for ((_, m, expect), r) in msgs.iter().zip(&resp.tx_results) {
            let fine = match expect {
                Expect::Ok => r.is_ok(),
                Expect::Refused(code) => r.codespace == "tasks" && r.code == *code,
                Expect::OkOr(code) => r.is_ok() || (r.codespace == "tasks" && r.code == *code),
                Expect::Anything => true,
            };
            prop_assert!(
                fine,
                "block {h}: {} expected {expect:?}, got {}/{} {}",
                m.type_name(),
                r.codespace,
                r.code,
                r.log
            );
        }
        self.check(h, &pre_ops, &resp)
    }

    fn check(
        &mut self,
        h: u64,
        pre_ops: &BTreeMap<Address, staking::Operator>,
        resp: &nodeop_app::app::BlockResponse,
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
) -> Result<(), TestCaseError> {
    let mut g = TaskGenesis::new(OPERATORS, 1);
    for (op, cap) in g.state.staking.operators.iter_mut().zip(CAPACITIES) {
        op.capacity_units = cap;
    }
    let second = Key::from_seed("task-client-2");
    g.state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: second.address,
            balance: 1_000_000 * NOP,
            nonce: 0,
        });
    // short retention: pruning happens inside the run
    g.state.tasks.params.task_retention = 30;
    let net = g.start();
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
    let mut d = Driver {
        net,
        profiles,
        rng: Rng::new(seed),
        plans: BTreeMap::new(),
        confirms: BTreeMap::new(),
        disputes: BTreeMap::new(),
        supply,
        accounted: BTreeSet::new(),
        bound,
        seen: BTreeMap::new(),
    };
    for spec in &posts {
        d.step(spec.as_ref())?;
    }
    // no more posts: every task (re-executions included) runs out
    for _ in 0..(bound + 40) {
        d.step(None)?;
    }
    for t in d.all_tasks() {
        prop_assert!(!t.status.is_open(), "task {} still {:?}", t.id, t.status);
    }
    eprintln!("{:?}", d.seen);
    prop_assert_eq!(d.net.module_balance("task_escrow"), 0);
    for k in &d.net.operators {
        prop_assert_eq!(ts::reserved_units(d.net.chain.app.storage(), &k.address), 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x7a5c_0005),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_task_workloads_conserve_value_and_respect_deadlines_capacity_and_eligibility(
        profiles in proptest::collection::vec(profile(), OPERATORS),
        posts in proptest::collection::vec(post_spec(), 30..70),
        seed in any::<u64>(),
    ) {
        run(profiles, posts, seed)?;
    }
}
