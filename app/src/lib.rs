//! nodeop's state machine.
//!
//! nodeop is a CometBFT application chain that coordinates a restaking service: it holds
//! operators' stake, assigns them tasks, aggregates their results, pays and penalises them
//! (`PROTOCOL.md`). This crate is the deterministic part: given the same genesis and the same
//! blocks it produces the same state and app hash on every machine.
//!
//! - [`app::App`] — the block lifecycle (InitChain, CheckTx, PrepareProposal, ProcessProposal,
//!   FinalizeBlock, Commit, Query) over domain types; `nodeopd` translates ABCI to these.
//! - [`state`] — the authenticated store (Jellyfish Merkle Tree over redb) and overlays.
//! - [`tx`] — the envelope, sign bytes and stateless checks; [`cosmos`] — the Cosmos SDK
//!   envelope and the queries wallets make; [`error`] — stable codes.
//! - [`modules`] — bank, staking, reputation, issuance, slashing, tasks, layered without cycles;
//!   [`modules::MODULES`] is the one table the lifecycle, genesis, export, invariants and query
//!   routing follow; [`component::Component`] is the contract every module implements, and
//!   [`hooks::Hooks`] the calls a lower module makes into a higher one (`docs/architecture.md`).
//! - [`block`] — the block context and the ABCI request/response types; [`num`] — ppm and the
//!   one exact `mul_div`.
//! - [`genesis::AppState`] — the genesis content of every module.
//!
//! Rules that hold everywhere here: no floats, no clock, no environment, no randomness, no
//! unordered maps (enforced by `clippy.toml`); checked arithmetic on amounts; a user's tx may fail
//! but never panic the node; a broken invariant halts it with a message naming the invariant.

pub mod app;
pub mod block;
pub mod component;
pub mod cosmos;
pub mod crypto;
pub mod error;
pub mod events;
pub mod genesis;
pub mod hooks;
pub mod modules;
pub mod num;
pub mod params;
pub mod query;
pub mod records;
pub mod serde_base64_32;
pub mod serde_u128;
pub mod state;
pub mod tx;

pub use app::{App, AppOptions, MempoolLimits};
