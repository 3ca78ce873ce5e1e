//! The validator set: the top `max_validators` eligible operators (not jailed, not tombstoned,
//! self-bond ≥ min_self_bond, power ≥ 1) by pool tokens, ties broken by address; power =
//! ⌊tokens / power_reduction⌋. At the end of every block the set is recomputed and compared with
//! the one last reported to CometBFT (`staking/valset/…`); only differences are returned (power 0
//! removes a validator), one per key, and CometBFT applies them two blocks later. An update that
//! would leave no validator at all is not sent (CometBFT would halt); the old set stays.

use super::state::{operators, params};
use super::{keys, StakingParams};
use crate::events::Event;
use crate::state::{decode_stored, StateRead, StateWrite, StateWriteExt};

/// (consensus pubkey, power), by pubkey.
pub type ValidatorPowers = Vec<([u8; 32], u64)>;

/// The set the operators' state calls for, in consensus-key order.
pub fn compute(state: &impl StateRead, p: &StakingParams) -> ValidatorPowers {
    let mut eligible: Vec<_> = operators(state)
        .into_iter()
        .filter(|op| op.eligible(p))
        .collect();
    eligible.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.address.cmp(&b.address)));
    eligible.truncate(p.max_validators as usize);
    let mut set: ValidatorPowers = eligible
        .iter()
        .map(|op| (op.consensus_pubkey, op.power(p)))
        .collect();
    set.sort();
    set
}

/// The set last reported to CometBFT.
pub fn reported(state: &impl StateRead) -> ValidatorPowers {
    state
        .prefix_raw(keys::VALIDATOR_SET_PREFIX, None, usize::MAX)
        .iter()
        .filter_map(|(k, v)| {
            let pk: [u8; 32] = k.get(keys::VALIDATOR_SET_PREFIX.len()..)?.try_into().ok()?;
            Some((pk, decode_stored::<u64>(k, v)))
        })
        .collect()
}

/// Recomputes the set, stores it, and returns the changes for CometBFT.
pub fn update(state: &mut impl StateWrite) -> (ValidatorPowers, Vec<Event>) {
    let p = params(state);
    let new = compute(state, &p);
    let old = reported(state);
    if new == old {
        return (Vec::new(), Vec::new());
    }
    if new.is_empty() {
        return (
            Vec::new(),
            vec![Event::new(super::events::VALIDATOR_SET_KEPT)
                .attr("reason", "no eligible operator is left")],
        );
    }
    let mut updates = Vec::new();
    for (pk, power) in &old {
        if !new.iter().any(|(k, _)| k == pk) {
            updates.push((*pk, 0));
            state.delete(keys::validator_set_member(pk));
        } else if let Some((_, np)) = new.iter().find(|(k, _)| k == pk) {
            if np != power {
                updates.push((*pk, *np));
            }
        }
    }
    for (pk, power) in &new {
        if !old.iter().any(|(k, _)| k == pk) {
            updates.push((*pk, *power));
        }
        state.put(keys::validator_set_member(pk), power);
    }
    updates.sort();
    let events = updates
        .iter()
        .map(|(pk, power)| {
            Event::new(super::events::VALIDATOR_UPDATE)
                .attr("consensus_pubkey", hex::encode_upper(pk))
                .attr("power", power)
        })
        .collect();
    (updates, events)
}
