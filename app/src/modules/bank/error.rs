//! bank's errors (codespace `bank`). Codes are append-only.

pub const CODESPACE: &str = "bank";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("balance {balance} unop is less than {needed} unop")]
    InsufficientFunds { balance: u128, needed: u128 },
    #[error("balance would overflow u128")]
    Overflow,
    #[error("amount must be positive")]
    ZeroAmount,
    #[error("minting {amount} unop would take total supply {total} past max_supply {max}")]
    MaxSupplyExceeded {
        amount: u128,
        total: u128,
        max: u128,
    },
}

impl BankError {
    pub fn code(&self) -> u32 {
        match self {
            BankError::InvalidAddress { .. } => 1,
            BankError::InsufficientFunds { .. } => 2,
            BankError::Overflow => 3,
            BankError::ZeroAmount => 4,
            BankError::MaxSupplyExceeded { .. } => 5,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            BankError::InvalidAddress { .. } => "invalid_address",
            BankError::InsufficientFunds { .. } => "insufficient_funds",
            BankError::Overflow => "balance_overflow",
            BankError::ZeroAmount => "zero_amount",
            BankError::MaxSupplyExceeded { .. } => "max_supply_exceeded",
        }
    }

    pub fn examples() -> Vec<BankError> {
        vec![
            BankError::InvalidAddress {
                address: String::new(),
                reason: String::new(),
            },
            BankError::InsufficientFunds {
                balance: 0,
                needed: 0,
            },
            BankError::Overflow,
            BankError::ZeroAmount,
            BankError::MaxSupplyExceeded {
                amount: 0,
                total: 0,
                max: 0,
            },
        ]
    }
}
