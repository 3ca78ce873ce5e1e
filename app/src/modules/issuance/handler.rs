//! issuance's message: `ClaimVested`.

use super::state::{open_period, put_open_period, put_vesting, vesting};
use super::IssuanceError;
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::modules::bank;
use crate::state::StateWrite;

/// Mints to the signer what its schedule has vested at the block time and it has not claimed.
/// Refused before the cliff, when nothing new has vested, and when the mint would pass
/// `max_supply` (nothing is claimed then; the schedule is unchanged).
pub fn claim_vested(
    state: &mut impl StateWrite,
    block: &BlockCtx,
    signer: &Address,
) -> Result<Vec<Event>, IssuanceError> {
    let mut schedule =
        vesting(state, signer).ok_or_else(|| IssuanceError::NoSchedule(signer.to_bech32()))?;
    if block.time < schedule.cliff_ends() {
        return Err(IssuanceError::BeforeCliff {
            cliff_ends: schedule.cliff_ends(),
            now: block.time,
        });
    }
    let vested = schedule.vested_at(block.time);
    let amount = vested.saturating_sub(schedule.claimed);
    if amount == 0 {
        return Err(IssuanceError::NothingToClaim {
            vested,
            claimed: schedule.claimed,
        });
    }
    let supply = bank::supply(state);
    let past_cap = supply
        .total_supply
        .checked_add(amount)
        .is_none_or(|t| t > supply.max_supply);
    if past_cap {
        return Err(IssuanceError::MaxSupplyReached {
            amount,
            total: supply.total_supply,
            max: supply.max_supply,
        });
    }
    bank::mint(state, signer, amount).map_err(|_| IssuanceError::MaxSupplyReached {
        amount,
        total: supply.total_supply,
        max: supply.max_supply,
    })?;
    schedule.claimed += amount;
    put_vesting(state, &schedule);
    let mut open = open_period(state);
    open.vested = open.vested.saturating_add(amount);
    put_open_period(state, &open);
    Ok(vec![Event::new(super::events::VESTED)
        .attr("beneficiary", signer)
        .attr("amount", amount)
        .attr("claimed", schedule.claimed)
        .attr("total", schedule.total)
        .attr("period", open.period)])
}
