//! The chain's modules and the one table the App follows.
//!
//! Layers, lowest first; a module imports only modules on lower layers (a test checks it):
//!
//! ```text
//! bank ← staking ← reputation ← {issuance, slashing} ← tasks ← coprocessors
//! ```
//!
//! - [`bank`]: balances, accounts' nonces, module accounts, the supply record.
//! - [`staking`]: operators, delegation, the validator set, liveness, consensus evidence, epochs.
//! - [`reputation`]: operator scores, the Byzantine factor, the load state.
//! - [`issuance`]: demand-driven mint, payout by work, vesting, the supply history.
//! - [`slashing`]: slash proposals with dispute windows, votes, execution, the downtime SLA.
//! - [`tasks`]: tasks, committees, commit–reveal, aggregation, rewards, submission windows.
//! - [`coprocessors`]: collateralised coprocessors, Dutch auctions of members' task slots.
//!
//! [`MODULES`] is the order of genesis, begin block, message routing, invariants, export and
//! query routing; end block runs in reverse (`docs/architecture.md`). Where a lower module must
//! let a higher one act, it calls a [`crate::hooks::Hooks`] field, which the App wires.

pub mod bank;
pub mod coprocessors;
pub mod issuance;
pub mod reputation;
pub mod slashing;
pub mod staking;
pub mod tasks;

use crate::component::Component;

/// The layers, lowest first. A module may import modules of lower layers only, never one of its
/// own layer or above (`app/tests/modules_import_only_lower_layers.rs` reads the sources to check
/// it); [`MODULES`] lists them in this order.
pub const LAYERS: &[&[&str]] = &[
    &["bank"],
    &["staking"],
    &["reputation"],
    &["issuance", "slashing"],
    &["tasks"],
    &["coprocessors"],
];

/// Every module, lowest layer first. Adding a module is its folder, a `pub mod` line above, its
/// name in [`LAYERS`] and a row here.
pub const MODULES: &[&dyn Component] = &[
    &bank::component::Bank,
    &staking::component::Staking,
    &reputation::component::Reputation,
    &issuance::component::Issuance,
    &slashing::component::Slashing,
    &tasks::component::Tasks,
    &coprocessors::component::Coprocessors,
];

/// The module named `name`.
pub fn module(name: &str) -> Option<&'static dyn Component> {
    MODULES.iter().copied().find(|m| m.name() == name)
}
