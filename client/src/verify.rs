//! Verified reads: a stored record, its ICS23 proof to the app hash, and a light-client check
//! of the header that carries that app hash (PROTOCOL.md §3.8).
//!
//! For a query at height H the app answers with the stored bytes and a JMT proof whose root is
//! the app hash after block H, which CometBFT records in header H+1. The client
//!
//! 1. computes the store key itself from what was asked (never trusting the node's `key`),
//! 2. fetches the signed header H+1 (`/commit`) and the validator set at H+1 (`/validators`, every
//!    page) and checks, with `tendermint-light-client-verifier`: the chain id; that the commit is
//!    for height H+1 and for this header's hash; that the validator set hashes to the header's
//!    `validators_hash` (and to `--trusted-validators-hash` when pinned); that every signer is in
//!    the set; that every counted signature verifies; and that more than 2/3 of the set's voting
//!    power signed,
//! 3. checks the proof op with `nodeop_app::query::verify_proof` against header(H+1).app_hash,
//! 4. decodes the stored bytes and checks that the node's JSON (`info`) says the same.
//!
//! Without a pinned validator-set hash, the set is the one the node reports: the check then shows
//! that the header is signed by the set it names, not that this set is the chain's. Pinning a hash
//! obtained out of band (or from a trusted light client) closes that gap.

use std::fmt;
use std::time::Duration;

use anyhow::{anyhow, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::bank;
use nodeop_app::query::{verify_proof, ProofOp};
use serde::Serialize;
use tendermint::block::signed_header::SignedHeader;
use tendermint::block::Height;
use tendermint::hash::{Algorithm, Hash};
use tendermint::{account, validator};
use tendermint_light_client_verifier::operations::{
    CommitValidator, ProdCommitValidator, ProdVotingPowerCalculator, VotingPowerCalculator,
};
use tendermint_light_client_verifier::predicates::{ProdPredicates, VerificationPredicates};
use tendermint_light_client_verifier::types::TrustThreshold;
use tendermint_rpc::endpoint::abci_query::AbciQuery;
use tendermint_rpc::{Client, HttpClient, Paging};

use crate::node::{abci_query, rpc_error, POLL_INTERVAL};

/// A check that failed: the node's answer is not what the chain signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationFailed(pub String);

impl fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "verification failed: {}", self.0)
    }
}

impl std::error::Error for VerificationFailed {}

fn fail<T>(msg: impl Into<String>) -> Result<T, VerificationFailed> {
    Err(VerificationFailed(msg.into()))
}

pub fn parse_hash(hex_str: &str) -> Result<Hash> {
    let bytes = hex::decode(hex_str.trim()).map_err(|_| anyhow!("{hex_str:?} is not hex"))?;
    Hash::from_bytes(Algorithm::Sha256, &bytes)
        .map_err(|_| anyhow!("a hash is 32 bytes (64 hex digits), got {}", bytes.len()))
}

/// What was established about header H+1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedHeader {
    pub chain_id: String,
    pub height: u64,
    pub time: String,
    pub header_hash: String,
    pub app_hash: String,
    pub validators_hash: String,
    pub validators: usize,
    pub signers: usize,
    pub signed_power: u64,
    pub total_power: u64,
    /// The validator-set hash was pinned by the caller (`--trusted-validators-hash`); otherwise
    /// the set came from the node and only its consistency with the header was checked.
    pub validators_pinned: bool,
}

/// Checks a signed header against a validator set: chain id, height, commit ↔ header hash,
/// set ↔ `validators_hash` (↔ `pinned`), signers ∈ set, signatures, and > 2/3 of the power.
pub fn verify_signed_header(
    sh: &SignedHeader,
    validators: &[validator::Info],
    chain_id: &str,
    height: u64,
    pinned: Option<&Hash>,
) -> Result<VerifiedHeader, VerificationFailed> {
    let header = &sh.header;
    if header.chain_id.as_str() != chain_id {
        return fail(format!(
            "header is for chain {:?}, expected {chain_id:?}",
            header.chain_id.as_str()
        ));
    }
    if header.height.value() != height {
        return fail(format!(
            "the node sent header {} when asked for {height}",
            header.height
        ));
    }
    if sh.commit.height != header.height {
        return fail(format!(
            "commit is for height {}, header for {}",
            sh.commit.height, header.height
        ));
    }
    if validators.is_empty() {
        return fail("the validator set is empty");
    }
    let total: u128 = validators.iter().map(|v| u128::from(v.power.value())).sum();
    if total > u128::from(validator::Set::MAX_TOTAL_VOTING_POWER) {
        return fail("the validator set's total power is out of range");
    }
    for v in validators {
        if account::Id::from(v.pub_key) != v.address {
            return fail(format!(
                "validator {} does not match its public key",
                v.address
            ));
        }
    }
    let set = validator::Set::without_proposer(validators.to_vec());
    let predicates = ProdPredicates;
    predicates
        .header_matches_commit(header, sh.commit.block_id.hash)
        .map_err(|e| VerificationFailed(format!("the commit is not for this header: {e}")))?;
    predicates
        .validator_sets_match(&set, header.validators_hash)
        .map_err(|e| {
            VerificationFailed(format!(
                "the validator set does not hash to the header's validators_hash: {e}"
            ))
        })?;
    if let Some(p) = pinned {
        if *p != header.validators_hash {
            return fail(format!(
                "header {height} has validators_hash {}, not the trusted {p}",
                header.validators_hash
            ));
        }
    }
    predicates
        .valid_commit(sh, &set, &ProdCommitValidator)
        .map_err(|e| VerificationFailed(format!("malformed commit: {e}")))?;
    ProdCommitValidator
        .validate_full(sh, &set)
        .map_err(|e| VerificationFailed(format!("commit signer outside the set: {e}")))?;
    // The library's 2/3 check (what a light client runs) …
    let calculator = ProdVotingPowerCalculator::default();
    calculator.check_signers_overlap(sh, &set).map_err(|e| {
        VerificationFailed(format!(
            "not enough voting power signed header {height}: {e}"
        ))
    })?;
    // … then the full tally for the report: a threshold of 1/1 is never met early, so every
    // commit signature of the set is verified and counted.
    let full = TrustThreshold::new(1, 1).map_err(|e| VerificationFailed(e.to_string()))?;
    let tally = calculator
        .voting_power_in(sh, &set, full)
        .map_err(|e| VerificationFailed(format!("a commit signature does not verify: {e}")))?;
    if u128::from(tally.tallied) * 3 <= u128::from(tally.total) * 2 {
        return fail(format!(
            "only {}/{} of the voting power signed header {height}",
            tally.tallied, tally.total
        ));
    }
    let signers = sh
        .commit
        .signatures
        .iter()
        .filter(|s| s.is_commit())
        .count();
    Ok(VerifiedHeader {
        chain_id: chain_id.to_string(),
        height,
        time: header.time.to_rfc3339(),
        header_hash: header.hash().to_string(),
        app_hash: hex::encode_upper(header.app_hash.as_bytes()),
        validators_hash: header.validators_hash.to_string(),
        validators: validators.len(),
        signers,
        signed_power: tally.tallied,
        total_power: tally.total,
        validators_pinned: pinned.is_some(),
    })
}

/// Fetches `/commit?height=` and `/validators?height=` (all pages), waiting up to `timeout` for
/// the block to exist, and verifies them with [`verify_signed_header`].
pub async fn fetch_verified_header(
    client: &HttpClient,
    chain_id: &str,
    height: u64,
    pinned: Option<&Hash>,
    timeout: Duration,
) -> Result<VerifiedHeader> {
    let h = Height::try_from(height).map_err(|e| anyhow!("height {height}: {e}"))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let commit = loop {
        match client.commit(h).await {
            Ok(c) => break c,
            Err(e) => {
                if tokio::time::Instant::now() >= deadline {
                    let what = format!(
                        "fetching the signed header at height {height} (waited {} s for it)",
                        timeout.as_secs()
                    );
                    return Err(rpc_error(e, &what));
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    };
    let validators = client
        .validators(h, Paging::All)
        .await
        .map_err(|e| rpc_error(e, &format!("fetching the validator set at height {height}")))?;
    Ok(verify_signed_header(
        &commit.signed_header,
        &validators.validators,
        chain_id,
        height,
        pinned,
    )?)
}

/// A record that can be read with a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Account(Address),
    Supply,
    /// Any store key (`/store`); the value is shown as hex.
    Store(Vec<u8>),
}

impl Record {
    pub fn path(&self) -> String {
        match self {
            Record::Account(a) => format!("/account/{a}"),
            Record::Supply => "/supply".into(),
            Record::Store(_) => "/store".into(),
        }
    }

    pub fn data(&self) -> Vec<u8> {
        match self {
            Record::Store(k) => k.clone(),
            _ => Vec::new(),
        }
    }

    /// The store key, computed here from the request.
    pub fn key(&self) -> Vec<u8> {
        match self {
            Record::Account(a) => bank::keys::account(a),
            Record::Supply => bank::keys::SUPPLY.to_vec(),
            Record::Store(k) => k.clone(),
        }
    }

    /// Decodes the (proven) stored bytes, `None` meaning absent, into JSON, and checks that the
    /// node's own rendering (`info`) agrees with it. An account's view is
    /// `{address, balance, nonce}` (as `/account` renders it), the supply's the supply record.
    pub fn decode_and_match(
        &self,
        value: Option<&[u8]>,
        info: &str,
    ) -> Result<serde_json::Value, VerificationFailed> {
        let decoded = match self {
            Record::Account(_) => {
                let acct: bank::Account = match value {
                    Some(b) => borsh::from_slice(b).map_err(|e| {
                        VerificationFailed(format!("the stored account does not decode: {e}"))
                    })?,
                    None => bank::Account::default(),
                };
                serde_json::to_value(acct)
            }
            Record::Supply => {
                let Some(b) = value else {
                    return fail("the supply record is absent");
                };
                let supply: bank::Supply = borsh::from_slice(b).map_err(|e| {
                    VerificationFailed(format!("the stored supply does not decode: {e}"))
                })?;
                serde_json::to_value(supply)
            }
            Record::Store(_) => Ok(serde_json::Value::String(
                value.map(hex::encode).unwrap_or_default(),
            )),
        }
        .map_err(|e| VerificationFailed(e.to_string()))?;
        match self {
            Record::Store(_) => {
                if info != decoded.as_str().unwrap_or_default() {
                    return fail("the node's info does not match the proven bytes");
                }
            }
            _ => {
                let shown: serde_json::Value = serde_json::from_str(info)
                    .map_err(|e| VerificationFailed(format!("the node's info is not JSON: {e}")))?;
                let fields = decoded.as_object().cloned().unwrap_or_default();
                for (field, value) in &fields {
                    if shown.get(field) != Some(value) {
                        return fail(format!(
                            "the node's info says {field} = {}, the proven record says {value}",
                            shown
                                .get(field)
                                .map(|v| v.to_string())
                                .unwrap_or_else(|| "nothing".into())
                        ));
                    }
                }
                if let Record::Account(a) = self {
                    if shown.get("address").and_then(|v| v.as_str()) != Some(a.to_bech32().as_str())
                    {
                        return fail("the node's info is for another address");
                    }
                }
            }
        }
        // The address is part of the proven key, so it belongs in the proven value's view.
        let mut decoded = decoded;
        if let (Record::Account(a), Some(fields)) = (self, decoded.as_object_mut()) {
            fields.insert("address".into(), serde_json::Value::String(a.to_bech32()));
        }
        Ok(decoded)
    }
}

/// A store key for people: `bank/acct/` + the address bytes in hex, a printable key as is,
/// anything else in the app's mixed notation.
pub fn display_store_key(key: &[u8]) -> String {
    if let Some(rest) = key.strip_prefix(bank::keys::ACCOUNT_PREFIX) {
        return format!(
            "{}{}",
            String::from_utf8_lossy(bank::keys::ACCOUNT_PREFIX),
            hex::encode(rest)
        );
    }
    nodeop_app::state::display_key(key)
}

/// The result of a verified read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedRecord {
    pub path: String,
    /// The store key, printable (`bank/acct/` + hex of the address bytes, …).
    pub key: String,
    pub key_hex: String,
    /// The state height the record was read at (the app hash is in header `height + 1`).
    pub height: u64,
    pub exists: bool,
    pub value_hex: String,
    pub value: serde_json::Value,
    pub header: VerifiedHeader,
}

/// Checks a proven query answer against an app hash: the height, the key, the proof op, and
/// the stored bytes against the node's JSON.
pub fn verify_query_answer(
    record: &Record,
    resp: &AbciQuery,
    height: u64,
    app_hash: &[u8],
) -> Result<serde_json::Value, VerificationFailed> {
    if resp.height.value() != height {
        return fail(format!(
            "the answer is for height {}, expected {height}",
            resp.height
        ));
    }
    let key = record.key();
    if resp.key != key {
        return fail("the answer is for another store key");
    }
    let root: [u8; 32] = match app_hash.try_into() {
        Ok(r) => r,
        Err(_) => {
            return fail(format!(
                "the app hash in the header is {} bytes, expected 32",
                app_hash.len()
            ))
        }
    };
    let ops = resp
        .proof
        .as_ref()
        .map(|p| p.ops.as_slice())
        .unwrap_or_default();
    let [op] = ops else {
        return fail(format!("expected exactly one proof op, got {}", ops.len()));
    };
    let op = ProofOp {
        kind: op.field_type.clone(),
        key: op.key.clone(),
        data: op.data.clone(),
    };
    // An absent record is answered with an empty value and a non-membership proof; no stored
    // record is empty (borsh structs have fields).
    let value = (!resp.value.is_empty()).then_some(resp.value.as_slice());
    verify_proof(&op, &root, &key, value).map_err(|e| VerificationFailed(format!("proof: {e}")))?;
    record.decode_and_match(value, &resp.info)
}

/// Reads `record` with a proof at `height` (latest if `None`) and verifies it end to end.
pub async fn query_verified(
    client: &HttpClient,
    record: &Record,
    height: Option<u64>,
    chain_id: &str,
    pinned: Option<&Hash>,
    timeout: Duration,
) -> Result<VerifiedRecord> {
    let resp = abci_query(client, &record.path(), record.data(), height, true).await?;
    let h = resp.height.value();
    if let Some(asked) = height {
        if asked != h {
            return Err(VerificationFailed(format!(
                "asked for height {asked}, the node answered for {h}"
            ))
            .into());
        }
    }
    let header = fetch_verified_header(client, chain_id, h + 1, pinned, timeout).await?;
    let app_hash = hex::decode(&header.app_hash).unwrap_or_default();
    let value = verify_query_answer(record, &resp, h, &app_hash)?;
    let key = record.key();
    Ok(VerifiedRecord {
        path: record.path(),
        key: display_store_key(&key),
        key_hex: hex::encode(&key),
        height: h,
        exists: !resp.value.is_empty(),
        value_hex: hex::encode(&resp.value),
        value,
        header,
    })
}

#[cfg(test)]
mod tests {
    //! Against a header, validator set and proven answer recorded from a real one-validator
    //! devnet (nodeopd + cometbft 0.38): the record is bob's account at height 7, so its app
    //! hash is in header 8.
    use super::*;
    use tendermint::block::CommitSig;
    use tendermint_rpc::endpoint::{abci_query, commit, validators};

    const CHAIN: &str = "nodeop-devnet";
    const BOB: &str = "nodeop1kygrp97xykh98x8x6wmvr2s9au7awna5untxcm";
    const ALICE: &str = "nodeop1fvtrxn2vh5kpmryeq37tm2s6tysyqaxdeexqhl";
    const VALIDATORS_HASH: &str =
        "FAE4A041EAE133B3CDFACD0840E7FF2331EE54657D6A3D3C025E1F3D69EF7F16";

    fn header() -> SignedHeader {
        serde_json::from_str::<commit::Response>(include_str!("testdata/commit_8.json"))
            .unwrap()
            .signed_header
    }

    fn validator_set() -> Vec<validator::Info> {
        serde_json::from_str::<validators::Response>(include_str!("testdata/validators_8.json"))
            .unwrap()
            .validators
    }

    fn answer() -> AbciQuery {
        serde_json::from_str::<abci_query::Response>(include_str!(
            "testdata/abci_query_account_7.json"
        ))
        .unwrap()
        .response
    }

    fn bob() -> Record {
        Record::Account(Address::parse(BOB).unwrap())
    }

    #[test]
    fn recorded_header_and_proof_verify() {
        let v = verify_signed_header(&header(), &validator_set(), CHAIN, 8, None).unwrap();
        assert_eq!(
            (v.signed_power, v.total_power, v.signers, v.validators),
            (10, 10, 1, 1)
        );
        assert_eq!(v.validators_hash, VALIDATORS_HASH);
        assert!(!v.validators_pinned);
        let pinned = parse_hash(VALIDATORS_HASH).unwrap();
        assert!(
            verify_signed_header(&header(), &validator_set(), CHAIN, 8, Some(&pinned))
                .unwrap()
                .validators_pinned
        );

        let app_hash = hex::decode(&v.app_hash).unwrap();
        let value = verify_query_answer(&bob(), &answer(), 7, &app_hash).unwrap();
        assert_eq!(
            value,
            serde_json::json!({ "address": BOB, "balance": "501500000", "nonce": 0 })
        );
    }

    #[test]
    fn tampered_headers_are_refused() {
        let vals = validator_set();
        assert!(verify_signed_header(&header(), &vals, "nodeop-1", 8, None).is_err());
        assert!(verify_signed_header(&header(), &vals, CHAIN, 9, None).is_err());
        assert!(verify_signed_header(&header(), &[], CHAIN, 8, None).is_err());
        let other = parse_hash(&"00".repeat(32)).unwrap();
        assert!(verify_signed_header(&header(), &vals, CHAIN, 8, Some(&other)).is_err());

        // another app hash: the header no longer hashes to the signed block id
        let mut sh = header();
        sh.header.app_hash = tendermint::AppHash::try_from(vec![0u8; 32]).unwrap();
        let err = verify_signed_header(&sh, &vals, CHAIN, 8, None).unwrap_err();
        assert!(err.0.contains("not for this header"), "{err}");

        // another validator set (more power): not the header's validators_hash
        let mut more = vals.clone();
        more[0].power = 11u32.into();
        let err = verify_signed_header(&header(), &more, CHAIN, 8, None).unwrap_err();
        assert!(err.0.contains("validators_hash"), "{err}");

        // a flipped signature bit
        let mut sh = header();
        if let CommitSig::BlockIdFlagCommit {
            signature: Some(sig),
            ..
        } = &mut sh.commit.signatures[0]
        {
            let mut bytes = sig.as_bytes().to_vec();
            bytes[0] ^= 1;
            *sig = tendermint::Signature::try_from(bytes).unwrap();
        } else {
            panic!("the fixture's first signature is not a commit");
        }
        assert!(verify_signed_header(&sh, &vals, CHAIN, 8, None).is_err());

        // no signatures at all
        let mut sh = header();
        sh.commit.signatures = vec![CommitSig::BlockIdFlagAbsent];
        assert!(verify_signed_header(&sh, &vals, CHAIN, 8, None).is_err());
    }

    #[test]
    fn tampered_answers_are_refused() {
        let v = verify_signed_header(&header(), &validator_set(), CHAIN, 8, None).unwrap();
        let app_hash = hex::decode(&v.app_hash).unwrap();

        // a richer bob, with info to match: the proof fails
        let mut q = answer();
        q.value[0] ^= 0xff;
        let balance = u128::from_le_bytes(q.value[..16].try_into().unwrap());
        q.info = format!(r#"{{"address":"{BOB}","balance":"{balance}","nonce":0}}"#);
        let err = verify_query_answer(&bob(), &q, 7, &app_hash).unwrap_err();
        assert!(err.0.contains("proof"), "{err}");

        // the right bytes but a lying rendering
        let mut q = answer();
        q.info = format!(r#"{{"address":"{BOB}","balance":"999999999","nonce":0}}"#);
        let err = verify_query_answer(&bob(), &q, 7, &app_hash).unwrap_err();
        assert!(err.0.contains("balance"), "{err}");

        // another app hash, another height, another account, no proof, two proofs
        assert!(verify_query_answer(&bob(), &answer(), 7, &[0u8; 32]).is_err());
        assert!(verify_query_answer(&bob(), &answer(), 8, &app_hash).is_err());
        let alice = Record::Account(Address::parse(ALICE).unwrap());
        assert!(verify_query_answer(&alice, &answer(), 7, &app_hash).is_err());
        let mut q = answer();
        q.proof = None;
        assert!(verify_query_answer(&bob(), &q, 7, &app_hash).is_err());
        let mut q = answer();
        if let Some(p) = q.proof.as_mut() {
            let op = p.ops[0].clone();
            p.ops.push(op);
        }
        assert!(verify_query_answer(&bob(), &q, 7, &app_hash).is_err());
        // absent instead of present: a membership proof is not a non-membership proof
        let mut q = answer();
        q.value.clear();
        assert!(verify_query_answer(&bob(), &q, 7, &app_hash).is_err());
    }

    /// Four validators of power 10 (a recorded 4-node devnet, header 10): the 2/3 rule.
    #[test]
    fn more_than_two_thirds_of_the_power_must_sign() {
        let sh =
            serde_json::from_str::<commit::Response>(include_str!("testdata/net4_commit_10.json"))
                .unwrap()
                .signed_header;
        let vals = serde_json::from_str::<validators::Response>(include_str!(
            "testdata/net4_validators_10.json"
        ))
        .unwrap()
        .validators;
        let chain = "nodeop-net4";
        let v = verify_signed_header(&sh, &vals, chain, 10, None).unwrap();
        assert_eq!(
            (v.signed_power, v.total_power, v.signers, v.validators),
            (40, 40, 4, 4)
        );

        // one signature missing: 30/40 > 2/3 still verifies and is reported as such
        let mut three = sh.clone();
        three.commit.signatures[3] = CommitSig::BlockIdFlagAbsent;
        let v = verify_signed_header(&three, &vals, chain, 10, None).unwrap();
        assert_eq!((v.signed_power, v.signers), (30, 3));

        // two missing: 20/40 is not more than 2/3
        let mut two = three.clone();
        two.commit.signatures[2] = CommitSig::BlockIdFlagAbsent;
        let err = verify_signed_header(&two, &vals, chain, 10, None).unwrap_err();
        assert!(err.0.contains("voting power"), "{err}");

        // a set with a validator dropped is not the header's set, whatever signed
        let err = verify_signed_header(&sh, &vals[..3], chain, 10, None).unwrap_err();
        assert!(
            err.0.contains("validators_hash") || err.0.contains("commit"),
            "{err}"
        );

        // the 1-validator devnet's set does not match this header either
        assert!(verify_signed_header(&sh, &validator_set(), chain, 10, None).is_err());
    }
}
