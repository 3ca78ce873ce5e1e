//! staking's key layout (public API). Addresses are 20 raw bytes, consensus keys 32, numbers
//! big-endian so that key order is numeric order.

use crate::crypto::Address;
use crate::state::keys::time_key;

pub const PARAMS: &[u8] = b"staking/params";
pub const OPERATOR_PREFIX: &[u8] = b"staking/op/";
pub const CONSENSUS_KEY_PREFIX: &[u8] = b"staking/cons/";
pub const CONSENSUS_ADDRESS_PREFIX: &[u8] = b"staking/consaddr/";
pub const DELEGATION_PREFIX: &[u8] = b"staking/del/";
pub const DELEGATION_BY_OPERATOR_PREFIX: &[u8] = b"staking/opdel/";
pub const UNBONDING_PREFIX: &[u8] = b"staking/unb/";
pub const UNBONDING_QUEUE_PREFIX: &[u8] = b"staking/unbq/";
pub const UNBONDING_BY_DELEGATOR_PREFIX: &[u8] = b"staking/unbdel/";
pub const UNBONDING_BY_OPERATOR_PREFIX: &[u8] = b"staking/unbop/";
pub const NEXT_UNBONDING_ID: &[u8] = b"staking/next_unbonding_id";
pub const VALIDATOR_SET_PREFIX: &[u8] = b"staking/valset/";
pub const SIGNING_INFO_PREFIX: &[u8] = b"staking/signing/";
pub const MISSED_PREFIX: &[u8] = b"staking/missed/";
pub const LAST_EPOCH: &[u8] = b"staking/last_epoch";
pub const SLASH_PREFIX: &[u8] = b"staking/slash/";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// `staking/op/{operator}` → [`super::Operator`].
pub fn operator(address: &Address) -> Vec<u8> {
    join(&[OPERATOR_PREFIX, &address.0])
}

/// `staking/cons/{ed25519 pubkey}` → operator address (a consensus key serves one operator).
pub fn consensus_key(pubkey: &[u8; 32]) -> Vec<u8> {
    join(&[CONSENSUS_KEY_PREFIX, pubkey])
}

/// `staking/consaddr/{CometBFT validator address}` → operator address.
pub fn consensus_address(addr: &[u8; 20]) -> Vec<u8> {
    join(&[CONSENSUS_ADDRESS_PREFIX, addr])
}

/// `staking/del/{delegator}/{operator}` → [`super::Delegation`].
pub fn delegation(delegator: &Address, operator: &Address) -> Vec<u8> {
    join(&[DELEGATION_PREFIX, &delegator.0, b"/", &operator.0])
}

pub fn delegations_of(delegator: &Address) -> Vec<u8> {
    join(&[DELEGATION_PREFIX, &delegator.0, b"/"])
}

/// `staking/opdel/{operator}/{delegator}` → `[1]` (index for listing an operator's delegators).
pub fn delegation_by_operator(operator: &Address, delegator: &Address) -> Vec<u8> {
    join(&[
        DELEGATION_BY_OPERATOR_PREFIX,
        &operator.0,
        b"/",
        &delegator.0,
    ])
}

pub fn delegations_to(operator: &Address) -> Vec<u8> {
    join(&[DELEGATION_BY_OPERATOR_PREFIX, &operator.0, b"/"])
}

/// `staking/unb/{id}` → [`super::UnbondingEntry`].
pub fn unbonding(id: u64) -> Vec<u8> {
    join(&[UNBONDING_PREFIX, &id.to_be_bytes()])
}

/// `staking/unbq/{completion_time}/{id}` → `[1]`: the maturity queue, in time order.
pub fn unbonding_queue(completion_time: i64, id: u64) -> Vec<u8> {
    join(&[
        UNBONDING_QUEUE_PREFIX,
        &time_key(completion_time),
        b"/",
        &id.to_be_bytes(),
    ])
}

/// `staking/unbdel/{delegator}/{id}` and `staking/unbop/{operator}/{id}` → `[1]`.
pub fn unbonding_by_delegator(delegator: &Address, id: u64) -> Vec<u8> {
    join(&[
        UNBONDING_BY_DELEGATOR_PREFIX,
        &delegator.0,
        b"/",
        &id.to_be_bytes(),
    ])
}

pub fn unbonding_by_operator(operator: &Address, id: u64) -> Vec<u8> {
    join(&[
        UNBONDING_BY_OPERATOR_PREFIX,
        &operator.0,
        b"/",
        &id.to_be_bytes(),
    ])
}

pub fn unbondings_of(delegator: &Address) -> Vec<u8> {
    join(&[UNBONDING_BY_DELEGATOR_PREFIX, &delegator.0, b"/"])
}

pub fn unbondings_from(operator: &Address) -> Vec<u8> {
    join(&[UNBONDING_BY_OPERATOR_PREFIX, &operator.0, b"/"])
}

/// `staking/valset/{ed25519 pubkey}` → power (u64) last reported to CometBFT.
pub fn validator_set_member(pubkey: &[u8; 32]) -> Vec<u8> {
    join(&[VALIDATOR_SET_PREFIX, pubkey])
}

/// `staking/signing/{consensus address}` → [`super::liveness::SigningInfo`].
pub fn signing_info(addr: &[u8; 20]) -> Vec<u8> {
    join(&[SIGNING_INFO_PREFIX, addr])
}

/// `staking/missed/{consensus address}/{chunk}` → a bitmap of 1024 window positions.
pub fn missed_chunk(addr: &[u8; 20], chunk: u32) -> Vec<u8> {
    join(&[MISSED_PREFIX, addr, b"/", &chunk.to_be_bytes()])
}

pub fn missed_chunks(addr: &[u8; 20]) -> Vec<u8> {
    join(&[MISSED_PREFIX, addr, b"/"])
}

/// `staking/slash/{operator}/{seq}` → [`super::state::SlashRecord`].
pub fn slash_record(operator: &Address, seq: u64) -> Vec<u8> {
    join(&[SLASH_PREFIX, &operator.0, b"/", &seq.to_be_bytes()])
}

pub fn slash_records(operator: &Address) -> Vec<u8> {
    join(&[SLASH_PREFIX, &operator.0, b"/"])
}
