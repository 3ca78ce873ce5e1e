//! staking's records, their accessors and the pool arithmetic.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::params::StakingParams;
use super::StakingError;
use crate::crypto::Address;
use crate::modules::bank;
use crate::num::{checked_mul_div, checked_mul_div_ceil, mul_div, ppm_of};
use crate::serde_u128;
use crate::state::{decode_stored, fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// The operator's account (signs its txs, receives commission).
    pub address: Address,
    /// ed25519 consensus key (base64 in JSON, as in CometBFT's files).
    #[serde(with = "crate::serde_base64_32")]
    pub consensus_pubkey: [u8; 32],
    pub moniker: String,
    pub capacity_units: u64,
    pub region: String,
    pub commission_ppm: u32,
    /// Tokens in the pool (what the pool's shares are worth together).
    #[serde(with = "serde_u128")]
    pub tokens: u128,
    /// Shares issued to the pool's delegators.
    #[serde(with = "serde_u128")]
    pub shares: u128,
    /// Shares the operator's own account holds (its self-bond).
    #[serde(with = "serde_u128")]
    pub self_shares: u128,
    /// Jailed until this BFT time (unix seconds); `None` when not jailed.
    pub jailed_until: Option<i64>,
    /// Tombstoned for double-signing: jailed forever.
    pub tombstoned: bool,
    /// Everything slashed from this operator's pool and its unbonding entries, unop.
    #[serde(with = "serde_u128")]
    pub slashed_total: u128,
    /// How many slash records exist (`staking/slash/{operator}/{seq}`).
    pub slash_count: u64,
    pub registered_height: u64,
}

impl Operator {
    pub fn is_jailed(&self) -> bool {
        self.tombstoned || self.jailed_until.is_some()
    }

    /// Tokens worth `shares` of this pool, rounded down.
    pub fn tokens_for(&self, shares: u128) -> u128 {
        if self.shares == 0 {
            return 0;
        }
        mul_div(
            shares,
            self.tokens,
            self.shares,
            "a delegation's value fits the pool's tokens",
        )
    }

    /// `tombstoned`, `jailed`, `bonded` (in the validator set, with `power` > 0) or `inactive`:
    /// the status the staking queries show.
    pub fn status(&self, power: u64) -> &'static str {
        if self.tombstoned {
            "tombstoned"
        } else if self.jailed_until.is_some() {
            "jailed"
        } else if power > 0 {
            "bonded"
        } else {
            "inactive"
        }
    }

    /// The operator's own bond, in tokens.
    pub fn self_bond(&self) -> u128 {
        self.tokens_for(self.self_shares)
    }

    /// Whether it may sit in the validator set.
    pub fn eligible(&self, params: &StakingParams) -> bool {
        !self.is_jailed()
            && self.self_bond() >= params.min_self_bond
            && self.tokens / params.power_reduction.max(1) > 0
    }

    pub fn power(&self, params: &StakingParams) -> u64 {
        u64::try_from(self.tokens / params.power_reduction.max(1)).unwrap_or(u64::MAX)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    pub delegator: Address,
    pub operator: Address,
    #[serde(with = "serde_u128")]
    pub shares: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnbondingEntry {
    pub id: u64,
    pub delegator: Address,
    pub operator: Address,
    /// What will be paid out (lowered if the operator is slashed for an earlier infraction).
    #[serde(with = "serde_u128")]
    pub amount: u128,
    /// What left the pool.
    #[serde(with = "serde_u128")]
    pub initial_amount: u128,
    pub creation_height: u64,
    pub completion_time: i64,
}

/// One executed slash, kept for auditors.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SlashRecord {
    pub operator: Address,
    pub reason: String,
    pub height: u64,
    pub infraction_height: u64,
    #[serde(with = "serde_u128")]
    pub stake_at_infraction: u128,
    /// What the fraction asked for.
    #[serde(with = "serde_u128")]
    pub amount: u128,
    #[serde(with = "serde_u128")]
    pub from_pool: u128,
    #[serde(with = "serde_u128")]
    pub from_unbonding: u128,
    #[serde(with = "serde_u128")]
    pub burned: u128,
    /// Who reported it (absent for consensus evidence and automatic proposals).
    pub reporter: Option<Address>,
    #[serde(with = "serde_u128")]
    pub to_reporter: u128,
    #[serde(with = "serde_u128")]
    pub to_treasury: u128,
}

pub fn params(state: &impl StateRead) -> StakingParams {
    state
        .get(keys::PARAMS)
        .unwrap_or_else(|| fatal("staking/params is missing: no genesis"))
}

pub fn operator(state: &impl StateRead, address: &Address) -> Option<Operator> {
    state.get(&keys::operator(address))
}

pub fn put_operator(state: &mut impl StateWrite, op: &Operator) {
    state.put(keys::operator(&op.address), op)
}

pub fn operator_by_consensus_address(state: &impl StateRead, addr: &[u8; 20]) -> Option<Operator> {
    let owner: Address = state.get(&keys::consensus_address(addr))?;
    operator(state, &owner)
}

/// Every operator, in address order.
pub fn operators(state: &impl StateRead) -> Vec<Operator> {
    state
        .prefix_raw(keys::OPERATOR_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

pub fn delegation(state: &impl StateRead, delegator: &Address, op: &Address) -> Option<Delegation> {
    state.get(&keys::delegation(delegator, op))
}

pub fn put_delegation(state: &mut impl StateWrite, d: &Delegation) {
    if d.shares == 0 {
        state.delete(keys::delegation(&d.delegator, &d.operator));
        state.delete(keys::delegation_by_operator(&d.operator, &d.delegator));
    } else {
        state.put(keys::delegation(&d.delegator, &d.operator), d);
        state.put_raw(
            keys::delegation_by_operator(&d.operator, &d.delegator),
            vec![1],
        );
    }
}

pub fn unbonding_entry(state: &impl StateRead, id: u64) -> Option<UnbondingEntry> {
    state.get(&keys::unbonding(id))
}

/// Writes a new entry with all its index keys.
pub fn insert_unbonding(state: &mut impl StateWrite, e: &UnbondingEntry) {
    state.put(keys::unbonding(e.id), e);
    state.put_raw(keys::unbonding_queue(e.completion_time, e.id), vec![1]);
    state.put_raw(keys::unbonding_by_delegator(&e.delegator, e.id), vec![1]);
    state.put_raw(keys::unbonding_by_operator(&e.operator, e.id), vec![1]);
}

pub fn remove_unbonding(state: &mut impl StateWrite, e: &UnbondingEntry) {
    state.delete(keys::unbonding(e.id));
    state.delete(keys::unbonding_queue(e.completion_time, e.id));
    state.delete(keys::unbonding_by_delegator(&e.delegator, e.id));
    state.delete(keys::unbonding_by_operator(&e.operator, e.id));
}

/// An operator's unbonding entries, in id order.
pub fn unbondings_from(state: &impl StateRead, op: &Address) -> Vec<UnbondingEntry> {
    state
        .prefix_raw(&keys::unbondings_from(op), None, usize::MAX)
        .iter()
        .filter_map(|(k, _)| crate::state::keys::trailing_id(k))
        .filter_map(|id| unbonding_entry(state, id))
        .collect()
}

pub fn next_unbonding_id(state: &mut impl StateWrite) -> u64 {
    let id: u64 = state.get(keys::NEXT_UNBONDING_ID).unwrap_or(1);
    state.put(keys::NEXT_UNBONDING_ID.to_vec(), &(id + 1));
    id
}

/// Issues shares for `amount` tokens deposited into `op`'s pool (rounded down: the pool keeps
/// the dust). Refused when the pool has shares but no tokens (slashed to zero).
pub fn deposit(op: &mut Operator, amount: u128) -> Result<u128, StakingError> {
    let new_shares = if op.shares == 0 {
        amount
    } else if op.tokens == 0 {
        return Err(StakingError::EmptyPool);
    } else {
        checked_mul_div(amount, op.shares, op.tokens).ok_or(StakingError::Overflow)?
    };
    op.tokens = op
        .tokens
        .checked_add(amount)
        .ok_or(StakingError::Overflow)?;
    op.shares = op
        .shares
        .checked_add(new_shares)
        .ok_or(StakingError::Overflow)?;
    Ok(new_shares)
}

/// Burns the shares worth `amount` tokens (rounded up: the pool keeps the dust) and takes the
/// tokens out. Returns the shares burned.
pub fn withdraw(op: &mut Operator, held: u128, amount: u128) -> Result<u128, StakingError> {
    let available = op.tokens_for(held);
    if amount > available || op.tokens == 0 {
        return Err(StakingError::InsufficientDelegation {
            available,
            requested: amount,
        });
    }
    let burned = checked_mul_div_ceil(amount, op.shares, op.tokens)
        .ok_or(StakingError::Overflow)?
        .min(held);
    op.tokens -= amount;
    op.shares -= burned;
    if op.shares == 0 {
        // No shares left: any dust tokens have no owner; they stay in the pool for the next
        // delegator (deposit with shares == 0 issues shares 1:1), and the invariant still holds.
    }
    Ok(burned)
}

/// What [`reward`] paid an operator: `commission + to_pool` is the amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reward {
    /// `⌊amount × commission_ppm / 1e6⌋`, to the operator's account.
    pub commission: u128,
    /// The rest, into the operator's pool (`bonded_pool`).
    pub to_pool: u128,
}

/// Pays `amount` from the module account `from` to an operator, the one way every payout to an
/// operator is split (staking's epoch fees, tasks' member pay, issuance's period payout):
/// `commission = ⌊amount × commission_ppm / 1e6⌋` to the operator's account, the rest into its
/// pool (moved to `bonded_pool`, raising `op.tokens` and so every delegation's value). `op` is
/// stored. Which operators are paid, and where a skipped one's share goes, is the caller's
/// policy; the caller also checks that `from` holds `amount`, so a failed transfer halts.
pub fn reward(
    state: &mut impl StateWrite,
    from: &Address,
    op: &mut Operator,
    amount: u128,
) -> Reward {
    let commission = ppm_of(amount, op.commission_ppm);
    let to_pool = amount - commission;
    bank::move_or_halt(state, from, &op.address, commission);
    bank::move_or_halt(state, from, &bank::BONDED_POOL.address(), to_pool);
    op.tokens = op.tokens.checked_add(to_pool).unwrap_or_else(|| {
        fatal(&format!(
            "staking: operator {}'s pool overflows u128",
            op.address
        ))
    });
    put_operator(state, op);
    Reward {
        commission,
        to_pool,
    }
}
