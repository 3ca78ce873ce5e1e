//! Task lifecycle support for scenario and property tests: a chain with N genesis operators,
//! builders for the task messages, committee members that answer honestly, lie or stay silent,
//! and reads of tasks, proposals and balances.
//!
//! Salts are derived from `(task, member, result)`, so a reveal can always rebuild the salt of
//! the commit that preceded it without storing anything.

use nodeop_app::app::{BlockResponse, TxOutcome};
use nodeop_app::crypto::{sha256, Address};
use nodeop_app::genesis::AppState;
use nodeop_app::modules::slashing::{self, Proposal};
use nodeop_app::modules::tasks::state::{self as task_state, Task};
use nodeop_app::modules::tasks::{
    Consistency, MsgPostTask, TaskKind, TaskPayload, TasksError, TasksParams,
};
use nodeop_app::tx::{Msg, Tx};

use crate::chain::{self, consensus_key, genesis_operator, Key, TestChain};

pub const NOP: u128 = 1_000_000;

/// What every operator's account holds at genesis (for its tx fees).
pub const OPERATOR_BALANCE: u128 = 1_000 * NOP;
/// What the client's account holds at genesis.
pub const CLIENT_BALANCE: u128 = 1_000_000 * NOP;

/// The self-bond of operator `i`: 10_000 NOP plus 1_000 NOP per index, so that sampling
/// weights differ.
pub fn stake_of(i: usize) -> u128 {
    (10_000 + 1_000 * i as u128) * NOP
}

/// A genesis with `n` operators (operator 0 is the genesis operator of `chain::genesis`), each with
/// `capacity` units and the self-bond [`stake_of`], a funded client, long epochs (no fee payout,
/// reputation decay or issuance period moves balances under a test), tasks' default windows
/// and a retention of 1_000 blocks.
pub struct TaskGenesis {
    pub state: AppState,
    pub operators: Vec<Key>,
    pub client: Key,
}

impl TaskGenesis {
    pub fn new(n: usize, capacity: u64) -> Self {
        assert!(n >= 1);
        let client = Key::from_seed("task-client");
        let operators: Vec<Key> = std::iter::once(genesis_operator().0)
            .chain((1..n).map(|i| Key::from_seed(&format!("task-op-{i}"))))
            .collect();
        let mut accounts = vec![(client.address, CLIENT_BALANCE)];
        accounts.extend(operators.iter().map(|k| (k.address, OPERATOR_BALANCE)));
        let mut state = chain::genesis(&accounts);
        for (i, key) in operators.iter().enumerate().skip(1) {
            chain::add_genesis_operator(
                &mut state,
                &key.address,
                consensus_key(&format!("task-op-{i}")),
                &format!("task-op-{i}"),
                stake_of(i),
            );
        }
        for op in &mut state.staking.operators {
            op.capacity_units = capacity;
        }
        state.staking.params.epoch_seconds = 1_000_000;
        state.tasks.params = TasksParams {
            task_retention: 1_000,
            // the driver makes 1-second blocks
            max_block_seconds: 1,
            ..TasksParams::default()
        };
        state.slashing.params.max_task_lifetime_seconds =
            state.tasks.params.max_task_lifetime_seconds();
        Self {
            state,
            operators,
            client,
        }
    }

    pub fn start(self) -> TaskNet {
        TaskNet {
            chain: TestChain::start(&self.state),
            operators: self.operators,
            client: self.client,
        }
    }
}

/// A running chain with its operators' and client's keys.
pub struct TaskNet {
    pub chain: TestChain,
    /// Operator keys; `operators[0]` is the genesis operator of `chain::genesis`.
    pub operators: Vec<Key>,
    pub client: Key,
}

/// What a committee member does in a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// Commits to and reveals this result.
    Answer(Vec<u8>),
    /// Commits to this result but never reveals.
    CommitOnly(Vec<u8>),
    /// Sends nothing.
    Silent,
}

impl Act {
    pub fn committed(&self) -> Option<&[u8]> {
        match self {
            Act::Answer(r) | Act::CommitOnly(r) => Some(r),
            Act::Silent => None,
        }
    }
}

/// The salt a member uses for `result` on `task_id`.
pub fn salt(task_id: u64, member: &Address, result: &[u8]) -> [u8; 32] {
    sha256(&[b"test-salt", &task_id.to_be_bytes(), &member.0, result])
}

/// An Exact task with an inline payload, difficulty 1, no reputation floor.
pub fn exact_task(consistency: Consistency, fee: u128) -> MsgPostTask {
    MsgPostTask {
        kind: TaskKind::Exact,
        consistency,
        payload: TaskPayload::Inline(b"what is the block hash of height 42?".to_vec()),
        difficulty_units: 1,
        min_reputation_ppm: 0,
        fee,
    }
}

/// A Numeric task (values × 10^scale) with an inline payload, difficulty 1.
pub fn numeric_task(
    consistency: Consistency,
    scale: u8,
    tolerance_ppm: u32,
    fee: u128,
) -> MsgPostTask {
    MsgPostTask {
        kind: TaskKind::Numeric {
            scale,
            tolerance_ppm,
        },
        consistency,
        payload: TaskPayload::Inline(b"price of NOP in EUR".to_vec()),
        difficulty_units: 1,
        min_reputation_ppm: 0,
        fee,
    }
}

/// A Numeric result: `value` already scaled (× 10^scale), 8 bytes big-endian.
pub fn numeric(value: i64) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

/// `CommitResult` for `result` with the member's derived salt.
pub fn commit(task_id: u64, member: &Address, result: &[u8]) -> Msg {
    Msg::commit_result(task_id, member, result, &salt(task_id, member, result))
}

/// `RevealResult` for `result` with the member's derived salt.
pub fn reveal(task_id: u64, member: &Address, result: &[u8]) -> Msg {
    Msg::reveal_result(task_id, result, &salt(task_id, member, result))
}

/// Asserts a tx was refused with `expected`'s (codespace, code).
pub fn assert_refused(outcome: &TxOutcome, expected: &TasksError) {
    assert_eq!(
        (outcome.codespace.as_str(), outcome.code),
        (nodeop_app::modules::tasks::CODESPACE, expected.code()),
        "expected {}, got: {}",
        expected.name(),
        outcome.log
    );
}

/// The fee a signed tx pays.
pub fn tx_fee(bytes: &[u8]) -> u128 {
    let tx: Tx = borsh::from_slice(bytes).expect("a tx a test key signed");
    tx.body.fee
}

/// Checks a result against a block's root with the sibling path the chain published, by the
/// rule `docs/tasks.md` states (SHA-256 of the two children; a node without a sibling is
/// carried up unchanged) — written here independently of the chain's code.
pub fn verify_path(
    leaf: [u8; 32],
    mut index: usize,
    mut count: usize,
    path: &[[u8; 32]],
    root: &[u8; 32],
) -> bool {
    let mut node = leaf;
    let mut hashes = path.iter();
    while count > 1 {
        let sibling = index ^ 1;
        if sibling < count {
            let Some(h) = hashes.next() else {
                return false;
            };
            node = if index.is_multiple_of(2) {
                sha256(&[&node, h])
            } else {
                sha256(&[h, &node])
            };
        }
        index /= 2;
        count = count.div_ceil(2);
    }
    hashes.next().is_none() && node == *root
}

/// The leaf of a result in its block's tree (`docs/tasks.md`).
pub fn result_leaf(task_id: u64, result: &[u8]) -> [u8; 32] {
    sha256(&[
        b"nodeop-task-result-v1",
        &task_id.to_be_bytes(),
        &sha256(&[result]),
    ])
}

/// The task id a successful PostTask tx reported.
pub fn posted_id(outcome: &TxOutcome) -> Option<u64> {
    outcome
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::tasks::events::TASK_POSTED)
        .and_then(|e| e.get("task"))
        .and_then(|v| v.parse().ok())
}

impl TaskNet {
    pub fn params(&self) -> TasksParams {
        task_state::params(self.chain.app.storage())
    }

    pub fn task(&self, id: u64) -> Task {
        self.try_task(id)
            .unwrap_or_else(|| panic!("task {id} is not in state"))
    }

    pub fn try_task(&self, id: u64) -> Option<Task> {
        task_state::task(self.chain.app.storage(), id)
    }

    pub fn unit_price(&self) -> u128 {
        task_state::unit_price(self.chain.app.storage())
    }

    /// The smallest fee the chain accepts now for `difficulty` units.
    pub fn min_fee(&self, difficulty: u64) -> u128 {
        self.unit_price() * u128::from(difficulty)
    }

    pub fn balance(&self, address: &Address) -> u128 {
        self.chain.balance(address)
    }

    pub fn module_balance(&self, name: &str) -> u128 {
        self.chain.balance(&Address::module(name))
    }

    /// The key of an operator by address.
    pub fn key(&self, address: &Address) -> &Key {
        self.operators
            .iter()
            .find(|k| k.address == *address)
            .unwrap_or_else(|| panic!("{address} is not one of the test operators"))
    }

    /// The keys of the current round's members, in member order.
    pub fn members(&self, id: u64) -> Vec<Key> {
        self.task(id)
            .current_round()
            .members
            .iter()
            .map(|m| self.key(&m.operator).clone())
            .collect()
    }

    /// Operators that sit on no round of the task.
    pub fn outsiders(&self, id: u64) -> Vec<Key> {
        let t = self.task(id);
        let all = t.all_members();
        self.operators
            .iter()
            .filter(|k| !all.contains(&k.address))
            .cloned()
            .collect()
    }

    /// Posts `msg` from the client in one block; panics unless it succeeds. Returns the id.
    pub fn post(&mut self, msg: MsgPostTask) -> u64 {
        let client = self.client.clone();
        let resp = self.chain.ok(&client, msg.into());
        posted_id(&resp.tx_results[0]).expect("a task_posted event with the id")
    }

    /// Runs one block holding one tx of `from` with `msg`.
    pub fn run(&mut self, from: &Key, msg: Msg) -> TxOutcome {
        let tx = self.chain.tx(from, vec![msg]);
        let resp = self.chain.block(vec![tx]);
        resp.tx_results[0].clone()
    }

    /// Runs one block holding one tx per `(signer, msg)` (distinct signers).
    pub fn block(&mut self, msgs: Vec<(Key, Msg)>) -> BlockResponse {
        let txs = msgs
            .into_iter()
            .map(|(k, m)| self.chain.tx(&k, vec![m]))
            .collect();
        self.chain.block(txs)
    }

    /// Runs one block holding one tx per `(signer, msg)`; returns the response and the fee
    /// each tx paid.
    pub fn block_paying(&mut self, msgs: Vec<(Key, Msg)>) -> (BlockResponse, Vec<u128>) {
        let txs: Vec<Vec<u8>> = msgs
            .into_iter()
            .map(|(k, m)| self.chain.tx(&k, vec![m]))
            .collect();
        let fees = txs.iter().map(|t| tx_fee(t)).collect();
        (self.chain.block(txs), fees)
    }

    /// Runs one block of `msgs` and asserts every tx succeeded.
    pub fn block_ok(&mut self, msgs: Vec<(Key, Msg)>) -> BlockResponse {
        let resp = self.block(msgs);
        for r in &resp.tx_results {
            assert!(r.is_ok(), "tx failed: {}/{} {}", r.codespace, r.code, r.log);
        }
        resp
    }

    /// Empty blocks until the last committed height is `height` (nothing if already there).
    pub fn run_to(&mut self, height: u64) {
        while self.chain.height < height {
            self.chain.block(Vec::new());
        }
    }

    /// Commits for every member whose act commits, in the next block.
    pub fn commit_all(&mut self, id: u64, acts: &[(Key, Act)]) -> BlockResponse {
        let msgs = acts
            .iter()
            .filter_map(|(k, a)| Some((k.clone(), commit(id, &k.address, a.committed()?))))
            .collect();
        self.block_ok(msgs)
    }

    /// Reveals for every member that answers, in the next block.
    pub fn reveal_all(&mut self, id: u64, acts: &[(Key, Act)]) -> BlockResponse {
        let msgs = acts
            .iter()
            .filter_map(|(k, a)| match a {
                Act::Answer(r) => Some((k.clone(), reveal(id, &k.address, r))),
                _ => None,
            })
            .collect();
        self.block_ok(msgs)
    }

    /// Plays the task's current round: `acts[i]` is what member i (member order) does. Commits
    /// go in the first block of the commit window, reveals in the first block of the reveal
    /// window. Returns the response of the reveal block (where the round aggregates early when
    /// everyone who committed revealed).
    pub fn play_round(&mut self, id: u64, acts: &[Act]) -> BlockResponse {
        let members = self.members(id);
        assert_eq!(members.len(), acts.len(), "one act per member");
        let plan: Vec<(Key, Act)> = members.into_iter().zip(acts.iter().cloned()).collect();
        let round = self.task(id).current_round().clone();
        self.run_to(round.assigned_height);
        self.commit_all(id, &plan);
        self.run_to(round.commit_end);
        self.reveal_all(id, &plan)
    }

    /// Every member of the current round answers `result`.
    pub fn play_honest(&mut self, id: u64, result: &[u8]) -> BlockResponse {
        let n = self.task(id).current_round().members.len();
        self.play_round(id, &vec![Act::Answer(result.to_vec()); n])
    }

    /// Slash proposals against `operator`, in id order.
    pub fn proposals_against(&self, operator: &Address) -> Vec<Proposal> {
        all_proposals(&self.chain)
            .into_iter()
            .filter(|p| p.operator == *operator)
            .collect()
    }

    /// Effective reputation, ppm.
    pub fn score(&self, operator: &Address) -> u32 {
        nodeop_app::modules::reputation::effective_score_ppm(self.chain.app.storage(), operator)
    }

    /// The operator's reputation record (tallies, Byzantine factor, load).
    pub fn reputation(
        &self,
        operator: &Address,
    ) -> nodeop_app::modules::reputation::OperatorReputation {
        nodeop_app::modules::reputation::state::record(self.chain.app.storage(), operator)
    }

    /// The downtime SLA's counters of the operator (blocks and task duties).
    pub fn uptime(&self, operator: &Address) -> slashing::uptime::Uptime {
        use nodeop_app::state::StateReadExt;
        self.chain
            .app
            .storage()
            .get(&slashing::keys::uptime(operator))
            .unwrap_or_default()
    }

    /// Units the operator's open duties reserve.
    pub fn reserved(&self, operator: &Address) -> u64 {
        task_state::reserved_units(self.chain.app.storage(), operator)
    }

    /// Plays an honest round and returns the finalization height.
    pub fn finalize_honestly(&mut self, id: u64, result: &[u8]) -> u64 {
        self.play_honest(id, result);
        let t = self.task(id);
        assert_eq!(t.status, nodeop_app::modules::tasks::TaskStatus::Finalized);
        t.result.expect("finalized").finalized_height
    }

    /// Pool tokens of an operator.
    pub fn pool(&self, operator: &Address) -> u128 {
        self.chain.operator(operator).tokens
    }
}

/// Every slash proposal, in id order (ids are dense from 1).
pub fn all_proposals(chain: &TestChain) -> Vec<Proposal> {
    (1..)
        .map_while(|id| slashing::state::proposal(chain.app.storage(), id))
        .collect()
}

/// Events of `kind` in a block's end-block events and its txs' events.
pub fn events_of<'a>(
    resp: &'a BlockResponse,
    kind: &'a str,
) -> impl Iterator<Item = &'a nodeop_app::events::Event> + 'a {
    resp.events
        .iter()
        .chain(resp.tx_results.iter().flat_map(|r| r.events.iter()))
        .filter(move |e| e.kind == kind)
}
