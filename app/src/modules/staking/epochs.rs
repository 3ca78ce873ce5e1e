//! Epochs (PROTOCOL.md §1): `e = (block_time − genesis_time) / epoch_seconds`, in BFT time.
//! Every epoch boundary is processed once, in order, in the first block past it — several in
//! one block after a long gap. At each boundary the fee pool is paid to the validators by power:
//! `shareᵢ = ⌊fee_pool × powerᵢ / total_power⌋`, paid by [`super::state::reward`]: `⌊shareᵢ ×
//! commission⌋` to the operator's account and the rest into its pool (raising every
//! delegation's value); what the rounding leaves, and the share of a validator jailed since (or
//! whose pool has no shares), goes to the treasury.

use super::keys;
use super::state::{operator, params, reward};
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::genesis::keys as chain_keys;
use crate::modules::bank;
use crate::modules::bank::move_or_halt;
use crate::num::mul_div;
use crate::state::{decode_stored, StateReadExt, StateWrite, StateWriteExt};

pub fn epoch_at(genesis_time: i64, epoch_seconds: i64, time: i64) -> u64 {
    let elapsed = time.saturating_sub(genesis_time).max(0);
    (elapsed / epoch_seconds.max(1)) as u64
}

pub fn process(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let p = params(state);
    let genesis_time: i64 = state.get(chain_keys::GENESIS_TIME).unwrap_or(ctx.time);
    let now = epoch_at(genesis_time, p.epoch_seconds, ctx.time);
    let mut last: u64 = state.get(keys::LAST_EPOCH).unwrap_or(0);
    let mut events = Vec::new();
    while last < now {
        last += 1;
        events.push(distribute_fees(state, last));
    }
    if !events.is_empty() {
        state.put(keys::LAST_EPOCH.to_vec(), &last);
    }
    events
}

fn distribute_fees(state: &mut impl StateWrite, epoch: u64) -> Event {
    let fee_pool = bank::FEE_POOL.address();
    let treasury = bank::TREASURY.address();
    let fees = bank::account(state, &fee_pool).balance;
    let set: Vec<([u8; 32], u64)> = state
        .prefix_raw(keys::VALIDATOR_SET_PREFIX, None, usize::MAX)
        .iter()
        .filter_map(|(k, v)| {
            let pk: [u8; 32] = k.get(keys::VALIDATOR_SET_PREFIX.len()..)?.try_into().ok()?;
            Some((pk, decode_stored::<u64>(k, v)))
        })
        .collect();
    let total_power: u128 = set.iter().map(|(_, p)| u128::from(*p)).sum();
    let mut paid: u128 = 0;
    if fees > 0 && total_power > 0 {
        for (pk, power) in &set {
            let Some(owner) = state.get::<Address>(&keys::consensus_key(pk)) else {
                continue;
            };
            let Some(mut op) = operator(state, &owner) else {
                continue;
            };
            if op.is_jailed() || op.shares == 0 {
                continue;
            }
            let share = mul_div(
                fees,
                u128::from(*power),
                total_power,
                "a validator's power is part of the set's total power",
            );
            reward(state, &fee_pool, &mut op, share);
            paid += share;
        }
    }
    let rest = fees - paid;
    move_or_halt(state, &fee_pool, &treasury, rest);
    Event::new(super::events::EPOCH)
        .attr("epoch", epoch)
        .attr("fees", fees)
        .attr("paid_to_validators", paid)
        .attr("to_treasury", rest)
        .attr("validators", set.len())
}
