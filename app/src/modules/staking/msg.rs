//! staking's messages and their stateless checks.

use borsh::{BorshDeserialize, BorshSerialize};

use super::StakingError;
use crate::crypto::Address;

/// Makes the signer an operator: binds its account to a CometBFT ed25519 consensus key and
/// bonds `self_bond` from its balance into its new pool.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgRegisterOperator {
    pub consensus_pubkey: [u8; 32],
    pub moniker: String,
    pub capacity_units: u64,
    pub region: String,
    pub commission_ppm: u32,
    pub self_bond: u128,
}

/// Changes an operator's metadata (the signer's own); `None` keeps a field.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgEditOperator {
    pub moniker: Option<String>,
    pub capacity_units: Option<u64>,
    pub region: Option<String>,
    pub commission_ppm: Option<u32>,
}

/// Bonds `amount` unop of the signer's balance to `operator`'s pool.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgDelegate {
    pub operator: String,
    pub amount: u128,
}

/// Starts unbonding `amount` unop of the signer's delegation to `operator`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgUndelegate {
    pub operator: String,
    pub amount: u128,
}

/// Lets the signer's jailed operator back into the validator set after `jailed_until`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgUnjail {}

pub const MAX_MONIKER: usize = 70;
pub const MAX_REGION: usize = 32;

fn check_text(
    field: &'static str,
    s: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), StakingError> {
    if (!allow_empty && s.is_empty()) || s.len() > max {
        return Err(StakingError::InvalidField {
            field,
            reason: format!("must be {}..={max} bytes", usize::from(!allow_empty)),
        });
    }
    if s.chars().any(char::is_control) {
        return Err(StakingError::InvalidField {
            field,
            reason: "has control characters".into(),
        });
    }
    Ok(())
}

fn check_commission(ppm: u32) -> Result<(), StakingError> {
    if ppm > 1_000_000 {
        return Err(StakingError::CommissionTooHigh(ppm));
    }
    Ok(())
}

pub fn parse_operator(s: &str) -> Result<Address, StakingError> {
    Address::parse(s).map_err(|e| StakingError::InvalidAddress {
        address: s.chars().take(100).collect(),
        reason: e.to_string(),
    })
}

impl MsgRegisterOperator {
    pub fn check_stateless(&self) -> Result<(), StakingError> {
        check_text("moniker", &self.moniker, MAX_MONIKER, false)?;
        check_text("region", &self.region, MAX_REGION, true)?;
        check_commission(self.commission_ppm)?;
        if self.capacity_units == 0 {
            return Err(StakingError::InvalidField {
                field: "capacity_units",
                reason: "must be at least 1".into(),
            });
        }
        if ed25519_consensus::VerificationKey::try_from(self.consensus_pubkey).is_err() {
            return Err(StakingError::InvalidField {
                field: "consensus_pubkey",
                reason: "not an ed25519 public key".into(),
            });
        }
        if self.self_bond == 0 {
            return Err(StakingError::ZeroAmount);
        }
        Ok(())
    }
}

impl MsgEditOperator {
    pub fn check_stateless(&self) -> Result<(), StakingError> {
        if self.moniker.is_none()
            && self.capacity_units.is_none()
            && self.region.is_none()
            && self.commission_ppm.is_none()
        {
            return Err(StakingError::NothingToEdit);
        }
        if let Some(m) = &self.moniker {
            check_text("moniker", m, MAX_MONIKER, false)?;
        }
        if let Some(r) = &self.region {
            check_text("region", r, MAX_REGION, true)?;
        }
        if let Some(c) = self.commission_ppm {
            check_commission(c)?;
        }
        if self.capacity_units == Some(0) {
            return Err(StakingError::InvalidField {
                field: "capacity_units",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

impl MsgDelegate {
    pub fn check_stateless(&self) -> Result<Address, StakingError> {
        if self.amount == 0 {
            return Err(StakingError::ZeroAmount);
        }
        parse_operator(&self.operator)
    }
}

impl MsgUndelegate {
    pub fn check_stateless(&self) -> Result<Address, StakingError> {
        if self.amount == 0 {
            return Err(StakingError::ZeroAmount);
        }
        parse_operator(&self.operator)
    }
}
