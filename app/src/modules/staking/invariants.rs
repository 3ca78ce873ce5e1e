//! staking's invariants, checked after every block in debug and test builds.

use std::collections::BTreeMap;

use super::state::{operators, params};
use super::{keys, validator_set, Delegation, UnbondingEntry};
use crate::crypto::Address;
use crate::modules::bank;
use crate::state::{decode_stored, StateRead};

pub fn check(state: &impl StateRead) -> Result<(), String> {
    let ops = operators(state);
    let tokens: u128 = ops.iter().map(|o| o.tokens).sum();
    let bonded = bank::account(state, &bank::BONDED_POOL.address()).balance;
    if bonded != tokens {
        return Err(format!(
            "staking: bonded_pool {bonded} != Σ pool tokens {tokens}"
        ));
    }
    let entries: u128 = state
        .prefix_raw(keys::UNBONDING_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored::<UnbondingEntry>(k, v).amount)
        .sum();
    let unbonding = bank::account(state, &bank::UNBONDING_POOL.address()).balance;
    if unbonding != entries {
        return Err(format!(
            "staking: unbonding_pool {unbonding} != Σ unbonding entries {entries}"
        ));
    }
    let mut shares: BTreeMap<Address, u128> = BTreeMap::new();
    for (k, v) in state.prefix_raw(keys::DELEGATION_PREFIX, None, usize::MAX) {
        let d: Delegation = decode_stored(&k, &v);
        *shares.entry(d.operator).or_default() += d.shares;
    }
    for op in &ops {
        let held = shares.get(&op.address).copied().unwrap_or(0);
        if held != op.shares {
            return Err(format!(
                "staking: operator {} has {} shares, its delegations hold {held}",
                op.address, op.shares
            ));
        }
    }
    let p = params(state);
    let computed = validator_set::compute(state, &p);
    let reported = validator_set::reported(state);
    if computed != reported && !computed.is_empty() {
        return Err(format!(
            "staking: the set reported to CometBFT ({} validators) differs from the top operators ({})",
            reported.len(),
            computed.len()
        ));
    }
    Ok(())
}
