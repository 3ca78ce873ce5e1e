//! reputation's query paths (under `/reputation/`; see docs/reputation.md):
//! `operator/{address}` (computed: every component, the score, the factors, the load curve),
//! `record/{address}` and `params` (provable records).

use serde::Serialize;

use super::score::{self, Components};
use super::state::{params, record, OperatorReputation};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::modules::staking;
use crate::query::{json, listing, Target};
use crate::records::Record;
use crate::serde_u128;
use crate::state::StateRead;

/// `/reputation/operator/{address}`: an operator's reputation now (computed at the latest
/// height, not proven; the stored record behind it is `counters`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OperatorReputationView {
    pub address: Address,
    /// Whether staking knows the address as an operator.
    pub registered: bool,
    #[serde(with = "serde_u128")]
    pub bonded_tokens: u128,
    pub components: Components,
    pub score_ppm: u32,
    pub byz_factor_ppm: u32,
    pub effective_score_ppm: u32,
    pub load_ppm: u32,
    pub reward_weight_ppm: u32,
    pub load_amplification_ppm: u32,
    /// The stored record (`/reputation/record/{address}` reads it with a proof).
    pub counters: OperatorReputation,
}

/// Everything about `operator`'s reputation now.
pub fn operator_view(state: &impl StateRead, operator: &Address) -> OperatorReputationView {
    let p = params(state);
    let op = staking::state::operator(state, operator);
    let bonded_tokens = op.as_ref().map(|o| o.tokens).unwrap_or(0);
    let counters = record(state, operator);
    let components = Components::of(&counters, bonded_tokens, &p);
    let score_ppm = components.score_ppm(&p);
    OperatorReputationView {
        address: *operator,
        registered: op.is_some(),
        bonded_tokens,
        components,
        score_ppm,
        byz_factor_ppm: counters.byz_factor_ppm,
        effective_score_ppm: score::effective_ppm(score_ppm, counters.byz_factor_ppm),
        load_ppm: counters.load_ppm,
        reward_weight_ppm: score::reward_weight_ppm(counters.load_ppm, &p),
        load_amplification_ppm: score::load_amplification_ppm(counters.load_ppm, &p),
        counters,
    }
}

pub(crate) fn route(path: &str, _args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["operator", addr] => {
            let address = parse_address(addr)?;
            Ok(listing(move |app| {
                json(&operator_view(app.storage(), &address))
            }))
        }
        ["record", addr] => Ok(Target::Record(Record::Reputation(parse_address(addr)?))),
        ["params"] => Ok(Target::Record(Record::ReputationParams)),
        _ => Err(QueryError::UnknownPath(format!(
            "/reputation/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}

fn parse_address(s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| QueryError::BadArgument(format!("address {s:?}: {e}")))
}
