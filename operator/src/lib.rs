//! `nodeop-operator`: the agent that serves an operator's (and a coprocessor's) task duties
//! with nobody at the keyboard (PROTOCOL.md §0, docs/operator.md).
//!
//! - [`chain`] — the chain behind a trait: CometBFT RPC ([`chain::rpc::RpcChain`]) for the
//!   binary, the real app in process for the tests.
//! - [`duty`] — one duty per (task, round, slot) and its states.
//! - [`store`] — the redb store every duty is written to before any tx it sends.
//! - [`agent`] — the step: catch up on blocks, reconcile duties with the chain, send txs
//!   (nonce management, resend after a lookup by hash, fee 0 for duties), auctions.
//! - [`executor`] — `exec`, `http`, `sha256`, `echo`; reference payloads checked by SHA-256.
//! - [`metrics`] — Prometheus text and the `/status` endpoint.
//! - [`config`] — `operator.toml`.
//!
//! Keys, tx building and signing, queries and the result codec are the client library's.

pub mod agent;
pub mod chain;
pub mod config;
pub mod duty;
pub mod executor;
pub mod metrics;
pub mod store;

#[cfg(test)]
mod tests;
