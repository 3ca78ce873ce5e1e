//! bank's messages.

use borsh::{BorshDeserialize, BorshSerialize};

use super::BankError;
use crate::crypto::Address;

/// Moves `amount` unop from the signer to `to` (a bech32 `nodeop1…` address, so that a
/// mistyped or foreign-chain address is refused before it can lose funds).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgSend {
    pub to: String,
    pub amount: u128,
}

pub fn check_send_stateless(msg: &MsgSend) -> Result<Address, BankError> {
    if msg.amount == 0 {
        return Err(BankError::ZeroAmount);
    }
    Address::parse(&msg.to).map_err(|e| BankError::InvalidAddress {
        address: msg.to.chars().take(100).collect(),
        reason: e.to_string(),
    })
}
