//! CometBFT 0.38's genesis document, in its exact JSON formats.
//!
//! CometBFT encodes 64-bit integers as JSON strings (`"initial_height": "1"`,
//! `"max_bytes": "4194304"`) and durations as nanoseconds in such a string
//! (`"max_age_duration": "172800000000000"`); these types do the same.

use std::path::Path;

use nodeop_app::crypto::Address;
use nodeop_app::genesis::AppState;
use nodeop_app::modules::bank::genesis::{GenesisAccount, GenesisModuleAccount};
use nodeop_app::modules::bank::ModuleAccount;
use nodeop_app::modules::staking::{MsgRegisterOperator, StakingParams};
use serde::{Deserialize, Serialize};

use crate::{GenesisError, APP_VERSION};

/// 64-bit integers as JSON strings, as CometBFT writes (and requires) them.
pub(crate) mod int_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            Other(serde_json::Value),
        }
        match Raw::deserialize(d)? {
            Raw::S(s) => s.trim().parse().map_err(|_| {
                serde::de::Error::custom(format!("{s:?} is not a whole number in range"))
            }),
            Raw::Other(v) => Err(serde::de::Error::custom(format!(
                "{v} must be a JSON string such as \"{v}\" (CometBFT writes 64-bit integers as strings)"
            ))),
        }
    }
}

/// `null` read as the default value (Go writes `null` for empty slices).
fn null_default<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: Default + Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDoc {
    /// RFC 3339; the BFT time of the chain's start (epochs count from it).
    pub genesis_time: String,
    pub chain_id: String,
    /// The first block's height (0 is read as 1, as CometBFT does).
    #[serde(with = "int_str", default)]
    pub initial_height: u64,
    /// `None`: CometBFT's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus_params: Option<ConsensusParams>,
    /// Empty for nodeop: InitChain returns the validators from `app_state.staking`.
    #[serde(default, deserialize_with = "null_default")]
    pub validators: Vec<GenesisValidator>,
    /// Hex; empty (the app hash comes from InitChain).
    #[serde(default, deserialize_with = "null_default")]
    pub app_hash: String,
    /// nodeop's [`AppState`], kept as JSON so that a document can be loaded, edited and saved
    /// without losing what this build does not model.
    #[serde(default)]
    pub app_state: serde_json::Value,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusParams {
    pub block: BlockParams,
    pub evidence: EvidenceParams,
    pub validator: ValidatorParams,
    pub version: VersionParams,
    pub abci: AbciParams,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockParams {
    /// Largest block in bytes (-1: CometBFT's maximum, 100 MiB).
    #[serde(with = "int_str")]
    pub max_bytes: i64,
    /// -1: no gas limit (nodeop has no gas).
    #[serde(with = "int_str")]
    pub max_gas: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceParams {
    #[serde(with = "int_str")]
    pub max_age_num_blocks: i64,
    /// Nanoseconds.
    #[serde(with = "int_str")]
    pub max_age_duration: i64,
    #[serde(with = "int_str")]
    pub max_bytes: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatorParams {
    #[serde(deserialize_with = "null_default")]
    pub pub_key_types: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VersionParams {
    #[serde(with = "int_str")]
    pub app: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AbciParams {
    /// 0: vote extensions off (nodeop does not use them).
    #[serde(with = "int_str")]
    pub vote_extensions_enable_height: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    #[serde(default)]
    pub address: String,
    pub pub_key: PubKey,
    #[serde(with = "int_str")]
    pub power: i64,
    #[serde(default)]
    pub name: String,
}

/// Amino-JSON key, as in priv_validator_key.json: `{"type": "tendermint/PubKeyEd25519",
/// "value": base64}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PubKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

pub const ED25519_PUBKEY_TYPE: &str = "tendermint/PubKeyEd25519";

/// The module account that holds every operator pool's tokens.
pub const BONDED_POOL: &str = "bonded_pool";

impl PubKey {
    /// The 32 key bytes of an ed25519 key.
    pub fn ed25519_bytes(&self) -> Result<[u8; 32], String> {
        if self.kind != ED25519_PUBKEY_TYPE {
            return Err(format!(
                "key type {:?} is not supported; validators use {ED25519_PUBKEY_TYPE:?}",
                self.kind
            ));
        }
        decode_ed25519(&self.value)
    }
}

/// A base64 ed25519 public key (32 bytes).
pub fn decode_ed25519(base64: &str) -> Result<[u8; 32], String> {
    let bytes = nodeop_app::serde_base64_32::decode(base64.trim())
        .map_err(|e| format!("public key {base64:?} is not base64: {e}"))?;
    bytes.as_slice().try_into().map_err(|_| {
        format!(
            "public key {base64:?} is {} bytes; an ed25519 key is 32",
            bytes.len()
        )
    })
}

impl ConsensusParams {
    /// What `nodeopd init` writes.
    pub fn nodeop_default() -> Self {
        Self {
            // 4 MiB: room for 64 txs of the largest size (max_tx_bytes, 64 KiB by default) and
            // thousands of transfers per block, while a block still gossips in well under a
            // second on a LAN. CometBFT's 21 MiB default mostly sizes rollup data.
            block: BlockParams {
                max_bytes: 4 * 1024 * 1024,
                max_gas: -1,
            },
            // CometBFT's defaults: evidence older than 100_000 blocks and 48 h is dropped.
            evidence: EvidenceParams {
                max_age_num_blocks: 100_000,
                max_age_duration: 48 * 3600 * 1_000_000_000,
                max_bytes: 1024 * 1024,
            },
            // InitChain returns ed25519 validator keys only.
            validator: ValidatorParams {
                pub_key_types: vec!["ed25519".into()],
            },
            version: VersionParams { app: APP_VERSION },
            // Vote extensions stay off (0): nodeop carries its data in txs.
            abci: AbciParams {
                vote_extensions_enable_height: 0,
            },
        }
    }
}

impl GenesisDoc {
    /// A fresh genesis with nodeop's consensus params and `app_state`.
    pub fn new(
        chain_id: &str,
        genesis_time: &str,
        app_state: &AppState,
    ) -> Result<Self, GenesisError> {
        let mut doc = Self {
            genesis_time: genesis_time.to_string(),
            chain_id: chain_id.to_string(),
            initial_height: 1,
            consensus_params: Some(ConsensusParams::nodeop_default()),
            validators: Vec::new(),
            app_hash: String::new(),
            app_state: serde_json::Value::Null,
        };
        doc.set_app_state(app_state)?;
        Ok(doc)
    }

    pub fn load(path: &Path) -> Result<Self, GenesisError> {
        let bytes = std::fs::read(path).map_err(|source| GenesisError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes).map_err(|reason| GenesisError::Parse {
            path: path.display().to_string(),
            reason: format!("{reason} (`nodeopd genesis validate` lists every problem)"),
        })
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        // A document of strings, numbers and JSON values always serializes.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes the document (to a temporary file first, then renamed over `path`, so a crash
    /// never leaves half a genesis).
    pub fn save(&self, path: &Path) -> Result<(), GenesisError> {
        let err = |source| GenesisError::Write {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, self.to_json()).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// The typed `app_state`.
    pub fn app_state(&self) -> Result<AppState, GenesisError> {
        AppState::deserialize(&self.app_state).map_err(|e| GenesisError::AppState(e.to_string()))
    }

    pub fn set_app_state(&mut self, state: &AppState) -> Result<(), GenesisError> {
        self.app_state =
            serde_json::to_value(state).map_err(|e| GenesisError::AppState(e.to_string()))?;
        Ok(())
    }

    /// The effective first height (CometBFT reads 0 as 1).
    pub fn first_height(&self) -> u64 {
        self.initial_height.max(1)
    }

    /// Funds a new genesis account with `amount` unop.
    pub fn add_account(&mut self, address: Address, amount: u128) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        if let Some(existing) = state.bank.accounts.iter().find(|a| a.address == address) {
            return Err(GenesisError::Edit(format!(
                "{address} already has a genesis account (balance {} unop); each account is \
                 listed once",
                existing.balance
            )));
        }
        state.bank.accounts.push(GenesisAccount {
            address,
            balance: amount,
            nonce: 0,
        });
        self.apply_edit(state)
    }

    /// Adds a genesis operator: its account `address` (signs its txs, receives commission), its
    /// ed25519 consensus key, and `self_bond` unop as its whole pool, credited to the
    /// `bonded_pool` module account (so the supply grows by `self_bond`). The fields follow the
    /// rules of an on-chain `RegisterOperator`, and `self_bond` must reach `min_self_bond`.
    #[allow(clippy::too_many_arguments)]
    pub fn add_operator(
        &mut self,
        address: Address,
        consensus_pubkey: [u8; 32],
        moniker: &str,
        self_bond: u128,
        commission_ppm: u32,
        capacity_units: u64,
        region: &str,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        let staking = &state.staking;
        if let Some(op) = staking.operators.iter().find(|o| o.address == address) {
            return Err(GenesisError::Edit(format!(
                "{address} is already the genesis operator {:?}; an account runs one operator",
                op.moniker
            )));
        }
        if let Some(op) = staking
            .operators
            .iter()
            .find(|o| o.consensus_pubkey == consensus_pubkey)
        {
            return Err(GenesisError::Edit(format!(
                "this consensus key is already the genesis operator {:?} ({}); each operator \
                 signs with its own key",
                op.moniker, op.address
            )));
        }
        if let Some(name) = ModuleAccount::at(&address).map(ModuleAccount::name) {
            return Err(GenesisError::Edit(format!(
                "{address} is the {name} module account; an operator needs an account with a key"
            )));
        }
        MsgRegisterOperator {
            consensus_pubkey,
            moniker: moniker.to_string(),
            capacity_units,
            region: region.to_string(),
            commission_ppm,
            self_bond,
        }
        .check_stateless()
        .map_err(|e| GenesisError::Edit(format!("operator {moniker:?}: {e}")))?;
        if self_bond < staking.params.min_self_bond {
            return Err(GenesisError::Edit(format!(
                "operator {moniker:?}: self-bond {self_bond} unop is below \
                 staking.params.min_self_bond {} unop",
                staking.params.min_self_bond
            )));
        }
        state.staking.add_operator(
            address,
            consensus_pubkey,
            moniker,
            capacity_units,
            region,
            commission_ppm,
            self_bond,
        );
        let accounts = &mut state.bank.module_accounts;
        if !accounts.iter().any(|m| m.name == BONDED_POOL) {
            accounts.push(GenesisModuleAccount {
                name: BONDED_POOL.into(),
                balance: 0,
            });
        }
        for pool in accounts.iter_mut().filter(|m| m.name == BONDED_POOL) {
            pool.balance = pool.balance.checked_add(self_bond).ok_or_else(|| {
                GenesisError::Edit(format!(
                    "operator {moniker:?}: the {BONDED_POOL} balance would overflow"
                ))
            })?;
        }
        self.apply_edit(state)
    }

    /// Replaces `app_state.staking.params` (e.g. with [`StakingParams::devnet`]).
    pub fn set_staking_params(&mut self, params: StakingParams) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        state.staking.params = params;
        self.apply_edit(state)
    }

    /// Replaces `app_state.slashing.params` (e.g. with [`SlashingParams::devnet`]).
    pub fn set_slashing_params(
        &mut self,
        params: nodeop_app::modules::slashing::SlashingParams,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        state.slashing.params = params;
        self.apply_edit(state)
    }

    /// Replaces `app_state.issuance.params` (e.g. with [`IssuanceParams::devnet`]).
    ///
    /// [`IssuanceParams::devnet`]: nodeop_app::modules::issuance::IssuanceParams::devnet
    pub fn set_issuance_params(
        &mut self,
        params: nodeop_app::modules::issuance::IssuanceParams,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        state.issuance.params = params;
        self.apply_edit(state)
    }

    /// Replaces `app_state.tasks.params` (e.g. with [`TasksParams::devnet`]).
    ///
    /// [`TasksParams::devnet`]: nodeop_app::modules::tasks::TasksParams::devnet
    pub fn set_tasks_params(
        &mut self,
        params: nodeop_app::modules::tasks::TasksParams,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        state.tasks.params = params;
        self.apply_edit(state)
    }

    /// Adds a vesting schedule: `total` unop vest linearly to `beneficiary` from `start` (BFT unix
    /// seconds) over `duration` seconds, nothing before `start + cliff`. The schedule counts
    /// against `max_supply` from genesis on.
    pub fn add_vesting(
        &mut self,
        schedule: nodeop_app::modules::issuance::VestingSchedule,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        if state
            .issuance
            .vesting
            .iter()
            .any(|v| v.beneficiary == schedule.beneficiary)
        {
            return Err(GenesisError::Edit(format!(
                "{} already has a vesting schedule; each beneficiary has one",
                schedule.beneficiary
            )));
        }
        state.issuance.vesting.push(schedule);
        self.apply_edit(state)
    }

    /// Keeps an edit only if it adds no problem that was not there before.
    fn apply_edit(&mut self, edited: AppState) -> Result<(), GenesisError> {
        let before = self.app_state()?.problems(&self.chain_id);
        let new: Vec<String> = edited
            .problems(&self.chain_id)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        if !new.is_empty() {
            return Err(GenesisError::Edit(format!(
                "the edit would make genesis invalid:\n  - {}",
                new.join("\n  - ")
            )));
        }
        self.set_app_state(&edited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodeop_app::crypto::Address;

    /// What `cometbft init` (v0.38.25) wrote, validators included.
    const COMETBFT_GENESIS: &str = r#"{
  "genesis_time": "2026-11-20T22:58:02.882074891Z",
  "chain_id": "test-chain-wicj6s",
  "initial_height": "0",
  "consensus_params": {
    "block": {"max_bytes": "22020096", "max_gas": "-1"},
    "evidence": {"max_age_num_blocks": "100000", "max_age_duration": "172800000000000", "max_bytes": "1048576"},
    "validator": {"pub_key_types": ["ed25519"]},
    "version": {"app": "0"},
    "abci": {"vote_extensions_enable_height": "0"}
  },
  "validators": [
    {
      "address": "06451626FA92C026AD32D024F42289C6E9C73E98",
      "pub_key": {"type": "tendermint/PubKeyEd25519", "value": "wLmLqz3aflSOU2WXesxiv/ebw1qbAXQJeXsVcYBKdQQ="},
      "power": "10",
      "name": ""
    }
  ],
  "app_hash": ""
}"#;

    #[test]
    fn reads_cometbft_genesis_and_writes_its_formats() {
        let doc = GenesisDoc::from_json(COMETBFT_GENESIS.as_bytes()).unwrap();
        assert_eq!(doc.initial_height, 0);
        assert_eq!(doc.first_height(), 1);
        let cp = doc.consensus_params.as_ref().unwrap();
        assert_eq!(cp.block.max_bytes, 22_020_096);
        assert_eq!(cp.evidence.max_age_duration, 172_800_000_000_000);
        assert_eq!(doc.validators[0].power, 10);
        assert_eq!(doc.validators[0].pub_key.ed25519_bytes().unwrap().len(), 32);

        let json: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(json["initial_height"], "0");
        assert_eq!(json["consensus_params"]["block"]["max_bytes"], "22020096");
        assert_eq!(json["consensus_params"]["version"]["app"], "0");
        assert_eq!(json["validators"][0]["power"], "10");
        // CometBFT's field order
        let text = doc.to_json();
        let positions: Vec<usize> = [
            "genesis_time",
            "chain_id",
            "initial_height",
            "consensus_params",
            "validators",
            "app_hash",
            "app_state",
        ]
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap_or(usize::MAX))
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn numbers_where_cometbft_wants_strings_are_refused() {
        let text = COMETBFT_GENESIS.replace("\"initial_height\": \"0\"", "\"initial_height\": 5");
        let err = GenesisDoc::from_json(text.as_bytes()).unwrap_err();
        assert!(err.contains("must be a JSON string"), "{err}");
    }

    fn consensus_key(seed: u8) -> [u8; 32] {
        ed25519_consensus::SigningKey::from([seed; 32])
            .verification_key()
            .to_bytes()
    }

    const BOND: u128 = 10_000 * nodeop_app::modules::bank::UNOP_PER_NOP;

    fn bonded_pool(state: &AppState) -> u128 {
        state
            .bank
            .module_accounts
            .iter()
            .find(|m| m.name == BONDED_POOL)
            .map_or(0, |m| m.balance)
    }

    #[test]
    fn edits_add_accounts_and_operators_and_refuse_bad_ones() {
        let mut doc =
            GenesisDoc::new("nodeop-t", "2026-01-01T00:00:00Z", &AppState::default()).unwrap();
        let op = Address([1; 20]);
        doc.add_operator(op, consensus_key(1), "v0", BOND, 50_000, 100, "eu")
            .unwrap();
        let a = Address([5; 20]);
        doc.add_account(a, 1_000).unwrap();
        let state = doc.app_state().unwrap();
        assert_eq!(state.bank.accounts[0].balance, 1_000);
        let added = &state.staking.operators[0];
        assert_eq!(
            (added.moniker.as_str(), added.address, added.tokens),
            ("v0", op, BOND)
        );
        assert_eq!(added.consensus_pubkey, consensus_key(1));
        assert_eq!(state.staking.delegations.len(), 1, "the self-delegation");
        assert_eq!(bonded_pool(&state), BOND);
        assert!(state.problems("nodeop-t").is_empty());

        assert!(doc
            .add_account(a, 1)
            .unwrap_err()
            .to_string()
            .contains("already"));
        let refused = |doc: &mut GenesisDoc,
                       address: Address,
                       key: [u8; 32],
                       moniker: &str,
                       bond: u128,
                       commission: u32,
                       capacity: u64| {
            match doc.add_operator(address, key, moniker, bond, commission, capacity, "eu") {
                Ok(()) => panic!("{moniker:?} with bond {bond} was accepted"),
                Err(e) => e.to_string(),
            }
        };
        let two = Address([2; 20]);
        // 32 bytes that do not decode to a curve point
        let not_a_point = (0..=255u8)
            .map(|b| [b; 32])
            .find(|k| ed25519_consensus::VerificationKey::try_from(*k).is_err())
            .unwrap();
        for (err, needle) in [
            // a reused account or consensus key
            (
                refused(&mut doc, op, consensus_key(2), "again", BOND, 0, 1),
                "already the genesis operator \"v0\"",
            ),
            (
                refused(&mut doc, two, consensus_key(1), "again", BOND, 0, 1),
                "consensus key is already",
            ),
            // the rules of RegisterOperator
            (
                refused(&mut doc, two, consensus_key(2), "", BOND, 0, 1),
                "moniker",
            ),
            (
                refused(&mut doc, two, consensus_key(2), "v1", BOND, 1_000_001, 1),
                "commission",
            ),
            (
                refused(&mut doc, two, consensus_key(2), "v1", BOND, 0, 0),
                "capacity_units",
            ),
            (
                refused(&mut doc, two, not_a_point, "v1", BOND, 0, 1),
                "ed25519",
            ),
            (
                refused(&mut doc, two, consensus_key(2), "v1", BOND / 100, 0, 1),
                "min_self_bond",
            ),
            (
                refused(
                    &mut doc,
                    Address::module("treasury"),
                    consensus_key(2),
                    "v1",
                    BOND,
                    0,
                    1,
                ),
                "module account",
            ),
            // "edit only if it adds no new problem": the bond would exceed max_supply
            (
                refused(&mut doc, two, consensus_key(2), "v1", 10u128.pow(20), 0, 1),
                "max_supply",
            ),
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        let too_much = 2_000_000_000 * nodeop_app::modules::bank::UNOP_PER_NOP;
        let err = doc
            .add_account(Address([6; 20]), too_much)
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_supply"), "{err}");
        // refused edits changed nothing
        assert_eq!(doc.app_state().unwrap(), state);

        // a second operator adds to the same pool
        doc.add_operator(two, consensus_key(2), "v1", 2 * BOND, 0, 1, "")
            .unwrap();
        let state = doc.app_state().unwrap();
        assert_eq!(bonded_pool(&state), 3 * BOND);
        assert!(state.problems("nodeop-t").is_empty());
    }

    #[test]
    fn staking_params_are_set_only_when_the_operators_still_qualify() {
        let mut doc =
            GenesisDoc::new("nodeop-t", "2026-01-01T00:00:00Z", &AppState::default()).unwrap();
        // devnet unbonding (300 s) is shorter than the default dispute + vote windows: the
        // staking edit is refused until slashing's windows are shortened too
        let err = doc
            .set_staking_params(StakingParams::devnet())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unbonding_time"), "{err}");
        doc.set_slashing_params(nodeop_app::modules::slashing::SlashingParams::devnet())
            .unwrap();
        doc.set_staking_params(StakingParams::devnet()).unwrap();
        doc.add_operator(Address([1; 20]), consensus_key(1), "v0", BOND, 0, 1, "")
            .unwrap();
        let params = doc.app_state().unwrap().staking.params;
        assert_eq!(params, StakingParams::devnet());
        assert_eq!(
            (
                params.unbonding_time,
                params.signed_blocks_window,
                params.downtime_jail_duration,
                params.epoch_seconds
            ),
            (300, 100, 20, 10)
        );
        // a min_self_bond above the only operator's bond would leave no validator
        let err = doc
            .set_staking_params(StakingParams {
                min_self_bond: 2 * BOND,
                ..StakingParams::devnet()
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("no operator can validate"), "{err}");
        let err = doc
            .set_staking_params(StakingParams {
                epoch_seconds: 0,
                ..StakingParams::devnet()
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("epoch_seconds"), "{err}");
        assert_eq!(doc.app_state().unwrap().staking.params, params);
    }
}
