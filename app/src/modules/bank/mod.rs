//! bank — balances, nonces, module accounts and the supply record (PROTOCOL.md §3.1).
//!
//! State keys (see [`keys`]):
//! - `bank/acct/{address:20}` → [`Account`] `{ balance, nonce }`. The nonce is the count of the
//!   account's executed txs; it lives beside the balance so that a transfer touches one record
//!   per account.
//! - `bank/supply` → [`Supply`] `{ total_supply, genesis_supply, minted, burned, max_supply }`.
//!
//! Module accounts (`treasury`, `fee_pool`, `task_escrow`, `bonded_pool`, `unbonding_pool`,
//! `reward_pool`, `dispute_escrow`) are ordinary accounts at [`crate::crypto::Address::module`]
//! addresses that no key controls.
//!
//! Messages: [`MsgSend`]. Hooks: none yet. Invariant ([`invariants::check_supply`]): the sum of all
//! balances equals `total_supply = genesis_supply + minted − burned ≤ max_supply`; checked after
//! every block in debug and test builds.

pub mod error;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod msg;
pub mod state;

pub use error::{BankError, CODESPACE};
pub use handler::{burn, charge_fee, mint, transfer};
pub use msg::{check_send_stateless, MsgSend};
pub use state::{account, supply, Account, Supply};

/// The named module accounts, in a fixed order.
pub const MODULE_ACCOUNTS: [&str; 7] = [
    "treasury",
    "fee_pool",
    "task_escrow",
    "bonded_pool",
    "unbonding_pool",
    "reward_pool",
    "dispute_escrow",
];

pub const UNOP_PER_NOP: u128 = 1_000_000;
