//! issuance's records, their accessors and the arithmetic of the mint and of vesting.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::params::IssuanceParams;
use crate::crypto::Address;
use crate::modules::bank;
use crate::num::checked_mul_div;
use crate::serde_u128;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

/// The period now accumulating: what the period record will be computed from.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct OpenPeriod {
    /// Its index m (periods count from genesis).
    pub period: u64,
    /// Task fees settled so far in the period, unop.
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    /// Vesting claims minted so far in the period, unop.
    #[serde(with = "serde_u128")]
    pub vested: u128,
    /// The supply record when the period opened (the previous period's end).
    #[serde(with = "serde_u128")]
    pub supply_at_start: u128,
    #[serde(with = "serde_u128")]
    pub minted_at_start: u128,
    #[serde(with = "serde_u128")]
    pub burned_at_start: u128,
}

/// Task pay an operator earned in the open period.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Work {
    /// Σ pay (before commission), unop.
    #[serde(with = "serde_u128")]
    pub pay: u128,
    /// Σ pay × the operator's reward weight (ppm) at the time the pay was earned.
    #[serde(with = "serde_u128")]
    pub weighted: u128,
}

/// One issuance period, as processed in the first block past its end. Kept for auditors:
/// `total_supply = supply_at_start + vested + minted − burned`, and
/// `carried_in + minted = paid_out + to_treasury` (the reward pool ends empty).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodRecord {
    pub period: u64,
    /// Its epochs: `first_epoch ..= last_epoch`.
    pub first_epoch: u64,
    pub last_epoch: u64,
    /// The block that processed it (the first block past its end) and that block's time.
    pub height: u64,
    pub time: i64,
    /// R_m: task fees settled in the period, unop.
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    /// s(m), ppm.
    pub subsidy_ppm: u32,
    /// ⌊R_m × (1_000_000 + s(m)) / 1_000_000⌋: what the mint would be without the cap.
    #[serde(with = "serde_u128")]
    pub due: u128,
    /// M_m = min(due, max_supply − total_supply), minted into `reward_pool`.
    #[serde(with = "serde_u128")]
    pub minted: u128,
    /// due − minted: what the cap cut off (0 when the cap was not reached).
    #[serde(with = "serde_u128")]
    pub clipped: u128,
    /// Tokens found in `reward_pool` before the mint (sent there since the last payout); paid
    /// out with the mint.
    #[serde(with = "serde_u128")]
    pub carried_in: u128,
    /// Task pay earned in the period by all operators (the basis of the payout).
    #[serde(with = "serde_u128")]
    pub work: u128,
    /// Paid out: into operators' pools, commission to their accounts, and the shares of
    /// accounts that are not operators to those accounts.
    #[serde(with = "serde_u128")]
    pub paid_out: u128,
    /// The part of `paid_out` that went to operators' accounts as commission.
    #[serde(with = "serde_u128")]
    pub commission: u128,
    /// The part of `paid_out` paid straight to accounts that are not operators (coprocessors).
    #[serde(with = "serde_u128")]
    pub to_accounts: u128,
    /// The rest of the reward pool: rounding, shares of operators that could not be paid, and
    /// the whole mint when nobody worked.
    #[serde(with = "serde_u128")]
    pub to_treasury: u128,
    pub operators_paid: u32,
    /// Vesting claims minted during the period.
    #[serde(with = "serde_u128")]
    pub vested: u128,
    /// Tokens burned during the period (the supply record's `burned` moved by this much).
    #[serde(with = "serde_u128")]
    pub burned: u128,
    /// Total supply when the period opened.
    #[serde(with = "serde_u128")]
    pub supply_at_start: u128,
    /// Total supply after this period's mint and payout.
    #[serde(with = "serde_u128")]
    pub total_supply: u128,
}

/// One operator's part of a period's payout.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payout {
    pub period: u64,
    pub operator: Address,
    /// Task pay earned in the period, and the same weighted by the reward weight (pay × ppm).
    #[serde(with = "serde_u128")]
    pub pay: u128,
    #[serde(with = "serde_u128")]
    pub weighted: u128,
    /// ⌊pool × weighted / Σ weighted⌋.
    #[serde(with = "serde_u128")]
    pub share: u128,
    /// ⌊share × commission_ppm / 1_000_000⌋ to the operator's account.
    #[serde(with = "serde_u128")]
    pub commission: u128,
    /// share − commission, into the operator's pool (raising every delegation's value).
    #[serde(with = "serde_u128")]
    pub to_pool: u128,
    /// The share, when the operator could not be paid (tombstoned, or a pool without shares):
    /// it went to the treasury.
    #[serde(with = "serde_u128")]
    pub to_treasury: u128,
    /// The share of an account that is not an operator (a coprocessor paid for a bought slot),
    /// paid to the account itself.
    #[serde(with = "serde_u128")]
    pub to_account: u128,
}

/// The epoch now accumulating metrics.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct OpenEpoch {
    pub epoch: u64,
    pub tasks_finalized: u64,
    pub tasks_failed: u64,
    /// Σ inclusion latency of the finalized tasks, blocks.
    pub latency_blocks_sum: u128,
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    #[serde(with = "serde_u128")]
    pub penalties: u128,
    /// How many operators are in the epoch's faulty set (`issuance/faulty/{epoch}/…`).
    pub faulty_operators: u64,
}

/// The NodeOP metrics of one epoch (PROTOCOL.md §3.8).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochMetrics {
    pub epoch: u64,
    /// The block that closed the epoch (the first block of a later epoch).
    pub height: u64,
    pub tasks_finalized: u64,
    pub tasks_failed: u64,
    /// ⌊Σ latency / tasks_finalized⌋ blocks from posting to finalization (0 with none).
    pub mean_latency_blocks: u64,
    /// ⌊failed × 1_000_000 / (finalized + failed)⌋ (0 with no tasks).
    pub error_rate_ppm: u32,
    /// N: operators not tombstoned when the epoch closed.
    pub operators: u64,
    /// Operators that failed a duty, disagreed with an aggregate or were slashed in the epoch
    /// (each counted once, at most N).
    pub faulty_operators: u64,
    /// F = 1 − faulty / N: `⌊(N − faulty) × 1_000_000 / N⌋` (1_000_000 when N = 0).
    pub fault_tolerance_ppm: u32,
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    /// ⌊(revenue − previous) × 1_000_000 / previous⌋, signed, clamped to i64; 0 when both
    /// epochs had no revenue; `null` when only the previous one had none (growth from nothing
    /// has no ratio).
    pub revenue_growth_ppm: Option<i64>,
    /// Stake slashed in the epoch, unop.
    #[serde(with = "serde_u128")]
    pub penalties: u128,
}

/// A vesting schedule from genesis. Times are BFT unix seconds; `cliff` and `duration` count
/// from `start`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VestingSchedule {
    pub beneficiary: Address,
    #[serde(with = "serde_u128")]
    pub total: u128,
    pub start: i64,
    /// Nothing vests before `start + cliff`.
    pub cliff: i64,
    /// Everything has vested at `start + duration`.
    pub duration: i64,
    /// Minted to the beneficiary so far.
    #[serde(default, with = "serde_u128")]
    pub claimed: u128,
}

impl VestingSchedule {
    pub fn cliff_ends(&self) -> i64 {
        self.start.saturating_add(self.cliff)
    }

    /// Vested at `now`: 0 before `start + cliff`, then `⌊total × min(now − start, duration) /
    /// duration⌋` (all of it once `duration` has passed, or at once when `duration` is 0).
    pub fn vested_at(&self, now: i64) -> u128 {
        if now < self.cliff_ends() {
            return 0;
        }
        if self.duration <= 0 {
            return self.total;
        }
        let elapsed = now.saturating_sub(self.start).clamp(0, self.duration);
        // elapsed ≤ duration, so the quotient is at most the total
        checked_mul_div(self.total, elapsed as u128, self.duration as u128).unwrap_or(self.total)
    }

    /// What a claim at `now` would mint.
    pub fn claimable_at(&self, now: i64) -> u128 {
        self.vested_at(now).saturating_sub(self.claimed)
    }

    pub fn unclaimed(&self) -> u128 {
        self.total.saturating_sub(self.claimed)
    }
}

pub fn params(state: &impl StateRead) -> IssuanceParams {
    state.get(keys::PARAMS).unwrap_or_default()
}

pub fn open_period(state: &impl StateRead) -> OpenPeriod {
    state.get(keys::OPEN_PERIOD).unwrap_or_default()
}

pub fn put_open_period(state: &mut impl StateWrite, open: &OpenPeriod) {
    state.put(keys::OPEN_PERIOD.to_vec(), open)
}

pub fn open_epoch(state: &impl StateRead) -> OpenEpoch {
    state.get(keys::OPEN_EPOCH).unwrap_or_default()
}

pub fn put_open_epoch(state: &mut impl StateWrite, open: &OpenEpoch) {
    state.put(keys::OPEN_EPOCH.to_vec(), open)
}

/// A fresh open period `m` starting from the current supply record.
pub fn opening(state: &impl StateRead, m: u64) -> OpenPeriod {
    let s = bank::supply(state);
    OpenPeriod {
        period: m,
        revenue: 0,
        vested: 0,
        supply_at_start: s.total_supply,
        minted_at_start: s.minted,
        burned_at_start: s.burned,
    }
}

pub fn period_record(state: &impl StateRead, m: u64) -> Option<PeriodRecord> {
    state.get(&keys::period(m))
}

pub fn metrics(state: &impl StateRead, epoch: u64) -> Option<EpochMetrics> {
    state.get(&keys::metrics(epoch))
}

pub fn vesting(state: &impl StateRead, beneficiary: &Address) -> Option<VestingSchedule> {
    state.get(&keys::vesting(beneficiary))
}

pub fn put_vesting(state: &mut impl StateWrite, v: &VestingSchedule) {
    state.put(keys::vesting(&v.beneficiary), v)
}

/// Every vesting schedule, in beneficiary order.
pub fn vesting_schedules(state: &impl StateRead) -> Vec<VestingSchedule> {
    state
        .prefix_raw(keys::VESTING_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

/// The open period's work, in operator order.
pub fn work(state: &impl StateRead) -> Vec<(Address, Work)> {
    state
        .prefix_raw(keys::WORK_PREFIX, None, usize::MAX)
        .iter()
        .filter_map(|(k, v)| {
            let a = crate::state::keys::address_at(k, keys::WORK_PREFIX.len())?;
            Some((a, decode_stored(k, v)))
        })
        .collect()
}

/// A period's payouts, in operator order.
pub fn payouts(state: &impl StateRead, m: u64) -> Vec<Payout> {
    state
        .prefix_raw(&keys::payouts_of(m), None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vesting_is_zero_before_the_cliff_linear_after_and_whole_at_the_end() {
        let v = VestingSchedule {
            beneficiary: Address([1; 20]),
            total: 1_000,
            start: 100,
            cliff: 10,
            duration: 30,
            claimed: 0,
        };
        assert_eq!(v.vested_at(0), 0);
        assert_eq!(v.vested_at(109), 0);
        assert_eq!(v.vested_at(110), 333, "10/30 of 1000, floored");
        assert_eq!(v.vested_at(115), 500);
        assert_eq!(v.vested_at(130), 1_000);
        assert_eq!(v.vested_at(i64::MAX), 1_000);
        let at_once = VestingSchedule {
            cliff: 0,
            duration: 0,
            ..v.clone()
        };
        assert_eq!(at_once.vested_at(99), 0);
        assert_eq!(at_once.vested_at(100), 1_000);
        let claimed = VestingSchedule { claimed: 333, ..v };
        assert_eq!(claimed.claimable_at(115), 167);
        assert_eq!(claimed.claimable_at(109), 0);
    }
}
