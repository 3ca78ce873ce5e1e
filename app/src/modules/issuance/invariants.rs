//! issuance's invariants, checked after every block in debug and test builds:
//! - every unop minted since the open period began is a vesting claim (the period mint happens
//!   only when a period closes, and no other module mints);
//! - no schedule has claimed more than its total (so Σ claimed ≤ Σ totals);
//! - `total_supply ≤ max_supply` is bank's (`bank::invariants::check_supply`).
//!
//! The reward pool is emptied by every period's payout; the payout itself halts the node if it
//! is not (a user may send tokens to the pool between payouts, so it is not checked per block).

use super::state::{open_period, vesting_schedules};
use crate::modules::bank;
use crate::state::StateRead;

pub fn check(state: &impl StateRead) -> Result<(), String> {
    let open = open_period(state);
    let supply = bank::supply(state);
    let minted = supply
        .minted
        .checked_sub(open.minted_at_start)
        .ok_or_else(|| {
            format!(
                "issuance: minted {} is below the {} recorded when period {} opened",
                supply.minted, open.minted_at_start, open.period
            )
        })?;
    if minted != open.vested {
        return Err(format!(
            "issuance: {minted} unop minted since period {} opened, but vesting claims account \
             for {}: a mint bypassed issuance",
            open.period, open.vested
        ));
    }
    let (mut claimed, mut total) = (0u128, 0u128);
    for v in vesting_schedules(state) {
        if v.claimed > v.total {
            return Err(format!(
                "issuance: {} claimed {} of a vesting total of {}",
                v.beneficiary, v.claimed, v.total
            ));
        }
        claimed = claimed.saturating_add(v.claimed);
        total = total.saturating_add(v.total);
    }
    if claimed > total {
        return Err(format!(
            "issuance: Σ claimed {claimed} > Σ vesting totals {total}"
        ));
    }
    Ok(())
}
