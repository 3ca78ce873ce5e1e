//! nodeop client library: keys, transactions, queries with verified proofs.
//!
//! The `nodeop` binary (src/main.rs and src/cli/) is a command line over these modules; tests
//! and other programs call them directly.
//!
//! - [`keys`] — BIP-39 mnemonics, BIP-32 derivation at m/44'/118'/0'/0/0 (cosmrs), signing (k256).
//! - [`keyring`] — one JSON file per key in `HOME/keyring/`, plain or scrypt + XChaCha20-Poly1305.
//! - [`amount`] — `1500000`, `1500000unop`, `1.5nop` ↔ unop.
//! - [`tx`] — every tx is [`tx::build_tx`] (messages checked as the chain checks them with
//!   [`tx::check_msg`], fee from the encoded size) then [`tx::sign_tx`]. The messages themselves
//!   are the app's builders ([`nodeop_app::tx::Msg::send`], `Msg::delegate`, … and
//!   `Msg::from(MsgX { … })`).
//! - [`node`] — CometBFT RPC: [`node::connect`], [`node::abci_query`] (typed: [`node::query_json`]),
//!   [`node::broadcast_and_wait`],
//!   and [`node::submit`] (ask chain id / nonce / params → build → sign → broadcast → wait), which
//!   every `nodeop tx` command uses; [`node::send`] is one `bank.send`.
//! - [`error`] — the error kinds a caller can tell apart ([`ClientError`]).
//! - [`consensus_key`] — the ed25519 key of a CometBFT `priv_validator_key.json` or base64.
//! - [`staking`] — typed staking reads (`/staking/…`).
//! - [`slashing`] — result attestations ([`slashing::sign_attestation`]; the byte layout is in
//!   the module docs), equivocation evidence checked as the chain checks it
//!   ([`slashing::check_equivocation`]), the slashing submitters ([`slashing::propose_slash`],
//!   [`slashing::dispute_slash`], [`slashing::vote_dispute`]), typed `/slashing/…` reads.
//! - [`tasks`] — posting tasks and the commit–reveal of results; by concern: the result codec
//!   ([`tasks::codec`]), the salt store ([`tasks::salts`]), the `/tasks/…` reads
//!   ([`tasks::reads`]), result paths checked with the app's Merkle tree
//!   ([`tasks::result_path`]).
//! - [`reputation`] — `/reputation/…` reads, and a score recomputed from proven records
//!   ([`reputation::proven`]).
//! - [`issuance`] — `/issuance/…` reads (supply, period records and payouts, subsidy, vesting,
//!   epoch metrics).
//! - [`coprocessors`] — `/coprocessors/…` reads (coprocessors, auctions, bids, an auction's
//!   price, a coprocessor's load), the slot a coprocessor won, an auction's default prices.
//! - [`render`] — text for people of the records above, one module per area.
//! - [`verify`] — proven reads of any [`verify::Record`] (account, supply, raw key, operator,
//!   delegation, unbonding entry, staking params, slash proposal, slashing params, task, task
//!   result record, a block's result root, tasks params, reputation record and params): ICS23 proof
//!   to the app hash, light-client check of header H+1 ([`verify::query_verified`]).

pub mod amount;
pub mod consensus_key;
pub mod coprocessors;
pub mod error;
mod files;
pub mod issuance;
pub mod keyring;
pub mod keys;
pub mod node;
pub mod render;
pub mod reputation;
pub mod slashing;
pub mod staking;
pub mod tasks;
pub mod tx;
pub mod verify;

pub use error::ClientError;
pub use keyring::{KeyInfo, KeySecret, Keyring};
pub use keys::KeyPair;
pub use node::{broadcast_and_wait, connect, send, submit, TxOptions, TxOutcome};
pub use tx::{build_send, build_tx, sign_tx};
pub use verify::{query_verified, Record, VerificationFailed, VerifiedRecord};

/// Serializes bytes as lower-case hex (serde `serialize_with`).
pub fn hex_bytes<S: serde::Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes.as_ref()))
}
