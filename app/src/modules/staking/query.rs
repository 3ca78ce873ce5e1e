//! staking's query paths (under `/staking/`; see docs/queries.md).
//!
//! Provable records: `operator/{addr}`, `delegation/{delegator}/{operator}`,
//! `unbonding-entry/{id}`, `params`. Listings (latest height): `operators`, `validators`,
//! `delegations/{delegator}`, `delegators/{operator}`, `unbonding/{delegator}`,
//! `unbonding-from/{operator}`, `slashes/{operator}`, `signing-info/{operator}`, `epoch`.
//! Long lists page with `?limit=N&after=CURSOR` and answer `{"items": […], "next": CURSOR|null}`.

use serde::{Deserialize, Serialize};

use super::liveness::{signing_info, SigningInfo};
use super::state::{delegation, operator, operators, params, unbonding_entry};
use super::{consensus_address, keys, validator_set, Delegation, Operator, UnbondingEntry};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::{json, listing, Page, Target};
use crate::records::Record;
use crate::serde_u128;
use crate::state::{decode_stored, StateRead, StateReadExt};

/// Views with flattened records. Deserializing a flattened struct goes through serde's untyped
/// buffer, which can hold floats; only clients deserialize views, the state machine never does.
mod flattened {
    #![allow(clippy::disallowed_types)]

    use super::*;

    /// An operator as `/staking/operators` lists it: the record plus its status, power and own bond.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OperatorView {
        #[serde(flatten)]
        pub operator: Operator,
        /// bonded (in the validator set), inactive, jailed or tombstoned
        pub status: String,
        /// Voting power in the set reported to CometBFT (0 when outside it).
        pub power: u64,
        #[serde(with = "serde_u128")]
        pub self_bond: u128,
    }
    /// An operator's liveness record (`start_height`, blocks `missed` in the window).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SigningView {
        pub operator: Address,
        pub consensus_address: String,
        #[serde(flatten)]
        pub info: SigningInfo,
        pub window: u64,
        pub max_missed: u64,
    }
}

pub use flattened::{OperatorView, SigningView};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;

fn address(s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| QueryError::BadArgument(format!("address {s:?}: {e}")))
}

fn arg<'a>(args: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    args.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn limit(args: &[(&str, &str)]) -> Result<usize, QueryError> {
    match arg(args, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| QueryError::BadArgument(format!("limit {v:?} must be 1..={MAX_LIMIT}"))),
    }
}

fn view(state: &impl StateRead, op: Operator) -> OperatorView {
    let power: u64 = state
        .get(&keys::validator_set_member(&op.consensus_pubkey))
        .unwrap_or(0);
    let status = op.status(power);
    OperatorView {
        self_bond: op.self_bond(),
        operator: op,
        status: status.to_string(),
        power,
    }
}

/// A delegation with what its shares are worth now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationView {
    pub delegator: Address,
    pub operator: Address,
    #[serde(with = "serde_u128")]
    pub shares: u128,
    #[serde(with = "serde_u128")]
    pub tokens: u128,
}

fn delegation_view(state: &impl StateRead, d: Delegation) -> DelegationView {
    let tokens = operator(state, &d.operator)
        .map(|o| o.tokens_for(d.shares))
        .unwrap_or(0);
    DelegationView {
        delegator: d.delegator,
        operator: d.operator,
        shares: d.shares,
        tokens,
    }
}

/// A member of the validator set the app last reported to CometBFT (`consensus_pubkey` base64,
/// `consensus_address` CometBFT's upper-case hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorView {
    pub operator: Address,
    pub moniker: String,
    pub consensus_pubkey: String,
    pub consensus_address: String,
    pub power: u64,
}

/// `/staking/epoch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochView {
    pub last_processed_epoch: u64,
    pub epoch_seconds: i64,
    pub genesis_time: i64,
}

pub(crate) fn route(path: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let parts: Vec<&str> = path.split('/').collect();
    let lim = limit(args)?;
    let after = arg(args, "after").map(str::to_string);
    match parts.as_slice() {
        ["operator", a] => Ok(Target::Record(Record::Operator(address(a)?))),
        ["delegation", d, o] => Ok(Target::Record(Record::Delegation {
            delegator: address(d)?,
            operator: address(o)?,
        })),
        ["unbonding-entry", id] => {
            let id: u64 = id
                .parse()
                .map_err(|_| QueryError::BadArgument(format!("id {id:?}")))?;
            Ok(Target::Record(Record::UnbondingEntry(id)))
        }
        ["params"] => Ok(Target::Record(Record::StakingParams)),
        ["operators"] => {
            let status = arg(args, "status").unwrap_or("all").to_string();
            if !["all", "bonded", "inactive", "jailed", "tombstoned"].contains(&status.as_str()) {
                return Err(QueryError::BadArgument(format!(
                    "status {status:?}: one of all, bonded, inactive, jailed, tombstoned"
                )));
            }
            let after = after.map(|a| address(&a)).transpose()?;
            Ok(listing(move |app| {
                let state = app.storage();
                let start = after.map(|a| keys::operator(&a));
                let mut items = Vec::new();
                let mut cursor = start;
                let mut next = None;
                'outer: loop {
                    let page = state.prefix_raw(keys::OPERATOR_PREFIX, cursor.as_deref(), 256);
                    if page.is_empty() {
                        break;
                    }
                    for (k, v) in &page {
                        cursor = Some(k.clone());
                        let v = view(state, decode_stored(k, v));
                        if status == "all" || v.status == status {
                            if items.len() == lim {
                                next = items
                                    .last()
                                    .map(|x: &OperatorView| x.operator.address.to_string());
                                break 'outer;
                            }
                            items.push(v);
                        }
                    }
                }
                json(&Page { items, next })
            }))
        }
        ["validators"] => Ok(listing(|app| {
            let state = app.storage();
            let list: Vec<ValidatorView> = validator_set::reported(state)
                .into_iter()
                .filter_map(|(pk, power)| {
                    let owner: Address = state.get(&keys::consensus_key(&pk))?;
                    let op = operator(state, &owner)?;
                    Some(ValidatorView {
                        operator: owner,
                        moniker: op.moniker,
                        consensus_pubkey: crate::serde_base64_32::encode(&pk),
                        consensus_address: hex::encode_upper(consensus_address(&pk)),
                        power,
                    })
                })
                .collect();
            json(&list)
        })),
        ["delegations", d] => {
            let d = address(d)?;
            Ok(listing(move |app| {
                let state = app.storage();
                let items: Vec<DelegationView> = state
                    .prefix_raw(&keys::delegations_of(&d), None, MAX_LIMIT)
                    .iter()
                    .map(|(k, v)| delegation_view(state, decode_stored(k, v)))
                    .collect();
                json(&items)
            }))
        }
        ["delegators", o] => {
            let o = address(o)?;
            let after = after.map(|a| address(&a)).transpose()?;
            Ok(listing(move |app| {
                let state = app.storage();
                let start = after.map(|a| keys::delegation_by_operator(&o, &a));
                let page = state.prefix_raw(&keys::delegations_to(&o), start.as_deref(), lim + 1);
                let prefix_len = keys::delegations_to(&o).len();
                let mut items: Vec<DelegationView> = page
                    .iter()
                    .filter_map(|(k, _)| crate::state::keys::address_at(k, prefix_len))
                    .filter_map(|d| delegation(state, &d, &o))
                    .map(|d| delegation_view(state, d))
                    .collect();
                let next = if items.len() > lim {
                    items.truncate(lim);
                    items.last().map(|x| x.delegator.to_string())
                } else {
                    None
                };
                json(&Page { items, next })
            }))
        }
        ["unbonding", d] => {
            let prefix = keys::unbondings_of(&address(d)?);
            Ok(listing(move |app| entries(app.storage(), &prefix)))
        }
        ["unbonding-from", o] => {
            let prefix = keys::unbondings_from(&address(o)?);
            Ok(listing(move |app| entries(app.storage(), &prefix)))
        }
        ["slashes", o] => {
            let prefix = keys::slash_records(&address(o)?);
            Ok(listing(move |app| {
                let list: Vec<super::state::SlashRecord> = app
                    .storage()
                    .prefix_raw(&prefix, None, MAX_LIMIT)
                    .iter()
                    .map(|(k, v)| decode_stored(k, v))
                    .collect();
                json(&list)
            }))
        }
        ["signing-info", o] => {
            let o = address(o)?;
            Ok(listing(move |app| {
                let state = app.storage();
                let op = operator(state, &o)
                    .ok_or_else(|| QueryError::NotFound(format!("no operator at {o}")))?;
                let ca = consensus_address(&op.consensus_pubkey);
                let p = params(state);
                json(&SigningView {
                    operator: o,
                    consensus_address: hex::encode_upper(ca),
                    info: signing_info(state, &ca).unwrap_or_default(),
                    window: p.signed_blocks_window,
                    max_missed: p.max_missed(),
                })
            }))
        }
        ["epoch"] => Ok(listing(|app| {
            let state = app.storage();
            json(&EpochView {
                last_processed_epoch: state.get(keys::LAST_EPOCH).unwrap_or(0),
                epoch_seconds: params(state).epoch_seconds,
                genesis_time: state.get(crate::genesis::keys::GENESIS_TIME).unwrap_or(0),
            })
        })),
        _ => Err(QueryError::UnknownPath(format!(
            "/staking/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}

fn entries(state: &impl StateRead, prefix: &[u8]) -> Result<String, QueryError> {
    let list: Vec<UnbondingEntry> = state
        .prefix_raw(prefix, None, MAX_LIMIT)
        .iter()
        .filter_map(|(k, _)| crate::state::keys::trailing_id(k))
        .filter_map(|id| unbonding_entry(state, id))
        .collect();
    json(&list)
}

/// Operators for tools that want them all (used by export and tests).
pub fn all_operators(state: &impl StateRead) -> Vec<Operator> {
    operators(state)
}
