//! reputation — operator scores, the Byzantine factor and the load state (PROTOCOL.md §3.3).
//!
//! The API below is what other modules call; its bodies are filled in by the module itself.

use crate::crypto::Address;
use crate::state::{StateRead, StateWrite};

/// The neutral score, ppm.
pub const NEUTRAL_PPM: u32 = 500_000;

/// `score × byz_factor`, ppm: what eligibility, sampling weights and rewards use.
pub fn effective_score_ppm(_state: &impl StateRead, _operator: &Address) -> u32 {
    NEUTRAL_PPM
}

/// A finalized result of the operator: `agreed` with the aggregate or not. A disagreement is a
/// Byzantine failure: it also halves `byz_factor`.
pub fn record_result(_state: &mut impl StateWrite, _operator: &Address, _agreed: bool) {}

/// A task duty (a commit, a reveal, a submission window) met or missed.
pub fn record_duty(_state: &mut impl StateWrite, _operator: &Address, _met: bool) {}

/// One block while the operator's validator was in the set: signed or not.
pub fn record_block(_state: &mut impl StateWrite, _operator: &Address, _signed: bool) {}

/// A commit included `delay_blocks` after the task's assignment, in a window of `commit_blocks`.
pub fn record_commit_delay(
    _state: &mut impl StateWrite,
    _operator: &Address,
    _delay_blocks: u64,
    _commit_blocks: u64,
) {
}

/// Capacity released by the task module: `units × blocks` the reservation was held.
pub fn record_load(_state: &mut impl StateWrite, _operator: &Address, _unit_blocks: u128) {}

/// An upheld slash: halves `byz_factor`.
pub fn halve_byz_factor(_state: &mut impl StateWrite, _operator: &Address) {}

/// The optimal-load reward weight, ppm (1_000_000 = no change).
pub fn reward_weight_ppm(_state: &impl StateRead, _operator: &Address) -> u32 {
    1_000_000
}

/// The slash amplification of the load state, ppm (1_000_000 = none).
pub fn load_amplification_ppm(_state: &impl StateRead, _operator: &Address) -> u32 {
    1_000_000
}
