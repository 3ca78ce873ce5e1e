//! Accounts' keys and addresses (PROTOCOL.md §2).
//!
//! An address is `RIPEMD160(SHA256(compressed secp256k1 public key))`, shown as bech32 with the
//! HRP `nodeop` — the Cosmos rule, so a BIP-39 mnemonic at m/44'/118'/0'/0/0 gives the same key as
//! in Cosmos wallets. Module accounts have addresses too: the first 20 bytes of
//! `SHA-256("nodeop/module/" ‖ name)`, for which no private key is known.
//!
//! Signatures are ECDSA over secp256k1 on `SHA-256("nodeop-tx-v1" ‖ borsh(body))`, 64 bytes
//! `r ‖ s`, with `s` in the lower half of the group order (high-S is refused, so a signature
//! cannot be altered into a second valid one). Verification uses libsecp256k1, which is about
//! 2.4 times faster than the pure-Rust `k256` on this machine (see the benchmark).

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use ripemd::Ripemd160;
use secp256k1::{ecdsa, Message, PublicKey, Secp256k1, VerifyOnly};
use sha2::{Digest, Sha256};

pub const ADDRESS_HRP: &str = "nodeop";
pub const ADDRESS_LEN: usize = 20;

/// A 20-byte account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; ADDRESS_LEN]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("not bech32: {0}")]
    Bech32(String),
    #[error("wrong prefix {found:?}, expected {ADDRESS_HRP:?}")]
    WrongPrefix { found: String },
    #[error("address is {0} bytes, expected {ADDRESS_LEN}")]
    WrongLength(usize),
}

impl Address {
    pub fn from_pubkey(pubkey: &[u8; 33]) -> Self {
        let sha = Sha256::digest(pubkey);
        let rip = Ripemd160::digest(sha);
        let mut a = [0u8; ADDRESS_LEN];
        a.copy_from_slice(&rip);
        Address(a)
    }

    /// The address of a module account (no private key exists for it).
    pub fn module(name: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"nodeop/module/");
        h.update(name.as_bytes());
        let d = h.finalize();
        let mut a = [0u8; ADDRESS_LEN];
        a.copy_from_slice(&d[..ADDRESS_LEN]);
        Address(a)
    }

    /// The bech32 form (`nodeop1…`, 45 characters). Every tx's events name addresses, so this
    /// is written out for the one HRP and length there is; `bech32` gives the same string (a
    /// test compares them).
    pub fn to_bech32(&self) -> String {
        let mut out = String::with_capacity(BECH32_LEN);
        out.push_str(ADDRESS_HRP);
        out.push('1');
        let mut checksum = HRP_CHECKSUM;
        for group in groups(&self.0) {
            checksum = polymod_step(checksum, group);
            out.push(char::from(BECH32_CHARSET[usize::from(group)]));
        }
        for _ in 0..6 {
            checksum = polymod_step(checksum, 0);
        }
        checksum ^= 1; // the bech32 (not bech32m) constant
        for i in (0..6).rev() {
            let group = (checksum >> (5 * i)) & 31;
            out.push(char::from(BECH32_CHARSET[group as usize]));
        }
        out
    }

    pub fn parse(s: &str) -> Result<Self, AddressError> {
        // the canonical form (what `to_bech32` writes) is read directly; anything else, errors
        // included, goes through `bech32`, which decides as before
        if let Some(a) = Self::parse_canonical(s) {
            return Ok(a);
        }
        let (hrp, data) = bech32::decode(s).map_err(|e| AddressError::Bech32(e.to_string()))?;
        if hrp.as_str() != ADDRESS_HRP {
            return Err(AddressError::WrongPrefix {
                found: hrp.to_string(),
            });
        }
        let bytes: [u8; ADDRESS_LEN] = data
            .as_slice()
            .try_into()
            .map_err(|_| AddressError::WrongLength(data.len()))?;
        Ok(Address(bytes))
    }

    /// `s` if it is an address in lower case with a bech32 checksum; `None` for anything else.
    fn parse_canonical(s: &str) -> Option<Self> {
        let data = s.strip_prefix(ADDRESS_HRP)?.strip_prefix('1')?.as_bytes();
        if data.len() != BECH32_LEN - ADDRESS_HRP.len() - 1 {
            return None;
        }
        let mut checksum = HRP_CHECKSUM;
        let mut bytes = [0u8; ADDRESS_LEN];
        let (mut acc, mut bits, mut at) = (0u32, 0u32, 0usize);
        for (i, &c) in data.iter().enumerate() {
            let group = BECH32_VALUES.get(usize::from(c)).copied().flatten()?;
            checksum = polymod_step(checksum, group);
            if i < 32 {
                acc = (acc << 5) | u32::from(group);
                bits += 5;
                if bits >= 8 {
                    bits -= 8;
                    *bytes.get_mut(at)? = ((acc >> bits) & 0xff) as u8;
                    at += 1;
                }
            }
        }
        (checksum == 1 && at == ADDRESS_LEN).then_some(Address(bytes))
    }
}

/// `nodeop1`, 32 data characters (160 bits) and 6 of checksum.
const BECH32_LEN: usize = ADDRESS_HRP.len() + 1 + 32 + 6;
const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/// Each lower-case character's 5-bit value (upper case is left to `bech32`).
const BECH32_VALUES: [Option<u8>; 128] = {
    let mut values = [None; 128];
    let mut i = 0;
    while i < 32 {
        values[BECH32_CHARSET[i] as usize] = Some(i as u8);
        i += 1;
    }
    values
};

/// One step of BIP-173's checksum (`polymod`) over a 5-bit value.
const fn polymod_step(checksum: u32, value: u8) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let top = checksum >> 25;
    let mut c = ((checksum & 0x1ff_ffff) << 5) ^ value as u32;
    let mut i = 0;
    while i < 5 {
        if (top >> i) & 1 == 1 {
            c ^= GEN[i];
        }
        i += 1;
    }
    c
}

/// The checksum state after the HRP's expansion (high bits, a zero, low bits).
const HRP_CHECKSUM: u32 = {
    let hrp = ADDRESS_HRP.as_bytes();
    let mut c = 1;
    let mut i = 0;
    while i < hrp.len() {
        c = polymod_step(c, hrp[i] >> 5);
        i += 1;
    }
    c = polymod_step(c, 0);
    i = 0;
    while i < hrp.len() {
        c = polymod_step(c, hrp[i] & 31);
        i += 1;
    }
    c
};

/// The 32 5-bit groups of an address's 160 bits, most significant first.
fn groups(bytes: &[u8; ADDRESS_LEN]) -> impl Iterator<Item = u8> + '_ {
    (0..32usize).map(move |g| {
        let bit = g * 5;
        let (byte, shift) = (bit / 8, bit % 8);
        let hi = u16::from(bytes[byte]) << 8;
        let lo = bytes.get(byte + 1).map_or(0, |&b| u16::from(b));
        (((hi | lo) >> (11 - shift)) & 31) as u8
    })
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_bech32())
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_bech32())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFault {
    /// The 33 bytes are not a compressed point on the curve.
    BadPubkey,
    /// `r` or `s` is zero or not below the group order.
    Malformed,
    /// `s` is in the upper half of the group order.
    HighS,
    /// The signature does not verify for this key and message.
    Mismatch,
}

/// ECDSA verification with a reusable libsecp256k1 context and a bounded memo of parsed
/// public keys (parsing a compressed key takes a square root, about a seventh of a
/// verification, and a chain's signers repeat). Both are pure caches: results never depend on
/// them.
pub struct Verifier {
    ctx: Secp256k1<VerifyOnly>,
    keys: std::sync::Mutex<std::collections::BTreeMap<[u8; 33], PublicKey>>,
}

/// Parsed keys kept before the memo starts again from empty.
const PARSED_KEYS: usize = 1 << 16;

impl Default for Verifier {
    fn default() -> Self {
        Self {
            ctx: Secp256k1::verification_only(),
            keys: std::sync::Mutex::new(std::collections::BTreeMap::new()),
        }
    }
}

impl Verifier {
    pub fn verify(
        &self,
        pubkey: &[u8; 33],
        digest: &[u8; 32],
        signature: &[u8; 64],
    ) -> Result<(), SignatureFault> {
        let pk = self.parse(pubkey)?;
        let sig =
            ecdsa::Signature::from_compact(signature).map_err(|_| SignatureFault::Malformed)?;
        let mut normalized = sig;
        normalized.normalize_s();
        if normalized != sig {
            return Err(SignatureFault::HighS);
        }
        self.ctx
            .verify_ecdsa(Message::from_digest(*digest), &sig, &pk)
            .map_err(|_| SignatureFault::Mismatch)
    }

    /// The parsed key, from the memo when it was parsed before (only valid keys are kept).
    fn parse(&self, pubkey: &[u8; 33]) -> Result<PublicKey, SignatureFault> {
        if let Some(pk) = self.keys().get(pubkey).copied() {
            return Ok(pk);
        }
        let pk = PublicKey::from_slice(pubkey).map_err(|_| SignatureFault::BadPubkey)?;
        let mut keys = self.keys();
        if keys.len() >= PARSED_KEYS {
            keys.clear();
        }
        keys.insert(*pubkey, pk);
        Ok(pk)
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<[u8; 33], PublicKey>> {
        // a poisoned lock only means another thread panicked while holding it: the map is
        // still a map of valid keys
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parsed keys held (tests).
    #[cfg(test)]
    fn parsed_keys(&self) -> usize {
        self.keys.lock().map_or(0, |k| k.len())
    }
}

pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bech32::{Bech32, Hrp};

    /// The written-out encoder and the canonical-form reader agree with `bech32` on every
    /// address tried, and every altered character of a valid address is refused.
    #[test]
    fn bech32_by_hand_matches_the_bech32_crate() {
        let hrp = Hrp::parse(ADDRESS_HRP).unwrap();
        let mut seed = [0u8; 32];
        for i in 0u32..2000 {
            seed = Sha256::digest([seed.as_slice(), &i.to_le_bytes()].concat()).into();
            let mut a = [0u8; ADDRESS_LEN];
            a.copy_from_slice(&seed[..ADDRESS_LEN]);
            if i < 2 {
                a = [if i == 0 { 0 } else { 0xff }; ADDRESS_LEN];
            }
            let a = Address(a);
            let expected = bech32::encode::<Bech32>(hrp, &a.0).unwrap();
            assert_eq!(a.to_bech32(), expected);
            assert_eq!(Address::parse_canonical(&expected), Some(a));
            assert_eq!(Address::parse(&expected), Ok(a));
            // the upper-case form and the bech32m checksum are left to `bech32`, which refuses
            // the first (its HRP is not `nodeop`) and reads the second
            assert_eq!(Address::parse_canonical(&expected.to_uppercase()), None);
            assert_eq!(
                Address::parse(&expected.to_uppercase()),
                Err(AddressError::WrongPrefix {
                    found: ADDRESS_HRP.to_uppercase()
                })
            );
            let m = bech32::encode::<bech32::Bech32m>(hrp, &a.0).unwrap();
            assert_eq!(Address::parse_canonical(&m), None);
            assert_eq!(Address::parse(&m), Ok(a));
            if i < 50 {
                let tail = ADDRESS_HRP.len() + 1;
                for at in tail..expected.len() {
                    let mut bad = expected.clone().into_bytes();
                    bad[at] = if bad[at] == b'q' { b'p' } else { b'q' };
                    let bad = String::from_utf8(bad).unwrap();
                    assert_eq!(Address::parse_canonical(&bad), None, "{bad}");
                    assert!(Address::parse(&bad).is_err(), "{bad}");
                }
            }
        }
        for s in [
            "",
            "nodeop1",
            "nodeop1qqqq",
            "nodeop2",
            "nodeopb",
            "\u{e9}nodeop1",
        ] {
            assert_eq!(Address::parse_canonical(s), None, "{s}");
        }
    }

    #[test]
    fn bech32_round_trip_and_errors() {
        let a = Address([7u8; 20]);
        let s = a.to_bech32();
        assert!(s.starts_with("nodeop1"));
        assert_eq!(Address::parse(&s).unwrap(), a);
        assert!(matches!(
            Address::parse("nodeop1xyz"),
            Err(AddressError::Bech32(_))
        ));
        let cosmos = bech32::encode::<Bech32>(Hrp::parse("cosmos").unwrap(), &[7u8; 20]).unwrap();
        assert!(matches!(
            Address::parse(&cosmos),
            Err(AddressError::WrongPrefix { .. })
        ));
        let short = bech32::encode::<Bech32>(Hrp::parse("nodeop").unwrap(), &[7u8; 19]).unwrap();
        assert_eq!(Address::parse(&short), Err(AddressError::WrongLength(19)));
    }

    #[test]
    fn k256_signatures_verify_and_high_s_is_refused() {
        use k256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
        let sk = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let pk: [u8; 33] = sk
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        let digest = sha256(&[b"hello"]);
        let sig: Signature = sk.sign_prehash(&digest).unwrap();
        let low = sig.normalize_s().unwrap_or(sig);
        let bytes: [u8; 64] = low.to_bytes().into();
        let v = Verifier::default();
        assert_eq!(v.verify(&pk, &digest, &bytes), Ok(()));
        // flip s to n - s: still a valid ECDSA signature mathematically, refused as high-S
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        let high_bytes: [u8; 64] = high.to_bytes().into();
        assert_eq!(
            v.verify(&pk, &digest, &high_bytes),
            Err(SignatureFault::HighS)
        );
        let other = sha256(&[b"other"]);
        assert_eq!(v.verify(&pk, &other, &bytes), Err(SignatureFault::Mismatch));
        assert_eq!(
            v.verify(&[9u8; 33], &digest, &bytes),
            Err(SignatureFault::BadPubkey)
        );
        assert!(matches!(
            v.verify(&pk, &digest, &[0u8; 64]),
            Err(SignatureFault::Malformed | SignatureFault::Mismatch)
        ));
    }

    #[test]
    fn the_parsed_key_memo_gives_the_same_answers_keeps_only_valid_keys_and_is_bounded() {
        use k256::ecdsa::{signature::hazmat::PrehashSigner, Signature, SigningKey};
        let signer = |i: u32| {
            let mut secret = [0u8; 32];
            secret[28..].copy_from_slice(&(i + 1).to_be_bytes());
            let sk = SigningKey::from_slice(&secret).unwrap();
            let pk: [u8; 33] = sk
                .verifying_key()
                .to_encoded_point(true)
                .as_bytes()
                .try_into()
                .unwrap();
            (sk, pk)
        };
        let digest = sha256(&[b"memo"]);
        let (sk, pk) = signer(0);
        let sig: Signature = sk.sign_prehash(&digest).unwrap();
        let sig: [u8; 64] = sig.normalize_s().unwrap_or(sig).to_bytes().into();
        let (_, other_pk) = signer(1);
        let v = Verifier::default();
        // the first verification parses, the later ones read the memo: the same answers
        for round in 0..3 {
            assert_eq!(v.verify(&pk, &digest, &sig), Ok(()), "round {round}");
            assert_eq!(
                v.verify(&other_pk, &digest, &sig),
                Err(SignatureFault::Mismatch),
                "round {round}"
            );
            assert_eq!(
                v.verify(&[9u8; 33], &digest, &sig),
                Err(SignatureFault::BadPubkey),
                "round {round}"
            );
        }
        assert_eq!(v.parsed_keys(), 2, "an invalid key is never kept");
        // bounded: once full it starts again from empty, and answers stay the same
        let mut keys = v.keys();
        for i in 0..PARSED_KEYS as u32 {
            let mut k = [2u8; 33];
            k[1..5].copy_from_slice(&i.to_be_bytes());
            let any = *keys.values().next().unwrap();
            keys.insert(k, any);
        }
        drop(keys);
        assert!(v.parsed_keys() >= PARSED_KEYS);
        let (_, third_pk) = signer(2);
        assert_eq!(
            v.verify(&third_pk, &digest, &sig),
            Err(SignatureFault::Mismatch)
        );
        assert_eq!(
            v.parsed_keys(),
            1,
            "a key parsed into a full memo starts it again"
        );
        assert_eq!(v.verify(&pk, &digest, &sig), Ok(()));
    }
}
