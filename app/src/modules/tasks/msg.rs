//! tasks' messages (PROTOCOL.md §3.4). Byte layouts are part of the tx format
//! (`docs/tx-format.md`); variants and fields are append-only.
//!
//! **Commitment** (binds the member, so a copied commitment fails for anyone else):
//! ```text
//! commitment = SHA-256(task_id as 8 bytes big-endian ‖ member address (20 bytes) ‖ result ‖ salt (32 bytes))
//! ```
//! **Results**: an `Exact` task's result is any byte string of at most `max_result_bytes`; two
//! results agree when their SHA-256 hashes are equal. A `Numeric` task's result is exactly 8
//! bytes, a big-endian two's-complement `i64` holding the value × 10^`scale` (fixed point).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{sha256, Address};

/// The longest URI of a referenced payload.
pub const MAX_URI_BYTES: usize = 512;
/// The longest consumer-side reference a submitter confirms.
pub const MAX_TARGET_REF_BYTES: usize = 128;
/// The largest `scale` of a Numeric task (decimal places of an i64).
pub const MAX_NUMERIC_SCALE: u8 = 18;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 0: results agree when their bytes are equal.
    Exact,
    /// 1: fixed-point i64 results (value × 10^scale); members within `tolerance_ppm` of the
    /// weighted median agree, and the result is their weighted mean.
    Numeric { scale: u8, tolerance_ppm: u32 },
}

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
pub enum Consistency {
    /// 0: a committee of 1, quorum 1 (defaults; sizes and quorums are params).
    Eventual,
    /// 1: a committee of 3, quorum 2.
    Session,
    /// 2: a committee of 7, quorum 5.
    Strong,
}

impl Consistency {
    pub fn name(&self) -> &'static str {
        match self {
            Consistency::Eventual => "eventual",
            Consistency::Session => "session",
            Consistency::Strong => "strong",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskPayload {
    /// 0: the payload itself (at most `max_payload_bytes`).
    Inline(#[serde(with = "hex::serde")] Vec<u8>),
    /// 1: the SHA-256 of a payload stored elsewhere, and where to fetch it.
    Reference {
        #[serde(with = "hex::serde")]
        sha256: [u8; 32],
        uri: String,
    },
}

impl TaskPayload {
    /// The payload's SHA-256 (for a reference, the hash it names).
    pub fn hash(&self) -> [u8; 32] {
        match self {
            TaskPayload::Inline(bytes) => sha256(&[bytes]),
            TaskPayload::Reference { sha256: h, .. } => *h,
        }
    }
}

/// A client posts a task and escrows `fee` (≥ difficulty_units × the current unit price).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgPostTask {
    pub kind: TaskKind,
    pub consistency: Consistency,
    pub payload: TaskPayload,
    pub difficulty_units: u64,
    /// Members need an effective reputation of at least this (ppm).
    pub min_reputation_ppm: u32,
    /// unop escrowed from the signer.
    pub fee: u128,
}

/// A committee member commits to its result (see [`commitment`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgCommitResult {
    pub task_id: u64,
    pub commitment: [u8; 32],
}

/// A committee member reveals the result and salt behind its commitment.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgRevealResult {
    pub task_id: u64,
    pub result: Vec<u8>,
    pub salt: [u8; 32],
}

/// The scheduled submitter confirms it delivered the aggregate to the consumer.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgConfirmSubmission {
    pub task_id: u64,
    /// The consumer-side reference of the delivery (at most 128 bytes).
    pub target_ref: String,
}

/// `SHA-256(task_id BE ‖ member ‖ result ‖ salt)`.
pub fn commitment(task_id: u64, member: &Address, result: &[u8], salt: &[u8; 32]) -> [u8; 32] {
    sha256(&[&task_id.to_be_bytes(), &member.0, result, salt])
}
