//! slashing's records.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::msg::{Evidence, Offence};
use super::params::SlashingParams;
use super::resolver::Resolver;
use crate::crypto::Address;
use crate::modules::staking::state::SlashRecord;
use crate::serde_u128;
use crate::state::{fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for its deadline; the accused may dispute.
    Pending,
    /// Disputed; its resolver decides.
    Disputed,
    /// Executed (undisputed, or upheld).
    Executed,
    /// Overturned by its resolver.
    Overturned,
}

impl ProposalStatus {
    pub fn name(&self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Disputed => "disputed",
            ProposalStatus::Executed => "executed",
            ProposalStatus::Overturned => "overturned",
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, ProposalStatus::Pending | ProposalStatus::Disputed)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Dispute {
    pub reason: String,
    #[serde(with = "serde_u128")]
    pub bond: u128,
    pub opened_height: u64,
    pub resolver: Resolver,
    /// When the resolver decides (the end of the vote).
    pub decides_at: i64,
    /// Voting power of the set at the dispute, the accused's excluded (the quorum's base).
    pub eligible_power: u64,
    pub yes_power: u64,
    pub no_power: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proposal {
    pub id: u64,
    pub operator: Address,
    pub offence: Offence,
    pub evidence: Evidence,
    pub infraction_id: u64,
    pub infraction_height: u64,
    #[serde(with = "serde_u128")]
    pub stake_at_infraction: u128,
    /// What the slash asks for: stake × fraction × factor × load amplification.
    #[serde(with = "serde_u128")]
    pub amount: u128,
    /// `None` for automatic proposals.
    pub reporter: Option<Address>,
    #[serde(with = "serde_u128")]
    pub reporter_bond: u128,
    pub created_height: u64,
    pub deadline: i64,
    pub status: ProposalStatus,
    pub dispute: Option<Dispute>,
    /// Set once executed.
    pub outcome: Option<SlashRecord>,
    pub closed_height: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Vote {
    pub proposal: u64,
    pub voter: Address,
    pub uphold: bool,
    pub power: u64,
    pub height: u64,
}

pub fn params(state: &impl StateRead) -> SlashingParams {
    state
        .get(keys::PARAMS)
        .unwrap_or_else(|| fatal("slashing/params is missing: no genesis"))
}

pub fn proposal(state: &impl StateRead, id: u64) -> Option<Proposal> {
    state.get(&keys::proposal(id))
}

pub fn put_proposal(state: &mut impl StateWrite, p: &Proposal) {
    state.put(keys::proposal(p.id), p)
}

pub fn next_id(state: &mut impl StateWrite) -> u64 {
    let id: u64 = state.get(keys::NEXT_ID).unwrap_or(1);
    state.put(keys::NEXT_ID.to_vec(), &(id + 1));
    id
}
