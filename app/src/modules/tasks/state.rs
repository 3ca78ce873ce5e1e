//! tasks' records and their read functions (what the query paths and other modules read).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::msg::{Consistency, TaskKind, TaskPayload};
use super::params::TasksParams;
use crate::crypto::Address;
use crate::modules::staking;
use crate::serde_u128;
use crate::state::{fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// 0: a committee is assigned; commit–reveal is running (original or escalated round).
    Assigned,
    /// 1: the aggregate is final and members are paid; submission windows are running.
    Finalized,
    /// 2: a submitter confirmed delivery (terminal).
    Delivered,
    /// 3: every submission window passed without delivery; the submission fee was refunded
    /// (terminal).
    Undelivered,
    /// 4: no quorum twice, or no committee for the escalation; refunded minus the protocol fee
    /// (terminal).
    Failed,
    /// 5: a re-execution task whose aggregate decided its dispute (terminal; no fee).
    Reexecuted,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Assigned,
        TaskStatus::Finalized,
        TaskStatus::Delivered,
        TaskStatus::Undelivered,
        TaskStatus::Failed,
        TaskStatus::Reexecuted,
    ];

    pub fn index(&self) -> u8 {
        *self as u8
    }

    pub fn name(&self) -> &'static str {
        match self {
            TaskStatus::Assigned => "assigned",
            TaskStatus::Finalized => "finalized",
            TaskStatus::Delivered => "delivered",
            TaskStatus::Undelivered => "undelivered",
            TaskStatus::Failed => "failed",
            TaskStatus::Reexecuted => "reexecuted",
        }
    }

    pub fn parse(name: &str) -> Option<TaskStatus> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the task still holds escrow, reservations or a due entry.
    pub fn is_open(&self) -> bool {
        matches!(self, TaskStatus::Assigned | TaskStatus::Finalized)
    }
}

/// One committee member of one round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Member {
    pub operator: Address,
    /// Sampling and aggregation weight: `(pool tokens / power_reduction) × effective score ppm`
    /// at assignment.
    #[serde(with = "serde_u128")]
    pub weight: u128,
    #[serde(with = "hexser::opt32")]
    pub commitment: Option<[u8; 32]>,
    pub commit_height: Option<u64>,
    #[serde(with = "hexser::optvec")]
    pub result: Option<Vec<u8>>,
    pub reveal_height: Option<u64>,
    /// Whether `difficulty_units` of the operator's capacity are still reserved for this task.
    pub reserved: bool,
    /// The height the reservation started (its load is `units × (release − since)`).
    pub reserved_since: u64,
}

/// One commit–reveal round: 0 the original committee, 1 the escalated one.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Round {
    pub number: u8,
    pub members: Vec<Member>,
    pub quorum: u32,
    pub assigned_height: u64,
    /// Last height a commit is accepted (`assigned_height + commit_blocks`).
    pub commit_end: u64,
    /// Last height a reveal is accepted (`commit_end + reveal_blocks`).
    pub reveal_end: u64,
}

impl Round {
    pub fn member(&self, operator: &Address) -> Option<&Member> {
        self.members.iter().find(|m| m.operator == *operator)
    }

    /// Every member that committed has revealed (the round can aggregate early).
    pub fn all_committed_revealed(&self) -> bool {
        self.members
            .iter()
            .all(|m| m.commitment.is_none() || m.result.is_some())
    }
}

/// The finalized aggregate.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct FinalResult {
    /// Exact: the winning group's bytes. Numeric: the weighted mean, 8 bytes big-endian i64.
    #[serde(with = "hex::serde")]
    pub result: Vec<u8>,
    #[serde(with = "hex::serde")]
    pub result_hash: [u8; 32],
    pub finalized_height: u64,
    /// Position of this result's leaf in its block's Merkle tree.
    pub leaf_index: u32,
    /// The round that finalized.
    pub round: u8,
    pub agreeing: Vec<Address>,
    pub disagreeing: Vec<Address>,
    /// What each agreeing member was paid (before commission), in `agreeing` order.
    pub pay: Vec<PayLine>,
    #[serde(with = "serde_u128")]
    pub protocol_fee: u128,
    #[serde(with = "serde_u128")]
    pub rounding_to_treasury: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PayLine {
    pub operator: Address,
    /// `uᵢ`, ppm.
    pub weight_ppm: u64,
    #[serde(with = "serde_u128")]
    pub pay: u128,
}

/// The submission schedule after finalization.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Submission {
    /// Members of windows `0..schedule.len()`, in order; window `schedule.len()` is open to any
    /// bonded operator.
    pub schedule: Vec<Address>,
    /// The current window.
    pub window: u32,
    /// Last height of the current window.
    pub window_end: u64,
    #[serde(with = "serde_u128")]
    pub submission_fee: u128,
    pub submitter: Option<Address>,
    pub target_ref: Option<String>,
    pub delivered_height: Option<u64>,
}

impl Submission {
    /// The member of the current window, `None` in the open window.
    pub fn current_member(&self) -> Option<Address> {
        self.schedule.get(self.window as usize).copied()
    }

    pub fn in_open_window(&self) -> bool {
        self.window as usize >= self.schedule.len()
    }
}

/// A re-execution task's link to the disputed proposal it decides.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ReexecLink {
    pub proposal: u64,
    pub original_task: u64,
    pub accused: Address,
    #[serde(with = "hex::serde")]
    pub accused_result: Vec<u8>,
    #[serde(with = "hex::serde")]
    pub original_result: Vec<u8>,
    pub original_agreeing: Vec<Address>,
    /// `upheld`, `overturned` or `no_quorum` once decided.
    pub verdict: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Task {
    pub id: u64,
    /// Who posted it (for a re-execution task: the accused operator who disputed).
    pub client: Address,
    pub kind: TaskKind,
    pub consistency: Consistency,
    pub payload: TaskPayload,
    #[serde(with = "hex::serde")]
    pub payload_hash: [u8; 32],
    pub difficulty_units: u64,
    pub min_reputation_ppm: u32,
    #[serde(with = "serde_u128")]
    pub fee: u128,
    /// What `task_escrow` holds for this task now.
    #[serde(with = "serde_u128")]
    pub escrow: u128,
    pub status: TaskStatus,
    pub posted_height: u64,
    /// The original round, then the escalated one if the first had no quorum.
    pub rounds: Vec<Round>,
    pub result: Option<FinalResult>,
    pub submission: Option<Submission>,
    pub reexec: Option<ReexecLink>,
    /// The end block that acts on the task next (`tasks/due/{height}/{id}`).
    pub due_height: Option<u64>,
    pub finished_height: Option<u64>,
}

impl Task {
    pub fn current_round(&self) -> &Round {
        self.rounds
            .last()
            .unwrap_or_else(|| fatal(&format!("task {} has no round", self.id)))
    }

    pub fn current_round_mut(&mut self) -> &mut Round {
        let id = self.id;
        self.rounds
            .last_mut()
            .unwrap_or_else(|| fatal(&format!("task {id} has no round")))
    }

    /// Every operator that sat on any round's committee.
    pub fn all_members(&self) -> Vec<Address> {
        let mut out: Vec<Address> = self
            .rounds
            .iter()
            .flat_map(|r| r.members.iter().map(|m| m.operator))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Units this task reserves on `operator` now.
    pub fn reserved_on(&self, operator: &Address) -> u64 {
        let n = self
            .rounds
            .iter()
            .flat_map(|r| r.members.iter())
            .filter(|m| m.reserved && m.operator == *operator)
            .count() as u64;
        n.saturating_mul(self.difficulty_units)
    }
}

/// What stays of a task after it is pruned: enough to check its result against its block's
/// root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ResultRecord {
    pub task_id: u64,
    #[serde(with = "hex::serde")]
    pub result_hash: [u8; 32],
    pub finalized_height: u64,
    pub leaf_index: u32,
    pub status: TaskStatus,
}

/// The results finalized in one block: the leaves in order and their Merkle root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct BlockResults {
    pub height: u64,
    #[serde(with = "hex::serde")]
    pub root: [u8; 32],
    pub task_ids: Vec<u64>,
    #[serde(with = "hexser::vec32")]
    pub leaves: Vec<[u8; 32]>,
}

/// A member's slot offered for sale (`tasks/slot/{task}/{member}`): `coprocessor` is `None`
/// while the auction runs and the buyer once it is won. Written only through [`offer_slot`],
/// [`sell_slot`] and [`withdraw_offer`] (the coprocessors module's auctions call them).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SlotSale {
    pub task_id: u64,
    pub member: Address,
    pub coprocessor: Option<Address>,
}

/// Total operator capacity and its use (what the price follows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacitySummary {
    /// Operators counted: bonded, not jailed (reputation aside).
    pub operators: u64,
    pub total_units: u64,
    /// Reserved units on those operators (each capped at its capacity).
    pub reserved_units: u64,
    pub free_units: u64,
    /// reserved / total, ppm (0 when there is no capacity).
    pub utilisation_ppm: u32,
}

/// An operator's capacity and load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorLoad {
    pub capacity_units: u64,
    pub reserved_units: u64,
    pub free_units: u64,
}

pub fn params(state: &impl StateRead) -> TasksParams {
    state
        .get(keys::PARAMS)
        .unwrap_or_else(|| fatal("tasks/params is missing: no genesis"))
}

pub fn task(state: &impl StateRead, id: u64) -> Option<Task> {
    state.get(&keys::task(id))
}

pub fn put_task(state: &mut impl StateWrite, t: &Task) {
    state.put(keys::task(t.id), t)
}

/// Moves the task's status index entry and sets its status (the caller writes the task).
pub fn set_status(state: &mut impl StateWrite, t: &mut Task, status: TaskStatus) {
    state.delete(keys::by_status(t.status.index(), t.id));
    state.put_raw(keys::by_status(status.index(), t.id), vec![1]);
    t.status = status;
}

/// Moves the task's due entry (the caller writes the task).
pub fn set_due(state: &mut impl StateWrite, t: &mut Task, height: Option<u64>) {
    if let Some(old) = t.due_height {
        state.delete(keys::due(old, t.id));
    }
    if let Some(h) = height {
        state.put_raw(keys::due(h, t.id), vec![1]);
    }
    t.due_height = height;
}

pub fn next_id(state: &mut impl StateWrite) -> u64 {
    let id: u64 = state.get(keys::NEXT_ID).unwrap_or(1);
    state.put(keys::NEXT_ID.to_vec(), &(id + 1));
    id
}

fn ids_under(state: &impl StateRead, prefix: &[u8], after: Option<u64>, limit: usize) -> Vec<u64> {
    let start = after.map(|a| [prefix, &a.to_be_bytes()].concat());
    state
        .prefix_raw(prefix, start.as_deref(), limit)
        .iter()
        .filter_map(|(k, _)| crate::state::keys::trailing_id(k))
        .collect()
}

/// Ids of tasks with `status`, ascending, strictly after `after`, at most `limit`.
pub fn ids_by_status(
    state: &impl StateRead,
    status: TaskStatus,
    after: Option<u64>,
    limit: usize,
) -> Vec<u64> {
    ids_under(state, &keys::by_status_prefix(status.index()), after, limit)
}

/// Ids of tasks `client` posted (still in state), ascending.
pub fn ids_by_client(
    state: &impl StateRead,
    client: &Address,
    after: Option<u64>,
    limit: usize,
) -> Vec<u64> {
    ids_under(state, &keys::by_client_prefix(client), after, limit)
}

/// Ids of tasks `operator` sat on a committee of (still in state), ascending.
pub fn ids_by_operator(
    state: &impl StateRead,
    operator: &Address,
    after: Option<u64>,
    limit: usize,
) -> Vec<u64> {
    ids_under(state, &keys::by_operator_prefix(operator), after, limit)
}

/// The current price of one difficulty unit, unop.
pub fn unit_price(state: &impl StateRead) -> u128 {
    state
        .get(keys::UNIT_PRICE)
        .unwrap_or_else(|| params(state).initial_unit_price)
}

/// Units reserved on `operator` by open duties.
pub fn reserved_units(state: &impl StateRead, operator: &Address) -> u64 {
    state.get(&keys::reserved(operator)).unwrap_or(0)
}

pub fn put_reserved(state: &mut impl StateWrite, operator: &Address, units: u64) {
    if units == 0 {
        state.delete(keys::reserved(operator));
    } else {
        state.put(keys::reserved(operator), &units);
    }
}

/// An operator's capacity, reserved and free units (free saturates at 0 when the operator
/// lowered its capacity below what it has reserved).
pub fn operator_load(state: &impl StateRead, operator: &Address) -> Option<OperatorLoad> {
    let op = staking::state::operator(state, operator)?;
    let reserved = reserved_units(state, operator);
    Some(OperatorLoad {
        capacity_units: op.capacity_units,
        reserved_units: reserved,
        free_units: op.capacity_units.saturating_sub(reserved),
    })
}

/// Free units of `operator` (0 for an unknown operator).
pub fn free_capacity(state: &impl StateRead, operator: &Address) -> u64 {
    operator_load(state, operator)
        .map(|l| l.free_units)
        .unwrap_or(0)
}

/// Capacity of every bonded, unjailed operator and how much of it is reserved.
pub fn capacity(state: &impl StateRead) -> CapacitySummary {
    let sp = staking::state::params(state);
    let mut s = CapacitySummary::default();
    for op in staking::state::operators(state) {
        if !op.eligible(&sp) {
            continue;
        }
        s.operators += 1;
        s.total_units = s.total_units.saturating_add(op.capacity_units);
        let r = reserved_units(state, &op.address).min(op.capacity_units);
        s.reserved_units = s.reserved_units.saturating_add(r);
    }
    s.free_units = s.total_units - s.reserved_units;
    s.utilisation_ppm = if s.total_units == 0 {
        0
    } else {
        (u128::from(s.reserved_units) * 1_000_000 / u128::from(s.total_units)) as u32
    };
    s
}

/// The sale of `member`'s slot on task `task_id`, if it offered it.
pub fn slot(state: &impl StateRead, task_id: u64, member: &Address) -> Option<SlotSale> {
    state.get(&keys::slot(task_id, member))
}

/// The member whose slot on `task_id` the coprocessor bought.
pub fn slot_held_by(
    state: &impl StateRead,
    task_id: u64,
    coprocessor: &Address,
) -> Option<Address> {
    state.get(&keys::slot_holder(task_id, coprocessor))
}

/// Every slot of the task offered or sold, in member address order.
pub fn slots_of(state: &impl StateRead, task_id: u64) -> Vec<SlotSale> {
    state
        .prefix_raw(&keys::slot_prefix(task_id), None, usize::MAX)
        .iter()
        .map(|(k, v)| crate::state::decode_stored(k, v))
        .collect()
}

/// A member puts its slot of the task's current round up for sale: the task is in
/// commit–reveal (not a re-execution), the member has not committed, its commit window is open
/// and the slot is not already offered. From now on the member cannot commit or reveal itself.
pub fn offer_slot(
    state: &mut impl StateWrite,
    height: u64,
    task_id: u64,
    member: &Address,
) -> Result<Task, super::TasksError> {
    use super::TasksError;
    let t = task(state, task_id).ok_or(TasksError::UnknownTask(task_id))?;
    if t.status != TaskStatus::Assigned || t.reexec.is_some() {
        return Err(TasksError::WrongTaskStatus {
            id: t.id,
            status: if t.reexec.is_some() {
                "a re-execution"
            } else {
                t.status.name()
            },
        });
    }
    let round = t.current_round();
    let m = round.member(member).ok_or_else(|| TasksError::NotAMember {
        task: task_id,
        operator: member.to_string(),
    })?;
    if let Some(h) = m.commit_height {
        return Err(TasksError::AlreadyCommitted(h));
    }
    if height > round.commit_end {
        return Err(TasksError::WindowClosed {
            phase: "commit",
            closed_at: round.commit_end,
            height,
        });
    }
    if slot(state, task_id, member).is_some() {
        return Err(TasksError::SlotOffered {
            task: task_id,
            member: member.to_string(),
        });
    }
    state.put(
        keys::slot(task_id, member),
        &SlotSale {
            task_id,
            member: *member,
            coprocessor: None,
        },
    );
    Ok(t)
}

/// The offered slot goes to `coprocessor`: its commit and reveal now count as the member's.
pub fn sell_slot(
    state: &mut impl StateWrite,
    task_id: u64,
    member: &Address,
    coprocessor: &Address,
) {
    match slot(state, task_id, member) {
        Some(s) if s.coprocessor.is_none() => {}
        other => fatal(&format!(
            "tasks: selling {member}'s slot on task {task_id}, which is {other:?}, not offered"
        )),
    }
    state.put(
        keys::slot(task_id, member),
        &SlotSale {
            task_id,
            member: *member,
            coprocessor: Some(*coprocessor),
        },
    );
    state.put(keys::slot_holder(task_id, coprocessor), member);
}

/// The auction ended without a sale: the member executes itself.
pub fn withdraw_offer(state: &mut impl StateWrite, task_id: u64, member: &Address) {
    match slot(state, task_id, member) {
        Some(s) if s.coprocessor.is_none() => state.delete(keys::slot(task_id, member)),
        other => fatal(&format!(
            "tasks: withdrawing {member}'s offer on task {task_id}, which is {other:?}"
        )),
    }
}

/// Writes an imported slot record and its holder index.
pub fn put_slot(state: &mut impl StateWrite, s: &SlotSale) {
    state.put(keys::slot(s.task_id, &s.member), s);
    if let Some(c) = s.coprocessor {
        state.put(keys::slot_holder(s.task_id, &c), &s.member);
    }
}

/// Deletes the task's slot records (when the task is pruned).
pub fn delete_slots(state: &mut impl StateWrite, task_id: u64) {
    for s in slots_of(state, task_id) {
        state.delete(keys::slot(task_id, &s.member));
        if let Some(c) = s.coprocessor {
            state.delete(keys::slot_holder(task_id, &c));
        }
    }
}

/// The compact record of a finalized task (kept after pruning).
pub fn result_record(state: &impl StateRead, id: u64) -> Option<ResultRecord> {
    state.get(&keys::result(id))
}

/// The results finalized at `height` and their root (`None`: none finalized there).
pub fn block_results(state: &impl StateRead, height: u64) -> Option<BlockResults> {
    state.get(&keys::block_results(height))
}

/// serde helpers for hashes and byte strings inside options and lists (hex in JSON).
pub mod hexser {
    pub mod opt32 {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => s.serialize_some(&hex::encode(b)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 32]>, D::Error> {
            let o = <Option<String> as Deserialize>::deserialize(d)?;
            o.map(|s| {
                let b = hex::decode(&s).map_err(serde::de::Error::custom)?;
                b.try_into()
                    .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
            })
            .transpose()
        }
    }

    pub mod optvec {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(b) => s.serialize_some(&hex::encode(b)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let o = <Option<String> as Deserialize>::deserialize(d)?;
            o.map(|s| hex::decode(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }

    pub mod vec32 {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(hex::encode))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
            let v = <Vec<String> as Deserialize>::deserialize(d)?;
            v.into_iter()
                .map(|s| {
                    let b = hex::decode(&s).map_err(serde::de::Error::custom)?;
                    b.try_into()
                        .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
                })
                .collect()
        }
    }
}
