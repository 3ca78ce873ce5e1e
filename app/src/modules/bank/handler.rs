//! bank's state transitions. Every amount is checked; nothing here can panic on user input.

use super::state::{account, put_account, put_supply, supply};
use super::{check_send_stateless, BankError, MsgSend};
use crate::crypto::Address;
use crate::events::Event;
use crate::state::StateWrite;

/// Moves `amount` from `from` to `to`.
pub fn transfer(
    state: &mut impl StateWrite,
    from: &Address,
    to: &Address,
    amount: u128,
) -> Result<(), BankError> {
    let mut sender = account(state, from);
    sender.balance = sender
        .balance
        .checked_sub(amount)
        .ok_or(BankError::InsufficientFunds {
            balance: sender.balance,
            needed: amount,
        })?;
    if from == to {
        return Ok(());
    }
    let mut recipient = account(state, to);
    recipient.balance = recipient
        .balance
        .checked_add(amount)
        .ok_or(BankError::Overflow)?;
    put_account(state, from, &sender);
    put_account(state, to, &recipient);
    Ok(())
}

/// Executes a [`MsgSend`] signed by `signer`.
pub fn send(
    state: &mut impl StateWrite,
    signer: &Address,
    msg: &MsgSend,
) -> Result<Vec<Event>, BankError> {
    let to = check_send_stateless(msg)?;
    transfer(state, signer, &to, msg.amount)?;
    Ok(vec![Event::new(super::events::TRANSFER)
        .attr("sender", signer)
        .attr("recipient", to)
        .attr("amount", msg.amount)])
}

/// Charges a tx fee into the fee pool and advances the signer's nonce. `payer` is the signer's
/// account as just read from `state` (the caller has checked its nonce).
pub fn charge_fee(
    state: &mut impl StateWrite,
    signer: &Address,
    mut payer: super::Account,
    fee: u128,
    fee_pool: &Address,
) -> Result<(), BankError> {
    debug_assert_eq!(payer, account(state, signer));
    payer.balance = payer
        .balance
        .checked_sub(fee)
        .ok_or(BankError::InsufficientFunds {
            balance: payer.balance,
            needed: fee,
        })?;
    payer.nonce = payer.nonce.checked_add(1).ok_or(BankError::Overflow)?;
    put_account(state, signer, &payer);
    if fee > 0 {
        let mut pool = account(state, fee_pool);
        pool.balance = pool.balance.checked_add(fee).ok_or(BankError::Overflow)?;
        put_account(state, fee_pool, &pool);
    }
    Ok(())
}

/// Creates `amount` new tokens in `to`. Refused past `max_supply`: this is the only way new
/// tokens come into existence, so the cap holds for every path.
pub fn mint(state: &mut impl StateWrite, to: &Address, amount: u128) -> Result<(), BankError> {
    let mut s = supply(state);
    let total = s
        .total_supply
        .checked_add(amount)
        .ok_or(BankError::Overflow)?;
    if total > s.max_supply {
        return Err(BankError::MaxSupplyExceeded {
            amount,
            total: s.total_supply,
            max: s.max_supply,
        });
    }
    let mut acct = account(state, to);
    acct.balance = acct
        .balance
        .checked_add(amount)
        .ok_or(BankError::Overflow)?;
    s.total_supply = total;
    s.minted = s.minted.checked_add(amount).ok_or(BankError::Overflow)?;
    put_account(state, to, &acct);
    put_supply(state, &s);
    Ok(())
}

/// Destroys `amount` tokens held by `from`.
pub fn burn(state: &mut impl StateWrite, from: &Address, amount: u128) -> Result<(), BankError> {
    let mut acct = account(state, from);
    acct.balance = acct
        .balance
        .checked_sub(amount)
        .ok_or(BankError::InsufficientFunds {
            balance: acct.balance,
            needed: amount,
        })?;
    let mut s = supply(state);
    s.total_supply = s
        .total_supply
        .checked_sub(amount)
        .ok_or(BankError::Overflow)?;
    s.burned = s.burned.checked_add(amount).ok_or(BankError::Overflow)?;
    put_account(state, from, &acct);
    put_supply(state, &s);
    Ok(())
}
