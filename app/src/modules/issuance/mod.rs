//! issuance — demand-driven issuance, vesting and the supply history (PROTOCOL.md §3.6, §3.8;
//! docs/issuance.md has every formula and rounding).
//!
//! New tokens follow demand: each issuance period (`issuance_period_epochs` epochs, index m from
//! genesis) the chain mints what clients paid for settled tasks, R_m, plus a subsidy that decays
//! to zero, `s(m) = max(0, (S − m) / S)`, never past bank's `max_supply`:
//! `M_m = min(⌊R_m × (1e6 + s(m)) / 1e6⌋, max_supply − total_supply)` into `reward_pool`. The pool
//! is then paid to the operators pro rata to the task pay they earned in the period, weighted by
//! reputation's reward weight, into their pools with commission to their accounts (staking's
//! [`reward`](crate::modules::staking::state::reward)); the rest goes to the treasury. Vesting
//! schedules from genesis mint the linearly vested amount on `ClaimVested`; they count against
//! `max_supply` too. `bank::mint` is called only here.
//!
//! The `record_*` functions are what other modules call as things happen; they only add to the
//! open period's and the open epoch's accumulators (a few keys), so they are cheap.
//!
//! State keys ([`keys`]):
//! - `issuance/params` → [`IssuanceParams`]
//! - `issuance/open_period` → [`state::OpenPeriod`] (index, revenue, vested, supply at start)
//! - `issuance/work/{operator}` → [`state::Work`] (the open period's pay, plain and weighted)
//! - `issuance/period/{m}` → [`state::PeriodRecord`]; `issuance/payout/{m}/{operator}` →
//!   [`state::Payout`]
//! - `issuance/open_epoch` → [`state::OpenEpoch`]; `issuance/faulty/{epoch}/{operator}` → `[1]`
//! - `issuance/metrics/{epoch}` → [`state::EpochMetrics`]
//! - `issuance/vesting/{beneficiary}` → [`state::VestingSchedule`]
//!
//! Hooks: begin block, right after staking's epochs ([`component::begin_block`]): closes every
//! ended epoch (metrics) and every ended period (mint, payout, record), once each, in order.
//! Message: `ClaimVested` ([`handler::claim_vested`]). Events: `mint`, `vested`.
//! Invariants ([`invariants`]): every mint inside a period is a vesting claim; no schedule claims
//! more than its total; the reward pool is empty after every payout.

pub mod component;
pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod params;
pub mod query;
pub mod state;

use borsh::{BorshDeserialize, BorshSerialize};

pub use error::{IssuanceError, CODESPACE};
pub use params::IssuanceParams;
pub use state::{EpochMetrics, PeriodRecord, VestingSchedule};

use crate::crypto::Address;
use crate::modules::reputation;
use crate::state::{StateReadExt, StateWrite, StateWriteExt};
use state::{open_epoch, open_period, put_open_epoch, put_open_period, Work};

/// The beneficiary claims what has vested and is not yet claimed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgClaimVested {}

/// Task fees settled (kept by the chain, not refunded) this block: revenue of the period.
pub fn record_revenue(state: &mut impl StateWrite, amount: u128) {
    if amount == 0 {
        return;
    }
    let mut period = open_period(state);
    period.revenue = period.revenue.saturating_add(amount);
    put_open_period(state, &period);
    let mut epoch = open_epoch(state);
    epoch.revenue = epoch.revenue.saturating_add(amount);
    put_open_epoch(state, &epoch);
}

/// Task pay an operator earned (before commission): the basis of the payout by work. It is
/// weighted by the operator's reward weight as it stands now, when the pay is earned.
pub fn record_work(state: &mut impl StateWrite, operator: &Address, pay: u128) {
    let weight = reputation::reward_weight_ppm(state, operator);
    record_weighted_work(state, operator, pay, weight);
}

/// Task pay an account earned, weighted by a reward weight (ppm) the caller computed: a
/// coprocessor's paid price, weighted by its own load state. An account that is not an operator
/// receives its share of the payout directly (it has no delegation pool).
pub fn record_weighted_work(
    state: &mut impl StateWrite,
    account: &Address,
    pay: u128,
    weight_ppm: u32,
) {
    if pay == 0 {
        return;
    }
    let weight = weight_ppm;
    let key = keys::work(account);
    let mut w: Work = state.get(&key).unwrap_or_default();
    w.pay = w.pay.saturating_add(pay);
    w.weighted = w
        .weighted
        .saturating_add(pay.saturating_mul(u128::from(weight)));
    state.put(key, &w);
}

/// A task finalized `latency_blocks` after it was posted.
pub fn record_task_finalized(state: &mut impl StateWrite, latency_blocks: u64) {
    let mut epoch = open_epoch(state);
    epoch.tasks_finalized = epoch.tasks_finalized.saturating_add(1);
    epoch.latency_blocks_sum = epoch
        .latency_blocks_sum
        .saturating_add(u128::from(latency_blocks));
    put_open_epoch(state, &epoch);
}

/// A task failed (no quorum twice) or went undelivered.
pub fn record_task_failed(state: &mut impl StateWrite) {
    let mut epoch = open_epoch(state);
    epoch.tasks_failed = epoch.tasks_failed.saturating_add(1);
    put_open_epoch(state, &epoch);
}

/// An operator failed a duty or disagreed with an aggregate this epoch (fault tolerance F).
/// Each operator counts once per epoch.
pub fn record_faulty_operator(state: &mut impl StateWrite, operator: &Address) {
    let mut epoch = open_epoch(state);
    let key = keys::faulty(epoch.epoch, operator);
    if state.get_raw(&key).is_some() {
        return;
    }
    state.put_raw(key, vec![1]);
    epoch.faulty_operators = epoch.faulty_operators.saturating_add(1);
    put_open_epoch(state, &epoch);
}

/// Stake slashed (executed proposals and consensus evidence), unop.
pub fn record_penalty(state: &mut impl StateWrite, amount: u128) {
    if amount == 0 {
        return;
    }
    let mut epoch = open_epoch(state);
    epoch.penalties = epoch.penalties.saturating_add(amount);
    put_open_epoch(state, &epoch);
}
