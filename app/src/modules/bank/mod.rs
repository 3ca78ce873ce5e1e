//! bank — balances, nonces, module accounts and the supply record (PROTOCOL.md §3.1).
//!
//! State keys (see [`keys`]):
//! - `bank/acct/{address:20}` → [`Account`] `{ balance, nonce }`. The nonce is the count of the
//!   account's executed txs; it lives beside the balance so that a transfer touches one record
//!   per account.
//! - `bank/supply` → [`Supply`] `{ total_supply, genesis_supply, minted, burned, max_supply }`.
//!
//! Module accounts (`treasury`, `fee_pool`, `task_escrow`, `bonded_pool`, `unbonding_pool`,
//! `reward_pool`, `dispute_escrow`, `coprocessor_collateral`) are ordinary accounts at [`crate::crypto::Address::module`]
//! addresses that no key controls.
//!
//! Messages: [`MsgSend`]. Hooks: none yet. Invariant ([`invariants::check_supply`]): the sum of all
//! balances equals `total_supply = genesis_supply + minted − burned ≤ max_supply`; checked after
//! every block in debug and test builds.

pub mod component;
pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod msg;
pub mod query;
pub mod state;

pub use error::{BankError, CODESPACE};
pub use handler::{burn, charge_fee, mint, transfer};
pub use msg::{check_send_stateless, MsgSend};
pub use state::{account, supply, Account, Supply};

use crate::crypto::Address;
use crate::state::{fatal, StateWrite};

/// An account that no key controls, named in the protocol (PROTOCOL.md §3.1). Its address is
/// [`Address::module`] of its name; code names it by one of the constants below, so that a typo
/// is a compile error rather than a new, keyless account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleAccount(&'static str);

impl ModuleAccount {
    pub const fn name(self) -> &'static str {
        self.0
    }

    pub fn address(self) -> Address {
        Address::module(self.0)
    }

    /// The module account of this name, if there is one.
    pub fn by_name(name: &str) -> Option<ModuleAccount> {
        MODULE_ACCOUNTS.into_iter().find(|m| m.0 == name)
    }

    /// The module account at this address, if it is one.
    pub fn at(address: &Address) -> Option<ModuleAccount> {
        MODULE_ACCOUNTS
            .into_iter()
            .find(|m| m.address() == *address)
    }
}

/// Protocol fees, remainders of every split, the slashed share not burned or paid.
pub const TREASURY: ModuleAccount = ModuleAccount("treasury");
/// Tx fees, paid to validators by power at each epoch.
pub const FEE_POOL: ModuleAccount = ModuleAccount("fee_pool");
/// Fees of open tasks.
pub const TASK_ESCROW: ModuleAccount = ModuleAccount("task_escrow");
/// Every operator pool's tokens.
pub const BONDED_POOL: ModuleAccount = ModuleAccount("bonded_pool");
/// Undelegated tokens until their completion time.
pub const UNBONDING_POOL: ModuleAccount = ModuleAccount("unbonding_pool");
/// A period's mint until it is paid out by work.
pub const REWARD_POOL: ModuleAccount = ModuleAccount("reward_pool");
/// Report and dispute bonds of open slash proposals.
pub const DISPUTE_ESCROW: ModuleAccount = ModuleAccount("dispute_escrow");

/// Coprocessors' collateral: free, locked by won auctions, and pending withdrawal.
pub const COPROCESSOR_COLLATERAL: ModuleAccount = ModuleAccount("coprocessor_collateral");

/// The module accounts, in a fixed order (genesis, export and `/module-accounts` follow it).
pub const MODULE_ACCOUNTS: [ModuleAccount; 8] = [
    TREASURY,
    FEE_POOL,
    TASK_ESCROW,
    BONDED_POOL,
    UNBONDING_POOL,
    REWARD_POOL,
    DISPUTE_ESCROW,
    COPROCESSOR_COLLATERAL,
];

/// Moves `amount` between accounts where the caller has checked that `from` holds it (payouts
/// from module accounts): a failure is an impossible state and halts the node. Moving 0 is a
/// no-op.
pub fn move_or_halt(state: &mut impl StateWrite, from: &Address, to: &Address, amount: u128) {
    if amount == 0 {
        return;
    }
    if let Err(e) = transfer(state, from, to, amount) {
        fatal(&format!(
            "moving {amount} unop from {from} to {to} failed: {e}"
        ));
    }
}

pub const UNOP_PER_NOP: u128 = 1_000_000;
