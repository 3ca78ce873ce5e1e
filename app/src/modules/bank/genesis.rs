//! bank's genesis content: balances (module accounts included), the supply cap, and the mint
//! and burn counters (non-zero only when importing an export).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::state::{put_account, put_supply};
use super::{Account, ModuleAccount, Supply, MODULE_ACCOUNTS, UNOP_PER_NOP};
use crate::crypto::Address;
use crate::serde_u128;
use crate::state::{StateRead, StateWrite};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    pub address: Address,
    #[serde(with = "serde_u128")]
    pub balance: u128,
    #[serde(default)]
    pub nonce: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisModuleAccount {
    pub name: String,
    #[serde(with = "serde_u128")]
    pub balance: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankGenesis {
    pub accounts: Vec<GenesisAccount>,
    pub module_accounts: Vec<GenesisModuleAccount>,
    #[serde(with = "serde_u128")]
    pub max_supply: u128,
    #[serde(with = "serde_u128")]
    pub minted: u128,
    #[serde(with = "serde_u128")]
    pub burned: u128,
}

impl Default for BankGenesis {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            module_accounts: vec![GenesisModuleAccount {
                name: "treasury".into(),
                balance: 100_000_000 * UNOP_PER_NOP,
            }],
            max_supply: 1_000_000_000 * UNOP_PER_NOP,
            minted: 0,
            burned: 0,
        }
    }
}

impl BankGenesis {
    /// Every problem, not just the first.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut total: Option<u128> = Some(0);
        for a in &self.accounts {
            if !seen.insert(a.address) {
                out.push(format!("bank.accounts: {} is listed twice", a.address));
            }
            if ModuleAccount::at(&a.address).is_some() {
                out.push(format!(
                    "bank.accounts: {} is a module account; list it under module_accounts",
                    a.address
                ));
            }
            total = total.and_then(|t| t.checked_add(a.balance));
        }
        let mut seen_names = BTreeSet::new();
        for m in &self.module_accounts {
            if ModuleAccount::by_name(&m.name).is_none() {
                out.push(format!(
                    "bank.module_accounts: unknown module account {:?} (known: {})",
                    m.name,
                    MODULE_ACCOUNTS.map(ModuleAccount::name).join(", ")
                ));
            }
            if !seen_names.insert(m.name.clone()) {
                out.push(format!(
                    "bank.module_accounts: {:?} is listed twice",
                    m.name
                ));
            }
            total = total.and_then(|t| t.checked_add(m.balance));
        }
        match total {
            None => out.push("bank: the sum of balances overflows u128".into()),
            Some(t) => {
                if t > self.max_supply {
                    out.push(format!(
                        "bank: the sum of balances {t} exceeds max_supply {}",
                        self.max_supply
                    ));
                }
                if t.checked_add(self.burned)
                    .and_then(|x| x.checked_sub(self.minted))
                    .is_none()
                {
                    out.push(format!(
                        "bank: minted {} exceeds the sum of balances {t} plus burned {}",
                        self.minted, self.burned
                    ));
                }
            }
        }
        out
    }

    /// Writes the genesis state. Call only after [`Self::problems`] returned nothing.
    pub fn apply(&self, state: &mut impl StateWrite) {
        let mut total: u128 = 0;
        for a in &self.accounts {
            put_account(
                state,
                &a.address,
                &Account {
                    balance: a.balance,
                    nonce: a.nonce,
                },
            );
            total = total.saturating_add(a.balance);
        }
        for m in &self.module_accounts {
            put_account(
                state,
                &Address::module(&m.name),
                &Account {
                    balance: m.balance,
                    nonce: 0,
                },
            );
            total = total.saturating_add(m.balance);
        }
        put_supply(
            state,
            &Supply {
                total_supply: total,
                genesis_supply: total
                    .saturating_add(self.burned)
                    .saturating_sub(self.minted),
                minted: self.minted,
                burned: self.burned,
                max_supply: self.max_supply,
            },
        );
    }
}

impl BankGenesis {
    /// The genesis section that reproduces the module's state: every account (module accounts
    /// by name, in [`MODULE_ACCOUNTS`] order) and the supply record.
    pub fn export(state: &impl StateRead) -> Self {
        let supply = super::supply(state);
        let mut accounts = Vec::new();
        let mut module_accounts = Vec::new();
        for (k, v) in state.prefix_raw(super::keys::ACCOUNT_PREFIX, None, usize::MAX) {
            let Some(address) = super::keys::address_of(&k) else {
                continue;
            };
            let acct: Account = crate::state::decode_stored(&k, &v);
            match ModuleAccount::at(&address) {
                Some(m) => module_accounts.push(GenesisModuleAccount {
                    name: m.name().to_string(),
                    balance: acct.balance,
                }),
                None => accounts.push(GenesisAccount {
                    address,
                    balance: acct.balance,
                    nonce: acct.nonce,
                }),
            }
        }
        module_accounts.sort_by_key(|m| MODULE_ACCOUNTS.iter().position(|n| n.name() == m.name));
        BankGenesis {
            accounts,
            module_accounts,
            max_supply: supply.max_supply,
            minted: supply.minted,
            burned: supply.burned,
        }
    }
}
