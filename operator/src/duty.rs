//! A duty: what this agent owes the chain for one slot of one round of one task.
//!
//! ```text
//! assigned ──► executing ──► committed ──► revealed ──► done
//!    │  ╲           │             │            │   ╲
//!    │   offered ──►│ (expired)   │            │    scheduled ──► delivered
//!    │      │       │             │            │        │
//!    │      └► sold │             │            │        │
//!    └──────────────┴─────────────┴────────────┴────────┴──► missed
//! ```
//!
//! `committed` is entered when the result and the salt are stored, *before* the commit tx is
//! broadcast; `revealed` when the reveal tx is stored, before it is broadcast. Whether a tx was
//! included is a separate flag on its [`SentTx`]: the chain's task record is the witness. Once a
//! result and a salt are stored they never change, and every commit or reveal this agent sends
//! for the slot is built from them, so it cannot equivocate.

use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::{TaskKind, TaskPayload};
use serde::{Deserialize, Serialize};

/// Where a duty is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyState {
    /// On the committee (or holding a won slot); nothing done yet.
    Assigned,
    /// The executor was started (nothing is sent in this state: after a restart it runs again).
    Executing,
    /// Result and salt stored; the commit tx is stored and sent (or about to be).
    Committed,
    /// The reveal tx is stored and sent (or about to be).
    Revealed,
    /// The slot is offered in a Dutch auction.
    Offered,
    /// The slot was sold: the winning coprocessor executes it (terminal).
    Sold,
    /// The round closed with this slot revealed; nothing more is asked (terminal).
    Done,
    /// The chain scheduled this operator to deliver the aggregate.
    Scheduled,
    /// Delivery confirmed on chain (terminal).
    Delivered,
    /// A duty the chain counts as missed, or one this agent gave up (terminal).
    Missed,
}

impl DutyState {
    pub const ALL: [DutyState; 10] = [
        DutyState::Assigned,
        DutyState::Executing,
        DutyState::Committed,
        DutyState::Revealed,
        DutyState::Offered,
        DutyState::Sold,
        DutyState::Done,
        DutyState::Scheduled,
        DutyState::Delivered,
        DutyState::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DutyState::Assigned => "assigned",
            DutyState::Executing => "executing",
            DutyState::Committed => "committed",
            DutyState::Revealed => "revealed",
            DutyState::Offered => "offered",
            DutyState::Sold => "sold",
            DutyState::Done => "done",
            DutyState::Scheduled => "scheduled",
            DutyState::Delivered => "delivered",
            DutyState::Missed => "missed",
        }
    }

    /// Nothing more will happen to the duty.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DutyState::Sold | DutyState::Done | DutyState::Delivered | DutyState::Missed
        )
    }
}

/// Who this agent is for the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Role {
    /// A committee member serving its own slot.
    Member,
    /// A coprocessor serving the slot it won in `auction`.
    Coprocessor { auction: u64 },
}

/// A tx this agent stored before broadcasting it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTx {
    /// SHA-256 of `bytes` (the CometBFT tx hash).
    #[serde(with = "hex::serde")]
    pub hash: [u8; 32],
    #[serde(with = "hex::serde")]
    pub bytes: Vec<u8>,
    pub nonce: u64,
    pub fee: String,
    /// The committed height when it was (last) broadcast.
    pub sent_height: u64,
    /// The chain shows its effect.
    pub included: bool,
}

impl SentTx {
    pub fn fee(&self) -> u128 {
        self.fee.parse().unwrap_or(0)
    }
}

/// One slot of one round of one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    pub task_id: u64,
    pub round: u8,
    /// The committee member whose slot this is (this agent's address, or the seller's for a
    /// coprocessor).
    pub slot: Address,
    pub role: Role,
    pub kind: TaskKind,
    pub payload: TaskPayload,
    pub difficulty_units: u64,
    pub fee: String,
    pub assigned_height: u64,
    pub commit_end: u64,
    pub reveal_end: u64,
    pub state: DutyState,
    /// Set once, before the commit is broadcast; never changed.
    #[serde(with = "opt_hex", default)]
    pub result: Option<Vec<u8>>,
    #[serde(with = "opt_hex", default)]
    pub salt: Option<Vec<u8>>,
    pub commit_tx: Option<SentTx>,
    pub reveal_tx: Option<SentTx>,
    pub confirm_tx: Option<SentTx>,
    /// Txs that are not duties (OpenAuction, Bid): fees paid for this slot.
    pub other_txs: Vec<SentTx>,
    /// The auction this member opened for the slot.
    pub auction: Option<u64>,
    /// Delivery: the reference the deliver hook returned (stored before the confirm is sent).
    pub target_ref: Option<String>,
    /// Why it was missed.
    pub reason: Option<String>,
    /// Pay this agent received for the slot (its pay line, or the price for a coprocessor).
    pub pay_received: Option<String>,
    /// The committed height of the last change.
    pub updated_height: u64,
}

impl Duty {
    pub fn key(&self) -> DutyKey {
        DutyKey {
            task_id: self.task_id,
            round: self.round,
            slot: self.slot,
        }
    }

    /// Fees this slot's txs paid (duties go with fee 0).
    pub fn fees_paid(&self) -> u128 {
        self.commit_tx
            .iter()
            .chain(&self.reveal_tx)
            .chain(&self.confirm_tx)
            .chain(&self.other_txs)
            .map(SentTx::fee)
            .sum()
    }

    pub fn pay(&self) -> u128 {
        self.pay_received
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }
}

/// A duty's identity: (task, round, slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DutyKey {
    pub task_id: u64,
    pub round: u8,
    pub slot: Address,
}

impl DutyKey {
    /// task id (8, BE) ‖ round (1) ‖ slot (20): store order is task order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(29);
        k.extend_from_slice(&self.task_id.to_be_bytes());
        k.push(self.round);
        k.extend_from_slice(&self.slot.0);
        k
    }
}

mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let o: Option<String> = Option::deserialize(d)?;
        o.map(|h| hex::decode(h).map_err(serde::de::Error::custom))
            .transpose()
    }
}
