//! issuance's begin-block hook, run right after staking's epochs: it closes every epoch that
//! ended (its metrics record), then every period that ended (mint, payout, period record), each
//! once and in order: after a long halt, every missed epoch and period in the first block.

use super::keys;
use super::params::IssuanceParams;
use super::state::{
    open_epoch, open_period, opening, params, put_open_epoch, put_open_period, work, EpochMetrics,
    OpenEpoch, Payout, PeriodRecord,
};
use crate::block::BlockCtx;
use crate::events::Event;
use crate::modules::bank;
use crate::modules::bank::move_or_halt;
use crate::modules::staking;
use crate::num::{checked_mul_div, mul_div, PPM};
use crate::state::{fatal, StateReadExt, StateWrite, StateWriteExt};

pub fn begin_block(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let p = params(state);
    let epoch: u64 = state.get(staking::keys::LAST_EPOCH).unwrap_or(0);
    close_epochs(state, ctx, epoch);
    let period_now = epoch / p.issuance_period_epochs.max(1);
    let mut events = Vec::new();
    while open_period(state).period < period_now {
        events.push(close_period(state, ctx, &p));
    }
    events
}

/// Writes the metrics of every epoch before `now` that is still open, and opens `now`.
fn close_epochs(state: &mut impl StateWrite, ctx: &BlockCtx, now: u64) {
    let mut open = open_epoch(state);
    if open.epoch >= now {
        return;
    }
    let operators = staking::state::operators(state)
        .iter()
        .filter(|o| !o.tombstoned)
        .count() as u64;
    let mut previous_revenue = open
        .epoch
        .checked_sub(1)
        .and_then(|e| super::state::metrics(state, e))
        .map(|m| m.revenue)
        .unwrap_or(0);
    while open.epoch < now {
        let m = epoch_metrics(&open, ctx.height, operators, previous_revenue);
        state.put(keys::metrics(open.epoch), &m);
        for (k, _) in state.prefix_raw(&keys::faulty_in(open.epoch), None, usize::MAX) {
            state.delete(k);
        }
        previous_revenue = m.revenue;
        open = OpenEpoch {
            epoch: open.epoch + 1,
            ..OpenEpoch::default()
        };
    }
    put_open_epoch(state, &open);
}

fn epoch_metrics(
    open: &OpenEpoch,
    height: u64,
    operators: u64,
    previous_revenue: u128,
) -> EpochMetrics {
    let tasks = open.tasks_finalized.saturating_add(open.tasks_failed);
    let mean_latency_blocks = if open.tasks_finalized == 0 {
        0
    } else {
        u64::try_from(open.latency_blocks_sum / u128::from(open.tasks_finalized))
            .unwrap_or(u64::MAX)
    };
    let error_rate_ppm = if tasks == 0 {
        0
    } else {
        (u128::from(open.tasks_failed) * PPM / u128::from(tasks)) as u32
    };
    let faulty = open.faulty_operators.min(operators);
    let fault_tolerance_ppm = if operators == 0 {
        1_000_000
    } else {
        (u128::from(operators - faulty) * PPM / u128::from(operators)) as u32
    };
    EpochMetrics {
        epoch: open.epoch,
        height,
        tasks_finalized: open.tasks_finalized,
        tasks_failed: open.tasks_failed,
        mean_latency_blocks,
        error_rate_ppm,
        operators,
        faulty_operators: faulty,
        fault_tolerance_ppm,
        revenue: open.revenue,
        revenue_growth_ppm: revenue_growth_ppm(previous_revenue, open.revenue),
        penalties: open.penalties,
    }
}

/// `⌊(now − before) × 1_000_000 / before⌋` (floored toward −∞), clamped to i64; 0 when both are
/// 0; `None` when only `before` is 0.
pub fn revenue_growth_ppm(before: u128, now: u128) -> Option<i64> {
    if before == 0 {
        return if now == 0 { Some(0) } else { None };
    }
    // (now − before) / before = now / before − 1, and ⌊x − 1⌋ = ⌊x⌋ − 1 for the whole 1
    let ratio = checked_mul_div(now, PPM, before)
        .and_then(|q| i128::try_from(q).ok())
        .map(|q| q - PPM as i128)
        .unwrap_or(i128::MAX);
    Some(ratio.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Closes the open period: mints `min(⌊R × (1e6 + s) / 1e6⌋, max_supply − total_supply)` into
/// `reward_pool`, pays the pool out by work, records the period, and opens the next one.
fn close_period(state: &mut impl StateWrite, ctx: &BlockCtx, p: &IssuanceParams) -> Event {
    let reward_pool = bank::REWARD_POOL.address();
    let treasury = bank::TREASURY.address();
    let open = open_period(state);
    let m = open.period;
    let subsidy_ppm = p.subsidy_ppm(m);
    // R × (1e6 + s) / 1e6 fits u128 for any R ≤ u128::MAX / 2; past that the cap clips anyway
    let due =
        checked_mul_div(open.revenue, PPM + u128::from(subsidy_ppm), PPM).unwrap_or(u128::MAX);
    let supply = bank::supply(state);
    let room = supply.max_supply.saturating_sub(supply.total_supply);
    let minted = due.min(room);
    let clipped = due - minted;
    let carried_in = bank::account(state, &reward_pool).balance;
    if minted > 0 {
        if let Err(e) = bank::mint(state, &reward_pool, minted) {
            fatal(&format!(
                "issuance: minting period {m}'s {minted} unop failed: {e}"
            ));
        }
    }
    let pool = carried_in
        .checked_add(minted)
        .unwrap_or_else(|| fatal("issuance: the reward pool overflows u128"));

    // payout by work: shareᵢ = ⌊pool × weightedᵢ / Σ weighted⌋
    let entries = work(state);
    let total_weighted = entries
        .iter()
        .fold(0u128, |t, (_, w)| t.saturating_add(w.weighted));
    let total_work = entries
        .iter()
        .fold(0u128, |t, (_, w)| t.saturating_add(w.pay));
    let mut paid_out: u128 = 0;
    let mut commission_total: u128 = 0;
    let mut to_accounts: u128 = 0;
    let mut operators_paid: u32 = 0;
    for (address, w) in entries {
        state.delete(keys::work(&address));
        let share = if total_weighted == 0 {
            0
        } else {
            mul_div(
                pool,
                w.weighted,
                total_weighted,
                "an operator's weighted work is part of the period's total",
            )
        };
        let mut payout = Payout {
            period: m,
            operator: address,
            pay: w.pay,
            weighted: w.weighted,
            share,
            commission: 0,
            to_pool: 0,
            to_treasury: 0,
            to_account: 0,
        };
        match staking::state::operator(state, &address) {
            Some(mut op) if !op.tombstoned && op.shares > 0 && share > 0 => {
                let paid = staking::state::reward(state, &reward_pool, &mut op, share);
                payout.commission = paid.commission;
                payout.to_pool = paid.to_pool;
                paid_out += share;
                commission_total += paid.commission;
                operators_paid += 1;
            }
            Some(_) => payout.to_treasury = share,
            // not an operator: a coprocessor's work, paid to its account
            None => {
                move_or_halt(state, &reward_pool, &address, share);
                payout.to_account = share;
                paid_out += share;
                to_accounts += share;
            }
        }
        state.put(keys::payout(m, &address), &payout);
    }
    let to_treasury = pool - paid_out;
    move_or_halt(state, &reward_pool, &treasury, to_treasury);
    let left = bank::account(state, &reward_pool).balance;
    if left != 0 {
        fatal(&format!(
            "issuance invariant: reward_pool holds {left} unop after period {m}'s payout"
        ));
    }

    let after = bank::supply(state);
    let burned = after.burned.saturating_sub(open.burned_at_start);
    let record = PeriodRecord {
        period: m,
        first_epoch: m.saturating_mul(p.issuance_period_epochs),
        last_epoch: (m + 1)
            .saturating_mul(p.issuance_period_epochs)
            .saturating_sub(1),
        height: ctx.height,
        time: ctx.time,
        revenue: open.revenue,
        subsidy_ppm,
        due,
        minted,
        clipped,
        carried_in,
        work: total_work,
        paid_out,
        commission: commission_total,
        to_accounts,
        to_treasury,
        operators_paid,
        vested: open.vested,
        burned,
        supply_at_start: open.supply_at_start,
        total_supply: after.total_supply,
    };
    let expected = open
        .supply_at_start
        .checked_add(open.vested)
        .and_then(|t| t.checked_add(minted))
        .and_then(|t| t.checked_sub(burned));
    if expected != Some(after.total_supply) {
        fatal(&format!(
            "issuance invariant: period {m} ends with total supply {} but started at {} and \
             minted {minted} + vested {} − burned {burned}: some mint bypassed issuance",
            after.total_supply, open.supply_at_start, open.vested
        ));
    }
    state.put(keys::period(m), &record);
    put_open_period(state, &opening(state, m + 1));
    Event::new(super::events::MINT)
        .attr("period", m)
        .attr("revenue", open.revenue)
        .attr("subsidy_ppm", subsidy_ppm)
        .attr("minted", minted)
        .attr("clipped", clipped)
        .attr("paid_out", paid_out)
        .attr("to_treasury", to_treasury)
        .attr("total_supply", after.total_supply)
}

// ------------------------------------------------------------------ the module table

use crate::component::Component;
use crate::error::{QueryError, TxError};
use crate::genesis::AppState;
use crate::hooks::Hooks;
use crate::query::Target;
use crate::state::StateRead;
use crate::tx::Msg;

pub struct Issuance;

impl Component for Issuance {
    fn name(&self) -> &'static str {
        "issuance"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.issuance.problems()
    }

    fn init_genesis(&self, mut state: &mut dyn StateWrite, genesis: &AppState, _: u64) {
        genesis
            .issuance
            .apply(&mut state, genesis.staking.last_epoch);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.issuance = super::genesis::IssuanceGenesis::export(&state);
    }

    fn begin_block(
        &self,
        mut state: &mut dyn StateWrite,
        block: &crate::block::BeginBlock,
        _: &Hooks,
    ) -> Vec<Event> {
        begin_block(&mut state, &block.ctx)
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        signer: &crate::crypto::Address,
        msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        match msg {
            Msg::ClaimVested(_) => Some(
                super::handler::claim_vested(&mut state, ctx, signer).map_err(TxError::Issuance),
            ),
            _ => None,
        }
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        super::invariants::check(&state)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}

#[cfg(test)]
mod tests {
    use super::revenue_growth_ppm;

    #[test]
    fn revenue_growth_is_signed_floored_and_defined_from_zero() {
        assert_eq!(revenue_growth_ppm(0, 0), Some(0));
        assert_eq!(revenue_growth_ppm(0, 5), None);
        assert_eq!(revenue_growth_ppm(100, 150), Some(500_000));
        assert_eq!(revenue_growth_ppm(100, 0), Some(-1_000_000));
        assert_eq!(revenue_growth_ppm(3, 2), Some(-333_334), "−1/3 floors down");
        assert_eq!(revenue_growth_ppm(3, 4), Some(333_333));
        assert_eq!(revenue_growth_ppm(1, u128::MAX), Some(i64::MAX));
    }
}
