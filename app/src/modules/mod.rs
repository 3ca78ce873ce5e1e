//! The chain's modules, in the order their block hooks run.
//!
//! - [`bank`]: balances, accounts' nonces, module accounts, the supply record.
//! - [`staking`]: operators, delegation, the validator set, liveness, consensus evidence, epochs.
//! - [`slashing`]: slash proposals with dispute windows, votes, execution, the downtime SLA.

pub mod bank;
pub mod slashing;
pub mod staking;
