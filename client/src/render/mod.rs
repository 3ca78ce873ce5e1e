//! Text for people: how records, listings and answers read on a terminal. The JSON output is
//! the records themselves (serde); these are only their text form.
//!
//! - [`staking`] — operators, validators, delegations, unbonding, slashes, params, the epoch.
//! - [`slashing`] — proposals, disputes, evidence, votes, params.
//! - [`tasks`] — tasks, schedules, results, price, capacity, load, params.
//! - [`coprocessors`] — coprocessors, auctions and their listings.
//! - [`reputation`] — an operator's reputation.
//! - [`issuance`] — supply, subsidy, periods, payouts, metrics, vesting, params.
//! - [`tx`] — a tx's result in its block.

pub mod coprocessors;
pub mod issuance;
pub mod reputation;
pub mod slashing;
pub mod staking;
pub mod tasks;
pub mod tx;
