//! Account keys: BIP-39 mnemonics, BIP-32 derivation at m/44'/118'/0'/0/0, signing.
//!
//! Derivation uses `cosmrs::bip32` (the same code Cosmos wallets use), so a mnemonic gives the same
//! secp256k1 key — and the same 20-byte address — as in any Cosmos wallet; only the bech32 prefix
//! differs (`nodeop`). Signing uses `k256` directly: ECDSA over the 32-byte sign digest
//! (`TxBody::sign_bytes`) with RFC 6979 nonces, normalised to low S as the chain requires.

use std::fmt;

use anyhow::{anyhow, bail, Context, Result};
use cosmrs::bip32::{DerivationPath, Language, Mnemonic, XPrv};
use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{Signature, SigningKey};
use nodeop_app::crypto::Address;
use rand_core::OsRng;
use zeroize::Zeroizing;

/// The Cosmos HD path (coin type 118), account 0, external chain, index 0.
pub const HD_PATH: &str = "m/44'/118'/0'/0/0";

/// Number of words of the mnemonics this client creates and accepts (256 bits of entropy).
pub const MNEMONIC_WORDS: usize = 24;

/// A secp256k1 key pair with its nodeop address. The secret is wiped on drop (k256's
/// `SigningKey` zeroizes itself) and never printed by `Debug`.
#[derive(Clone)]
pub struct KeyPair {
    secret: SigningKey,
    pubkey: [u8; 33],
    address: Address,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("address", &self.address)
            .field("pubkey", &hex::encode(self.pubkey))
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    pub fn from_signing_key(secret: SigningKey) -> Self {
        let point = secret.verifying_key().to_encoded_point(true);
        let mut pubkey = [0u8; 33];
        // A compressed SEC1 point is always 33 bytes.
        pubkey.copy_from_slice(point.as_bytes());
        let address = Address::from_pubkey(&pubkey);
        Self {
            secret,
            pubkey,
            address,
        }
    }

    /// The key at [`HD_PATH`] of a 24-word English BIP-39 mnemonic (no BIP-39 passphrase).
    pub fn from_mnemonic(phrase: &str) -> Result<Self> {
        let mnemonic = parse_mnemonic(phrase)?;
        let seed = mnemonic.to_seed("");
        let path: DerivationPath = HD_PATH
            .parse()
            .map_err(|e| anyhow!("HD path {HD_PATH}: {e}"))?;
        let xprv = XPrv::derive_from_path(seed.as_bytes(), &path)
            .map_err(|e| anyhow!("deriving {HD_PATH} from the mnemonic: {e}"))?;
        Ok(Self::from_signing_key(xprv.private_key().clone()))
    }

    /// A raw 32-byte big-endian secret scalar.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            bail!("a secp256k1 secret key is 32 bytes, got {}", bytes.len());
        }
        let secret = SigningKey::from_slice(bytes).map_err(|_| {
            anyhow!("not a valid secp256k1 secret key (zero or not below the group order)")
        })?;
        Ok(Self::from_signing_key(secret))
    }

    /// A secret key as 64 hex digits (an optional `0x` prefix is allowed).
    pub fn from_secret_hex(hex_str: &str) -> Result<Self> {
        let trimmed = hex_str.trim();
        let trimmed = trimmed.strip_prefix("0x").unwrap_or(trimmed);
        let bytes = Zeroizing::new(
            hex::decode(trimmed)
                .map_err(|_| anyhow!("the secret key is not hex (expected 64 hex digits)"))?,
        );
        Self::from_secret_bytes(&bytes).context("secret key")
    }

    /// A fresh random key (OS randomness).
    pub fn random() -> Self {
        Self::from_signing_key(SigningKey::random(&mut OsRng))
    }

    pub fn pubkey(&self) -> [u8; 33] {
        self.pubkey
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// The secret scalar (for storing in the keyring).
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes().into())
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.secret
    }

    /// Signs a 32-byte digest: ECDSA, RFC 6979 nonce, low S, 64 bytes `r ‖ s`.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 64]> {
        let signature: Signature = self
            .secret
            .sign_prehash(digest)
            .map_err(|e| anyhow!("signing failed: {e}"))?;
        let low_s = signature.normalize_s().unwrap_or(signature);
        Ok(low_s.to_bytes().into())
    }
}

/// Collapses whitespace and case so that a pasted phrase parses.
pub fn normalize_mnemonic(phrase: &str) -> Zeroizing<String> {
    Zeroizing::new(
        phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Parses a 24-word English BIP-39 mnemonic, with a readable error.
pub fn parse_mnemonic(phrase: &str) -> Result<Mnemonic> {
    let normalized = normalize_mnemonic(phrase);
    let words = normalized.split(' ').filter(|w| !w.is_empty()).count();
    if words != MNEMONIC_WORDS {
        bail!("a mnemonic must have {MNEMONIC_WORDS} words, this one has {words}");
    }
    Mnemonic::new(normalized.as_str(), Language::English).map_err(|_| {
        anyhow!("not a valid BIP-39 mnemonic: a word is not in the English word list, or the checksum (last word) is wrong")
    })
}

/// A new random 24-word mnemonic (OS randomness).
pub fn generate_mnemonic() -> Mnemonic {
    Mnemonic::random(OsRng, Language::English)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmrs::crypto::secp256k1::SigningKey as CosmrsSigningKey;

    /// The cosmjs test faucet: a public 24-word mnemonic with a published address
    /// (`cosmos1pkptre7fdkl6gfrzlesjjvhxhlc3r4gmmk8rs6`, pubkey `A08EGB7r…`, path m/44'/118'/0'/0/0).
    const FAUCET_MNEMONIC: &str = "economy stock theory fatal elder harbor betray wasp final emotion task crumble siren bottom lizard educate guess current outdoor pair theory focus wife stone";
    const FAUCET_COSMOS_ADDRESS: &str = "cosmos1pkptre7fdkl6gfrzlesjjvhxhlc3r4gmmk8rs6";
    const FAUCET_PUBKEY_HEX: &str =
        "034f04181eeba35391b858633a765c4a0c189697b40d216354d50890d350c70290";
    const FAUCET_NODEOP_ADDRESS: &str = "nodeop1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm4gav02";

    #[test]
    fn cosmrs_derivation_gives_the_app_address() {
        let ours = KeyPair::from_mnemonic(FAUCET_MNEMONIC).unwrap();
        // cosmrs' own path: SigningKey::derive_from_path, then PublicKey::account_id("nodeop").
        let mnemonic = parse_mnemonic(FAUCET_MNEMONIC).unwrap();
        let seed = mnemonic.to_seed("");
        let cosmrs_key =
            CosmrsSigningKey::derive_from_path(seed.as_bytes(), &HD_PATH.parse().unwrap()).unwrap();
        let cosmrs_pub = cosmrs_key.public_key();
        assert_eq!(cosmrs_pub.to_bytes(), ours.pubkey().to_vec());
        let cosmrs_account = cosmrs_pub.account_id("nodeop").unwrap();
        let app_address = Address::from_pubkey(&ours.pubkey());
        assert_eq!(cosmrs_account.to_string(), app_address.to_bech32());
        assert_eq!(ours.address(), app_address);
        // and the same key under the cosmos prefix is the published cosmjs address
        assert_eq!(
            cosmrs_pub.account_id("cosmos").unwrap().to_string(),
            FAUCET_COSMOS_ADDRESS
        );
    }

    #[test]
    fn known_mnemonic_vector() {
        let key = KeyPair::from_mnemonic(FAUCET_MNEMONIC).unwrap();
        assert_eq!(hex::encode(key.pubkey()), FAUCET_PUBKEY_HEX);
        assert_eq!(key.address().to_bech32(), FAUCET_NODEOP_ADDRESS);
        // the published cosmos address holds the same 20 bytes
        let cosmos: cosmrs::AccountId = FAUCET_COSMOS_ADDRESS.parse().unwrap();
        assert_eq!(cosmos.to_bytes(), key.address().0.to_vec());
        // whitespace and case do not matter
        let messy = format!("  {}\n", FAUCET_MNEMONIC.to_uppercase().replace(' ', "   "));
        assert_eq!(
            KeyPair::from_mnemonic(&messy).unwrap().address(),
            key.address()
        );
    }

    #[test]
    fn bad_mnemonics_and_secrets_are_errors() {
        assert!(KeyPair::from_mnemonic("").is_err());
        assert!(KeyPair::from_mnemonic("abandon abandon abandon").is_err());
        // right length, wrong checksum
        let wrong_checksum = FAUCET_MNEMONIC.replace("stone", "abandon");
        assert!(KeyPair::from_mnemonic(&wrong_checksum).is_err());
        let unknown_word = FAUCET_MNEMONIC.replace("economy", "qwertyuiop");
        assert!(KeyPair::from_mnemonic(&unknown_word).is_err());
        assert!(KeyPair::from_secret_hex("zz").is_err());
        assert!(KeyPair::from_secret_hex("00").is_err());
        assert!(KeyPair::from_secret_hex(&"00".repeat(32)).is_err());
        assert!(KeyPair::from_secret_hex(&"ff".repeat(32)).is_err());
        let k = KeyPair::from_secret_hex(&format!("0x{}", "42".repeat(32))).unwrap();
        assert_eq!(hex::encode(k.secret_bytes().as_slice()), "42".repeat(32));
    }

    #[test]
    fn generated_mnemonics_have_24_words_and_round_trip() {
        let m = generate_mnemonic();
        assert_eq!(m.phrase().split(' ').count(), MNEMONIC_WORDS);
        let a = KeyPair::from_mnemonic(m.phrase()).unwrap();
        let b = KeyPair::from_mnemonic(m.phrase()).unwrap();
        assert_eq!(a.pubkey(), b.pubkey());
        assert!(!format!("{a:?}").contains(&hex::encode(a.secret_bytes().as_slice())));
    }
}
