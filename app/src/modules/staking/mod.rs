//! staking — the validator set CometBFT runs with (PROTOCOL.md §3.2).
//!
//! This first version holds the genesis validators: their ed25519 consensus keys, monikers and
//! powers, returned to CometBFT by InitChain. Operators, delegation, jailing and slashing build on
//! these records.
//!
//! State keys: `staking/validator/{ed25519 pubkey:32}` → [`Validator`].

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::state::{decode_stored, StateRead, StateWrite, StateWriteExt};

pub const VALIDATOR_PREFIX: &[u8] = b"staking/validator/";

pub fn validator_key(pubkey: &[u8; 32]) -> Vec<u8> {
    let mut k = VALIDATOR_PREFIX.to_vec();
    k.extend_from_slice(pubkey);
    k
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    /// ed25519 consensus public key (base64 in JSON, as in CometBFT's files).
    #[serde(with = "crate::serde_base64_32")]
    pub pub_key: [u8; 32],
    pub moniker: String,
    pub power: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StakingGenesis {
    pub validators: Vec<Validator>,
}

/// CometBFT's upper bound on total voting power (MaxTotalVotingPower = MaxInt64 / 8).
pub const MAX_TOTAL_POWER: u64 = (i64::MAX / 8) as u64;

impl StakingGenesis {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.validators.is_empty() {
            out.push("staking.validators: at least one validator is needed".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut total: u64 = 0;
        for v in &self.validators {
            if !seen.insert(v.pub_key) {
                out.push(format!(
                    "staking.validators: {:?} is listed twice",
                    v.moniker
                ));
            }
            if v.power == 0 {
                out.push(format!("staking.validators: {:?} has power 0", v.moniker));
            }
            if v.moniker.is_empty() || v.moniker.len() > 70 {
                out.push(format!(
                    "staking.validators: moniker {:?} must be 1 to 70 bytes",
                    v.moniker
                ));
            }
            total = total.saturating_add(v.power);
        }
        if total > MAX_TOTAL_POWER {
            out.push(format!(
                "staking.validators: total power {total} exceeds {MAX_TOTAL_POWER}"
            ));
        }
        out
    }

    pub fn apply(&self, state: &mut impl StateWrite) {
        for v in &self.validators {
            state.put(validator_key(&v.pub_key), v);
        }
    }
}

/// Every validator, in key order.
pub fn validators(state: &impl StateRead) -> Vec<Validator> {
    state
        .prefix_raw(VALIDATOR_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}
