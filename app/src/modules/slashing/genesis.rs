//! slashing's genesis content: params, and (in an export) every proposal, vote, counter.

use serde::{Deserialize, Serialize};

use super::resolver::Resolver;
use super::state::{put_proposal, Proposal, Vote};
use super::uptime::Uptime;
use super::{keys, SlashingParams};
use crate::crypto::Address;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlashingGenesis {
    pub params: SlashingParams,
    pub proposals: Vec<Proposal>,
    pub votes: Vec<Vote>,
    pub next_id: u64,
    pub last_sla_period: u64,
    pub uptime: Vec<(Address, Uptime)>,
}

impl Default for SlashingGenesis {
    fn default() -> Self {
        Self {
            params: SlashingParams::default(),
            proposals: Vec::new(),
            votes: Vec::new(),
            next_id: 1,
            last_sla_period: 0,
            uptime: Vec::new(),
        }
    }
}

impl SlashingGenesis {
    /// The bonds open proposals hold (must equal the `dispute_escrow` balance).
    pub fn escrowed(&self) -> u128 {
        self.proposals
            .iter()
            .filter(|p| p.status.is_open())
            .map(|p| p.reporter_bond + p.dispute.as_ref().map(|d| d.bond).unwrap_or(0))
            .sum()
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = self.params.problems();
        let mut ids = std::collections::BTreeSet::new();
        for p in &self.proposals {
            if !ids.insert(p.id) || p.id >= self.next_id {
                out.push(format!(
                    "slashing.proposals: id {} is repeated or not below next_id",
                    p.id
                ));
            }
        }
        for v in &self.votes {
            if !ids.contains(&v.proposal) {
                out.push(format!(
                    "slashing.votes: proposal {} does not exist",
                    v.proposal
                ));
            }
        }
        out
    }

    pub fn apply(&self, state: &mut impl StateWrite) {
        state.put(keys::PARAMS.to_vec(), &self.params);
        state.put(keys::NEXT_ID.to_vec(), &self.next_id);
        if self.last_sla_period > 0 {
            state.put(keys::LAST_SLA_PERIOD.to_vec(), &self.last_sla_period);
        }
        for p in &self.proposals {
            put_proposal(state, p);
            state.put(
                keys::infraction(&p.operator, p.offence.index(), p.infraction_id),
                &p.id,
            );
            state.put_raw(keys::by_operator(&p.operator, p.id), vec![1]);
            if p.status.is_open() {
                state.put_raw(keys::pending(&p.operator, p.id), vec![1]);
                // a dispute under re-execution is decided by its task, not by a deadline
                let at = match &p.dispute {
                    Some(d) if matches!(d.resolver, Resolver::Reexecution { .. }) => None,
                    Some(d) => Some(d.decides_at),
                    None => Some(p.deadline),
                };
                if let Some(at) = at {
                    state.put_raw(keys::deadline(at, p.id), vec![1]);
                }
            }
        }
        for v in &self.votes {
            state.put(keys::vote(v.proposal, &v.voter), v);
        }
        for (a, u) in &self.uptime {
            state.put(keys::uptime(a), u);
        }
    }
}

impl SlashingGenesis {
    /// The genesis section that reproduces the module's state.
    pub fn export(state: &impl StateRead) -> Self {
        let list = |prefix: &[u8]| state.prefix_raw(prefix, None, usize::MAX);
        SlashingGenesis {
            params: super::state::params(state),
            proposals: list(keys::PROPOSAL_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            votes: list(keys::VOTE_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            next_id: state.get(keys::NEXT_ID).unwrap_or(1),
            last_sla_period: state.get(keys::LAST_SLA_PERIOD).unwrap_or(0),
            uptime: list(keys::UPTIME_PREFIX)
                .iter()
                .filter_map(|(k, v)| {
                    let a = crate::state::keys::address_at(k, keys::UPTIME_PREFIX.len())?;
                    Some((a, decode_stored(k, v)))
                })
                .collect(),
        }
    }
}
