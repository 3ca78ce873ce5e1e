//! issuance's errors (codespace `issuance`). Codes are append-only.

pub const CODESPACE: &str = "issuance";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuanceError {
    #[error("{0} has no vesting schedule")]
    NoSchedule(String),
    #[error("nothing has vested yet: the cliff ends at {cliff_ends} (unix seconds), the block time is {now}")]
    BeforeCliff { cliff_ends: i64, now: i64 },
    #[error("nothing to claim: {vested} unop vested so far and {claimed} unop already claimed")]
    NothingToClaim { vested: u128, claimed: u128 },
    #[error(
        "claiming {amount} unop would take the total supply {total} past max_supply {max}; \
         nothing was claimed"
    )]
    MaxSupplyReached {
        amount: u128,
        total: u128,
        max: u128,
    },
}

impl IssuanceError {
    pub fn code(&self) -> u32 {
        match self {
            IssuanceError::NoSchedule(_) => 1,
            IssuanceError::BeforeCliff { .. } => 2,
            IssuanceError::NothingToClaim { .. } => 3,
            IssuanceError::MaxSupplyReached { .. } => 4,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            IssuanceError::NoSchedule(_) => "no_vesting_schedule",
            IssuanceError::BeforeCliff { .. } => "before_cliff",
            IssuanceError::NothingToClaim { .. } => "nothing_to_claim",
            IssuanceError::MaxSupplyReached { .. } => "vesting_past_max_supply",
        }
    }

    pub fn examples() -> Vec<IssuanceError> {
        vec![
            IssuanceError::NoSchedule(String::new()),
            IssuanceError::BeforeCliff {
                cliff_ends: 0,
                now: 0,
            },
            IssuanceError::NothingToClaim {
                vested: 0,
                claimed: 0,
            },
            IssuanceError::MaxSupplyReached {
                amount: 0,
                total: 0,
                max: 0,
            },
        ]
    }
}
