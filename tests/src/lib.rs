//! Process harness for nodeop's end-to-end tests, beside the scenario tests (`tests/*.rs`) and
//! the benchmarks (`src/bin/`). The in-process chain those use is the `nodeop-driver` crate.
//!
//! - [`codes`]: the (codespace, code) pairs a refused tx may carry, for the property tests.
//! - [`net`]: one node's processes (nodeopd + cometbft) in a [`net::Node`]: init, start, stop,
//!   crash (SIGKILL), pause (SIGSTOP/SIGCONT), RPC, queries, the `nodeop` CLI and log tails;
//!   used alone by single-node tests.
//! - [`testnet`]: a real network of several [`net::Node`]s sharing one genesis, with crashes,
//!   restarts, forged double-sign evidence and transfers streaming in.

pub mod codes;
pub mod net;
pub mod testnet;
