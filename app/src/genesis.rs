//! The genesis content of every module (`app_state` in CometBFT's genesis.json), its validation
//! and its application to an empty state.
//!
//! `validate()` returns every problem, not just the first; `nodeopd genesis validate` prints them
//! all and then dry-runs InitChain in memory.

use serde::{Deserialize, Serialize};

use crate::modules::{bank, reputation, slashing, staking};
use crate::params::TxParams;
use crate::state::{StateWrite, StateWriteExt};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppState {
    pub tx: TxParams,
    pub bank: bank::genesis::BankGenesis,
    pub staking: staking::StakingGenesis,
    pub slashing: slashing::genesis::SlashingGenesis,
    pub reputation: reputation::genesis::ReputationGenesis,
}

/// Chain identity, fixed at genesis (`chain/…` keys).
pub mod keys {
    pub const CHAIN_ID: &[u8] = b"chain/id";
    pub const GENESIS_TIME: &[u8] = b"chain/genesis_time";
    pub const INITIAL_HEIGHT: &[u8] = b"chain/initial_height";
    pub const TX_PARAMS: &[u8] = b"auth/params";
}

impl AppState {
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Self::default());
        }
        serde_json::from_slice(bytes).map_err(|e| format!("app_state is not valid: {e}"))
    }

    /// Every problem with this content, given the chain id it will run under.
    pub fn problems(&self, chain_id: &str) -> Vec<String> {
        let mut out = Vec::new();
        if chain_id.is_empty() || chain_id.len() > 50 {
            out.push(format!("chain_id {chain_id:?} must be 1 to 50 bytes"));
        }
        out.extend(self.tx.problems());
        out.extend(self.bank.problems());
        out.extend(self.staking.problems());
        out.extend(self.slashing.problems());
        out.extend(self.reputation.problems());
        // no stake may leave before a slash for what it did can land
        let span = self.slashing.params.slashable_span();
        if self.staking.params.unbonding_time < span {
            out.push(format!(
                "staking.params.unbonding_time = {} s is shorter than slashing's dispute_window + \
                 vote_period + max_task_lifetime_seconds = {span} s: stake could leave before its \
                 slash lands",
                self.staking.params.unbonding_time
            ));
        }
        // the module accounts that hold staked tokens must match the staking records
        let (tokens, unbonding) = self.staking.pooled();
        let balance = |name: &str| {
            self.bank
                .module_accounts
                .iter()
                .find(|m| m.name == name)
                .map(|m| m.balance)
                .unwrap_or(0)
        };
        if balance("bonded_pool") != tokens {
            out.push(format!(
                "bank.module_accounts.bonded_pool = {} but the operators' pools hold {tokens}",
                balance("bonded_pool")
            ));
        }
        if balance("dispute_escrow") != self.slashing.escrowed() {
            out.push(format!(
                "bank.module_accounts.dispute_escrow = {} but open proposals hold {} in bonds",
                balance("dispute_escrow"),
                self.slashing.escrowed()
            ));
        }
        if balance("unbonding_pool") != unbonding {
            out.push(format!(
                "bank.module_accounts.unbonding_pool = {} but the unbonding entries hold {unbonding}",
                balance("unbonding_pool")
            ));
        }
        out
    }

    pub fn apply(
        &self,
        state: &mut impl StateWrite,
        chain_id: &str,
        genesis_time: i64,
        initial_height: u64,
    ) {
        state.put(keys::CHAIN_ID.to_vec(), &chain_id.to_string());
        state.put(keys::GENESIS_TIME.to_vec(), &genesis_time);
        state.put(keys::INITIAL_HEIGHT.to_vec(), &initial_height);
        state.put(keys::TX_PARAMS.to_vec(), &self.tx);
        self.bank.apply(state);
        self.staking.apply(state, initial_height);
        self.slashing.apply(state);
        self.reputation.apply(state, initial_height);
    }
}
