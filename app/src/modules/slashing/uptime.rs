//! The downtime SLA's counters: blocks an operator's validator signed and missed in the
//! current SLA period, while in the validator set (task duties will add to them).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use crate::crypto::Address;
use crate::state::{StateReadExt, StateWrite, StateWriteExt};

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
pub struct Uptime {
    pub signed: u64,
    pub missed: u64,
}

impl Uptime {
    /// signed / (signed + missed), ppm, rounded down; `None` with no duty.
    pub fn ppm(&self) -> Option<u32> {
        let total = self.signed.checked_add(self.missed)?;
        if total == 0 {
            return None;
        }
        Some((u128::from(self.signed) * 1_000_000 / u128::from(total)) as u32)
    }
}

/// Counts one block of duty.
pub fn record(state: &mut impl StateWrite, operator: &Address, signed: bool) {
    let key = keys::uptime(operator);
    let mut u: Uptime = state.get(&key).unwrap_or_default();
    if signed {
        u.signed = u.signed.saturating_add(1);
    } else {
        u.missed = u.missed.saturating_add(1);
    }
    state.put(key, &u);
}
