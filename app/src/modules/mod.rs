//! The chain's modules, in the order their block hooks run.
//!
//! - [`bank`]: balances, accounts' nonces, module accounts, the supply record.
//! - [`staking`]: the validator set CometBFT runs with (genesis validators for now).

pub mod bank;
pub mod staking;
