//! staking — operators, delegation, unbonding, the CometBFT validator set, liveness, consensus
//! evidence and epochs (PROTOCOL.md §1, §3.2).
//!
//! Every operator has a pool `{tokens, shares}`. Delegations hold shares; a slash lowers the
//! pool's tokens, so every delegator bears it without a write per delegator, and rewards paid to
//! the pool raise every delegation's value (auto-compounding). All pooled tokens sit in the
//! `bonded_pool` module account; undelegated tokens wait in `unbonding_pool` until their
//! completion time, and stay slashable for infractions committed before they left.
//!
//! State keys: see [`keys`]. Hooks (run by the App, in this order):
//! - begin block: consensus evidence ([`evidence`]), liveness from the last commit
//!   ([`liveness`]), epoch boundaries ([`epochs`]);
//! - end block: matured unbonding entries are paid; the validator set is recomputed and its
//!   changes returned to CometBFT ([`validator_set`]).
//!
//! Invariants ([`invariants`]): bonded_pool == Σ pool tokens; unbonding_pool == Σ unbonding
//! entries; Σ delegation shares of an operator == its pool shares; the set reported to CometBFT
//! == the top operators by tokens.

pub mod component;
pub mod epochs;
pub mod error;
pub mod events;
pub mod evidence;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod liveness;
pub mod msg;
pub mod params;
pub mod query;
pub mod state;
pub mod validator_set;

pub use error::{StakingError, CODESPACE};
pub use genesis::StakingGenesis;
pub use msg::{MsgDelegate, MsgEditOperator, MsgRegisterOperator, MsgUndelegate, MsgUnjail};
pub use params::StakingParams;
pub use state::{Delegation, Operator, UnbondingEntry};

use sha2::{Digest, Sha256};

/// CometBFT's address of an ed25519 consensus key: the first 20 bytes of its SHA-256.
pub fn consensus_address(pubkey: &[u8; 32]) -> [u8; 20] {
    let digest = Sha256::digest(pubkey);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

/// Tombstones an operator for good (a proven Byzantine act): it can never unjail and leaves the
/// validator set at the end of the block. The one way another module changes an operator's
/// status; an unknown address is a no-op.
pub fn tombstone(state: &mut impl crate::state::StateWrite, operator: &crate::crypto::Address) {
    if let Some(mut op) = state::operator(state, operator) {
        op.tombstoned = true;
        state::put_operator(state, &op);
    }
}
