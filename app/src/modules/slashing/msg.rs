//! slashing's messages, offences and evidence.
//!
//! A **result attestation** is an operator's signed statement "my result for task T hashes to
//! R". Two attestations by the same account for the same task with different result hashes
//! prove `equivocation`:
//! ```text
//! AttestationBody { chain_id: String, task_id: u64, result_hash: [u8; 32] }   (borsh)
//! sign bytes = SHA-256("nodeop-attestation-v1" ‖ borsh(body))
//! Attestation { body, pubkey: [u8; 33] (compressed secp256k1), signature: [u8; 64] (r ‖ s, low S) }
//! ```
//! The signing key is the operator's account key (the one that signs its txs), so the chain can
//! check the attestation against the operator's address.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::SlashingError;
use crate::crypto::{sha256, Address, SignatureFault, Verifier};

pub const ATTESTATION_DOMAIN: &[u8] = b"nodeop-attestation-v1";
pub const MAX_DESCRIPTION: usize = 512;
pub const MAX_REASON: usize = 512;

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
pub enum Offence {
    ResultMismatch,
    Equivocation,
    FalseSubmission,
    Downtime,
    Performance,
    Byzantine,
}

impl Offence {
    pub fn name(&self) -> &'static str {
        match self {
            Offence::ResultMismatch => "result_mismatch",
            Offence::Equivocation => "equivocation",
            Offence::FalseSubmission => "false_submission",
            Offence::Downtime => "downtime",
            Offence::Performance => "performance",
            Offence::Byzantine => "byzantine",
        }
    }

    pub fn index(&self) -> u8 {
        *self as u8
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AttestationBody {
    pub chain_id: String,
    pub task_id: u64,
    #[serde(with = "hex32")]
    pub result_hash: [u8; 32],
}

impl AttestationBody {
    pub fn sign_bytes(&self) -> [u8; 32] {
        sha256(&[ATTESTATION_DOMAIN, &borsh::to_vec(self).unwrap_or_default()])
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Attestation {
    pub body: AttestationBody,
    #[serde(with = "hex::serde")]
    pub pubkey: [u8; 33],
    #[serde(with = "hex::serde")]
    pub signature: [u8; 64],
}

impl Attestation {
    /// The signer's address if the signature verifies.
    pub fn verify(
        &self,
        verifier: &Verifier,
        which: &'static str,
    ) -> Result<Address, SlashingError> {
        verifier
            .verify(&self.pubkey, &self.body.sign_bytes(), &self.signature)
            .map_err(|f| SlashingError::InvalidAttestation {
                which,
                reason: match f {
                    SignatureFault::BadPubkey => "the pubkey is not a compressed secp256k1 point",
                    SignatureFault::HighS => "high-S signature",
                    SignatureFault::Malformed | SignatureFault::Mismatch => {
                        "the signature does not match the body and pubkey"
                    }
                }
                .into(),
            })?;
        Ok(Address::from_pubkey(&self.pubkey))
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// 0: two conflicting attestations (checked at once).
    Equivocation {
        first: Attestation,
        second: Attestation,
    },
    /// 1: a reporter's account of an infraction the chain cannot check; decided by vote if
    /// disputed. `infraction_id` names the infraction (e.g. the task id) for deduplication.
    Statement {
        infraction_id: u64,
        infraction_height: u64,
        description: String,
        reference: String,
    },
    /// 2: the downtime SLA (automatic).
    Downtime { period: u64, uptime_ppm: u32 },
    /// 3: a result that disagreed with a finalized aggregate (automatic, from the task module).
    ResultMismatch { task_id: u64 },
}

/// Reports an offence. Needs `report_bond`, returned if the slash is upheld, paid to the
/// accused if it is overturned.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgProposeSlash {
    pub operator: String,
    pub offence: Offence,
    pub evidence: Evidence,
}

/// The accused disputes a proposal before its deadline, with `dispute_bond`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgDisputeSlash {
    pub proposal: u64,
    pub reason: String,
}

/// A validator's vote on a disputed proposal: `uphold = true` to slash.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgVoteDispute {
    pub proposal: u64,
    pub uphold: bool,
}

impl MsgProposeSlash {
    pub fn check_stateless(&self) -> Result<Address, SlashingError> {
        let operator =
            Address::parse(&self.operator).map_err(|e| SlashingError::InvalidAddress {
                address: self.operator.chars().take(100).collect(),
                reason: e.to_string(),
            })?;
        match (self.offence, &self.evidence) {
            (Offence::Downtime | Offence::ResultMismatch, _) => {
                Err(SlashingError::OffenceNotReportable(self.offence.name()))
            }
            (Offence::Equivocation, Evidence::Equivocation { .. }) => Ok(operator),
            (Offence::Equivocation, _) => Err(SlashingError::EvidenceMismatch {
                offence: "equivocation",
                needed: "two conflicting attestations",
            }),
            (
                _,
                Evidence::Statement {
                    description,
                    reference,
                    ..
                },
            ) => {
                if description.len() > MAX_DESCRIPTION || reference.len() > 256 {
                    return Err(SlashingError::InvalidField {
                        field: "evidence",
                        reason: "description ≤ 512 bytes, reference ≤ 256 bytes".into(),
                    });
                }
                Ok(operator)
            }
            _ => Err(SlashingError::EvidenceMismatch {
                offence: self.offence.name(),
                needed: "a statement",
            }),
        }
    }
}

impl MsgDisputeSlash {
    pub fn check_stateless(&self) -> Result<(), SlashingError> {
        if self.reason.len() > MAX_REASON {
            return Err(SlashingError::InvalidField {
                field: "reason",
                reason: "at most 512 bytes".into(),
            });
        }
        Ok(())
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        let b = hex::decode(&s).map_err(serde::de::Error::custom)?;
        b.try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}
