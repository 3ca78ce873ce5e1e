//! coprocessors' messages (appended at the end of `tx::Msg`; fields are append-only).

use borsh::{BorshDeserialize, BorshSerialize};

use super::CoprocessorsError;

/// The longest moniker (bytes).
pub const MAX_MONIKER_BYTES: usize = 64;

fn check_moniker(moniker: &str) -> Result<(), CoprocessorsError> {
    if moniker.len() > MAX_MONIKER_BYTES || moniker.chars().any(char::is_control) {
        return Err(CoprocessorsError::InvalidField {
            field: "moniker",
            reason: format!("at most {MAX_MONIKER_BYTES} bytes, no control characters"),
        });
    }
    Ok(())
}

fn positive(field: &'static str, v: u128) -> Result<(), CoprocessorsError> {
    if v == 0 {
        return Err(CoprocessorsError::InvalidField {
            field,
            reason: "must be above 0".into(),
        });
    }
    Ok(())
}

/// Registers the signer as a coprocessor with `capacity_units` and `collateral` unop, moved
/// from its account into `coprocessor_collateral` (free collateral).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgRegisterCoprocessor {
    pub capacity_units: u64,
    pub collateral: u128,
    pub moniker: String,
}

impl MsgRegisterCoprocessor {
    pub fn check_stateless(&self) -> Result<(), CoprocessorsError> {
        positive("capacity_units", u128::from(self.capacity_units))?;
        positive("collateral", self.collateral)?;
        check_moniker(&self.moniker)
    }
}

/// Changes a coprocessor's capacity and/or moniker (`None`: unchanged).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgEditCoprocessor {
    pub capacity_units: Option<u64>,
    pub moniker: Option<String>,
}

impl MsgEditCoprocessor {
    pub fn check_stateless(&self) -> Result<(), CoprocessorsError> {
        if self.capacity_units.is_none() && self.moniker.is_none() {
            return Err(CoprocessorsError::InvalidField {
                field: "capacity_units",
                reason: "an edit changes the capacity, the moniker or both".into(),
            });
        }
        if let Some(c) = self.capacity_units {
            positive("capacity_units", u128::from(c))?;
        }
        if let Some(m) = &self.moniker {
            check_moniker(m)?;
        }
        Ok(())
    }
}

/// Adds `amount` unop of free collateral.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgAddCollateral {
    pub amount: u128,
}

impl MsgAddCollateral {
    pub fn check_stateless(&self) -> Result<(), CoprocessorsError> {
        positive("amount", self.amount)
    }
}

/// Starts the withdrawal of `amount` unop of free collateral; paid `withdrawal_delay_blocks`
/// later.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgWithdrawCollateral {
    pub amount: u128,
}

impl MsgWithdrawCollateral {
    pub fn check_stateless(&self) -> Result<(), CoprocessorsError> {
        positive("amount", self.amount)
    }
}

/// A committee member puts its slot of `task_id` up for a Dutch auction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgOpenAuction {
    pub task_id: u64,
    pub start_price: u128,
    pub floor_price: u128,
}

impl MsgOpenAuction {
    pub fn check_stateless(&self) -> Result<(), CoprocessorsError> {
        positive("start_price", self.start_price)?;
        if self.floor_price > self.start_price {
            return Err(CoprocessorsError::FloorAboveStart {
                floor: self.floor_price,
                start: self.start_price,
            });
        }
        Ok(())
    }
}

/// A coprocessor bids on an open auction at the price of the block it is included in.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgBid {
    pub auction_id: u64,
}
