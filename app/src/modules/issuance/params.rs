//! issuance's params (PROTOCOL.md §3.6, §4), stored at `issuance/params`. The supply cap itself is
//! bank's `max_supply` (in the supply record), which every mint checks.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuanceParams {
    /// Epochs per issuance period (the period index m counts from genesis).
    pub issuance_period_epochs: u64,
    /// S: the subsidy `s(m) = max(0, (S − m) / S)` reaches 0 at period S. 0: no subsidy.
    pub subsidy_periods: u64,
}

impl Default for IssuanceParams {
    fn default() -> Self {
        Self {
            issuance_period_epochs: 30,
            subsidy_periods: 24,
        }
    }
}

impl IssuanceParams {
    /// PROTOCOL.md §4's devnet values: periods of 3 epochs (30 s with 10 s epochs).
    pub fn devnet() -> Self {
        Self {
            issuance_period_epochs: 3,
            ..Self::default()
        }
    }

    /// The subsidy of period `m`, ppm: `⌊(S − m) × 1_000_000 / S⌋`, 0 from period S on (and
    /// always 0 when S = 0).
    pub fn subsidy_ppm(&self, m: u64) -> u32 {
        let s = self.subsidy_periods;
        if s == 0 || m >= s {
            return 0;
        }
        // (S − m) ≤ S, so the quotient is at most 1_000_000
        ((u128::from(s - m) * 1_000_000) / u128::from(s)) as u32
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.issuance_period_epochs == 0 {
            out.push("issuance.params.issuance_period_epochs must be at least 1".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_decays_linearly_to_zero_and_floors() {
        let p = IssuanceParams::default();
        assert_eq!(p.subsidy_ppm(0), 1_000_000);
        assert_eq!(p.subsidy_ppm(12), 500_000);
        assert_eq!(p.subsidy_ppm(1), 958_333, "23/24 floored");
        assert_eq!(p.subsidy_ppm(23), 41_666, "1/24 floored");
        assert_eq!(p.subsidy_ppm(24), 0);
        assert_eq!(p.subsidy_ppm(u64::MAX), 0);
        let none = IssuanceParams {
            subsidy_periods: 0,
            ..p
        };
        assert_eq!(none.subsidy_ppm(0), 0);
    }
}
