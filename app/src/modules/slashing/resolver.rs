//! Who decides a disputed proposal. A resolver is chosen by offence when the dispute opens and
//! stored in the proposal, so a proposal keeps its resolver even if the mapping changes later.
//! A disputed `result_mismatch` goes to **re-execution** (the task module runs the task again
//! with a fresh committee, started through `Hooks::start_reexecution`) when the original task is still
//! in state and a committee can be drawn; every other offence, and a result mismatch whose
//! re-execution cannot run or reaches no quorum, goes to the validators' **vote**.
//!
//! Re-execution is decided by heights, not time: while it runs the proposal has no entry in
//! the deadline queue and `decides_at` is `i64::MAX`; the task module calls
//! [`conclude_reexecution`] in the end block where the re-execution task aggregates. Upheld and
//! overturned go through the same execution and overturn paths as a vote; no quorum opens a
//! vote of `vote_period` from that block.
//!
//! The vote: validators of the current set (not the accused) vote with their power until
//! `vote_period` has passed; quorum is 1/3 of the set's power (the accused's excluded); upheld if
//! yes > 1/2 of the power cast; a tie or a missed quorum overturns.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::msg::Offence;
use super::state::{proposal, Dispute, ProposalStatus};
use super::{component, handler};
use crate::block::BlockCtx;
use crate::events::Event;
use crate::hooks::Hooks;
use crate::state::StateWrite;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Resolver {
    ValidatorVote,
    /// A re-execution task decides (result mismatches).
    Reexecution {
        task_id: u64,
    },
}

/// Whether disputes of this offence try re-execution before the vote.
pub fn reexecutes(offence: Offence) -> bool {
    offence == Offence::ResultMismatch
}

/// The outcome of a re-execution for its proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReexecVerdict {
    Upheld,
    Overturned,
    NoQuorum,
}

impl ReexecVerdict {
    pub fn name(&self) -> &'static str {
        match self {
            ReexecVerdict::Upheld => "upheld",
            ReexecVerdict::Overturned => "overturned",
            ReexecVerdict::NoQuorum => "no_quorum",
        }
    }
}

/// Applies a re-execution's verdict to the disputed proposal `id`. Nothing happens if the
/// proposal is not (any more) waiting for that re-execution.
pub fn conclude_reexecution(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    id: u64,
    verdict: ReexecVerdict,
    hooks: &Hooks,
) -> Vec<Event> {
    let Some(prop) = proposal(state, id) else {
        return Vec::new();
    };
    let waiting = prop.status == ProposalStatus::Disputed
        && matches!(
            prop.dispute.as_ref().map(|d| d.resolver),
            Some(Resolver::Reexecution { .. })
        );
    if !waiting {
        return Vec::new();
    }
    match verdict {
        ReexecVerdict::Upheld => vec![component::execute(state, ctx, prop, hooks)],
        ReexecVerdict::Overturned => vec![component::overturn(state, ctx, prop, "reexecution")],
        ReexecVerdict::NoQuorum => vec![handler::open_vote(
            state,
            ctx,
            prop,
            "reexecution_no_quorum",
        )],
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Upheld,
    Overturned { reason: &'static str },
}

/// The verdict of a dispute whose time has come.
pub fn verdict(dispute: &Dispute) -> Verdict {
    match dispute.resolver {
        Resolver::ValidatorVote => {
            let cast = u128::from(dispute.yes_power) + u128::from(dispute.no_power);
            // quorum: cast ≥ 1/3 of the eligible power, compared without division
            if cast * 3 < u128::from(dispute.eligible_power) || cast == 0 {
                return Verdict::Overturned {
                    reason: "no_quorum",
                };
            }
            if u128::from(dispute.yes_power) * 2 > cast {
                Verdict::Upheld
            } else if dispute.yes_power == dispute.no_power {
                Verdict::Overturned { reason: "tie" }
            } else {
                Verdict::Overturned {
                    reason: "voted_down",
                }
            }
        }
        // re-execution has no deadline entry; it is concluded by the task module
        Resolver::Reexecution { .. } => Verdict::Overturned {
            reason: "reexecution_without_verdict",
        },
    }
}
