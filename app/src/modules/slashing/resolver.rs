//! Who decides a disputed proposal. A resolver is chosen by offence when the dispute opens and
//! stored in the proposal, so a proposal keeps its resolver even if the mapping changes later.
//! Today every offence goes to the validators' vote; the task module adds re-execution for
//! `result_mismatch` by extending [`Resolver`] and [`resolver_for`].
//!
//! The vote: validators of the current set (not the accused) vote with their power until
//! `vote_period` has passed; quorum is 1/3 of the set's power (the accused's excluded); upheld if
//! yes > 1/2 of the power cast; a tie or a missed quorum overturns.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::msg::Offence;
use super::state::Dispute;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Resolver {
    ValidatorVote,
}

pub fn resolver_for(_offence: Offence) -> Resolver {
    Resolver::ValidatorVote
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
    }
}
