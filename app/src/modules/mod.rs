//! The chain's modules, in the order their block hooks run.
//!
//! - [`bank`]: balances, accounts' nonces, module accounts, the supply record.
//! - [`staking`]: operators, delegation, the validator set, liveness, consensus evidence, epochs.
//! - [`slashing`]: slash proposals with dispute windows, votes, execution, the downtime SLA.
//! - [`reputation`]: operator scores, the Byzantine factor, the load state.
//! - [`tasks`]: tasks, committees, commit–reveal, aggregation, rewards, submission windows.
//! - [`issuance`]: demand-driven mint, payout by work, vesting, the supply history.

pub mod bank;
pub mod issuance;
pub mod reputation;
pub mod slashing;
pub mod staking;
pub mod tasks;
