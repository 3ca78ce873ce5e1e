//! genesis.json: the document CometBFT and nodeop start a chain from.
//!
//! - [`GenesisDoc`] — CometBFT 0.38's genesis document, field for field and in its JSON formats
//!   (64-bit integers as JSON strings, `genesis_time` RFC 3339, `app_state` nodeop's
//!   `AppState`). [`GenesisDoc::load`] / [`GenesisDoc::save`].
//! - [`validate_json`] — every problem with a genesis file, not just the first: JSON schema errors
//!   field by field, the genesis-document rules CometBFT applies, nodeop's own cross checks, and
//!   `AppState::problems`. [`dry_run`] then runs InitChain in memory.
//! - [`GenesisDoc::add_account`] / [`GenesisDoc::add_operator`] /
//!   [`GenesisDoc::set_staking_params`] — the edits `nodeopd init` and `nodeopd genesis` make;
//!   each is kept only if it adds no new problem.
//! - [`export`] — the genesis that restarts a chain from a node's latest committed state.
//!
//! nodeop keeps genesis.json's `validators` empty: the validators are the top operators of
//! `app_state.staking.operators` by pool tokens (power = tokens / `power_reduction`), and
//! InitChain returns them to CometBFT. A genesis operator's self-bond sits in the `bonded_pool`
//! module account, like every bonded token.

mod amount;
mod doc;
mod time;
mod validate;

pub use amount::{format_amount, parse_amount};
pub use doc::{
    decode_ed25519, AbciParams, BlockParams, ConsensusParams, EvidenceParams, GenesisDoc,
    GenesisValidator, PubKey, ValidatorParams, VersionParams, BONDED_POOL,
};
pub use time::{format_rfc3339, now_rfc3339, parse_rfc3339};
pub use validate::{dry_run, validate_json, DryRun, DryRunValidator, Validation};

use nodeop_app::App;

/// The protocol version nodeopd reports as `app_version` in Info and genesis carries as
/// `consensus_params.version.app`. Raise it with every state-machine change that needs a
/// coordinated upgrade.
pub const APP_VERSION: u64 = 1;

/// CometBFT's limit on chain ids (types.MaxChainIDLen).
pub const MAX_CHAIN_ID_LEN: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid genesis document: {reason}")]
    Parse { path: String, reason: String },
    #[error("app_state is not valid: {0}")]
    AppState(String),
    #[error("{0}")]
    Edit(String),
    #[error("export: {0}")]
    Export(String),
}

/// CometBFT's validator address for an ed25519 key: the first 20 bytes of SHA-256(key).
pub fn validator_address(pub_key: &[u8; 32]) -> [u8; 20] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pub_key);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

/// The genesis that restarts the chain from `app`'s latest committed state: the same chain id,
/// genesis time and consensus params as `original`, `initial_height` one past the exported
/// height, and `app_state` from [`App::export`]. InitChain on it reproduces every module's state
/// (the `chain/` identity keys record the new initial height).
pub fn export(app: &App, original: &GenesisDoc) -> Result<GenesisDoc, GenesisError> {
    let (chain_id, height, app_state) = app
        .export()
        .map_err(|e| GenesisError::Export(e.to_string()))?;
    if chain_id != original.chain_id {
        return Err(GenesisError::Export(format!(
            "the store holds chain {chain_id:?} but the genesis file is for {:?}",
            original.chain_id
        )));
    }
    let initial_height = height
        .checked_add(1)
        .ok_or_else(|| GenesisError::Export("height overflow".into()))?;
    let mut doc = GenesisDoc {
        genesis_time: original.genesis_time.clone(),
        chain_id,
        initial_height,
        consensus_params: original.consensus_params.clone(),
        validators: Vec::new(),
        app_hash: String::new(),
        app_state: serde_json::Value::Null,
    };
    doc.set_app_state(&app_state)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_address_matches_cometbft() {
        // From `cometbft init`: pub_key wLmLqz3a… has address 06451626FA92….
        let pk =
            nodeop_app::serde_base64_32::decode("wLmLqz3aflSOU2WXesxiv/ebw1qbAXQJeXsVcYBKdQQ=")
                .unwrap();
        let pk: [u8; 32] = pk.try_into().unwrap();
        assert_eq!(
            hex::encode_upper(validator_address(&pk)),
            "06451626FA92C026AD32D024F42289C6E9C73E98"
        );
    }
}
