//! The genesis content of every module (`app_state` in CometBFT's genesis.json), its validation
//! and its application to an empty state.
//!
//! `validate()` returns every problem, not just the first; `nodeopd genesis validate` prints them
//! all and then dry-runs InitChain in memory.

use serde::{Deserialize, Serialize};

use crate::modules::{bank, coprocessors, issuance, reputation, slashing, staking, tasks};
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
    pub tasks: tasks::genesis::TasksGenesis,
    pub issuance: issuance::genesis::IssuanceGenesis,
    pub coprocessors: coprocessors::genesis::CoprocessorsGenesis,
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
        for m in crate::modules::MODULES {
            out.extend(m.genesis_problems(self));
        }
        // vesting counts against max_supply: what it may still mint must fit beside the supply
        let supply = self
            .bank
            .accounts
            .iter()
            .map(|a| a.balance)
            .chain(self.bank.module_accounts.iter().map(|m| m.balance))
            .try_fold(0u128, |t, b| t.checked_add(b));
        if let (Some(supply), Some(vesting)) = (supply, self.issuance.unclaimed()) {
            if supply
                .checked_add(vesting)
                .is_none_or(|t| t > self.bank.max_supply)
            {
                out.push(format!(
                    "issuance.vesting: the genesis supply {supply} plus the unclaimed vesting \
                     {vesting} exceeds bank.max_supply {}",
                    self.bank.max_supply
                ));
            }
        }
        // the longest a task can give rise to a proposal, in seconds at max_block_seconds
        let lifetime = self.tasks.params.max_task_lifetime_seconds();
        if self.slashing.params.max_task_lifetime_seconds < lifetime {
            out.push(format!(
                "slashing.params.max_task_lifetime_seconds = {} s is shorter than the longest task: \
                 3 × (commit_blocks + reveal_blocks) = {} blocks at tasks.params.max_block_seconds \
                 = {} s is {lifetime} s",
                self.slashing.params.max_task_lifetime_seconds,
                self.tasks.params.max_task_lifetime_blocks(),
                self.tasks.params.max_block_seconds
            ));
        }
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
        if balance("task_escrow") != self.tasks.escrowed() {
            out.push(format!(
                "bank.module_accounts.task_escrow = {} but open tasks hold {} in escrow",
                balance("task_escrow"),
                self.tasks.escrowed()
            ));
        }
        if Some(balance("coprocessor_collateral")) != self.coprocessors.held() {
            out.push(format!(
                "bank.module_accounts.coprocessor_collateral = {} but the coprocessors hold {:?} \
                 in free, locked and pending collateral",
                balance("coprocessor_collateral"),
                self.coprocessors.held()
            ));
        }
        // no collateral may leave before a slash for a slot it backs can land
        let lifetime = self.tasks.params.max_task_lifetime_blocks();
        if self.coprocessors.params.withdrawal_delay_blocks <= lifetime {
            out.push(format!(
                "coprocessors.params.withdrawal_delay_blocks = {} must exceed the longest task, \
                 tasks.params.max_task_lifetime_blocks = {lifetime}: collateral could leave \
                 before its slash lands",
                self.coprocessors.params.withdrawal_delay_blocks
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
        for m in crate::modules::MODULES {
            m.init_genesis(state, self, initial_height);
        }
    }
}
