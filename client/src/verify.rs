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

use anyhow::{anyhow, bail, Result};
use nodeop_app::modules::{bank, coprocessors, reputation, slashing, staking, tasks};
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

use crate::node::{abci_query, rpc_error, QueryRefused, POLL_INTERVAL};

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

/// The provable records are declared once, in the app (`nodeop_app::records`): their query
/// path, store key and stored type, and what their stored bytes render as. The client computes
/// the key from what it asked, and checks the node's `info` against the app's own rendering of
/// the proven bytes.
pub use nodeop_app::records::Record;

/// What a client checks of a proven record.
pub trait ProvenRecord {
    /// Renders the (proven) stored bytes, `None` meaning absent, as the app does, and checks
    /// that the node's own rendering (`info`) is exactly that: a present record must decode as
    /// the asked one (its type, and its address, pair or id); an absent record is its documented
    /// absent value (the zero account, the neutral reputation) or `null`, and a node that sends
    /// an `info` for it must send that value.
    fn decode_and_match(
        &self,
        value: Option<&[u8]>,
        info: &str,
    ) -> Result<serde_json::Value, VerificationFailed>;
}

impl ProvenRecord for Record {
    fn decode_and_match(
        &self,
        value: Option<&[u8]>,
        info: &str,
    ) -> Result<serde_json::Value, VerificationFailed> {
        if let Record::Store(_) = self {
            let hex_value = value.map(hex::encode).unwrap_or_default();
            if info != hex_value {
                return fail("the node's info does not match the proven bytes");
            }
            return Ok(serde_json::Value::String(hex_value));
        }
        let rendered = match value {
            Some(bytes) => Some(self.render(bytes).map_err(VerificationFailed)?),
            None => self.absent(),
        };
        let Some(rendered) = rendered else {
            return Ok(serde_json::Value::Null);
        };
        let decoded: serde_json::Value = serde_json::from_str(&rendered)
            .map_err(|e| VerificationFailed(format!("the app's rendering is not JSON: {e}")))?;
        // a proven absence comes with an empty `info`: there is no rendering to compare
        if value.is_none() && info.is_empty() {
            return Ok(decoded);
        }
        match_info(&decoded, info)?;
        let shown: serde_json::Value = serde_json::from_str(info)
            .map_err(|e| VerificationFailed(format!("the node's info is not JSON: {e}")))?;
        if shown != decoded {
            return fail(format!(
                "the node's info has fields the proven {} does not: {shown}",
                self.what()
            ));
        }
        Ok(decoded)
    }
}

/// Every field of the proven record must be in the node's `info` with the same value.
fn match_info(decoded: &serde_json::Value, info: &str) -> Result<(), VerificationFailed> {
    let shown: serde_json::Value = serde_json::from_str(info)
        .map_err(|e| VerificationFailed(format!("the node's info is not JSON: {e}")))?;
    let empty = serde_json::Map::new();
    for (field, value) in decoded.as_object().unwrap_or(&empty) {
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
    Ok(())
}

/// A store key for people: a known prefix as text, then the binary parts as hex (addresses,
/// consensus keys) or decimal (unbonding and proposal ids), anything else in the app's mixed notation.
pub fn display_store_key(key: &[u8]) -> String {
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    if let Some(rest) = key.strip_prefix(bank::keys::ACCOUNT_PREFIX) {
        return format!("{}{}", text(bank::keys::ACCOUNT_PREFIX), hex::encode(rest));
    }
    for prefix in [
        staking::keys::UNBONDING_PREFIX,
        slashing::keys::PROPOSAL_PREFIX,
        tasks::keys::TASK_PREFIX,
        tasks::keys::RESULT_PREFIX,
        tasks::keys::BLOCK_RESULTS_PREFIX,
        coprocessors::keys::AUCTION_PREFIX,
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            if let Ok(id) = <[u8; 8]>::try_from(rest) {
                return format!("{}{}", text(prefix), u64::from_be_bytes(id));
            }
        }
    }
    for prefix in [
        staking::keys::OPERATOR_PREFIX,
        staking::keys::DELEGATION_PREFIX,
        staking::keys::DELEGATION_BY_OPERATOR_PREFIX,
        staking::keys::CONSENSUS_KEY_PREFIX,
        staking::keys::CONSENSUS_ADDRESS_PREFIX,
        staking::keys::VALIDATOR_SET_PREFIX,
        staking::keys::SIGNING_INFO_PREFIX,
        reputation::keys::OPERATOR_PREFIX,
        coprocessors::keys::COPROCESSOR_PREFIX,
        coprocessors::keys::REPUTATION_PREFIX,
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            // {20 bytes} or {20 bytes}/{20 bytes} or {32 bytes}
            let parts: Vec<String> = match rest.len() {
                20 | 32 => vec![hex::encode(rest)],
                41 if rest[20] == b'/' => vec![hex::encode(&rest[..20]), hex::encode(&rest[21..])],
                _ => break,
            };
            return format!("{}{}", text(prefix), parts.join("/"));
        }
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
    // The node's typed paths refuse to render an absent staking record ("not found") instead of
    // answering with a non-membership proof; the raw key read (`/store`) proves the absence.
    let (asked, resp) = match abci_query(client, &record.path(), record.data(), height, true).await
    {
        Ok(resp) => (record.clone(), resp),
        Err(e)
            if record.absence_is_refused()
                && e.downcast_ref::<QueryRefused>()
                    .is_some_and(QueryRefused::is_not_found) =>
        {
            let raw = Record::Store(record.key());
            let resp = abci_query(client, &raw.path(), raw.data(), height, true).await?;
            if !resp.value.is_empty() {
                bail!(
                    "the node said the {} is not found, then that its key holds {} bytes at height {} (created in between?); ask again",
                    record.what(),
                    resp.value.len(),
                    resp.height
                );
            }
            (raw, resp)
        }
        Err(e) => return Err(e),
    };
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
    let mut value = verify_query_answer(&asked, &resp, h, &app_hash)?;
    if asked != *record {
        // proven absent through `/store`
        value = record.decode_and_match(None, "")?;
    }
    let key = record.key();
    Ok(VerifiedRecord {
        path: asked.path(),
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
    use nodeop_app::crypto::Address;
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
    fn a_proven_absent_account_is_the_zero_account_and_a_rendering_must_still_match() {
        let bob = Address::parse(BOB).unwrap();
        let value = Record::Account(bob).decode_and_match(None, "").unwrap();
        assert_eq!(
            value,
            serde_json::json!({ "address": BOB, "balance": "0", "nonce": 0 })
        );
        let lying = format!(r#"{{"address":"{BOB}","balance":"5","nonce":0}}"#);
        let err = Record::Account(bob)
            .decode_and_match(None, &lying)
            .unwrap_err();
        assert!(err.0.contains("balance"), "{err}");
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
    fn sample_operator(address: Address) -> staking::Operator {
        staking::Operator {
            address,
            consensus_pubkey: [7; 32],
            moniker: "n1".into(),
            capacity_units: 100,
            region: "eu".into(),
            commission_ppm: 100_000,
            tokens: 2_000_000_000,
            shares: 2_000_000_000,
            self_shares: 1_000_000_000,
            jailed_until: Some(1_700_000_000),
            tombstoned: false,
            slashed_total: 0,
            slash_count: 0,
            registered_height: 7,
        }
    }

    #[test]
    fn staking_records_decode_into_the_apps_types_and_must_match_the_info() {
        let bob = Address::parse(BOB).unwrap();
        let alice = Address::parse(ALICE).unwrap();
        let op = sample_operator(bob);
        let bytes = borsh::to_vec(&op).unwrap();
        let info = serde_json::to_string(&op).unwrap();
        let record = Record::Operator(bob);
        assert_eq!(record.path(), format!("/staking/operator/{BOB}"));
        assert_eq!(record.key(), staking::keys::operator(&bob));
        let value = record.decode_and_match(Some(&bytes), &info).unwrap();
        assert_eq!(value, serde_json::to_value(&op).unwrap());
        assert_eq!(value["tokens"], "2000000000");
        assert_eq!(
            serde_json::from_value::<staking::Operator>(value).unwrap(),
            op
        );

        // a rendering that lies about one field, or adds one
        let mut lying: serde_json::Value = serde_json::from_str(&info).unwrap();
        lying["tokens"] = "9".into();
        let e = record
            .decode_and_match(Some(&bytes), &lying.to_string())
            .unwrap_err();
        assert!(e.0.contains("tokens"), "{e}");
        let mut extra: serde_json::Value = serde_json::from_str(&info).unwrap();
        extra["status"] = "bonded".into();
        let e = record
            .decode_and_match(Some(&bytes), &extra.to_string())
            .unwrap_err();
        assert!(e.0.contains("fields"), "{e}");
        // the proven bytes are another operator's record
        let e = Record::Operator(alice)
            .decode_and_match(Some(&bytes), &info)
            .unwrap_err();
        assert!(e.0.contains("not"), "{e}");
        // bytes that are not an operator
        assert!(record.decode_and_match(Some(&bytes[1..]), &info).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(record.decode_and_match(Some(&trailing), &info).is_err());
        // absent: proven non-membership reads as null
        assert_eq!(
            record.decode_and_match(None, "").unwrap(),
            serde_json::Value::Null
        );

        // a delegation must be the pair asked for
        let d = staking::Delegation {
            delegator: alice,
            operator: bob,
            shares: 5,
        };
        let (bytes, info) = (
            borsh::to_vec(&d).unwrap(),
            serde_json::to_string(&d).unwrap(),
        );
        let asked = Record::Delegation {
            delegator: alice,
            operator: bob,
        };
        assert_eq!(asked.path(), format!("/staking/delegation/{ALICE}/{BOB}"));
        assert_eq!(
            asked.decode_and_match(Some(&bytes), &info).unwrap()["shares"],
            "5"
        );
        let swapped = Record::Delegation {
            delegator: bob,
            operator: alice,
        };
        assert!(swapped.decode_and_match(Some(&bytes), &info).is_err());

        // an unbonding entry must have the id asked for
        let e = staking::UnbondingEntry {
            id: 3,
            delegator: alice,
            operator: bob,
            amount: 10,
            initial_amount: 10,
            creation_height: 4,
            completion_time: 1_700_000_300,
        };
        let (bytes, info) = (
            borsh::to_vec(&e).unwrap(),
            serde_json::to_string(&e).unwrap(),
        );
        assert_eq!(
            Record::UnbondingEntry(3).path(),
            "/staking/unbonding-entry/3"
        );
        assert!(Record::UnbondingEntry(3)
            .decode_and_match(Some(&bytes), &info)
            .is_ok());
        assert!(Record::UnbondingEntry(4)
            .decode_and_match(Some(&bytes), &info)
            .is_err());

        // params
        let p = staking::StakingParams::devnet();
        let (bytes, info) = (
            borsh::to_vec(&p).unwrap(),
            serde_json::to_string(&p).unwrap(),
        );
        let v = Record::StakingParams
            .decode_and_match(Some(&bytes), &info)
            .unwrap();
        assert_eq!(v["unbonding_time"], 300);
        assert_eq!(Record::StakingParams.key(), b"staking/params".to_vec());
    }

    #[test]
    fn staking_store_keys_display_with_hex_addresses() {
        let bob = Address::parse(BOB).unwrap();
        let alice = Address::parse(ALICE).unwrap();
        assert_eq!(
            display_store_key(&staking::keys::operator(&bob)),
            format!("staking/op/{}", hex::encode(bob.0))
        );
        assert_eq!(
            display_store_key(&staking::keys::delegation(&alice, &bob)),
            format!(
                "staking/del/{}/{}",
                hex::encode(alice.0),
                hex::encode(bob.0)
            )
        );
        assert_eq!(
            display_store_key(&staking::keys::unbonding(42)),
            "staking/unb/42"
        );
        assert_eq!(display_store_key(staking::keys::PARAMS), "staking/params");
    }
    /// A recorded two-validator devnet: n0 (power 10000) and k2 (2300, registered by
    /// `nodeop tx staking register-operator`, whose node never ran, so it never signs). Header 48
    /// carries the app hash after block 47; operator k2 exists then, bob is no operator.
    #[test]
    fn recorded_staking_records_verify_present_and_absent() {
        const K2: &str = "nodeop12c9vgnx5dpk9gz4rxm3z5nvdsxxx2a2qlf2mpt";
        const NOT_AN_OPERATOR: &str = "nodeop1dlr39gf4val4jwa64pelcemzj0lkfgykg5025g";
        let sh = serde_json::from_str::<commit::Response>(include_str!(
            "testdata/staking_commit_48.json"
        ))
        .unwrap()
        .signed_header;
        let vals = serde_json::from_str::<validators::Response>(include_str!(
            "testdata/staking_validators_48.json"
        ))
        .unwrap()
        .validators;
        let read = |text: &str| {
            serde_json::from_str::<abci_query::Response>(text)
                .unwrap()
                .response
        };
        let present = read(include_str!("testdata/staking_abci_query_operator_47.json"));
        let absent = read(include_str!(
            "testdata/staking_abci_query_store_absent_operator_47.json"
        ));

        // only n0 signed: 10000 of 12300 is more than 2/3
        let v = verify_signed_header(&sh, &vals, CHAIN, 48, None).unwrap();
        assert_eq!(
            (v.signed_power, v.total_power, v.signers, v.validators),
            (10000, 12300, 1, 2)
        );
        let app_hash = hex::decode(&v.app_hash).unwrap();

        let k2 = Address::parse(K2).unwrap();
        let value = verify_query_answer(&Record::Operator(k2), &present, 47, &app_hash).unwrap();
        let op: staking::Operator = serde_json::from_value(value).unwrap();
        assert_eq!(op.moniker, "k2-renamed");
        assert_eq!(op.commission_ppm, 50_000);
        assert_eq!(op.registered_height, 9);

        // absence: a non-membership proof of the operator's key, read raw
        let nobody = Address::parse(NOT_AN_OPERATOR).unwrap();
        let raw = Record::Store(Record::Operator(nobody).key());
        assert_eq!(
            verify_query_answer(&raw, &absent, 47, &app_hash).unwrap(),
            serde_json::Value::String(String::new())
        );
        // neither answer proves anything about the other operator
        assert!(verify_query_answer(&Record::Operator(nobody), &present, 47, &app_hash).is_err());
        let raw_k2 = Record::Store(Record::Operator(k2).key());
        assert!(verify_query_answer(&raw_k2, &absent, 47, &app_hash).is_err());
        // nor at another height's app hash
        let other = hex::decode(
            verify_signed_header(&header(), &validator_set(), CHAIN, 8, None)
                .unwrap()
                .app_hash,
        )
        .unwrap();
        assert!(verify_query_answer(&Record::Operator(k2), &present, 47, &other).is_err());
        // the node's rendering of the record must be the record
        let mut lying = present.clone();
        lying.info = lying.info.replace("k2-renamed", "honest-node");
        let e = verify_query_answer(&Record::Operator(k2), &lying, 47, &app_hash).unwrap_err();
        assert!(e.0.contains("moniker"), "{e}");
    }

    #[test]
    fn task_records_decode_into_the_apps_types_and_must_be_the_one_asked_for() {
        use tasks::state::{BlockResults, ResultRecord};
        let bob = Address::parse(BOB).unwrap();
        let t = tasks::Task {
            id: 7,
            client: bob,
            kind: tasks::TaskKind::Numeric {
                scale: 2,
                tolerance_ppm: 1_000,
            },
            consistency: tasks::Consistency::Session,
            payload: tasks::TaskPayload::Inline(b"what is 2+2".to_vec()),
            payload_hash: [1; 32],
            difficulty_units: 3,
            min_reputation_ppm: 0,
            fee: 30_000,
            escrow: 30_000,
            status: tasks::TaskStatus::Assigned,
            posted_height: 5,
            rounds: vec![],
            result: None,
            submission: None,
            reexec: None,
            due_height: Some(25),
            finished_height: None,
        };
        let (bytes, info) = (
            borsh::to_vec(&t).unwrap(),
            serde_json::to_string(&t).unwrap(),
        );
        assert_eq!(Record::Task(7).path(), "/tasks/task/7");
        assert_eq!(Record::Task(7).key(), tasks::keys::task(7));
        let v = Record::Task(7)
            .decode_and_match(Some(&bytes), &info)
            .unwrap();
        assert_eq!(serde_json::from_value::<tasks::Task>(v).unwrap(), t);
        assert!(Record::Task(8)
            .decode_and_match(Some(&bytes), &info)
            .is_err());
        let lying = info.replace("\"assigned\"", "\"delivered\"");
        assert!(Record::Task(7)
            .decode_and_match(Some(&bytes), &lying)
            .is_err());

        let r = ResultRecord {
            task_id: 7,
            result_hash: [2; 32],
            finalized_height: 30,
            leaf_index: 0,
            status: tasks::TaskStatus::Finalized,
        };
        let (bytes, info) = (
            borsh::to_vec(&r).unwrap(),
            serde_json::to_string(&r).unwrap(),
        );
        assert_eq!(Record::ResultRecord(7).path(), "/tasks/result-record/7");
        assert!(Record::ResultRecord(7)
            .decode_and_match(Some(&bytes), &info)
            .is_ok());
        assert!(Record::ResultRecord(6)
            .decode_and_match(Some(&bytes), &info)
            .is_err());

        let b = BlockResults {
            height: 30,
            root: [3; 32],
            task_ids: vec![7],
            leaves: vec![[3; 32]],
        };
        let (bytes, info) = (
            borsh::to_vec(&b).unwrap(),
            serde_json::to_string(&b).unwrap(),
        );
        assert_eq!(Record::BlockResults(30).path(), "/tasks/block-results/30");
        let v = Record::BlockResults(30)
            .decode_and_match(Some(&bytes), &info)
            .unwrap();
        assert_eq!(v["root"], "03".repeat(32));
        assert!(Record::BlockResults(31)
            .decode_and_match(Some(&bytes), &info)
            .is_err());
        // pruned or never finalized: proven absence reads as null
        assert_eq!(
            Record::Task(7).decode_and_match(None, "").unwrap(),
            serde_json::Value::Null
        );
        assert!(Record::Task(7).absence_is_refused());
        assert_eq!(display_store_key(&tasks::keys::task(42)), "tasks/task/42");
        assert_eq!(
            display_store_key(&coprocessors::keys::auction(7)),
            "coprocessors/auction/7"
        );
        assert_eq!(
            display_store_key(&coprocessors::keys::coprocessor(&Address([0xab; 20]))),
            format!("coprocessors/coprocessor/{}", "ab".repeat(20))
        );
        assert_eq!(
            display_store_key(&tasks::keys::block_results(9)),
            "tasks/block_results/9"
        );
        let p = tasks::TasksParams::default();
        let (bytes, info) = (
            borsh::to_vec(&p).unwrap(),
            serde_json::to_string(&p).unwrap(),
        );
        let v = Record::TasksParams
            .decode_and_match(Some(&bytes), &info)
            .unwrap();
        assert_eq!(v["commit_blocks"], 10);
    }

    /// A recorded one-validator devnet (`nodeop tx slashing …` against nodeopd + cometbft) at
    /// height 123, header 124: proposal 3 is a pending equivocation report (two attestations of
    /// task 9), proposal 4 a disputed performance statement, proposal 99 does not exist.
    #[test]
    fn recorded_slashing_records_verify_present_and_absent() {
        let sh = serde_json::from_str::<commit::Response>(include_str!(
            "testdata/slashing_commit_124.json"
        ))
        .unwrap()
        .signed_header;
        let vals = serde_json::from_str::<validators::Response>(include_str!(
            "testdata/slashing_validators_124.json"
        ))
        .unwrap()
        .validators;
        let read = |text: &str| {
            serde_json::from_str::<abci_query::Response>(text)
                .unwrap()
                .response
        };
        let equivocation = read(include_str!(
            "testdata/slashing_abci_query_proposal_3_123.json"
        ));
        let disputed = read(include_str!(
            "testdata/slashing_abci_query_proposal_4_123.json"
        ));
        let absent = read(include_str!(
            "testdata/slashing_abci_query_proposal_99_123.json"
        ));
        let params = read(include_str!("testdata/slashing_abci_query_params_123.json"));
        let v = verify_signed_header(&sh, &vals, CHAIN, 124, None).unwrap();
        let app_hash = hex::decode(&v.app_hash).unwrap();

        let value =
            verify_query_answer(&Record::SlashingProposal(3), &equivocation, 123, &app_hash)
                .unwrap();
        let p: slashing::Proposal = serde_json::from_value(value).unwrap();
        assert_eq!((p.id, p.offence), (3, slashing::Offence::Equivocation));
        assert_eq!(p.status, slashing::ProposalStatus::Pending);
        // the proven evidence still proves equivocation by the accused, offline
        let slashing::Evidence::Equivocation { first, second } = &p.evidence else {
            panic!("not equivocation evidence: {:?}", p.evidence);
        };
        let e = crate::slashing::check_equivocation(first, second).unwrap();
        assert_eq!((e.operator, e.task_id), (p.operator, 9));

        let value =
            verify_query_answer(&Record::SlashingProposal(4), &disputed, 123, &app_hash).unwrap();
        let p: slashing::Proposal = serde_json::from_value(value).unwrap();
        assert_eq!(p.status, slashing::ProposalStatus::Disputed);
        let d = p.dispute.unwrap();
        assert_eq!(d.reason, "benchmark was misconfigured");
        assert_eq!((d.bond, p.reporter_bond), (100_000_000, 100_000_000));

        // absent: the node answers with an empty value and a non-membership proof
        assert_eq!(
            verify_query_answer(&Record::SlashingProposal(99), &absent, 123, &app_hash).unwrap(),
            serde_json::Value::Null
        );
        assert_eq!(
            Record::SlashingProposal(99).key(),
            slashing::keys::proposal(99)
        );
        // neither present answer is another proposal, nor absence
        assert!(
            verify_query_answer(&Record::SlashingProposal(4), &equivocation, 123, &app_hash)
                .is_err()
        );
        assert!(
            verify_query_answer(&Record::SlashingProposal(3), &absent, 123, &app_hash).is_err()
        );
        // a rendering that lies about the status
        let mut lying = disputed.clone();
        lying.info = lying.info.replace("\"disputed\"", "\"overturned\"");
        let e =
            verify_query_answer(&Record::SlashingProposal(4), &lying, 123, &app_hash).unwrap_err();
        assert!(e.0.contains("status"), "{e}");

        let value = verify_query_answer(&Record::SlashingParams, &params, 123, &app_hash).unwrap();
        let p: slashing::SlashingParams = serde_json::from_value(value).unwrap();
        assert_eq!(p, slashing::SlashingParams::devnet());
        assert_eq!(Record::SlashingParams.path(), "/slashing/params");
        assert_eq!(
            display_store_key(&slashing::keys::proposal(42)),
            "slashing/proposal/42"
        );
    }
}
