//! slashing's invariant: `dispute_escrow` holds exactly the bonds of open proposals.

use super::keys;
use super::state::Proposal;
use crate::modules::bank;
use crate::state::{decode_stored, StateRead};

pub fn check(state: &impl StateRead) -> Result<(), String> {
    let mut bonds: u128 = 0;
    for (k, v) in state.prefix_raw(keys::PROPOSAL_PREFIX, None, usize::MAX) {
        let p: Proposal = decode_stored(&k, &v);
        if p.status.is_open() {
            bonds += p.reporter_bond + p.dispute.as_ref().map(|d| d.bond).unwrap_or(0);
        }
    }
    let escrow = bank::account(state, &bank::DISPUTE_ESCROW.address()).balance;
    if escrow != bonds {
        return Err(format!(
            "slashing: dispute_escrow {escrow} != bonds of open proposals {bonds}"
        ));
    }
    Ok(())
}
