//! reputation — operator scores, the Byzantine factor and the load state (PROTOCOL.md §3.3;
//! every formula and rounding in docs/reputation.md).
//!
//! Other modules report what operators do: finalized results ([`record_result`]), task duties
//! ([`record_duty`]), validator blocks ([`record_block`], from staking's liveness), commit delays
//! ([`record_commit_delay`]), released capacity ([`record_load`]) and upheld slashes
//! ([`halve_byz_factor`], from slashing). The module keeps them as decaying tallies per operator
//! ([`state::Tally`]) and answers with the score `0.3·success + 0.4·uptime + 0.2·latency +
//! 0.1·stake`, the effective score `score × byz_factor` ([`effective_score_ppm`]), the
//! optimal-load reward weight ([`reward_weight_ppm`]) and the slash amplification
//! ([`load_amplification_ppm`]).
//!
//! State keys: see [`keys`] (`reputation/params`, `reputation/operator/{address}`,
//! `reputation/last_epoch`, `reputation/last_epoch_height`). Hook: begin block, after staking's
//! epochs ([`component::begin_block`]): once per epoch, tallies decay toward neutral, the
//! Byzantine factor recovers toward 1.0 and the load state takes the epoch's utilisation.
//! Invariants (by construction, unit-tested): every component, score and factor is within
//! [0, 1_000_000]; the decay never changes a tally's total mass.

pub mod component;
pub mod events;
pub mod genesis;
pub mod keys;
pub mod params;
pub mod query;
pub mod score;
pub mod state;

pub use params::ReputationParams;
pub use score::Components;
pub use state::{OperatorReputation, Tally};

use crate::crypto::Address;
use crate::modules::staking;
use crate::state::{StateRead, StateWrite};

/// The neutral score, ppm.
pub const NEUTRAL_PPM: u32 = state::NEUTRAL;

/// The components of `operator`'s score now (its bond read from staking; 0 if it has none).
pub fn components(state: &impl StateRead, operator: &Address) -> Components {
    let p = state::params(state);
    let bonded = staking::state::operator(state, operator)
        .map(|o| o.tokens)
        .unwrap_or(0);
    Components::of(&state::record(state, operator), bonded, &p)
}

/// `score`, ppm, before the Byzantine factor.
pub fn score_ppm(state: &impl StateRead, operator: &Address) -> u32 {
    components(state, operator).score_ppm(&state::params(state))
}

/// `score × byz_factor`, ppm: what eligibility, sampling weights and rewards use.
pub fn effective_score_ppm(state: &impl StateRead, operator: &Address) -> u32 {
    let bonded = staking::state::operator(state, operator)
        .map(|o| o.tokens)
        .unwrap_or(0);
    effective_score_ppm_of(state, &state::params(state), operator, bonded)
}

/// [`effective_score_ppm`] of an operator whose bonded tokens the caller already holds, under
/// params read once for many operators (committee selection scores every operator per task):
/// one read of the operator's record instead of five reads.
pub fn effective_score_ppm_of(
    state: &impl StateRead,
    p: &ReputationParams,
    operator: &Address,
    bonded_tokens: u128,
) -> u32 {
    let r = state::record(state, operator);
    let score = Components::of(&r, bonded_tokens, p).score_ppm(p);
    score::effective_ppm(score, r.byz_factor_ppm)
}

/// A finalized result of the operator: `agreed` with the aggregate or not. A disagreement is a
/// Byzantine failure: it also halves `byz_factor`.
pub fn record_result(state: &mut impl StateWrite, operator: &Address, agreed: bool) {
    state::update(state, operator, |r| {
        r.results.record(if agreed { 1_000_000 } else { 0 });
        if !agreed {
            r.byz_factor_ppm = score::halve(r.byz_factor_ppm);
        }
    });
}

/// A task duty (a commit, a reveal, a submission window) met or missed.
pub fn record_duty(state: &mut impl StateWrite, operator: &Address, met: bool) {
    state::update(state, operator, |r| {
        r.duties.record(if met { 1_000_000 } else { 0 })
    });
}

/// One block while the operator's validator was in the set: signed or not.
pub fn record_block(state: &mut impl StateWrite, operator: &Address, signed: bool) {
    state::update(state, operator, |r| {
        r.blocks.record(if signed { 1_000_000 } else { 0 })
    });
}

/// A commit included `delay_blocks` after the task's assignment, in a window of `commit_blocks`.
pub fn record_commit_delay(
    state: &mut impl StateWrite,
    operator: &Address,
    delay_blocks: u64,
    commit_blocks: u64,
) {
    let value = score::commit_latency_ppm(delay_blocks, commit_blocks);
    state::update(state, operator, |r| r.latency.record(value));
}

/// Capacity released by the task module: `units × blocks` the reservation was held. It counts
/// toward the utilisation of the epoch in which it is released.
pub fn record_load(state: &mut impl StateWrite, operator: &Address, unit_blocks: u128) {
    if unit_blocks == 0 {
        return;
    }
    state::update(state, operator, |r| {
        r.epoch_unit_blocks = r.epoch_unit_blocks.saturating_add(unit_blocks)
    });
}

/// An upheld slash: halves `byz_factor`.
pub fn halve_byz_factor(state: &mut impl StateWrite, operator: &Address) {
    state::update(state, operator, |r| {
        r.byz_factor_ppm = score::halve(r.byz_factor_ppm)
    });
}

/// The optimal-load reward weight, ppm (1_000_000 = no change).
pub fn reward_weight_ppm(state: &impl StateRead, operator: &Address) -> u32 {
    let f = state::record(state, operator).load_ppm;
    score::reward_weight_ppm(f, &state::params(state))
}

/// The slash amplification of the load state, ppm (1_000_000 = none).
pub fn load_amplification_ppm(state: &impl StateRead, operator: &Address) -> u32 {
    let f = state::record(state, operator).load_ppm;
    score::load_amplification_ppm(f, &state::params(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::overlay::Empty;
    use crate::state::{Overlay, StateWriteExt};

    fn fresh() -> Overlay<Empty> {
        let mut s = Overlay::new(Empty);
        s.put(keys::PARAMS.to_vec(), &ReputationParams::default());
        s
    }

    const A: Address = Address([3; 20]);

    #[test]
    fn an_unknown_operator_is_neutral_without_stake() {
        let s = fresh();
        let c = components(&s, &A);
        assert_eq!(c.success_ppm, NEUTRAL_PPM);
        assert_eq!(score_ppm(&s, &A), 450_000);
        assert_eq!(effective_score_ppm(&s, &A), 450_000);
        assert_eq!(
            reward_weight_ppm(&s, &A),
            1_200_000,
            "f = 0: spare capacity"
        );
        assert_eq!(load_amplification_ppm(&s, &A), 1_000_000);
    }

    #[test]
    fn a_disagreeing_result_lowers_success_and_halves_the_factor() {
        let mut s = fresh();
        record_result(&mut s, &A, true);
        record_result(&mut s, &A, false);
        let r = state::record(&s, &A);
        assert_eq!(r.byz_factor_ppm, 500_000);
        assert_eq!(components(&s, &A).success_ppm, 500_000);
        // 0.3×0.5 + 0.4×0.5 + 0.2×0.5 + 0 = 0.45; × 0.5
        assert_eq!(effective_score_ppm(&s, &A), 225_000);
        halve_byz_factor(&mut s, &A);
        assert_eq!(state::record(&s, &A).byz_factor_ppm, 250_000);
        assert_eq!(effective_score_ppm(&s, &A), 112_500);
    }

    #[test]
    fn duties_blocks_and_commit_delays_land_in_their_tallies() {
        let mut s = fresh();
        record_duty(&mut s, &A, true);
        record_duty(&mut s, &A, false);
        for signed in [true, true, true, false] {
            record_block(&mut s, &A, signed);
        }
        record_commit_delay(&mut s, &A, 2, 10);
        record_commit_delay(&mut s, &A, 0, 10);
        let c = components(&s, &A);
        assert_eq!(c.duties_ppm, Some(500_000));
        assert_eq!(c.blocks_ppm, Some(750_000));
        assert_eq!(c.uptime_ppm, 625_000);
        assert_eq!(c.latency_ppm, 900_000, "mean delay 0.1 of the window");
        // 0.3×0.5 + 0.4×0.625 + 0.2×0.9 = 0.58
        assert_eq!(score_ppm(&s, &A), 580_000);
        assert_eq!(state::record(&s, &A).byz_factor_ppm, 1_000_000);
    }

    #[test]
    fn load_accumulates_until_the_epoch() {
        let mut s = fresh();
        record_load(&mut s, &A, 0);
        assert!(
            s.get_raw(&keys::operator(&A)).is_none(),
            "nothing to record"
        );
        record_load(&mut s, &A, 40);
        record_load(&mut s, &A, 2);
        assert_eq!(state::record(&s, &A).epoch_unit_blocks, 42);
        state::update(&mut s, &A, |r| r.load_ppm = 1_000_000);
        assert_eq!(load_amplification_ppm(&s, &A), 1_500_000);
        assert_eq!(reward_weight_ppm(&s, &A), 1_000_000);
    }
}
