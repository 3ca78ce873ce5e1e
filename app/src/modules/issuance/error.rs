//! issuance's errors (codespace `issuance`). Codes are append-only.

pub const CODESPACE: &str = "issuance";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuanceError {
    #[error("{0} has no vesting schedule")]
    NoSchedule(String),
}

impl IssuanceError {
    pub fn code(&self) -> u32 {
        match self {
            IssuanceError::NoSchedule(_) => 1,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            IssuanceError::NoSchedule(_) => "no_vesting_schedule",
        }
    }

    pub fn examples() -> Vec<IssuanceError> {
        vec![IssuanceError::NoSchedule(String::new())]
    }
}
