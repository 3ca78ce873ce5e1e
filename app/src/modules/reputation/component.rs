//! reputation's block hook: the epoch update.

use super::keys;
use super::params::ReputationParams;
use super::score::{next_load_ppm, recover, utilisation_ppm};
use super::state::{params, OperatorReputation};
use crate::block::BlockCtx;
use crate::events::Event;
use crate::genesis::keys as chain_keys;
use crate::modules::staking;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

/// Begin block, after staking's epochs: every epoch that staking has entered since the last one
/// processed here is processed once, in order. The first of them ends in this block: its blocks
/// are those from the block that processed the previous boundary up to this one (excluded).
/// Epochs skipped by a gap in block times had no block of their own: zero utilisation.
pub fn begin_block(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let now: u64 = state.get(staking::keys::LAST_EPOCH).unwrap_or(0);
    let mut last: u64 = state.get(keys::LAST_EPOCH).unwrap_or(0);
    if last >= now {
        return Vec::new();
    }
    let p = params(state);
    let mut from_height = last_epoch_height(state);
    let mut events = Vec::new();
    while last < now {
        last += 1;
        let blocks = ctx.height.saturating_sub(from_height);
        events.push(process_epoch(state, &p, last, blocks));
        from_height = ctx.height;
    }
    state.put(keys::LAST_EPOCH.to_vec(), &last);
    state.put(keys::LAST_EPOCH_HEIGHT.to_vec(), &ctx.height);
    events
}

/// The height the current epoch's block count starts from.
pub fn last_epoch_height(state: &impl StateRead) -> u64 {
    state
        .get(keys::LAST_EPOCH_HEIGHT)
        .or_else(|| state.get(chain_keys::INITIAL_HEIGHT))
        .unwrap_or(1)
}

/// One epoch for every operator with a record: the tallies decay toward neutral, the Byzantine
/// factor recovers, the load state takes the epoch's utilisation and the accumulator restarts.
/// One `reputation_epoch` event counts the records that changed (none is emitted per operator).
fn process_epoch(
    state: &mut impl StateWrite,
    p: &ReputationParams,
    epoch: u64,
    blocks: u64,
) -> Event {
    let mut records = 0u64;
    let mut updated = 0u64;
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let page = state.prefix_raw(keys::OPERATOR_PREFIX, cursor.as_deref(), 256);
        let Some((last_key, _)) = page.last() else {
            break;
        };
        cursor = Some(last_key.clone());
        for (k, v) in page {
            records += 1;
            let before: OperatorReputation = decode_stored(&k, &v);
            let capacity = crate::state::keys::address_at(&k, keys::OPERATOR_PREFIX.len())
                .and_then(|a| staking::state::operator(state, &a))
                .map(|o| o.capacity_units)
                .unwrap_or(0);
            let after = epoch_step(&before, p, capacity, blocks);
            if after != before {
                updated += 1;
                state.put(k, &after);
            }
        }
    }
    Event::new(super::events::REPUTATION_EPOCH)
        .attr("epoch", epoch)
        .attr("blocks", blocks)
        .attr("records", records)
        .attr("updated", updated)
}

/// What one epoch does to a record (pure).
pub fn epoch_step(
    r: &OperatorReputation,
    p: &ReputationParams,
    capacity_units: u64,
    blocks: u64,
) -> OperatorReputation {
    let mut r = r.clone();
    for t in [&mut r.results, &mut r.duties, &mut r.blocks, &mut r.latency] {
        t.decay(p.decay_ppm);
    }
    r.byz_factor_ppm = recover(r.byz_factor_ppm, p.decay_ppm);
    let y = utilisation_ppm(r.epoch_unit_blocks, capacity_units, blocks);
    r.load_ppm = next_load_ppm(r.load_ppm, y, p);
    r.epoch_unit_blocks = 0;
    r
}

// ------------------------------------------------------------------ the module table

use crate::component::Component;
use crate::error::QueryError;
use crate::genesis::AppState;
use crate::hooks::Hooks;
use crate::query::Target;

pub struct Reputation;

impl Component for Reputation {
    fn name(&self) -> &'static str {
        "reputation"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.reputation.problems()
    }

    fn init_genesis(
        &self,
        mut state: &mut dyn StateWrite,
        genesis: &AppState,
        initial_height: u64,
    ) {
        genesis.reputation.apply(&mut state, initial_height);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.reputation = super::genesis::ReputationGenesis::export(&state);
    }

    fn begin_block(
        &self,
        mut state: &mut dyn StateWrite,
        block: &crate::block::BeginBlock,
        _: &Hooks,
    ) -> Vec<Event> {
        begin_block(&mut state, &block.ctx)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Address;
    use crate::modules::reputation::state::{record, Tally, EVENT};
    use crate::state::overlay::Empty;
    use crate::state::Overlay;

    fn ctx(height: u64) -> BlockCtx {
        BlockCtx {
            height,
            time: 0,
            prev_app_hash: [0; 32],
        }
    }

    #[test]
    fn one_epoch_decays_recovers_and_takes_the_load() {
        let p = ReputationParams::default();
        let r = OperatorReputation {
            results: Tally {
                good: 0,
                bad: 2 * EVENT,
                neutral: 0,
            },
            byz_factor_ppm: 250_000,
            load_ppm: 100_000,
            epoch_unit_blocks: 500,
            ..OperatorReputation::default()
        };
        // 500 unit-blocks over 10 units × 100 blocks: y = 0.5; f = 0.1 + 0.3 × 0.4 = 0.22
        let next = epoch_step(&r, &p, 10, 100);
        assert_eq!(next.results.bad, 1_985_398);
        assert_eq!(next.results.neutral, 14_602);
        assert_eq!(next.byz_factor_ppm, 255_476, "1e6 − ⌊750_000 × 0.992699⌋");
        assert_eq!(next.load_ppm, 220_000);
        assert_eq!(next.epoch_unit_blocks, 0);
        // a neutral record does not change
        let fresh = OperatorReputation::default();
        assert_eq!(epoch_step(&fresh, &p, 10, 100), fresh);
    }

    #[test]
    fn each_passed_epoch_is_processed_once_in_order_after_a_gap() {
        let mut s = Overlay::new(Empty);
        let a = Address([7; 20]);
        s.put(keys::PARAMS.to_vec(), &ReputationParams::default());
        s.put(chain_keys::INITIAL_HEIGHT.to_vec(), &1u64);
        crate::modules::reputation::record_load(&mut s, &a, 1_000);
        // staking entered epoch 1 at height 11: ten blocks (1..=10) in epoch 0
        s.put(staking::keys::LAST_EPOCH.to_vec(), &1u64);
        let events = begin_block(&mut s, &ctx(11));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].get("epoch"), Some("1"));
        assert_eq!(events[0].get("blocks"), Some("10"));
        assert_eq!(events[0].get("updated"), Some("1"));
        // no operator record in staking: zero capacity with load recorded counts as full
        assert_eq!(record(&s, &a).load_ppm, 300_000);
        assert!(begin_block(&mut s, &ctx(12)).is_empty(), "once per epoch");
        // a gap: staking jumps to epoch 4 at height 30
        s.put(staking::keys::LAST_EPOCH.to_vec(), &4u64);
        let events = begin_block(&mut s, &ctx(30));
        let seen: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.get("epoch").unwrap(), e.get("blocks").unwrap()))
            .collect();
        assert_eq!(seen, [("2", "19"), ("3", "0"), ("4", "0")]);
        assert_eq!(s.get::<u64>(keys::LAST_EPOCH), Some(4));
        assert_eq!(s.get::<u64>(keys::LAST_EPOCH_HEIGHT), Some(30));
        // three epochs without load: 0.3 × 0.7³
        assert_eq!(record(&s, &a).load_ppm, 102_900);
    }
}
