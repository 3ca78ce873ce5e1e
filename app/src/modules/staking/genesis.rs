//! staking's genesis content. A fresh chain lists each genesis operator with its self-bond as
//! both its tokens and its shares, plus its self-delegation (`nodeopd genesis add-validator`
//! writes exactly that, and credits the bond to the `bonded_pool` module account). An export
//! lists the full records, so that importing it reproduces the state.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::liveness::SigningInfo;
use super::state::{insert_unbonding, put_delegation, put_operator};
use super::{consensus_address, keys, Delegation, Operator, StakingParams, UnbondingEntry};
use crate::crypto::Address;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSigningInfo {
    /// CometBFT validator address (hex).
    pub consensus_address: String,
    pub info: SigningInfo,
    /// Missed-block bitmap chunks: (chunk index, hex bytes).
    pub missed_chunks: Vec<(u32, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StakingGenesis {
    pub params: StakingParams,
    pub operators: Vec<Operator>,
    pub delegations: Vec<Delegation>,
    pub unbonding_entries: Vec<UnbondingEntry>,
    pub next_unbonding_id: u64,
    pub last_epoch: u64,
    pub signing_infos: Vec<GenesisSigningInfo>,
}

impl Default for StakingGenesis {
    fn default() -> Self {
        Self {
            params: StakingParams::default(),
            operators: Vec::new(),
            delegations: Vec::new(),
            unbonding_entries: Vec::new(),
            next_unbonding_id: 1,
            last_epoch: 0,
            signing_infos: Vec::new(),
        }
    }
}

impl StakingGenesis {
    /// A new operator with `self_bond` as its whole pool (the caller credits `bonded_pool`).
    #[allow(clippy::too_many_arguments)]
    pub fn add_operator(
        &mut self,
        address: Address,
        consensus_pubkey: [u8; 32],
        moniker: &str,
        capacity_units: u64,
        region: &str,
        commission_ppm: u32,
        self_bond: u128,
    ) {
        self.operators.push(Operator {
            address,
            consensus_pubkey,
            moniker: moniker.to_string(),
            capacity_units,
            region: region.to_string(),
            commission_ppm,
            tokens: self_bond,
            shares: self_bond,
            self_shares: self_bond,
            jailed_until: None,
            tombstoned: false,
            slashed_total: 0,
            slash_count: 0,
            registered_height: 0,
        });
        self.delegations.push(Delegation {
            delegator: address,
            operator: address,
            shares: self_bond,
        });
    }

    /// Σ pool tokens (must equal the `bonded_pool` balance) and Σ unbonding amounts (must equal
    /// `unbonding_pool`).
    pub fn pooled(&self) -> (u128, u128) {
        let tokens = self
            .operators
            .iter()
            .fold(0u128, |a, o| a.saturating_add(o.tokens));
        let unbonding = self
            .unbonding_entries
            .iter()
            .fold(0u128, |a, e| a.saturating_add(e.amount));
        (tokens, unbonding)
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.params.problems();
        let mut addrs = BTreeSet::new();
        let mut cons = BTreeSet::new();
        for op in &self.operators {
            let who = format!("staking.operators: {} ({:?})", op.address, op.moniker);
            if !addrs.insert(op.address) {
                out.push(format!("{who} is listed twice"));
            }
            if !cons.insert(op.consensus_pubkey) {
                out.push(format!("{who} reuses another operator's consensus key"));
            }
            if ed25519_consensus::VerificationKey::try_from(op.consensus_pubkey).is_err() {
                out.push(format!("{who}: consensus_pubkey is not an ed25519 key"));
            }
            if op.moniker.is_empty() || op.moniker.len() > super::msg::MAX_MONIKER {
                out.push(format!("{who}: moniker must be 1..=70 bytes"));
            }
            if op.commission_ppm > 1_000_000 {
                out.push(format!("{who}: commission_ppm above 1_000_000"));
            }
            if op.self_shares > op.shares {
                out.push(format!("{who}: self_shares exceed shares"));
            }
            if op.capacity_units == 0 {
                out.push(format!("{who}: capacity_units must be at least 1"));
            }
            if op.region.len() > super::msg::MAX_REGION || op.region.chars().any(char::is_control) {
                out.push(format!(
                    "{who}: region must be at most 32 bytes of printable text"
                ));
            }
            if op.moniker.chars().any(char::is_control) {
                out.push(format!("{who}: moniker has control characters"));
            }
            if op.shares == 0 && op.tokens > 0 && !op.tombstoned {
                // possible only as dust after every delegator left; anything more is a typo
                if op.tokens >= self.params.power_reduction {
                    out.push(format!("{who}: {} tokens but no shares", op.tokens));
                }
            }
        }
        let mut shares: BTreeMap<Address, u128> = BTreeMap::new();
        let mut pairs = BTreeSet::new();
        for d in &self.delegations {
            if !addrs.contains(&d.operator) {
                out.push(format!(
                    "staking.delegations: operator {} does not exist",
                    d.operator
                ));
            }
            if !pairs.insert((d.delegator, d.operator)) {
                out.push(format!(
                    "staking.delegations: {} → {} is listed twice",
                    d.delegator, d.operator
                ));
            }
            *shares.entry(d.operator).or_default() += d.shares;
            if d.delegator == d.operator {
                if let Some(op) = self.operators.iter().find(|o| o.address == d.operator) {
                    if op.self_shares != d.shares {
                        out.push(format!(
                            "staking: {} self_shares {} != its self-delegation's shares {}",
                            op.address, op.self_shares, d.shares
                        ));
                    }
                }
            }
        }
        for op in &self.operators {
            let sum = shares.get(&op.address).copied().unwrap_or(0);
            if sum != op.shares {
                out.push(format!(
                    "staking: {} has {} shares but its delegations hold {sum}",
                    op.address, op.shares
                ));
            }
        }
        for si in &self.signing_infos {
            let ok = hex::decode(&si.consensus_address)
                .map(|b| b.len() == 20)
                .unwrap_or(false)
                && si
                    .missed_chunks
                    .iter()
                    .all(|(_, bits)| hex::decode(bits).map(|b| b.len() == 128).unwrap_or(false));
            if !ok {
                out.push(format!(
                    "staking.signing_infos: {:?} needs a 20-byte hex consensus address and \
                     128-byte hex chunks",
                    si.consensus_address
                ));
            }
        }
        let mut ids = BTreeSet::new();
        for e in &self.unbonding_entries {
            if !ids.insert(e.id) {
                out.push(format!(
                    "staking.unbonding_entries: id {} is listed twice",
                    e.id
                ));
            }
            if e.id >= self.next_unbonding_id {
                out.push(format!(
                    "staking.unbonding_entries: id {} is not below next_unbonding_id {}",
                    e.id, self.next_unbonding_id
                ));
            }
            if !addrs.contains(&e.operator) {
                out.push(format!(
                    "staking.unbonding_entries: operator {} does not exist",
                    e.operator
                ));
            }
        }
        if !self.operators.iter().any(|op| op.eligible(&self.params)) {
            out.push(
                "staking: no operator can validate (each needs a self-bond of at least \
                 min_self_bond and no jail)"
                    .into(),
            );
        }
        out
    }

    pub fn apply(&self, state: &mut impl StateWrite, initial_height: u64) {
        state.put(keys::PARAMS.to_vec(), &self.params);
        for op in &self.operators {
            put_operator(state, op);
            state.put(keys::consensus_key(&op.consensus_pubkey), &op.address);
            let ca = consensus_address(&op.consensus_pubkey);
            state.put(keys::consensus_address(&ca), &op.address);
            if !self
                .signing_infos
                .iter()
                .any(|s| s.consensus_address == hex::encode(ca))
            {
                state.put(
                    keys::signing_info(&ca),
                    &SigningInfo {
                        start_height: initial_height,
                        missed: 0,
                    },
                );
            }
        }
        for s in &self.signing_infos {
            let Ok(bytes) = hex::decode(&s.consensus_address) else {
                continue;
            };
            let Ok(ca) = <[u8; 20]>::try_from(bytes.as_slice()) else {
                continue;
            };
            state.put(keys::signing_info(&ca), &s.info);
            for (chunk, bits) in &s.missed_chunks {
                if let Ok(b) = hex::decode(bits) {
                    state.put_raw(keys::missed_chunk(&ca, *chunk), b);
                }
            }
        }
        for d in &self.delegations {
            put_delegation(state, d);
        }
        for e in &self.unbonding_entries {
            insert_unbonding(state, e);
        }
        state.put(keys::NEXT_UNBONDING_ID.to_vec(), &self.next_unbonding_id);
        if self.last_epoch > 0 {
            state.put(keys::LAST_EPOCH.to_vec(), &self.last_epoch);
        }
    }
}

impl StakingGenesis {
    /// The genesis section that reproduces the module's state.
    pub fn export(state: &impl StateRead) -> Self {
        let list = |prefix: &[u8]| state.prefix_raw(prefix, None, usize::MAX);
        let mut signing_infos = Vec::new();
        for (k, v) in list(keys::SIGNING_INFO_PREFIX) {
            let ca = &k[keys::SIGNING_INFO_PREFIX.len()..];
            let Ok(ca20) = <[u8; 20]>::try_from(ca) else {
                continue;
            };
            let missed_chunks = list(&keys::missed_chunks(&ca20))
                .into_iter()
                .filter_map(|(ck, cv)| {
                    let idx = u32::from_be_bytes(ck.get(ck.len() - 4..)?.try_into().ok()?);
                    Some((idx, hex::encode(cv)))
                })
                .collect();
            signing_infos.push(GenesisSigningInfo {
                consensus_address: hex::encode(ca20),
                info: decode_stored(&k, &v),
                missed_chunks,
            });
        }
        StakingGenesis {
            params: super::state::params(state),
            operators: super::state::operators(state),
            delegations: list(keys::DELEGATION_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            unbonding_entries: list(keys::UNBONDING_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            next_unbonding_id: state.get(keys::NEXT_UNBONDING_ID).unwrap_or(1),
            last_epoch: state.get(keys::LAST_EPOCH).unwrap_or(0),
            signing_infos,
        }
    }
}
