//! CometBFT consensus keys: the ed25519 public key an operator binds when it registers.
//!
//! A validator's key lives in CometBFT's `config/priv_validator_key.json`:
//!
//! ```json
//! { "address": "55D5…B869",
//!   "pub_key":  { "type": "tendermint/PubKeyEd25519",  "value": "<32 bytes, base64>" },
//!   "priv_key": { "type": "tendermint/PrivKeyEd25519", "value": "<64 bytes, base64>" } }
//! ```
//!
//! Only `pub_key` is read (the private key never leaves CometBFT's file), and `address`, when
//! present, must be the key's CometBFT address (the first 20 bytes of its SHA-256), so a file
//! edited by hand is caught here rather than by a validator that never signs. The key can also
//! be given as base64 (`--consensus-pubkey`), or as the one-line JSON `cometbft show-validator`
//! prints.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::modules::staking::consensus_address;
use nodeop_app::serde_base64_32;
use serde::Deserialize;

use crate::files::read_bounded;

pub const ED25519_PUBKEY_TYPE: &str = "tendermint/PubKeyEd25519";
/// A key file is a few hundred bytes; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 64 * 1024;

#[derive(Deserialize)]
struct KeyFile {
    address: Option<String>,
    pub_key: TypedKey,
}

#[derive(Deserialize)]
struct TypedKey {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

/// The ed25519 public key in the contents of a `priv_validator_key.json`.
pub fn parse_priv_validator_key(json: &str) -> Result<[u8; 32]> {
    let file: KeyFile = serde_json::from_str(json).map_err(|e| {
        anyhow!("not a CometBFT priv_validator_key.json (expected {{\"address\", \"pub_key\": {{\"type\", \"value\"}}, …}}): {e}")
    })?;
    let pubkey = typed_pubkey(&file.pub_key).context("pub_key")?;
    if let Some(address) = file.address {
        let expected = hex::encode_upper(consensus_address(&pubkey));
        if !address.eq_ignore_ascii_case(&expected) {
            bail!(
                "the file's address {address} is not the address of its pub_key ({expected}); the file is damaged or edited"
            );
        }
    }
    Ok(pubkey)
}

/// Reads the ed25519 public key from a CometBFT `priv_validator_key.json`.
pub fn read_priv_validator_key(path: &Path) -> Result<[u8; 32]> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let text = read_bounded(
        file,
        path,
        MAX_FILE_BYTES,
        &format!("{MAX_FILE_BYTES} bytes: not a priv_validator_key.json"),
    )?;
    parse_priv_validator_key(&text).with_context(|| format!("{}", path.display()))
}

/// An ed25519 public key given on the command line: 32 bytes in base64 (as `/validators` and
/// the key file show it), or the JSON `cometbft show-validator` prints.
pub fn parse_consensus_pubkey(input: &str) -> Result<[u8; 32]> {
    let s = input.trim();
    if s.starts_with('{') {
        let key: TypedKey = serde_json::from_str(s).map_err(|e| {
            anyhow!("{s:?} is not a key as `cometbft show-validator` prints it ({{\"type\", \"value\"}}): {e}")
        })?;
        return typed_pubkey(&key);
    }
    decode_pubkey_base64(s)
}

fn typed_pubkey(key: &TypedKey) -> Result<[u8; 32]> {
    if key.kind != ED25519_PUBKEY_TYPE {
        bail!(
            "the key type is {:?}; nodeop validators use ed25519 keys ({ED25519_PUBKEY_TYPE:?}); create the node with an ed25519 key (CometBFT's default)",
            key.kind
        );
    }
    decode_pubkey_base64(&key.value)
}

/// 32 bytes in canonical base64 (44 characters ending in `=`), a valid ed25519 point.
fn decode_pubkey_base64(s: &str) -> Result<[u8; 32]> {
    let bytes = serde_base64_32::decode(s)
        .map_err(|e| anyhow!("consensus public key {s:?} is not base64: {e}"))?;
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        anyhow!(
            "consensus public key {s:?} is {} bytes; an ed25519 key is 32 bytes (44 base64 characters)",
            bytes.len()
        )
    })?;
    // The decoder ignores leftover bits and missing padding: insist on the one spelling.
    if serde_base64_32::encode(&key) != s {
        bail!(
            "consensus public key {s:?} is not canonical base64 (expected {})",
            serde_base64_32::encode(&key)
        );
    }
    if ed25519_consensus::VerificationKey::try_from(key).is_err() {
        bail!("consensus public key {s:?} is not a valid ed25519 point");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by `cometbft init` (v0.38.25); a throwaway key used only by these tests.
    const FIXTURE: &str = include_str!("testdata/priv_validator_key.json");
    const FIXTURE_PUBKEY: &str = "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsI=";
    const FIXTURE_ADDRESS: &str = "55D50CCA0A3CE01D98548562E8A9498F7F45B869";

    #[test]
    fn a_cometbft_key_file_gives_its_public_key() {
        let key = parse_priv_validator_key(FIXTURE).unwrap();
        assert_eq!(serde_base64_32::encode(&key), FIXTURE_PUBKEY);
        assert_eq!(hex::encode_upper(consensus_address(&key)), FIXTURE_ADDRESS);
        // the same key as base64 and as `cometbft show-validator` prints it
        assert_eq!(parse_consensus_pubkey(FIXTURE_PUBKEY).unwrap(), key);
        let shown = format!(r#"{{"type":"tendermint/PubKeyEd25519","value":"{FIXTURE_PUBKEY}"}}"#);
        assert_eq!(parse_consensus_pubkey(&shown).unwrap(), key);
        // from a file
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("priv_validator_key.json");
        std::fs::write(&path, FIXTURE).unwrap();
        assert_eq!(read_priv_validator_key(&path).unwrap(), key);
        // the address may be missing, or lower case
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let mut no_addr = v.clone();
        no_addr.as_object_mut().unwrap().remove("address");
        assert_eq!(parse_priv_validator_key(&no_addr.to_string()).unwrap(), key);
        let mut lower = v.clone();
        lower["address"] = FIXTURE_ADDRESS.to_lowercase().into();
        assert_eq!(parse_priv_validator_key(&lower.to_string()).unwrap(), key);
    }

    #[test]
    fn bad_key_files_are_refused_with_a_reason() {
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let with = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = v.clone();
            edit(&mut v);
            format!(
                "{:#}",
                parse_priv_validator_key(&v.to_string()).unwrap_err()
            )
        };
        let e = with(&|v| v["address"] = "00".repeat(20).into());
        assert!(e.contains("not the address of its pub_key"), "{e}");
        let e = with(&|v| v["pub_key"]["type"] = "tendermint/PubKeySecp256k1".into());
        assert!(e.contains("ed25519"), "{e}");
        let e = with(&|v| v["pub_key"]["value"] = "AAAA".into());
        assert!(e.contains("32 bytes"), "{e}");
        let e = with(&|v| {
            v.as_object_mut().unwrap().remove("pub_key");
        });
        assert!(e.contains("priv_validator_key.json"), "{e}");
        assert!(parse_priv_validator_key("").is_err());
        assert!(parse_priv_validator_key("[]").is_err());
        let missing = std::path::Path::new("/nonexistent/priv_validator_key.json");
        assert!(read_priv_validator_key(missing).is_err());
    }

    #[test]
    fn consensus_pubkeys_must_be_canonical_ed25519_base64() {
        for bad in [
            "",
            "not base64!",
            // 31 and 33 bytes
            "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0Ng==",
            "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsIA",
            // padding missing, leftover bits set
            "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsI",
            "ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsJ=",
            // hex is not accepted
            "7a3ec3aa342de48e60d43e3dc8df6a6fa6a51917a0e4cf07cda50cd520f436c2",
            r#"{"type":"tendermint/PubKeySecp256k1","value":"ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsI="}"#,
        ] {
            assert!(parse_consensus_pubkey(bad).is_err(), "{bad:?} was accepted");
        }
        // 32 bytes that are not a point of the curve
        let off_curve = (0u8..=255)
            .map(|i| [i; 32])
            .find(|k| ed25519_consensus::VerificationKey::try_from(*k).is_err())
            .unwrap();
        let e = parse_consensus_pubkey(&serde_base64_32::encode(&off_curve)).unwrap_err();
        assert!(e.to_string().contains("not a valid ed25519 point"), "{e}");
        // surrounding whitespace is fine
        assert!(parse_consensus_pubkey(&format!("  {FIXTURE_PUBKEY}\n")).is_ok());
    }
}
