//! slashing's key layout (public API).

use crate::crypto::Address;
use crate::state::keys::time_key;

pub const PARAMS: &[u8] = b"slashing/params";
pub const NEXT_ID: &[u8] = b"slashing/next_id";
pub const PROPOSAL_PREFIX: &[u8] = b"slashing/proposal/";
pub const INFRACTION_PREFIX: &[u8] = b"slashing/infraction/";
pub const PENDING_PREFIX: &[u8] = b"slashing/pending/";
pub const BY_OPERATOR_PREFIX: &[u8] = b"slashing/by_operator/";
pub const DEADLINE_PREFIX: &[u8] = b"slashing/deadline/";
pub const VOTE_PREFIX: &[u8] = b"slashing/vote/";
pub const UPTIME_PREFIX: &[u8] = b"slashing/uptime/";
pub const LAST_SLA_PERIOD: &[u8] = b"slashing/last_sla_period";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `slashing/proposal/{id}` → [`super::Proposal`].
pub fn proposal(id: u64) -> Vec<u8> {
    join(&[PROPOSAL_PREFIX, &id.to_be_bytes()])
}

/// `slashing/infraction/{operator}/{offence}/{infraction id}` → proposal id (one proposal per
/// infraction).
pub fn infraction(operator: &Address, offence: u8, infraction_id: u64) -> Vec<u8> {
    join(&[
        INFRACTION_PREFIX,
        &operator.0,
        b"/",
        &[offence],
        b"/",
        &infraction_id.to_be_bytes(),
    ])
}

/// `slashing/pending/{operator}/{id}` → `[1]` while the proposal is open.
pub fn pending(operator: &Address, id: u64) -> Vec<u8> {
    join(&[PENDING_PREFIX, &operator.0, b"/", &id.to_be_bytes()])
}

pub fn pending_of(operator: &Address) -> Vec<u8> {
    join(&[PENDING_PREFIX, &operator.0, b"/"])
}

/// `slashing/by_operator/{operator}/{id}` → `[1]` (every proposal, for listing).
pub fn by_operator(operator: &Address, id: u64) -> Vec<u8> {
    join(&[BY_OPERATOR_PREFIX, &operator.0, b"/", &id.to_be_bytes()])
}

pub fn by_operator_prefix(operator: &Address) -> Vec<u8> {
    join(&[BY_OPERATOR_PREFIX, &operator.0, b"/"])
}

/// `slashing/deadline/{time}/{id}` → `[1]`: the next decision of an open proposal (its dispute
/// deadline, or its vote deadline once disputed), in time order.
pub fn deadline(time: i64, id: u64) -> Vec<u8> {
    join(&[DEADLINE_PREFIX, &time_key(time), b"/", &id.to_be_bytes()])
}

/// `slashing/vote/{id}/{voter}` → [`super::state::Vote`].
pub fn vote(id: u64, voter: &Address) -> Vec<u8> {
    join(&[VOTE_PREFIX, &id.to_be_bytes(), b"/", &voter.0])
}

pub fn votes_of(id: u64) -> Vec<u8> {
    join(&[VOTE_PREFIX, &id.to_be_bytes(), b"/"])
}

/// `slashing/uptime/{operator}` → [`super::uptime::Uptime`] for the current SLA period.
pub fn uptime(operator: &Address) -> Vec<u8> {
    join(&[UPTIME_PREFIX, &operator.0])
}
