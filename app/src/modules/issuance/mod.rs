//! issuance — demand-driven issuance and vesting (PROTOCOL.md §3.6).
//!
//! The `record_*` functions are what other modules call as things happen; the module turns them
//! into the period's revenue, the payout by work and the per-epoch metrics.

pub mod error;

use borsh::{BorshDeserialize, BorshSerialize};

pub use error::{IssuanceError, CODESPACE};

use crate::crypto::Address;
use crate::state::StateWrite;

/// The beneficiary claims what has vested and is not yet claimed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgClaimVested {}

/// Task fees settled (kept by the chain, not refunded) this block: revenue of the period.
pub fn record_revenue(_state: &mut impl StateWrite, _amount: u128) {}

/// Task pay an operator earned (before commission): the basis of the payout by work.
pub fn record_work(_state: &mut impl StateWrite, _operator: &Address, _pay: u128) {}

/// A task finalized `latency_blocks` after it was posted.
pub fn record_task_finalized(_state: &mut impl StateWrite, _latency_blocks: u64) {}

/// A task failed (no quorum twice) or went undelivered.
pub fn record_task_failed(_state: &mut impl StateWrite) {}

/// An operator failed a duty or disagreed with an aggregate this epoch (fault tolerance F).
pub fn record_faulty_operator(_state: &mut impl StateWrite, _operator: &Address) {}

/// Stake slashed (executed proposals and consensus evidence), unop.
pub fn record_penalty(_state: &mut impl StateWrite, _amount: u128) {}
