//! slashing's params (PROTOCOL.md §3.5, §4), stored at `slashing/params`.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::Offence;
use crate::serde_u128;

const NOP: u128 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlashingParams {
    /// Fractions of the stake at the infraction, ppm (before the factor and the load
    /// amplification).
    pub result_mismatch_ppm: u32,
    pub equivocation_ppm: u32,
    pub false_submission_ppm: u32,
    /// Downtime: this much per point (1 %) of uptime below `min_uptime_ppm`, capped at 100 %.
    pub downtime_ppm_per_point: u32,
    pub performance_ppm: u32,
    pub byzantine_ppm: u32,
    /// A global multiplier on every fraction (ppm; 1_000_000 = as the table says).
    pub slashing_factor_ppm: u32,
    /// How long the accused may dispute, seconds of BFT time.
    pub dispute_window: i64,
    /// How long validators vote on a disputed proposal, seconds.
    pub vote_period: i64,
    #[serde(with = "serde_u128")]
    pub report_bond: u128,
    #[serde(with = "serde_u128")]
    pub dispute_bond: u128,
    /// The uptime an operator owes per SLA period (ppm).
    pub min_uptime_ppm: u32,
    /// SLA period length in epochs (the issuance period).
    pub downtime_period_epochs: u64,
    /// Reported infractions older than this many blocks are refused.
    pub max_evidence_age_blocks: u64,
    /// The longest a task can take, seconds (tasks can give rise to proposals until then).
    pub max_task_lifetime_seconds: i64,
}

impl Default for SlashingParams {
    fn default() -> Self {
        Self {
            result_mismatch_ppm: 100_000,
            equivocation_ppm: 50_000,
            false_submission_ppm: 50_000,
            downtime_ppm_per_point: 20_000,
            performance_ppm: 80_000,
            byzantine_ppm: 1_000_000,
            slashing_factor_ppm: 1_000_000,
            dispute_window: 86_400,
            vote_period: 86_400,
            report_bond: 100 * NOP,
            dispute_bond: 100 * NOP,
            min_uptime_ppm: 950_000,
            downtime_period_epochs: 30,
            max_evidence_age_blocks: 100_000,
            max_task_lifetime_seconds: 3_600,
        }
    }
}

impl SlashingParams {
    /// PROTOCOL.md §4's devnet values: 30 s windows, 3-epoch periods.
    pub fn devnet() -> Self {
        Self {
            dispute_window: 30,
            vote_period: 30,
            downtime_period_epochs: 3,
            max_task_lifetime_seconds: 60,
            ..Self::default()
        }
    }

    /// The table's fraction for an offence (ppm). Downtime's depends on the uptime.
    pub fn fraction_ppm(&self, offence: Offence) -> u32 {
        match offence {
            Offence::ResultMismatch => self.result_mismatch_ppm,
            Offence::Equivocation => self.equivocation_ppm,
            Offence::FalseSubmission => self.false_submission_ppm,
            Offence::Downtime => self.downtime_ppm_per_point,
            Offence::Performance => self.performance_ppm,
            Offence::Byzantine => self.byzantine_ppm,
        }
    }

    /// Downtime's fraction: `(min_uptime − uptime) × per_point / 1 %`, capped at 100 %.
    pub fn downtime_fraction_ppm(&self, uptime_ppm: u32) -> u32 {
        let below = u64::from(self.min_uptime_ppm.saturating_sub(uptime_ppm));
        let f = below * u64::from(self.downtime_ppm_per_point) / 10_000;
        f.min(1_000_000) as u32
    }

    /// How long stake must stay slashable after it stops being bonded.
    pub fn slashable_span(&self) -> i64 {
        self.dispute_window
            .saturating_add(self.vote_period)
            .saturating_add(self.max_task_lifetime_seconds)
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, v) in [
            ("result_mismatch_ppm", self.result_mismatch_ppm),
            ("equivocation_ppm", self.equivocation_ppm),
            ("false_submission_ppm", self.false_submission_ppm),
            ("downtime_ppm_per_point", self.downtime_ppm_per_point),
            ("performance_ppm", self.performance_ppm),
            ("byzantine_ppm", self.byzantine_ppm),
            ("min_uptime_ppm", self.min_uptime_ppm),
        ] {
            if v > 1_000_000 {
                out.push(format!("slashing.params.{name} = {v} is above 1_000_000"));
            }
        }
        if self.slashing_factor_ppm > 10_000_000 {
            out.push("slashing.params.slashing_factor_ppm is above 10x".into());
        }
        if self.dispute_window <= 0 || self.vote_period <= 0 {
            out.push("slashing.params.dispute_window and vote_period must be positive".into());
        }
        if self.max_task_lifetime_seconds < 0 {
            out.push("slashing.params.max_task_lifetime_seconds must not be negative".into());
        }
        if self.downtime_period_epochs == 0 {
            out.push("slashing.params.downtime_period_epochs must be at least 1".into());
        }
        out
    }
}
