//! CometBFT 0.38's genesis document, in its exact JSON formats.
//!
//! CometBFT encodes 64-bit integers as JSON strings (`"initial_height": "1"`,
//! `"max_bytes": "4194304"`) and durations as nanoseconds in such a string
//! (`"max_age_duration": "172800000000000"`); these types do the same.

use std::path::Path;

use nodeop_app::genesis::AppState;
use nodeop_app::modules::staking::Validator;
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
    pub fn add_account(
        &mut self,
        address: nodeop_app::crypto::Address,
        amount: u128,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        if let Some(existing) = state.bank.accounts.iter().find(|a| a.address == address) {
            return Err(GenesisError::Edit(format!(
                "{address} already has a genesis account (balance {} unop); each account is \
                 listed once",
                existing.balance
            )));
        }
        state
            .bank
            .accounts
            .push(nodeop_app::modules::bank::genesis::GenesisAccount {
                address,
                balance: amount,
                nonce: 0,
            });
        self.apply_edit(state)
    }

    /// Adds a genesis validator (its ed25519 consensus key, power and moniker).
    pub fn add_validator(
        &mut self,
        pub_key: [u8; 32],
        power: u64,
        moniker: &str,
    ) -> Result<(), GenesisError> {
        let mut state = self.app_state()?;
        if let Some(v) = state
            .staking
            .validators
            .iter()
            .find(|v| v.pub_key == pub_key)
        {
            return Err(GenesisError::Edit(format!(
                "this key is already the genesis validator {:?}",
                v.moniker
            )));
        }
        state.staking.validators.push(Validator {
            pub_key,
            moniker: moniker.to_string(),
            power,
        });
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

    #[test]
    fn edits_add_accounts_and_validators_and_refuse_bad_ones() {
        let mut doc =
            GenesisDoc::new("nodeop-t", "2026-01-01T00:00:00Z", &AppState::default()).unwrap();
        doc.add_validator([1; 32], 10, "v0").unwrap();
        let a = Address([5; 20]);
        doc.add_account(a, 1_000).unwrap();
        let state = doc.app_state().unwrap();
        assert_eq!(state.bank.accounts[0].balance, 1_000);
        assert_eq!(state.staking.validators[0].moniker, "v0");
        assert!(state.problems("nodeop-t").is_empty());

        assert!(doc
            .add_account(a, 1)
            .unwrap_err()
            .to_string()
            .contains("already"));
        assert!(doc.add_validator([1; 32], 5, "again").is_err());
        assert!(doc
            .add_validator([2; 32], 0, "zero")
            .unwrap_err()
            .to_string()
            .contains("power 0"));
        let too_much = 2_000_000_000 * nodeop_app::modules::bank::UNOP_PER_NOP;
        let err = doc
            .add_account(Address([6; 20]), too_much)
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_supply"), "{err}");
        // refused edits changed nothing
        assert_eq!(doc.app_state().unwrap(), state);
    }
}
