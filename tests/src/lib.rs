//! Test support for nodeop.
//!
//! - [`harness`]: a mock consensus that drives the real [`nodeop_app::App`] in-process, block by
//!   block (InitChain, PrepareProposal, ProcessProposal, FinalizeBlock, Commit), with test keys
//!   that sign real txs.
//! - [`rng`]: a small seeded generator, so every randomised test and simulation records its seed
//!   and can be replayed exactly.
//! - [`net`]: one real node (nodeopd + cometbft) for end-to-end tests; [`testnet`]: a real
//!   network of several validators, with crashes, restarts and forged double-sign evidence.
//! - [`issuance`]: short issuance periods on a task chain, vesting, period records and supply
//!   reads.
//! - [`workload`]: seeded transfer workloads shared by the determinism test and the benchmark.
//! - [`tasks`]: a chain with N operators, task messages, members that answer, lie or stay silent.

pub mod harness;
pub mod issuance;
pub mod net;
pub mod rng;
pub mod tasks;
pub mod testnet;
pub mod workload;
