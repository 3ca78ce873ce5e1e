//! The formulas of PROTOCOL.md §3.3 as pure functions of a record, the params and the bond.
//! Every division floors; docs/reputation.md lists them.

use serde::Serialize;

use super::params::ReputationParams;
use super::state::{ratio_ppm, scale_ppm, OperatorReputation, NEUTRAL, PPM};
use crate::num::checked_mul_div;

/// An operator's four components and what they add up to, ppm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Components {
    /// Agreeing results / finalized results (neutral with none).
    pub success_ppm: u32,
    /// Duties met / assigned, when there were any.
    pub duties_ppm: Option<u32>,
    /// Blocks signed / blocks in the set, when there were any.
    pub blocks_ppm: Option<u32>,
    /// The two above averaged when both exist, the one that exists, or neutral.
    pub uptime_ppm: u32,
    /// 1 − mean commit delay / commit window (neutral with no commit).
    pub latency_ppm: u32,
    /// min(1, bonded tokens / stake_cap).
    pub stake_ppm: u32,
}

impl Components {
    pub fn of(r: &OperatorReputation, bonded_tokens: u128, p: &ReputationParams) -> Self {
        let duties = r.duties.ppm();
        let blocks = r.blocks.ppm();
        Self {
            success_ppm: r.results.ppm().unwrap_or(NEUTRAL),
            duties_ppm: duties,
            blocks_ppm: blocks,
            uptime_ppm: uptime_ppm(duties, blocks),
            latency_ppm: r.latency.ppm().unwrap_or(NEUTRAL),
            stake_ppm: stake_ppm(bonded_tokens, p.stake_cap),
        }
    }

    /// `⌊(w_s·success + w_u·uptime + w_l·latency + w_k·stake) / 10⁶⌋` (one division).
    pub fn score_ppm(&self, p: &ReputationParams) -> u32 {
        let sum = [
            (self.success_ppm, p.success_weight_ppm),
            (self.uptime_ppm, p.uptime_weight_ppm),
            (self.latency_ppm, p.latency_weight_ppm),
            (self.stake_ppm, p.stake_weight_ppm),
        ]
        .iter()
        .map(|(c, w)| u128::from(*c) * u128::from(*w))
        .sum::<u128>();
        (sum / PPM).min(PPM) as u32
    }
}

/// `⌊(duties + blocks) / 2⌋` when both exist, the one that exists, 500_000 with neither.
pub fn uptime_ppm(duties: Option<u32>, blocks: Option<u32>) -> u32 {
    match (duties, blocks) {
        (Some(d), Some(b)) => ((u64::from(d) + u64::from(b)) / 2) as u32,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => NEUTRAL,
    }
}

/// `min(10⁶, ⌊bonded × 10⁶ / cap⌋)`; a zero cap (refused by validation) counts as reached.
pub fn stake_ppm(bonded_tokens: u128, cap: u128) -> u32 {
    if cap == 0 {
        return PPM as u32;
    }
    checked_mul_div(bonded_tokens, PPM, cap)
        .unwrap_or(PPM)
        .min(PPM) as u32
}

/// The latency value of one commit: `10⁶ − min(10⁶, ⌊delay × 10⁶ / window⌋)` (the delay's
/// fraction is floored, so the value rounds in the operator's favour by under 1 ppm). A zero
/// window counts any delay as the whole window.
pub fn commit_latency_ppm(delay_blocks: u64, commit_blocks: u64) -> u32 {
    let late = if commit_blocks == 0 {
        if delay_blocks == 0 {
            0
        } else {
            PPM
        }
    } else {
        (u128::from(delay_blocks) * PPM / u128::from(commit_blocks)).min(PPM)
    };
    (PPM - late) as u32
}

/// `⌊score × byz_factor / 10⁶⌋`.
pub fn effective_ppm(score_ppm: u32, byz_factor_ppm: u32) -> u32 {
    (u128::from(score_ppm) * u128::from(byz_factor_ppm) / PPM) as u32
}

/// A Byzantine failure: `⌊byz / 2⌋`.
pub fn halve(byz_factor_ppm: u32) -> u32 {
    byz_factor_ppm / 2
}

/// The epoch's recovery: `10⁶ − ⌊(10⁶ − byz) × decay / 10⁶⌋` (the gap shrinks by `decay`,
/// floored, so the factor rounds up toward 1.0).
pub fn recover(byz_factor_ppm: u32, decay_ppm: u32) -> u32 {
    let gap = PPM.saturating_sub(u128::from(byz_factor_ppm));
    (PPM - scale_ppm(gap, decay_ppm).min(PPM)) as u32
}

/// The epoch's utilisation `y = min(10⁶, ⌊unit_blocks × 10⁶ / (capacity × blocks)⌋)`. With no
/// capacity-blocks (a zero capacity, or an epoch that had no block of its own) it is 0, or
/// 10⁶ if load was nevertheless recorded.
pub fn utilisation_ppm(unit_blocks: u128, capacity_units: u64, blocks: u64) -> u32 {
    let room = u128::from(capacity_units) * u128::from(blocks);
    if room == 0 {
        return if unit_blocks == 0 { 0 } else { PPM as u32 };
    }
    ratio_ppm(unit_blocks.min(room), room)
}

/// The load state's step `f ← ω + ⌊(A·(y − f) + B·f) / 10⁶⌋`, clamped to [0, 10⁶]. Signed
/// (i128); the division floors toward −∞ (`div_euclid`), not toward zero.
pub fn next_load_ppm(f: u32, y: u32, p: &ReputationParams) -> u32 {
    let (f, y) = (i128::from(f), i128::from(y));
    let a = i128::from(p.load_a_ppm);
    let b = i128::from(p.load_b_ppm);
    let step = (a * (y - f) + b * f).div_euclid(PPM as i128);
    (i128::from(p.load_omega_ppm) + step).clamp(0, PPM as i128) as u32
}

/// The optimal-load reward weight: `10⁶ + ⌊k_low × (opt − f) / opt⌋` below the optimal load,
/// 10⁶ at or above it.
pub fn reward_weight_ppm(f: u32, p: &ReputationParams) -> u32 {
    if f >= p.load_opt_ppm {
        return PPM as u32;
    }
    let rise =
        u128::from(p.k_low_ppm) * u128::from(p.load_opt_ppm - f) / u128::from(p.load_opt_ppm);
    (PPM + rise) as u32
}

/// The slash amplification: `10⁶ + ⌊k_high × (f − opt) / (10⁶ − opt)⌋` above the optimal load,
/// 10⁶ at or below it.
pub fn load_amplification_ppm(f: u32, p: &ReputationParams) -> u32 {
    let f = f.min(PPM as u32);
    if f <= p.load_opt_ppm {
        return PPM as u32;
    }
    let rise = u128::from(p.k_high_ppm) * u128::from(f - p.load_opt_ppm)
        / (PPM - u128::from(p.load_opt_ppm));
    (PPM + rise) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::reputation::state::{Tally, EVENT};

    fn p() -> ReputationParams {
        ReputationParams::default()
    }

    #[test]
    fn a_record_with_no_history_is_neutral_but_for_stake() {
        let c = Components::of(&OperatorReputation::default(), 0, &p());
        assert_eq!(
            (c.success_ppm, c.uptime_ppm, c.latency_ppm, c.stake_ppm),
            (500_000, 500_000, 500_000, 0)
        );
        assert_eq!((c.duties_ppm, c.blocks_ppm), (None, None));
        assert_eq!(c.score_ppm(&p()), 450_000);
        // half the cap of stake makes the fresh score exactly neutral
        let c = Components::of(&OperatorReputation::default(), 10_000_000_000, &p());
        assert_eq!(c.stake_ppm, 500_000);
        assert_eq!(c.score_ppm(&p()), 500_000);
    }

    #[test]
    fn the_weights_are_30_40_20_10() {
        let c = Components {
            success_ppm: 1_000_000,
            duties_ppm: None,
            blocks_ppm: None,
            uptime_ppm: 0,
            latency_ppm: 0,
            stake_ppm: 0,
        };
        assert_eq!(c.score_ppm(&p()), 300_000);
        let c = Components {
            success_ppm: 0,
            uptime_ppm: 1_000_000,
            ..c
        };
        assert_eq!(c.score_ppm(&p()), 400_000);
        let c = Components {
            uptime_ppm: 0,
            latency_ppm: 1_000_000,
            ..c
        };
        assert_eq!(c.score_ppm(&p()), 200_000);
        let c = Components {
            latency_ppm: 0,
            stake_ppm: 1_000_000,
            ..c
        };
        assert_eq!(c.score_ppm(&p()), 100_000);
        // one floor over the weighted sum: 0.3×1 + 0.4×1 + 0.2×1 + 0.1×0.000_009 = 0.900_000_9
        let c = Components {
            success_ppm: 1_000_000,
            uptime_ppm: 1_000_000,
            latency_ppm: 1_000_000,
            stake_ppm: 9,
            ..c
        };
        assert_eq!(c.score_ppm(&p()), 900_000);
        let all = Components {
            stake_ppm: 1_000_000,
            ..c
        };
        assert_eq!(all.score_ppm(&p()), 1_000_000);
    }

    #[test]
    fn uptime_averages_duties_and_blocks_when_both_exist() {
        assert_eq!(uptime_ppm(None, None), 500_000);
        assert_eq!(uptime_ppm(Some(200_000), None), 200_000);
        assert_eq!(uptime_ppm(None, Some(900_000)), 900_000);
        assert_eq!(uptime_ppm(Some(200_000), Some(900_001)), 550_000, "floored");
        let r = OperatorReputation {
            duties: Tally {
                good: EVENT,
                bad: 3 * EVENT,
                neutral: 0,
            },
            blocks: Tally {
                good: 99 * EVENT,
                bad: EVENT,
                neutral: 0,
            },
            ..OperatorReputation::default()
        };
        let c = Components::of(&r, 0, &p());
        assert_eq!(
            (c.duties_ppm, c.blocks_ppm, c.uptime_ppm),
            (Some(250_000), Some(990_000), 620_000)
        );
    }

    #[test]
    fn stake_is_capped_at_one() {
        let cap = p().stake_cap;
        assert_eq!(stake_ppm(0, cap), 0);
        assert_eq!(stake_ppm(1, cap), 0, "floored");
        assert_eq!(stake_ppm(20_000, cap), 1);
        assert_eq!(stake_ppm(cap / 4, cap), 250_000);
        assert_eq!(stake_ppm(cap, cap), 1_000_000);
        assert_eq!(stake_ppm(cap * 7, cap), 1_000_000);
        assert_eq!(
            stake_ppm(u128::MAX, cap),
            1_000_000,
            "overflow counts as above the cap"
        );
        assert_eq!(stake_ppm(5, 0), 1_000_000);
    }

    #[test]
    fn commit_latency_is_one_minus_the_delay_fraction() {
        assert_eq!(commit_latency_ppm(0, 10), 1_000_000);
        assert_eq!(commit_latency_ppm(3, 10), 700_000);
        assert_eq!(
            commit_latency_ppm(1, 3),
            666_667,
            "the delay 333_333.3 floors"
        );
        assert_eq!(commit_latency_ppm(10, 10), 0);
        assert_eq!(commit_latency_ppm(25, 10), 0, "capped at the window");
        assert_eq!(commit_latency_ppm(0, 0), 1_000_000);
        assert_eq!(commit_latency_ppm(1, 0), 0);
        assert_eq!(commit_latency_ppm(u64::MAX, 1), 0);
    }

    #[test]
    fn the_byzantine_factor_halves_and_recovers() {
        assert_eq!(effective_ppm(800_000, 1_000_000), 800_000);
        assert_eq!(effective_ppm(800_001, 500_000), 400_000, "floored");
        assert_eq!(halve(1_000_000), 500_000);
        assert_eq!(halve(1), 0);
        assert_eq!(recover(1_000_000, 992_699), 1_000_000);
        // gap 500_000 × 0.992699 = 496_349.5 → 496_349: the factor rounds up
        assert_eq!(recover(500_000, 992_699), 503_651);
        assert_eq!(recover(0, 992_699), 7_301);
        assert_eq!(recover(0, 0), 1_000_000);
        assert_eq!(recover(0, 1_000_000), 0, "no decay, no recovery");
        let mut b = 0;
        let mut last = 0;
        for _ in 0..5_000 {
            b = recover(b, 992_699);
            assert!(b >= last);
            last = b;
        }
        assert_eq!(b, 1_000_000);
    }

    #[test]
    fn utilisation_is_unit_blocks_over_capacity_blocks_capped() {
        assert_eq!(utilisation_ppm(0, 100, 10), 0);
        assert_eq!(utilisation_ppm(250, 100, 10), 250_000);
        assert_eq!(utilisation_ppm(1, 3, 1), 333_333, "floored");
        assert_eq!(utilisation_ppm(5_000, 100, 10), 1_000_000, "capped");
        assert_eq!(utilisation_ppm(0, 0, 10), 0);
        assert_eq!(utilisation_ppm(7, 0, 10), 1_000_000);
        assert_eq!(utilisation_ppm(7, 100, 0), 1_000_000);
        assert_eq!(utilisation_ppm(u128::MAX, u64::MAX, u64::MAX), 1_000_000);
    }

    #[test]
    fn the_load_state_follows_utilisation_with_signed_floors() {
        let p = p();
        // f ← f + 0.3·(y − f)
        assert_eq!(next_load_ppm(0, 1_000_000, &p), 300_000);
        assert_eq!(next_load_ppm(300_000, 1_000_000, &p), 510_000);
        assert_eq!(next_load_ppm(1_000_000, 0, &p), 700_000);
        // y − f negative: 1 − 0.3 = 0.7 floors to 0 (toward −∞ would matter with ω < 0)
        assert_eq!(next_load_ppm(1, 0, &p), 0);
        // from below the floor stalls within 3 ppm: 999_997 + 0.9 → 999_997
        assert_eq!(next_load_ppm(999_997, 1_000_000, &p), 999_997);
        assert_eq!(next_load_ppm(999_996, 1_000_000, &p), 999_997);
        // a negative total floors toward −∞ and clamps at 0
        let neg = ReputationParams {
            load_omega_ppm: -100_000,
            ..p.clone()
        };
        assert_eq!(next_load_ppm(1, 0, &neg), 0);
        assert_eq!(next_load_ppm(500_000, 500_000, &neg), 400_000);
        let omega = ReputationParams {
            load_omega_ppm: 1_000_000,
            ..p.clone()
        };
        assert_eq!(
            next_load_ppm(1_000_000, 1_000_000, &omega),
            1_000_000,
            "clamped"
        );
        // converges to a steady utilisation
        let mut f = 0;
        for _ in 0..200 {
            f = next_load_ppm(f, 640_000, &p);
        }
        assert!((639_996..=640_000).contains(&f), "{f}");
    }

    #[test]
    fn the_reward_weight_rises_below_the_optimal_load() {
        let p = p();
        assert_eq!(reward_weight_ppm(0, &p), 1_200_000, "k_low at zero load");
        assert_eq!(reward_weight_ppm(350_000, &p), 1_100_000, "half way");
        assert_eq!(reward_weight_ppm(699_999, &p), 1_000_000, "0.29 floors");
        assert_eq!(reward_weight_ppm(700_000, &p), 1_000_000);
        assert_eq!(reward_weight_ppm(1_000_000, &p), 1_000_000);
        let none = ReputationParams {
            load_opt_ppm: 0,
            ..p
        };
        assert_eq!(reward_weight_ppm(0, &none), 1_000_000);
    }

    #[test]
    fn slashes_are_amplified_above_the_optimal_load() {
        let p = p();
        assert_eq!(load_amplification_ppm(0, &p), 1_000_000);
        assert_eq!(load_amplification_ppm(700_000, &p), 1_000_000);
        assert_eq!(load_amplification_ppm(850_000, &p), 1_250_000, "half way");
        assert_eq!(
            load_amplification_ppm(700_001, &p),
            1_000_001,
            "1.67 floors"
        );
        assert_eq!(
            load_amplification_ppm(1_000_000, &p),
            1_500_000,
            "k_high at full load"
        );
        assert_eq!(load_amplification_ppm(u32::MAX, &p), 1_500_000);
        let none = ReputationParams {
            load_opt_ppm: 1_000_000,
            ..p.clone()
        };
        assert_eq!(load_amplification_ppm(1_000_000, &none), 1_000_000);
        let most = ReputationParams {
            k_high_ppm: 9_000_000,
            ..p
        };
        assert_eq!(load_amplification_ppm(1_000_000, &most), 10_000_000);
    }
}
