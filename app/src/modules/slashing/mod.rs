//! slashing — slash proposals with dispute windows (PROTOCOL.md §3.5).
//!
//! A proposal names an operator, an offence and its evidence. Reporters file them with a bond
//! (`ProposeSlash`); other modules raise automatic ones ([`handler::propose_automatic`]: the
//! downtime SLA at every period's end, result mismatches from the task module). Evidence the chain
//! can check (two conflicting signed result attestations for `equivocation`) is checked at once.
//! The accused may `DisputeSlash` before the deadline with a bond; a resolver then decides: the
//! validators' vote ([`resolver`]), or later re-execution for result mismatches. Undisputed
//! proposals execute in the first block at or past their deadline, disputed ones when their
//! resolver decides. Execution takes the stake through [`crate::modules::staking::evidence::slash`]
//! (post-infraction unbonding entries pay their part, the pool the rest); 50 % is burned, 30 %
//! goes to the reporter (the treasury for automatic proposals), 20 % and the rounding to the
//! treasury. While a proposal against an operator is pending, its unbonding entries are not paid
//! out, so no stake leaves before the slash lands.
//!
//! State keys: see [`keys`]. Hooks: begin block ([`component::begin_block`]: the downtime SLA at
//! period ends), end block ([`component::end_block`]: deadlines and tallies). Invariant
//! ([`invariants`]): `dispute_escrow` == the bonds of open proposals.

pub mod component;
pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod msg;
pub mod params;
pub mod query;
pub mod resolver;
pub mod state;
pub mod uptime;

pub use error::{SlashingError, CODESPACE};
pub use msg::{
    Attestation, AttestationBody, Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute,
    Offence,
};
pub use params::SlashingParams;
pub use state::{Proposal, ProposalStatus};

use crate::crypto::Address;
use crate::state::StateRead;

/// Whether a proposal against `operator` is open (its unbonding entries wait while one is).
pub fn has_pending(state: &impl StateRead, operator: &Address) -> bool {
    !state
        .prefix_raw(&keys::pending_of(operator), None, 1)
        .is_empty()
}
