//! bank's stored records and typed accessors.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::Serialize;

use super::keys;
use crate::crypto::Address;
use crate::serde_u128;
use crate::state::{fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize,
)]
pub struct Account {
    #[serde(with = "serde_u128")]
    pub balance: u128,
    /// The nonce the account's next tx must carry.
    pub nonce: u64,
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize,
)]
pub struct Supply {
    /// The sum of every balance, module accounts included.
    #[serde(with = "serde_u128")]
    pub total_supply: u128,
    #[serde(with = "serde_u128")]
    pub genesis_supply: u128,
    #[serde(with = "serde_u128")]
    pub minted: u128,
    #[serde(with = "serde_u128")]
    pub burned: u128,
    #[serde(with = "serde_u128")]
    pub max_supply: u128,
}

/// The account at `address` (a zero account if it was never written).
pub fn account(state: &impl StateRead, address: &Address) -> Account {
    state.get(&keys::account(address)).unwrap_or_default()
}

pub fn put_account(state: &mut impl StateWrite, address: &Address, account: &Account) {
    state.put(keys::account(address), account)
}

pub fn supply(state: &impl StateRead) -> Supply {
    state
        .get(keys::SUPPLY)
        .unwrap_or_else(|| fatal("bank/supply is missing: the chain has no genesis"))
}

pub fn put_supply(state: &mut impl StateWrite, supply: &Supply) {
    state.put(keys::SUPPLY.to_vec(), supply)
}
