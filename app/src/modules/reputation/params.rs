//! reputation's params (PROTOCOL.md §3.3, §4), stored at `reputation/params`. docs/reputation.md
//! explains each default.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::serde_u128;

const NOP: u128 = 1_000_000;
const PPM: u32 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReputationParams {
    /// The score's weights, ppm; they sum to 1_000_000 (30 / 40 / 20 / 10 %).
    pub success_weight_ppm: u32,
    pub uptime_weight_ppm: u32,
    pub latency_weight_ppm: u32,
    pub stake_weight_ppm: u32,
    /// Bonded tokens (unop) at which the stake component reaches 1.0.
    #[serde(with = "serde_u128")]
    pub stake_cap: u128,
    /// What each epoch keeps of every counter's distance from neutral, and of the Byzantine
    /// factor's distance from 1.0, ppm (992_699 per daily epoch = 5 % per week).
    pub decay_ppm: u32,
    /// The load state's update `f ← ω + A·(y − f) + B·f` (all ppm; ω may be negative).
    pub load_omega_ppm: i64,
    pub load_a_ppm: u32,
    pub load_b_ppm: u32,
    /// The optimal load, ppm of capacity.
    pub load_opt_ppm: u32,
    /// The most the reward weight rises below the optimal load (at zero load), ppm.
    pub k_low_ppm: u32,
    /// The most slashes are amplified above the optimal load (at full load), ppm.
    pub k_high_ppm: u32,
}

impl Default for ReputationParams {
    fn default() -> Self {
        Self {
            success_weight_ppm: 300_000,
            uptime_weight_ppm: 400_000,
            latency_weight_ppm: 200_000,
            stake_weight_ppm: 100_000,
            stake_cap: 20_000 * NOP,
            decay_ppm: 992_699,
            load_omega_ppm: 0,
            load_a_ppm: 300_000,
            load_b_ppm: 1_000_000,
            load_opt_ppm: 700_000,
            k_low_ppm: 200_000,
            k_high_ppm: 500_000,
        }
    }
}

impl ReputationParams {
    /// The devnet's values: the defaults. The per-epoch constants follow the devnet's short
    /// epochs (10 s), so scores move 8_640 times faster in wall time than on a daily-epoch chain,
    /// which is what a devnet is for.
    pub fn devnet() -> Self {
        Self::default()
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let weights = [
            self.success_weight_ppm,
            self.uptime_weight_ppm,
            self.latency_weight_ppm,
            self.stake_weight_ppm,
        ];
        let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if sum != u64::from(PPM) {
            out.push(format!(
                "reputation.params: success/uptime/latency/stake weights sum to {sum}, not \
                 1_000_000"
            ));
        }
        if self.stake_cap == 0 {
            out.push("reputation.params.stake_cap must be positive".into());
        }
        for (name, v) in [
            ("decay_ppm", self.decay_ppm),
            ("load_a_ppm", self.load_a_ppm),
            ("load_b_ppm", self.load_b_ppm),
            ("load_opt_ppm", self.load_opt_ppm),
            ("k_low_ppm", self.k_low_ppm),
        ] {
            if v > PPM {
                out.push(format!("reputation.params.{name} = {v} is above 1_000_000"));
            }
        }
        if self.k_high_ppm > 9 * PPM {
            out.push(format!(
                "reputation.params.k_high_ppm = {} is above 9_000_000 (a 10x amplification)",
                self.k_high_ppm
            ));
        }
        if self.load_omega_ppm.unsigned_abs() > u64::from(PPM) {
            out.push(format!(
                "reputation.params.load_omega_ppm = {} is outside ±1_000_000",
                self.load_omega_ppm
            ));
        }
        // f ← ω + A·y + (B − A)·f contracts only when 0 ≤ B − A < 1
        if self.load_a_ppm > self.load_b_ppm {
            out.push(format!(
                "reputation.params: load_a_ppm = {} above load_b_ppm = {} makes the load state \
                 oscillate (f's coefficient B − A is negative)",
                self.load_a_ppm, self.load_b_ppm
            ));
        } else if self.load_b_ppm - self.load_a_ppm >= PPM {
            out.push(
                "reputation.params: load_b_ppm − load_a_ppm must be below 1_000_000, or the \
                 load state never follows the utilisation"
                    .into(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_devnet_are_valid() {
        assert!(ReputationParams::default().problems().is_empty());
        assert!(ReputationParams::devnet().problems().is_empty());
        assert_eq!(ReputationParams::default().stake_cap, 20_000_000_000);
    }

    #[test]
    fn every_bad_value_is_named() {
        let p = ReputationParams {
            success_weight_ppm: 400_000,
            stake_cap: 0,
            decay_ppm: 1_000_001,
            load_omega_ppm: -1_000_001,
            load_a_ppm: 600_000,
            load_b_ppm: 500_000,
            k_high_ppm: 9_000_001,
            ..ReputationParams::default()
        };
        let problems = p.problems().join("\n");
        for needle in [
            "sum to 1100000",
            "stake_cap",
            "decay_ppm",
            "load_omega_ppm",
            "oscillate",
            "k_high_ppm",
        ] {
            assert!(problems.contains(needle), "{needle} in {problems}");
        }
        let frozen = ReputationParams {
            load_a_ppm: 0,
            ..ReputationParams::default()
        };
        assert!(frozen.problems()[0].contains("never follows"));
    }

    #[test]
    fn an_older_genesis_without_new_fields_reads_the_defaults() {
        let p: ReputationParams = serde_json::from_str(r#"{"decay_ppm": 900000}"#).unwrap();
        assert_eq!(p.decay_ppm, 900_000);
        assert_eq!(p.k_high_ppm, 500_000);
        assert_eq!(p.stake_cap, 20_000 * NOP);
    }
}
