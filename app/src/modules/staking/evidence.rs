//! Consensus evidence (CometBFT `misbehavior`: duplicate votes, light-client attacks).
//!
//! The evidence is cryptographic and already agreed by consensus, so it is acted on at once:
//! the operator is tombstoned (jailed forever) and slashed `double_sign_slash_ppm` of its stake
//! at the infraction height. That stake is the voting power CometBFT reports for the infraction
//! height × `power_reduction` (the whole-token part of the pool then). [`slash`] says how the
//! amount is taken (each unbonding entry created since pays its own part, the pool the rest);
//! 50 % is burned and the rest goes to the treasury. Evidence against an operator already
//! tombstoned changes nothing.

use super::keys;
use super::state::{
    operator, operator_by_consensus_address, params, put_operator, unbondings_from, SlashRecord,
};
use crate::app::{Misbehavior, MisbehaviorKind};
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::hooks::Hooks;
use crate::modules::bank::{self, move_or_halt};
use crate::num::{checked_mul_div, mul_div, ppm_of};
use crate::state::{fatal, StateWrite, StateWriteExt};

pub fn handle(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    misbehavior: &[Misbehavior],
    hooks: &Hooks,
) -> Vec<Event> {
    let p = params(state);
    let mut events = Vec::new();
    for m in misbehavior {
        let Ok(addr) = <[u8; 20]>::try_from(m.validator_address.as_slice()) else {
            continue;
        };
        let Some(mut op) = operator_by_consensus_address(state, &addr) else {
            continue;
        };
        if op.tombstoned {
            continue;
        }
        let reason = match m.kind {
            MisbehaviorKind::DuplicateVote => "double_sign",
            MisbehaviorKind::LightClientAttack => "light_client_attack",
            MisbehaviorKind::Unknown => "consensus_misbehavior",
        };
        let infraction_height = u64::try_from(m.height).unwrap_or(0);
        let power = u128::try_from(m.power).unwrap_or(0);
        let stake = power.saturating_mul(p.power_reduction);
        let amount = ppm_of(stake, p.double_sign_slash_ppm);
        op.tombstoned = true;
        put_operator(state, &op);
        let record = slash(
            state,
            ctx,
            &op.address,
            amount,
            infraction_height,
            stake,
            reason,
            None,
            hooks,
        );
        events.push(
            Event::new(super::events::SLASHED)
                .attr("operator", op.address)
                .attr("reason", reason)
                .attr("infraction_height", infraction_height)
                .attr("amount", record.from_pool + record.from_unbonding)
                .attr("burned", record.burned)
                .attr("to_treasury", record.to_treasury),
        );
        events.push(
            Event::new(super::events::TOMBSTONED)
                .attr("operator", op.address)
                .attr("reason", reason),
        );
    }
    events
}

/// Takes `amount` (= fraction × `stake_at_infraction`) from `operator` and what it had bonded at
/// `infraction_height`, capped at what exists:
/// 1. every unbonding entry created at or after the infraction height pays its own part,
///    ⌊amount × initial_amountᵢ / stake_at_infraction⌋ (those tokens were bonded when the
///    infraction happened, so leaving does not escape the slash);
/// 2. the pool pays the rest;
/// 3. if the pool cannot, those entries pay the shortfall, in proportion to what they still
///    hold (rounding down, the last units one by one in id order).
///
/// Burns 50 % (rounded down) and sends the rest to the treasury. Records and returns what
/// happened.
#[allow(clippy::too_many_arguments)]
pub fn slash(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    operator_address: &Address,
    amount: u128,
    infraction_height: u64,
    stake_at_infraction: u128,
    reason: &str,
    reporter: Option<Address>,
    hooks: &Hooks,
) -> SlashRecord {
    let Some(mut op) = operator(state, operator_address) else {
        fatal(&format!("slash of unknown operator {operator_address}"));
    };
    let treasury = bank::TREASURY.address();
    let mut entries: Vec<_> = unbondings_from(state, operator_address)
        .into_iter()
        .filter(|e| e.creation_height >= infraction_height && e.amount > 0)
        .collect();

    // 1. each entry's own part
    let mut from_unbonding: u128 = 0;
    let mut remaining = amount;
    for e in entries.iter_mut() {
        // ⌊amount × initial / stake⌋ ≤ amount when the entry was part of the stake; a larger
        // quotient is capped by what the entry holds
        let due = checked_mul_div(amount, e.initial_amount, stake_at_infraction.max(1))
            .unwrap_or(u128::MAX)
            .min(e.amount)
            .min(remaining);
        e.amount -= due;
        from_unbonding += due;
        remaining -= due;
    }
    // 2. the pool
    let from_pool = remaining.min(op.tokens);
    op.tokens -= from_pool;
    remaining -= from_pool;
    // 3. the shortfall, from what the entries still hold
    if remaining > 0 {
        let total: u128 = entries.iter().map(|e| e.amount).sum();
        let takes: Vec<u128> = if remaining >= total {
            entries.iter().map(|e| e.amount).collect()
        } else {
            let mut t: Vec<u128> = entries
                .iter()
                .map(|e| {
                    mul_div(
                        remaining,
                        e.amount,
                        total,
                        "an entry's amount is part of the entries' total",
                    )
                })
                .collect();
            let mut left = remaining - t.iter().sum::<u128>();
            for (i, e) in entries.iter().enumerate() {
                if left == 0 {
                    break;
                }
                if t[i] < e.amount {
                    t[i] += 1;
                    left -= 1;
                }
            }
            t
        };
        for (e, take) in entries.iter_mut().zip(takes) {
            e.amount -= take;
            from_unbonding += take;
        }
    }
    for e in &entries {
        state.put(keys::unbonding(e.id), e);
    }
    move_or_halt(state, &bank::BONDED_POOL.address(), &treasury, from_pool);
    move_or_halt(
        state,
        &bank::UNBONDING_POOL.address(),
        &treasury,
        from_unbonding,
    );
    let total = from_pool + from_unbonding;
    // the epoch's penalties and faulty operators (NodeOP metrics)
    (hooks.stake_slashed)(state, operator_address, total);
    // 50 % burned (rounded down); with a reporter 30 % to it (rounded down); the rest, rounding
    // included, stays in the treasury
    let burned = total / 2;
    if burned > 0 {
        if let Err(e) = bank::burn(state, &treasury, burned) {
            fatal(&format!("burning a slash failed: {e}"));
        }
    }
    let to_reporter = match &reporter {
        Some(r) => {
            let share = ppm_of(total, 300_000);
            move_or_halt(state, &treasury, r, share);
            share
        }
        None => 0,
    };
    let record = SlashRecord {
        operator: *operator_address,
        reason: reason.to_string(),
        height: ctx.height,
        infraction_height,
        stake_at_infraction,
        amount,
        from_pool,
        from_unbonding,
        burned,
        reporter,
        to_reporter,
        to_treasury: total - burned - to_reporter,
    };
    op.slashed_total = op.slashed_total.saturating_add(total);
    state.put(
        keys::slash_record(operator_address, op.slash_count),
        &record,
    );
    op.slash_count += 1;
    put_operator(state, &op);
    record
}
