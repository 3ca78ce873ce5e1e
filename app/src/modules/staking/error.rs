//! staking's errors (codespace `staking`). Codes are append-only.

pub const CODESPACE: &str = "staking";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakingError {
    #[error("{0} is already an operator")]
    AlreadyOperator(String),
    #[error("consensus key {0} is already bound to an operator")]
    ConsensusKeyInUse(String),
    #[error("self_bond {got} unop is below min_self_bond {min} unop")]
    SelfBondTooLow { got: u128, min: u128 },
    #[error("commission {0} ppm is above 1_000_000 (100 %)")]
    CommissionTooHigh(u32),
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("no operator at {0}")]
    UnknownOperator(String),
    #[error("invalid operator address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("amount must be positive")]
    ZeroAmount,
    #[error("the delegation is worth {available} unop, less than {requested} unop")]
    InsufficientDelegation { available: u128, requested: u128 },
    #[error("the operator's pool has no tokens left (it was slashed to zero); delegating to it is refused")]
    EmptyPool,
    #[error("the operator's own bond would fall to {remaining} unop, below min_self_bond {min}; withdraw all of it to retire")]
    SelfBondWouldFallBelowMinimum { remaining: u128, min: u128 },
    #[error("operator {0} is not jailed")]
    NotJailed(String),
    #[error("operator is jailed until {until} (unix seconds); the block time is {now}")]
    JailedTooEarly { until: i64, now: i64 },
    #[error("operator {0} is tombstoned for double-signing and can never unjail")]
    Tombstoned(String),
    #[error("amount arithmetic overflowed")]
    Overflow,
    #[error("nothing to edit")]
    NothingToEdit,
}

impl StakingError {
    pub fn code(&self) -> u32 {
        match self {
            StakingError::AlreadyOperator(_) => 1,
            StakingError::ConsensusKeyInUse(_) => 2,
            StakingError::SelfBondTooLow { .. } => 3,
            StakingError::CommissionTooHigh(_) => 4,
            StakingError::InvalidField { .. } => 5,
            StakingError::UnknownOperator(_) => 6,
            StakingError::InvalidAddress { .. } => 7,
            StakingError::ZeroAmount => 8,
            StakingError::InsufficientDelegation { .. } => 9,
            StakingError::EmptyPool => 10,
            StakingError::SelfBondWouldFallBelowMinimum { .. } => 11,
            StakingError::NotJailed(_) => 12,
            StakingError::JailedTooEarly { .. } => 13,
            StakingError::Tombstoned(_) => 14,
            StakingError::Overflow => 15,
            StakingError::NothingToEdit => 16,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            StakingError::AlreadyOperator(_) => "already_operator",
            StakingError::ConsensusKeyInUse(_) => "consensus_key_in_use",
            StakingError::SelfBondTooLow { .. } => "self_bond_too_low",
            StakingError::CommissionTooHigh(_) => "commission_too_high",
            StakingError::InvalidField { .. } => "invalid_field",
            StakingError::UnknownOperator(_) => "unknown_operator",
            StakingError::InvalidAddress { .. } => "invalid_operator_address",
            StakingError::ZeroAmount => "zero_amount",
            StakingError::InsufficientDelegation { .. } => "insufficient_delegation",
            StakingError::EmptyPool => "empty_pool",
            StakingError::SelfBondWouldFallBelowMinimum { .. } => "self_bond_below_minimum",
            StakingError::NotJailed(_) => "not_jailed",
            StakingError::JailedTooEarly { .. } => "jailed_too_early",
            StakingError::Tombstoned(_) => "tombstoned",
            StakingError::Overflow => "overflow",
            StakingError::NothingToEdit => "nothing_to_edit",
        }
    }

    pub fn examples() -> Vec<StakingError> {
        vec![
            StakingError::AlreadyOperator(String::new()),
            StakingError::ConsensusKeyInUse(String::new()),
            StakingError::SelfBondTooLow { got: 0, min: 0 },
            StakingError::CommissionTooHigh(0),
            StakingError::InvalidField {
                field: "",
                reason: String::new(),
            },
            StakingError::UnknownOperator(String::new()),
            StakingError::InvalidAddress {
                address: String::new(),
                reason: String::new(),
            },
            StakingError::ZeroAmount,
            StakingError::InsufficientDelegation {
                available: 0,
                requested: 0,
            },
            StakingError::EmptyPool,
            StakingError::SelfBondWouldFallBelowMinimum {
                remaining: 0,
                min: 0,
            },
            StakingError::NotJailed(String::new()),
            StakingError::JailedTooEarly { until: 0, now: 0 },
            StakingError::Tombstoned(String::new()),
            StakingError::Overflow,
            StakingError::NothingToEdit,
        ]
    }
}
