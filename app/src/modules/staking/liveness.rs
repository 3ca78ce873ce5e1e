//! Liveness: who signed the last commit.
//!
//! Each block's `decided_last_commit` says which validators of the previous block's set signed.
//! Per validator we keep a bitmap of the last `signed_blocks_window` heights (position =
//! height mod window, 1 = missed) in chunks of 1024 bits, written only when a bit changes, and a
//! count of the set bits. Once a validator has been observed for a whole window, missing more
//! than `max_missed()` of it jails it for `downtime_jail_duration` and removes it from the set.
//!
//! Why a chain halt jails nobody: the window is counted in blocks, not in time. While the chain
//! is halted there are no blocks, so nobody misses one; the first block after the restart carries
//! the commit of the last block before the halt, which 2/3 of the power signed.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::state::{operator_by_consensus_address, params, put_operator};
use crate::app::VoteInfo;
use crate::block::BlockCtx;
use crate::events::Event;
use crate::hooks::Hooks;
use crate::state::{StateRead, StateReadExt, StateWrite, StateWriteExt};

pub const CHUNK_BITS: u64 = 1024;
const CHUNK_BYTES: usize = (CHUNK_BITS / 8) as usize;

#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct SigningInfo {
    /// Heights before this one are not counted (registration, or the last unjail / jail).
    pub start_height: u64,
    /// Missed blocks in the current window.
    pub missed: u64,
}

pub fn signing_info(state: &impl StateRead, addr: &[u8; 20]) -> Option<SigningInfo> {
    state.get(&keys::signing_info(addr))
}

/// (Re)starts counting a validator's window at `height`, forgetting earlier misses.
pub fn start_tracking(state: &mut impl StateWrite, addr: &[u8; 20], height: u64) {
    for (k, _) in state.prefix_raw(&keys::missed_chunks(addr), None, usize::MAX) {
        state.delete(k);
    }
    state.put(
        keys::signing_info(addr),
        &SigningInfo {
            start_height: height,
            missed: 0,
        },
    );
}

/// Records the last commit's signatures and jails validators that missed too many blocks.
pub fn record_commit(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    votes: &[VoteInfo],
    hooks: &Hooks,
) -> Vec<Event> {
    let p = params(state);
    let window = p.signed_blocks_window.max(1);
    let max_missed = p.max_missed();
    let pos = ctx.height % window;
    let chunk = (pos / CHUNK_BITS) as u32;
    let bit = (pos % CHUNK_BITS) as usize;
    let mut events = Vec::new();
    for vote in votes {
        let Ok(addr) = <[u8; 20]>::try_from(vote.validator_address.as_slice()) else {
            continue;
        };
        let Some(mut op) = operator_by_consensus_address(state, &addr) else {
            continue;
        };
        if op.is_jailed() {
            continue;
        }
        (hooks.block_signed)(state, &op.address, vote.signed);
        let stored = signing_info(state, &addr);
        let mut info = stored.clone().unwrap_or(SigningInfo {
            start_height: ctx.height,
            missed: 0,
        });
        let key = keys::missed_chunk(&addr, chunk);
        let mut bitmap = state
            .get_raw(&key)
            .unwrap_or_else(|| vec![0u8; CHUNK_BYTES]);
        if bitmap.len() != CHUNK_BYTES {
            bitmap.resize(CHUNK_BYTES, 0);
        }
        let was_missed = bitmap[bit / 8] & (1 << (bit % 8)) != 0;
        let missed = !vote.signed;
        if was_missed != missed {
            bitmap[bit / 8] ^= 1 << (bit % 8);
            info.missed = if missed {
                info.missed + 1
            } else {
                info.missed.saturating_sub(1)
            };
            if bitmap.iter().all(|b| *b == 0) {
                state.delete(key);
            } else {
                state.put_raw(key, bitmap);
            }
        }
        let observed_whole_window = ctx.height >= info.start_height.saturating_add(window);
        if observed_whole_window && info.missed > max_missed {
            let until = ctx.time.saturating_add(p.downtime_jail_duration);
            op.jailed_until = Some(until);
            put_operator(state, &op);
            events.push(
                Event::new(super::events::JAILED)
                    .attr("operator", op.address)
                    .attr("reason", "downtime")
                    .attr("missed_blocks", info.missed)
                    .attr("window", window)
                    .attr("jailed_until", until),
            );
            start_tracking(state, &addr, ctx.height);
        } else if stored.as_ref() != Some(&info) {
            state.put(keys::signing_info(&addr), &info);
        }
    }
    events
}
