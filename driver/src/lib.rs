//! The in-process driver of nodeop: the real [`nodeop_app::App`] run block by block without
//! sockets or processes, shared by the scenario tests, the benchmarks and the client's tests.
//!
//! - [`chain`]: a mock consensus ([`chain::TestChain`]) that plays CometBFT's part (InitChain,
//!   PrepareProposal, ProcessProposal, FinalizeBlock, Commit), test keys ([`chain::Key`]) that
//!   sign real txs, and genesis builders.
//! - [`cosmos`]: Cosmos-envelope txs (`TxRaw`, `SIGN_MODE_DIRECT`) signed by test keys, with
//!   every field open to change before signing.
//! - [`tasks`]: a chain with N operators, committee members that answer, lie or stay silent,
//!   and reads of tasks, proposals and reputation.
//! - [`issuance`]: short issuance periods on a task chain, vesting, period records and supply
//!   reads.
//! - [`workload`]: seeded transfer workloads shared by the determinism test and the benchmarks.
//! - [`rng`]: a small seeded generator, so every randomised test and simulation records its seed
//!   and can be replayed exactly.
//!
//! Messages are built with the app's own builders ([`nodeop_app::tx::Msg::send`], …); what this
//! crate adds is test defaults around them (a derived salt, a task with a fixed payload).

pub mod chain;
pub mod coprocessors;
pub mod cosmos;
pub mod issuance;
pub mod rng;
pub mod tasks;
pub mod workload;
