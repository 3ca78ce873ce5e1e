//! coprocessors' params, stored at `coprocessors/params` only when they differ from the
//! defaults (a chain that never sets them keeps the state it had before the module existed).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::serde_u128;

const NOP: u128 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoprocessorsParams {
    /// The smallest collateral a coprocessor registers with (unop).
    #[serde(with = "serde_u128")]
    pub min_collateral: u128,
    /// The largest capacity a coprocessor may declare (difficulty units).
    pub max_capacity_units: u64,
    /// Collateral locked by a won auction: `⌈price × collateral_ppm / 10⁶⌉` (may exceed 100 %).
    pub collateral_ppm: u32,
    /// Blocks per price step of an auction.
    pub price_interval_blocks: u64,
    /// Intervals in which the price falls from start to floor: `step = ⌈(start − floor) /
    /// descent_intervals⌉`.
    pub descent_intervals: u64,
    /// Blocks an auction stays open at its floor before it expires (never past the block before
    /// the commit window's end).
    pub expiry_grace_blocks: u64,
    /// K: a coprocessor with free-capacity fraction φ may bid from `h_open + ⌈(1 − φ)·K⌉`.
    pub access_spread_blocks: u64,
    /// The share of the locked collateral a result that disagrees with the aggregate costs,
    /// before the load amplification (ppm).
    pub coproc_mismatch_slash_ppm: u32,
    /// The share of the locked collateral a missed commit or reveal costs, before the load
    /// amplification (ppm).
    pub coproc_miss_slash_ppm: u32,
    /// Blocks between `WithdrawCollateral` and the payment; must exceed the longest task
    /// lifetime (`tasks.params.max_task_lifetime_blocks`).
    pub withdrawal_delay_blocks: u64,
}

impl Default for CoprocessorsParams {
    fn default() -> Self {
        Self {
            min_collateral: NOP,
            max_capacity_units: 1_000_000,
            collateral_ppm: 2_000_000,
            price_interval_blocks: 1,
            descent_intervals: 4,
            expiry_grace_blocks: 2,
            access_spread_blocks: 4,
            coproc_mismatch_slash_ppm: 500_000,
            coproc_miss_slash_ppm: 100_000,
            withdrawal_delay_blocks: 100,
        }
    }
}

impl CoprocessorsParams {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut need = |ok: bool, what: &str| {
            if !ok {
                out.push(format!("coprocessors.params.{what}"));
            }
        };
        need(self.min_collateral > 0, "min_collateral must be above 0");
        need(
            self.max_capacity_units > 0,
            "max_capacity_units must be above 0",
        );
        need(
            (1..=100_000_000).contains(&self.collateral_ppm),
            "collateral_ppm must be in [1, 100_000_000]",
        );
        need(
            self.price_interval_blocks > 0,
            "price_interval_blocks must be above 0",
        );
        need(
            self.descent_intervals > 0,
            "descent_intervals must be above 0",
        );
        need(
            self.coproc_mismatch_slash_ppm <= 1_000_000,
            "coproc_mismatch_slash_ppm must be at most 1_000_000",
        );
        need(
            self.coproc_miss_slash_ppm <= 1_000_000,
            "coproc_miss_slash_ppm must be at most 1_000_000",
        );
        out
    }
}
