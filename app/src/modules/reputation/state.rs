//! reputation's records: per operator, four tallies, the Byzantine factor and the load state.
//!
//! A [`Tally`] counts outcomes in micro-events (one outcome = [`EVENT`] = 1_000_000), so that the
//! per-epoch decay can keep fractions of an outcome without flooring small counts to zero. It has
//! three masses: `good` (agreed, met, signed, the on-time share of a commit), `bad` (the rest) and
//! `neutral` — outcomes the decay has forgotten, which count as half good. The decay moves the
//! forgotten part of `good` and `bad` into `neutral` (the total mass does not change); a new
//! outcome displaces up to one outcome of neutral mass. The tally's ratio
//! `(good + neutral/2) / (good + bad + neutral)` therefore moves toward 500_000 by exactly
//! `decay_ppm` per epoch when nothing happens, and follows recent outcomes when they happen.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::params::ReputationParams;
use crate::crypto::Address;
use crate::serde_u128;
use crate::state::{StateRead, StateReadExt, StateWrite, StateWriteExt};

/// 1.0 in ppm.
pub const PPM: u128 = 1_000_000;
/// The mass of one outcome in a tally.
pub const EVENT: u128 = 1_000_000;
/// The neutral score, ppm.
pub const NEUTRAL: u32 = 500_000;

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
#[serde(deny_unknown_fields)]
pub struct Tally {
    #[serde(with = "serde_u128")]
    pub good: u128,
    #[serde(with = "serde_u128")]
    pub bad: u128,
    #[serde(with = "serde_u128")]
    pub neutral: u128,
}

impl Tally {
    pub fn total(&self) -> u128 {
        self.good
            .saturating_add(self.bad)
            .saturating_add(self.neutral)
    }

    /// `(good + neutral/2) / total`, ppm, as `⌊(2·good + neutral) × 10⁶ / (2·total)⌋` (one
    /// division, floored); `None` when the tally holds nothing.
    pub fn ppm(&self) -> Option<u32> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let num = self.good.saturating_mul(2).saturating_add(self.neutral);
        Some(ratio_ppm(num, total.saturating_mul(2)))
    }

    /// One outcome, `good_ppm` of it good (1_000_000: agreed / met / signed; a commit's latency
    /// value for the latency tally). It displaces up to one outcome of neutral mass.
    pub fn record(&mut self, good_ppm: u32) {
        let good = u128::from(good_ppm).min(EVENT);
        self.good = self.good.saturating_add(good);
        self.bad = self.bad.saturating_add(EVENT - good);
        self.neutral -= self.neutral.min(EVENT);
    }

    /// The epoch decay: `good ← ⌊good × decay⌋`, `bad ← ⌊bad × decay⌋`, and what they lose
    /// (the floors included) becomes neutral mass. The total does not change.
    pub fn decay(&mut self, decay_ppm: u32) {
        let good = scale_ppm(self.good, decay_ppm);
        let bad = scale_ppm(self.bad, decay_ppm);
        let forgotten = self
            .good
            .saturating_sub(good)
            .saturating_add(self.bad.saturating_sub(bad));
        self.neutral = self.neutral.saturating_add(forgotten);
        self.good = good;
        self.bad = bad;
    }
}

/// An operator's reputation record (`reputation/operator/{address}`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorReputation {
    /// Finalized results: good = agreed with the aggregate, bad = disagreed.
    pub results: Tally,
    /// Task duties (commits, reveals, submission windows): good = met, bad = missed.
    pub duties: Tally,
    /// Blocks while its validator was in the set: good = signed, bad = missed.
    pub blocks: Tally,
    /// Commits: good = `1 − delay / commit window` of each commit, bad = the rest.
    pub latency: Tally,
    /// The Byzantine factor, ppm: halved by a disagreeing result or an upheld slash, recovers
    /// toward 1_000_000 each epoch.
    pub byz_factor_ppm: u32,
    /// The load state `f`, ppm of capacity.
    pub load_ppm: u32,
    /// Reserved capacity released in the current epoch: Σ units × blocks held.
    #[serde(with = "serde_u128")]
    pub epoch_unit_blocks: u128,
}

impl Default for OperatorReputation {
    fn default() -> Self {
        Self {
            results: Tally::default(),
            duties: Tally::default(),
            blocks: Tally::default(),
            latency: Tally::default(),
            byz_factor_ppm: PPM as u32,
            load_ppm: 0,
            epoch_unit_blocks: 0,
        }
    }
}

/// `⌊x × ppm / 10⁶⌋` exactly, for any `x` (split into whole millions and the rest so that the
/// product cannot overflow); saturates only past `u128::MAX`.
pub fn scale_ppm(x: u128, ppm: u32) -> u128 {
    let p = u128::from(ppm);
    (x / PPM)
        .saturating_mul(p)
        .saturating_add((x % PPM) * p / PPM)
}

/// `⌊num × 10⁶ / den⌋` capped at 1_000_000, for `den > 0`. Operands too large for the product
/// are shifted right together first (the ratio keeps its leading 90 bits).
pub fn ratio_ppm(num: u128, den: u128) -> u32 {
    let (mut num, mut den) = (num.min(den), den);
    while num.checked_mul(PPM).is_none() {
        num >>= 1;
        den >>= 1;
    }
    if den == 0 {
        return PPM as u32;
    }
    (num * PPM / den) as u32
}

pub fn params(state: &impl StateRead) -> ReputationParams {
    state.get(keys::PARAMS).unwrap_or_default()
}

/// The operator's record; the neutral record when it has none.
pub fn record(state: &impl StateRead, operator: &Address) -> OperatorReputation {
    state.get(&keys::operator(operator)).unwrap_or_default()
}

pub fn put_record(state: &mut impl StateWrite, operator: &Address, r: &OperatorReputation) {
    state.put(keys::operator(operator), r);
}

/// Reads, changes and writes back an operator's record.
pub fn update(
    state: &mut impl StateWrite,
    operator: &Address,
    change: impl FnOnce(&mut OperatorReputation),
) {
    let mut r = record(state, operator);
    change(&mut r);
    put_record(state, operator, &r);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(good: u128, bad: u128, neutral: u128) -> Tally {
        Tally { good, bad, neutral }
    }

    #[test]
    fn an_empty_tally_has_no_ratio() {
        assert_eq!(Tally::default().ppm(), None);
    }

    #[test]
    fn without_decay_the_ratio_is_good_over_total() {
        let mut t = Tally::default();
        for good in [true, true, false] {
            t.record(if good { 1_000_000 } else { 0 });
        }
        assert_eq!(t, tally(2 * EVENT, EVENT, 0));
        assert_eq!(t.ppm(), Some(666_666), "2/3 floored");
    }

    #[test]
    fn neutral_mass_counts_half() {
        assert_eq!(tally(0, 0, 7).ppm(), Some(500_000));
        assert_eq!(tally(1, 0, 1).ppm(), Some(750_000));
        assert_eq!(tally(0, 1, 2).ppm(), Some(333_333), "1/3 floored");
    }

    #[test]
    fn decay_conserves_the_total_and_shrinks_the_deviation_by_decay_ppm() {
        let mut t = tally(9 * EVENT, EVENT, 0);
        let before = t.ppm().unwrap();
        assert_eq!(before, 900_000);
        t.decay(992_699);
        assert_eq!(t.total(), 10 * EVENT);
        assert_eq!(t.good, 8_934_291);
        assert_eq!(t.bad, 992_699);
        assert_eq!(t.neutral, 10 * EVENT - 8_934_291 - 992_699);
        // 500_000 + 400_000 × 0.992699 = 897_079.6
        assert_eq!(t.ppm(), Some(897_079));
        // many epochs: toward neutral, monotonically
        let mut last = t.ppm().unwrap();
        for _ in 0..2_000 {
            t.decay(992_699);
            let now = t.ppm().unwrap();
            assert!(now <= last && now >= 500_000);
            last = now;
        }
        assert_eq!(last, 500_000);
        assert_eq!(t.total(), 10 * EVENT);
    }

    #[test]
    fn a_single_outcome_survives_decay_as_a_fraction() {
        let mut t = Tally::default();
        t.record(0);
        t.decay(992_699);
        assert_eq!(
            t.bad, 992_699,
            "kept as 0.992699 of an outcome, not floored to 0"
        );
        assert_eq!(t.neutral, 7_301);
        t.decay(0);
        assert_eq!(t, tally(0, 0, EVENT), "decay 0 forgets everything");
    }

    #[test]
    fn new_outcomes_displace_neutral_mass_and_always_move_the_ratio_their_way() {
        let mut t = tally(0, 0, 3 * EVENT / 2);
        t.record(1_000_000);
        assert_eq!(
            t,
            tally(EVENT, 0, EVENT / 2),
            "one outcome of neutral displaced"
        );
        assert_eq!(t.ppm(), Some(833_333));
        t.record(0);
        assert_eq!(
            t,
            tally(EVENT, EVENT, 0),
            "only what neutral mass there was"
        );
        assert_eq!(t.ppm(), Some(500_000));
        // from any state, a good outcome raises (or keeps at 1.0) and a bad one lowers
        for (g, b, n) in [
            (0, 0, 5),
            (3, 1, 2),
            (10, 0, 0),
            (0, 10, 0),
            (1, 1, EVENT * 4),
        ] {
            let t = tally(g * EVENT, b * EVENT, n);
            let before = t.ppm().unwrap();
            let mut up = t;
            up.record(1_000_000);
            let mut down = t;
            down.record(0);
            assert!(up.ppm().unwrap() >= before, "{t:?}");
            assert!(down.ppm().unwrap() <= before, "{t:?}");
        }
    }

    #[test]
    fn scale_ppm_is_the_exact_floor_and_never_overflows() {
        assert_eq!(scale_ppm(3, 500_000), 1);
        assert_eq!(scale_ppm(1_999_999, 500_000), 999_999);
        assert_eq!(scale_ppm(u128::MAX, 1_000_000), u128::MAX);
        assert_eq!(scale_ppm(u128::MAX, 0), 0);
        let x = u128::MAX / 3;
        assert_eq!(scale_ppm(x, 500_000), x / 2);
    }

    #[test]
    fn ratio_ppm_floors_caps_and_survives_huge_operands() {
        assert_eq!(ratio_ppm(1, 3), 333_333);
        assert_eq!(ratio_ppm(5, 3), 1_000_000, "capped");
        assert_eq!(ratio_ppm(u128::MAX, u128::MAX), 1_000_000);
        assert_eq!(ratio_ppm(u128::MAX / 2, u128::MAX), 499_999);
    }

    #[test]
    fn saturated_counters_do_not_panic() {
        let mut t = tally(u128::MAX, u128::MAX, u128::MAX);
        t.record(300_000);
        t.decay(992_699);
        assert!(t.ppm().is_some());
    }
}
