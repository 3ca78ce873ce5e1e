//! issuance — demand-driven issuance and vesting (PROTOCOL.md §3.6).

pub mod error;

use borsh::{BorshDeserialize, BorshSerialize};

pub use error::{IssuanceError, CODESPACE};

/// The beneficiary claims what has vested and is not yet claimed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MsgClaimVested {}
