//! staking's params (PROTOCOL.md §4), stored at `staking/params`.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::serde_u128;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StakingParams {
    /// How many operators validate (the top ones by pool tokens).
    pub max_validators: u32,
    /// The smallest self-bond an operator registers with and keeps while it validates, unop.
    #[serde(with = "serde_u128")]
    pub min_self_bond: u128,
    /// unop per unit of CometBFT voting power (1 NOP).
    #[serde(with = "serde_u128")]
    pub power_reduction: u128,
    /// How long undelegated tokens wait, seconds of BFT time.
    pub unbonding_time: i64,
    /// Liveness is judged over this many blocks…
    pub signed_blocks_window: u64,
    /// …of which a validator must sign at least this fraction (ppm).
    pub min_signed_ppm: u32,
    /// How long a validator jailed for downtime stays out, seconds.
    pub downtime_jail_duration: i64,
    /// Fraction of the stake at the infraction slashed for double-signing (ppm).
    pub double_sign_slash_ppm: u32,
    /// Epoch length in BFT seconds; fees are paid to validators at each boundary.
    pub epoch_seconds: i64,
}

pub const NOP: u128 = 1_000_000;

impl Default for StakingParams {
    fn default() -> Self {
        Self {
            max_validators: 100,
            min_self_bond: 1_000 * NOP,
            power_reduction: NOP,
            unbonding_time: 7 * 86_400,
            signed_blocks_window: 10_000,
            min_signed_ppm: 500_000,
            downtime_jail_duration: 600,
            double_sign_slash_ppm: 50_000,
            epoch_seconds: 86_400,
        }
    }
}

impl StakingParams {
    /// The devnet values of PROTOCOL.md §4 (short windows, so that behaviour shows in minutes).
    pub fn devnet() -> Self {
        Self {
            unbonding_time: 300,
            signed_blocks_window: 100,
            downtime_jail_duration: 20,
            epoch_seconds: 10,
            ..Self::default()
        }
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_validators == 0 {
            out.push("staking.params.max_validators must be at least 1".into());
        }
        if self.power_reduction == 0 {
            out.push("staking.params.power_reduction must be positive".into());
        }
        if self.min_self_bond < self.power_reduction {
            out.push(format!(
                "staking.params.min_self_bond {} is below power_reduction {} (it would give no power)",
                self.min_self_bond, self.power_reduction
            ));
        }
        if self.unbonding_time <= 0 {
            out.push("staking.params.unbonding_time must be positive".into());
        }
        if self.signed_blocks_window == 0 || self.signed_blocks_window > 1_000_000 {
            out.push("staking.params.signed_blocks_window must be 1..=1_000_000".into());
        }
        if self.min_signed_ppm > 1_000_000 {
            out.push("staking.params.min_signed_ppm must be at most 1_000_000".into());
        }
        if self.downtime_jail_duration < 0 {
            out.push("staking.params.downtime_jail_duration must not be negative".into());
        }
        if self.double_sign_slash_ppm > 1_000_000 {
            out.push("staking.params.double_sign_slash_ppm must be at most 1_000_000".into());
        }
        if self.epoch_seconds <= 0 {
            out.push("staking.params.epoch_seconds must be positive".into());
        }
        out
    }

    /// The most blocks a validator may miss in the window before it is jailed:
    /// ⌊window × (1 − min_signed)⌋ (rounded down: missing more than this jails).
    pub fn max_missed(&self) -> u64 {
        let allowed_ppm = 1_000_000u64.saturating_sub(u64::from(self.min_signed_ppm));
        // u64 cannot overflow: window ≤ 1e6 and allowed_ppm ≤ 1e6.
        self.signed_blocks_window.saturating_mul(allowed_ppm) / 1_000_000
    }
}
