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

use super::TasksError;
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

fn invalid(field: &'static str, reason: &str) -> TasksError {
    TasksError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

/// Printable ASCII without spaces (URIs) or printable text without control characters.
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

impl MsgPostTask {
    /// Checks that need no state (the payload limit and the price are checked against params).
    pub fn check_stateless(&self) -> Result<(), TasksError> {
        if let TaskKind::Numeric {
            scale,
            tolerance_ppm,
        } = self.kind
        {
            if scale > MAX_NUMERIC_SCALE {
                return Err(invalid("kind.scale", "at most 18 decimal places"));
            }
            if tolerance_ppm > 1_000_000 {
                return Err(invalid(
                    "kind.tolerance_ppm",
                    "at most 1_000_000 (100 % of the median)",
                ));
            }
        }
        match &self.payload {
            TaskPayload::Inline(bytes) if bytes.is_empty() => {
                return Err(invalid("payload", "an inline payload must not be empty"))
            }
            TaskPayload::Inline(_) => {}
            TaskPayload::Reference { uri, .. } => {
                if uri.is_empty() || uri.len() > MAX_URI_BYTES {
                    return Err(invalid("payload.uri", "1 to 512 bytes"));
                }
                if !uri.is_ascii()
                    || uri.chars().any(|c| c.is_ascii_whitespace())
                    || has_control(uri)
                {
                    return Err(invalid("payload.uri", "printable ASCII without spaces"));
                }
            }
        }
        if self.difficulty_units == 0 {
            return Err(invalid("difficulty_units", "must be at least 1"));
        }
        if self.min_reputation_ppm > 1_000_000 {
            return Err(invalid("min_reputation_ppm", "at most 1_000_000"));
        }
        if self.fee == 0 {
            return Err(invalid("fee", "must be positive"));
        }
        Ok(())
    }
}

impl MsgConfirmSubmission {
    pub fn check_stateless(&self) -> Result<(), TasksError> {
        if self.target_ref.is_empty() || self.target_ref.len() > MAX_TARGET_REF_BYTES {
            return Err(invalid("target_ref", "1 to 128 bytes"));
        }
        if has_control(&self.target_ref) {
            return Err(invalid("target_ref", "no control characters"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> MsgPostTask {
        MsgPostTask {
            kind: TaskKind::Numeric {
                scale: 6,
                tolerance_ppm: 10_000,
            },
            consistency: Consistency::Session,
            payload: TaskPayload::Reference {
                sha256: [7; 32],
                uri: "ipfs://bafy".into(),
            },
            difficulty_units: 5,
            min_reputation_ppm: 0,
            fee: 1,
        }
    }

    #[test]
    fn stateless_checks_name_the_field() {
        assert_eq!(post().check_stateless(), Ok(()));
        let field = |m: MsgPostTask| match m.check_stateless() {
            Err(TasksError::InvalidField { field, .. }) => field,
            other => panic!("expected invalid_field, got {other:?}"),
        };
        let mut m = post();
        m.kind = TaskKind::Numeric {
            scale: 19,
            tolerance_ppm: 0,
        };
        assert_eq!(field(m), "kind.scale");
        let mut m = post();
        m.payload = TaskPayload::Reference {
            sha256: [0; 32],
            uri: "has space".into(),
        };
        assert_eq!(field(m), "payload.uri");
        let mut m = post();
        m.payload = TaskPayload::Inline(Vec::new());
        assert_eq!(field(m), "payload");
        let mut m = post();
        m.difficulty_units = 0;
        assert_eq!(field(m), "difficulty_units");
        let mut m = post();
        m.fee = 0;
        assert_eq!(field(m), "fee");
        let c = MsgConfirmSubmission {
            task_id: 1,
            target_ref: "x".repeat(129),
        };
        assert!(c.check_stateless().is_err());
    }
}
