//! slashing's errors (codespace `slashing`). Codes are append-only.

pub const CODESPACE: &str = "slashing";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlashingError {
    #[error("invalid operator address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("no operator at {0}")]
    UnknownOperator(String),
    #[error("{0} proposals are raised by the chain itself, not reported")]
    OffenceNotReportable(&'static str),
    #[error("offence {offence} needs {needed} evidence")]
    EvidenceMismatch {
        offence: &'static str,
        needed: &'static str,
    },
    #[error("attestation {which} does not verify: {reason}")]
    InvalidAttestation { which: &'static str, reason: String },
    #[error("attestation {which} is signed by {signer}, not by the operator's account {operator}")]
    AttestationNotByOperator {
        which: &'static str,
        signer: String,
        operator: String,
    },
    #[error("the attestations do not conflict: {0}")]
    NoConflict(String),
    #[error("infraction height {height} is outside {min}..={max}")]
    InfractionHeightOutOfRange { height: u64, min: u64, max: u64 },
    #[error("this infraction already has proposal {0}")]
    DuplicateProposal(u64),
    #[error("no proposal {0}")]
    UnknownProposal(u64),
    #[error("only the accused operator's account {0} may dispute")]
    NotAccused(String),
    #[error("the dispute window closed at {deadline}; the block time is {now}")]
    DisputeWindowClosed { deadline: i64, now: i64 },
    #[error("proposal {id} is {status}, not open to this action")]
    WrongStatus { id: u64, status: &'static str },
    #[error("the vote closed at {deadline}; the block time is {now}")]
    VotePeriodClosed { deadline: i64, now: i64 },
    #[error("{0} is not the account of a validator in the current set")]
    NotAValidator(String),
    #[error("the accused cannot vote on its own dispute")]
    AccusedCannotVote,
    #[error("{0} already voted on this dispute")]
    AlreadyVoted(String),
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("proposal {0} is decided by re-execution, not by vote")]
    NotDecidedByVote(u64),
}

impl SlashingError {
    pub fn code(&self) -> u32 {
        match self {
            SlashingError::InvalidAddress { .. } => 1,
            SlashingError::UnknownOperator(_) => 2,
            SlashingError::OffenceNotReportable(_) => 3,
            SlashingError::EvidenceMismatch { .. } => 4,
            SlashingError::InvalidAttestation { .. } => 5,
            SlashingError::AttestationNotByOperator { .. } => 6,
            SlashingError::NoConflict(_) => 7,
            SlashingError::InfractionHeightOutOfRange { .. } => 8,
            SlashingError::DuplicateProposal(_) => 9,
            SlashingError::UnknownProposal(_) => 10,
            SlashingError::NotAccused(_) => 11,
            SlashingError::DisputeWindowClosed { .. } => 12,
            SlashingError::WrongStatus { .. } => 13,
            SlashingError::VotePeriodClosed { .. } => 14,
            SlashingError::NotAValidator(_) => 15,
            SlashingError::AccusedCannotVote => 16,
            SlashingError::AlreadyVoted(_) => 17,
            SlashingError::InvalidField { .. } => 18,
            SlashingError::NotDecidedByVote(_) => 19,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            SlashingError::InvalidAddress { .. } => "invalid_operator_address",
            SlashingError::UnknownOperator(_) => "unknown_operator",
            SlashingError::OffenceNotReportable(_) => "offence_not_reportable",
            SlashingError::EvidenceMismatch { .. } => "evidence_mismatch",
            SlashingError::InvalidAttestation { .. } => "invalid_attestation",
            SlashingError::AttestationNotByOperator { .. } => "attestation_not_by_operator",
            SlashingError::NoConflict(_) => "attestations_do_not_conflict",
            SlashingError::InfractionHeightOutOfRange { .. } => "infraction_height_out_of_range",
            SlashingError::DuplicateProposal(_) => "duplicate_proposal",
            SlashingError::UnknownProposal(_) => "unknown_proposal",
            SlashingError::NotAccused(_) => "not_accused",
            SlashingError::DisputeWindowClosed { .. } => "dispute_window_closed",
            SlashingError::WrongStatus { .. } => "wrong_status",
            SlashingError::VotePeriodClosed { .. } => "vote_period_closed",
            SlashingError::NotAValidator(_) => "not_a_validator",
            SlashingError::AccusedCannotVote => "accused_cannot_vote",
            SlashingError::AlreadyVoted(_) => "already_voted",
            SlashingError::InvalidField { .. } => "invalid_field",
            SlashingError::NotDecidedByVote(_) => "not_decided_by_vote",
        }
    }

    pub fn examples() -> Vec<SlashingError> {
        vec![
            SlashingError::InvalidAddress {
                address: String::new(),
                reason: String::new(),
            },
            SlashingError::UnknownOperator(String::new()),
            SlashingError::OffenceNotReportable(""),
            SlashingError::EvidenceMismatch {
                offence: "",
                needed: "",
            },
            SlashingError::InvalidAttestation {
                which: "",
                reason: String::new(),
            },
            SlashingError::AttestationNotByOperator {
                which: "",
                signer: String::new(),
                operator: String::new(),
            },
            SlashingError::NoConflict(String::new()),
            SlashingError::InfractionHeightOutOfRange {
                height: 0,
                min: 0,
                max: 0,
            },
            SlashingError::DuplicateProposal(0),
            SlashingError::UnknownProposal(0),
            SlashingError::NotAccused(String::new()),
            SlashingError::DisputeWindowClosed {
                deadline: 0,
                now: 0,
            },
            SlashingError::WrongStatus { id: 0, status: "" },
            SlashingError::VotePeriodClosed {
                deadline: 0,
                now: 0,
            },
            SlashingError::NotAValidator(String::new()),
            SlashingError::AccusedCannotVote,
            SlashingError::AlreadyVoted(String::new()),
            SlashingError::InvalidField {
                field: "",
                reason: String::new(),
            },
            SlashingError::NotDecidedByVote(0),
        ]
    }
}
