//! Slashing (PROTOCOL.md §3.5): result attestations, equivocation evidence, the slashing txs and
//! the `/slashing/…` reads.
//!
//! # Result attestations
//!
//! An attestation is an operator's signed statement "my result for task T on chain C hashes to
//! R", signed with the operator's **account** key (the secp256k1 key that signs its txs, not the
//! CometBFT consensus key), so the chain can tie it to the operator's address. Byte layout:
//!
//! ```text
//! AttestationBody, borsh-encoded:
//!   chain_id     u32 little-endian byte length ‖ the UTF-8 bytes
//!   task_id      u64 little-endian
//!   result_hash  32 bytes (the hash of the result; the chain never sees the result itself)
//!
//! sign bytes  = SHA-256( "nodeop-attestation-v1" ‖ borsh(body) )
//!               (the 21 ASCII bytes of the domain, no length prefix or separator)
//! signature   = ECDSA secp256k1 over the sign bytes used directly as the prehash (no second
//!               hash), RFC 6979 nonce, 64 bytes r ‖ s (big-endian), s normalised to the lower
//!               half of the group order (a high-S signature is refused)
//! pubkey      = the 33-byte SEC1 compressed public key; address = the nodeop address of it
//!               (as for txs)
//!
//! JSON (the serde form of nodeop_app::modules::slashing::Attestation, what `nodeop attest`
//! prints and `--first/--second` read):
//!   {"body": {"chain_id": "nodeop-devnet", "task_id": 7, "result_hash": "<64 hex>"},
//!    "pubkey": "<66 hex>", "signature": "<128 hex>"}
//! ```
//!
//! The domain differs from the tx domain ("nodeop-tx-v1"), so an attestation can never be
//! replayed as a tx signature or the other way round. Two attestations by one key for the same
//! chain and task with different result hashes prove `equivocation` ([`check_equivocation`]).
//!
//! # Txs and reads
//!
//! [`statement_msg`] and [`propose_equivocation_msg`] turn a statement or checked attestations
//! into a `slashing.propose` (the other messages are the app's: [`Msg::dispute_slash`],
//! [`Msg::vote_dispute`]); [`propose_slash`], [`dispute_slash`], [`vote_dispute`] submit them
//! through [`crate::node::submit`]. [`proposal`], [`proposals`], [`all_proposals`],
//! [`votes`], [`params`] read `/slashing/…`; proven reads go through
//! [`crate::verify::Record::SlashingProposal`] and [`crate::verify::Record::SlashingParams`].

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::{Address, Verifier};
use nodeop_app::modules::slashing::state::Vote;
use nodeop_app::modules::slashing::{
    Attestation, AttestationBody, Evidence, MsgProposeSlash, Offence, Proposal, SlashingParams,
};
use nodeop_app::tx::{Msg, Tx};
use serde::Serialize;
use tendermint_rpc::HttpClient;

use crate::keys::KeyPair;
use crate::node::{event_attribute, submit, TxOptions, TxOutcome};
use crate::node::{push_query_param, query_json, Page};

// ------------------------------------------------------------------ attestations

/// Parses a 32-byte result hash given as 64 hex digits (an optional `0x` prefix is allowed).
pub fn parse_result_hash(hex_str: &str) -> Result<[u8; 32]> {
    let s = hex_str.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|_| anyhow!("result hash {hex_str:?} is not hex"))?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        anyhow!(
            "a result hash is 32 bytes (64 hex digits), got {} bytes",
            b.len()
        )
    })
}

/// Signs an attestation "my result for `task_id` on `chain_id` hashes to `result_hash`" with
/// `key` (see the module docs for the bytes). The result verifies with
/// [`Attestation::verify`] and names `key.address()`.
pub fn sign_attestation(
    key: &KeyPair,
    chain_id: &str,
    task_id: u64,
    result_hash: [u8; 32],
) -> Result<Attestation> {
    if chain_id.is_empty() {
        bail!("an attestation needs a chain id");
    }
    let body = AttestationBody {
        chain_id: chain_id.to_string(),
        task_id,
        result_hash,
    };
    let signature = key.sign_digest(&body.sign_bytes())?;
    Ok(Attestation {
        body,
        pubkey: key.pubkey(),
        signature,
    })
}

/// Reads an attestation from its JSON form.
pub fn parse_attestation(json: &str) -> Result<Attestation> {
    serde_json::from_str(json).context(
        "not an attestation: expected {\"body\":{\"chain_id\",\"task_id\",\"result_hash\"},\"pubkey\",\"signature\"} as `nodeop attest` prints it",
    )
}

/// Reads an attestation file (`-` is stdin).
pub fn read_attestation(path: &std::path::Path) -> Result<Attestation> {
    let text = if path == std::path::Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)
            .context("reading stdin")?;
        s
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    parse_attestation(&text).with_context(|| format!("{}", path.display()))
}

/// Why two attestations do not prove equivocation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotEquivocation {
    /// An attestation's signature does not verify (`which` is "first" or "second").
    #[error("the {which} attestation does not verify: {reason}")]
    InvalidAttestation { which: &'static str, reason: String },
    /// Signed by different keys.
    #[error(
        "the attestations are signed by different keys ({first} and {second}); equivocation needs one signer"
    )]
    DifferentSigners { first: Address, second: Address },
    /// For different chains.
    #[error("the attestations are for different chains ({first:?} and {second:?})")]
    DifferentChains { first: String, second: String },
    /// For different tasks.
    #[error(
        "the attestations are for different tasks ({first} and {second}); equivocation needs one task"
    )]
    DifferentTasks { first: u64, second: u64 },
    /// They attest the same result: no conflict.
    #[error("the attestations attest the same result hash: they do not conflict")]
    SameResult,
    /// Not for the chain they are to be used on.
    #[error("the attestations are for chain {got:?}, not {expected:?}")]
    WrongChain { expected: String, got: String },
    /// Signed by someone else than the operator named.
    #[error(
        "the attestations are signed by {signer}, not by the operator {operator} (an operator's attestations are signed with its account key)"
    )]
    NotTheOperator { signer: Address, operator: Address },
}

/// Two attestations that prove equivocation, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Equivocation {
    /// The signer's address: the operator the evidence proves against.
    pub operator: Address,
    pub chain_id: String,
    pub task_id: u64,
    /// `Evidence::Equivocation { first, second }`, ready for [`propose_equivocation_msg`].
    pub evidence: Evidence,
}

/// Checks, as the chain will, that two attestations prove equivocation: both signatures verify
/// (with the chain's own verifier: compressed key, low S), one signer, one chain, one task,
/// different result hashes. What the chain checks besides: that the signer is the operator
/// named in the proposal ([`Equivocation::check_operator`]), that the chain id is its own
/// ([`Equivocation::check_chain`]), and that the operator exists.
pub fn check_equivocation(
    first: &Attestation,
    second: &Attestation,
) -> Result<Equivocation, NotEquivocation> {
    let verifier = Verifier::default();
    let verify = |a: &Attestation, which: &'static str| {
        a.verify(&verifier, which).map_err(|e| {
            let reason = match e {
                nodeop_app::modules::slashing::SlashingError::InvalidAttestation {
                    reason, ..
                } => reason,
                other => other.to_string(),
            };
            NotEquivocation::InvalidAttestation { which, reason }
        })
    };
    let a = verify(first, "first")?;
    let b = verify(second, "second")?;
    if a != b {
        return Err(NotEquivocation::DifferentSigners {
            first: a,
            second: b,
        });
    }
    if first.body.chain_id != second.body.chain_id {
        return Err(NotEquivocation::DifferentChains {
            first: first.body.chain_id.clone(),
            second: second.body.chain_id.clone(),
        });
    }
    if first.body.task_id != second.body.task_id {
        return Err(NotEquivocation::DifferentTasks {
            first: first.body.task_id,
            second: second.body.task_id,
        });
    }
    if first.body.result_hash == second.body.result_hash {
        return Err(NotEquivocation::SameResult);
    }
    Ok(Equivocation {
        operator: a,
        chain_id: first.body.chain_id.clone(),
        task_id: first.body.task_id,
        evidence: Evidence::Equivocation {
            first: first.clone(),
            second: second.clone(),
        },
    })
}

impl Equivocation {
    /// The attestations are for `chain_id`.
    pub fn check_chain(&self, chain_id: &str) -> Result<(), NotEquivocation> {
        if self.chain_id != chain_id {
            return Err(NotEquivocation::WrongChain {
                expected: chain_id.to_string(),
                got: self.chain_id.clone(),
            });
        }
        Ok(())
    }

    /// The attestations are signed by `operator`'s account key.
    pub fn check_operator(&self, operator: &Address) -> Result<(), NotEquivocation> {
        if self.operator != *operator {
            return Err(NotEquivocation::NotTheOperator {
                signer: self.operator,
                operator: *operator,
            });
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ messages

/// The offences a reporter files as a statement (`nodeop tx slashing propose --offence`).
/// Equivocation has evidence of its own (`propose-equivocation`); result mismatch and downtime
/// are raised by the chain itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum StatementOffence {
    /// A submission the consumer never received.
    FalseSubmission,
    /// Failed benchmark evidence.
    Performance,
    /// A proven malicious act (slashes 100 % and tombstones).
    Byzantine,
}

impl From<StatementOffence> for Offence {
    fn from(o: StatementOffence) -> Self {
        match o {
            StatementOffence::FalseSubmission => Offence::FalseSubmission,
            StatementOffence::Performance => Offence::Performance,
            StatementOffence::Byzantine => Offence::Byzantine,
        }
    }
}

/// A `slashing.propose` message with a statement: the reporter's account of an infraction the
/// chain cannot check (decided by the validators' vote if the accused disputes it).
/// `infraction_id` names the infraction (e.g. the task id); the chain accepts one proposal per
/// operator, offence and infraction id. `infraction_height` must be within the chain's
/// `max_evidence_age_blocks` of the current height.
pub fn statement_msg(
    operator: &Address,
    offence: StatementOffence,
    infraction_id: u64,
    infraction_height: u64,
    description: &str,
    reference: &str,
) -> Msg {
    Msg::from(MsgProposeSlash {
        operator: operator.to_bech32(),
        offence: offence.into(),
        evidence: Evidence::Statement {
            infraction_id,
            infraction_height,
            description: description.to_string(),
            reference: reference.to_string(),
        },
    })
}

/// A `slashing.propose` equivocation message from checked attestations.
pub fn propose_equivocation_msg(equivocation: &Equivocation) -> Msg {
    Msg::from(MsgProposeSlash {
        operator: equivocation.operator.to_bech32(),
        offence: Offence::Equivocation,
        evidence: equivocation.evidence.clone(),
    })
}

/// Submits a `slashing.propose` from `key` (the reporter, who puts up `report_bond`).
pub async fn propose_slash(
    client: &HttpClient,
    key: &KeyPair,
    operator: &Address,
    offence: Offence,
    evidence: Evidence,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(
        client,
        key,
        vec![Msg::from(MsgProposeSlash {
            operator: operator.to_bech32(),
            offence,
            evidence,
        })],
        opts,
    )
    .await
}

/// Submits a `slashing.dispute` from `key` (the accused, who puts up `dispute_bond`).
pub async fn dispute_slash(
    client: &HttpClient,
    key: &KeyPair,
    proposal: u64,
    reason: &str,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(
        client,
        key,
        vec![Msg::dispute_slash(proposal, reason)],
        opts,
    )
    .await
}

/// Submits a `slashing.vote` from `key` (a validator's operator account).
pub async fn vote_dispute(
    client: &HttpClient,
    key: &KeyPair,
    proposal: u64,
    uphold: bool,
    opts: &TxOptions,
) -> Result<(Tx, TxOutcome)> {
    submit(client, key, vec![Msg::vote_dispute(proposal, uphold)], opts).await
}

/// The id of the proposal a included `slashing.propose` tx opened (its `slash_proposed` event).
pub fn proposal_id(outcome: &TxOutcome) -> Option<u64> {
    event_attribute(
        outcome,
        nodeop_app::modules::slashing::events::SLASH_PROPOSED,
        "proposal",
    )
    .and_then(|v| v.parse().ok())
}

// ------------------------------------------------------------------ reads

/// Which proposals `proposals` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProposalFilter {
    #[default]
    All,
    /// Pending or disputed.
    Open,
    /// Waiting for the dispute deadline.
    Pending,
    /// Disputed; the vote is on.
    Disputed,
    Executed,
    Overturned,
}

impl ProposalFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalFilter::All => "all",
            ProposalFilter::Open => "open",
            ProposalFilter::Pending => "pending",
            ProposalFilter::Disputed => "disputed",
            ProposalFilter::Executed => "executed",
            ProposalFilter::Overturned => "overturned",
        }
    }
}

/// `/slashing/proposal/{id}` at `height` (latest if `None`).
pub async fn proposal(
    client: &HttpClient,
    id: u64,
    height: Option<u64>,
) -> Result<(Proposal, u64)> {
    let (p, h): (Proposal, u64) =
        query_json(client, &format!("/slashing/proposal/{id}"), height).await?;
    if p.id != id {
        bail!("the node answered with proposal {} instead of {id}", p.id);
    }
    Ok((p, h))
}

/// The `/slashing/proposals` path for one page.
pub fn proposals_path(
    status: ProposalFilter,
    operator: Option<&Address>,
    limit: Option<u32>,
    after: Option<u64>,
) -> String {
    let mut path = format!("/slashing/proposals?status={}", status.as_str());
    push_query_param(&mut path, "operator", operator);
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    path
}

/// `/slashing/proposals?status=&operator=&limit=&after=`: one page, in id order.
pub async fn proposals(
    client: &HttpClient,
    status: ProposalFilter,
    operator: Option<&Address>,
    limit: Option<u32>,
    after: Option<u64>,
) -> Result<(Page<Proposal>, u64)> {
    query_json(
        client,
        &proposals_path(status, operator, limit, after),
        None,
    )
    .await
}

/// Every proposal matching, following `next` to the last page (`limit` per request). Pages are
/// read at the latest height each time; the returned height is the last page's.
pub async fn all_proposals(
    client: &HttpClient,
    status: ProposalFilter,
    operator: Option<&Address>,
    limit: Option<u32>,
) -> Result<(Vec<Proposal>, u64)> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, height) = proposals(client, status, operator, limit, after).await?;
        all.extend(page.items);
        let Some(next) = page.next else {
            return Ok((all, height));
        };
        let next: u64 = next
            .parse()
            .map_err(|_| anyhow!("the node's next cursor {next:?} is not a proposal id"))?;
        if after.is_some_and(|a| next <= a) {
            bail!(
                "the node's next cursor {next} does not advance past {}; stopping",
                after.unwrap_or_default()
            );
        }
        after = Some(next);
    }
}

/// `/slashing/votes/{id}`: the votes cast on a disputed proposal.
pub async fn votes(client: &HttpClient, id: u64) -> Result<(Vec<Vote>, u64)> {
    query_json(client, &format!("/slashing/votes/{id}"), None).await
}

/// `/slashing/params`.
pub async fn params(client: &HttpClient, height: Option<u64>) -> Result<(SlashingParams, u64)> {
    query_json(client, "/slashing/params", height).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::slashing::*;
    use nodeop_app::modules::slashing::msg::ATTESTATION_DOMAIN;
    use nodeop_app::modules::slashing::state::Dispute;
    use nodeop_app::modules::slashing::ProposalStatus;
    use nodeop_app::params::TxParams;
    use nodeop_app::tx::check_stateless;

    use crate::tx::{build_tx, encode_tx, sign_tx};

    const CHAIN: &str = "nodeop-devnet";

    fn operator_key() -> KeyPair {
        KeyPair::from_secret_hex(&"33".repeat(32)).unwrap()
    }

    fn reporter_key() -> KeyPair {
        KeyPair::from_secret_hex(&"44".repeat(32)).unwrap()
    }

    fn attest(key: &KeyPair, task: u64, result: u8) -> Attestation {
        sign_attestation(key, CHAIN, task, [result; 32]).unwrap()
    }

    #[test]
    fn a_signed_attestation_verifies_with_the_chains_verifier() {
        let key = operator_key();
        let a = attest(&key, 7, 0xaa);
        assert_eq!(
            a.verify(&Verifier::default(), "first").unwrap(),
            key.address()
        );
        assert_eq!(a.pubkey, key.pubkey());

        // the sign bytes are SHA-256(domain ‖ borsh(body)), borsh spelled out by hand
        let mut borsh_body = Vec::new();
        borsh_body.extend_from_slice(&(CHAIN.len() as u32).to_le_bytes());
        borsh_body.extend_from_slice(CHAIN.as_bytes());
        borsh_body.extend_from_slice(&7u64.to_le_bytes());
        borsh_body.extend_from_slice(&[0xaa; 32]);
        assert_eq!(borsh::to_vec(&a.body).unwrap(), borsh_body);
        assert_eq!(ATTESTATION_DOMAIN, b"nodeop-attestation-v1");
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::new()
            .chain_update(b"nodeop-attestation-v1")
            .chain_update(&borsh_body)
            .finalize()
            .into();
        assert_eq!(a.body.sign_bytes(), digest);
        // deterministic (RFC 6979)
        assert_eq!(a, attest(&key, 7, 0xaa));

        // the JSON form round-trips and has the documented shape
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["body"]["chain_id"], CHAIN);
        assert_eq!(json["body"]["task_id"], 7);
        assert_eq!(json["body"]["result_hash"], "aa".repeat(32));
        assert_eq!(json["pubkey"], hex::encode(key.pubkey()));
        assert_eq!(json["signature"].as_str().unwrap().len(), 128);
        assert_eq!(parse_attestation(&json.to_string()).unwrap(), a);

        // any changed field breaks the signature
        let mut tampered = a.clone();
        tampered.body.task_id = 8;
        assert!(tampered.verify(&Verifier::default(), "first").is_err());
        let mut tampered = a.clone();
        tampered.body.result_hash[0] ^= 1;
        assert!(tampered.verify(&Verifier::default(), "first").is_err());
        let mut tampered = a;
        tampered.pubkey = reporter_key().pubkey();
        assert!(tampered.verify(&Verifier::default(), "first").is_err());
    }

    #[test]
    fn result_hashes_are_64_hex_digits() {
        assert_eq!(parse_result_hash(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert_eq!(
            parse_result_hash(&format!("0x{}", "01".repeat(32))).unwrap(),
            [1; 32]
        );
        assert!(parse_result_hash(&"ab".repeat(31)).is_err());
        assert!(parse_result_hash("zz").is_err());
        assert!(sign_attestation(&operator_key(), "", 1, [0; 32]).is_err());
    }

    #[test]
    fn a_built_equivocation_tx_passes_the_chains_stateless_checks() {
        let op = operator_key();
        let e = check_equivocation(&attest(&op, 7, 1), &attest(&op, 7, 2)).unwrap();
        assert_eq!(e.operator, op.address());
        assert_eq!((e.chain_id.as_str(), e.task_id), (CHAIN, 7));
        e.check_chain(CHAIN).unwrap();
        e.check_operator(&op.address()).unwrap();

        let params = TxParams::default();
        let msg = propose_equivocation_msg(&e);
        let body = build_tx(CHAIN, 0, vec![msg.clone()], None, "", &params).unwrap();
        let bytes = encode_tx(&sign_tx(body, &reporter_key()).unwrap()).unwrap();
        let checked = check_stateless(&bytes, CHAIN, &params, &Verifier::default(), &()).unwrap();
        assert_eq!(checked.signer, reporter_key().address());
        assert_eq!(checked.tx.body.msgs, vec![msg]);
        let Msg::ProposeSlash(p) = &checked.tx.body.msgs[0] else {
            panic!("not a propose");
        };
        assert_eq!(p.offence, Offence::Equivocation);
        assert_eq!(p.operator, op.address().to_bech32());
        assert_eq!(p.check_stateless().unwrap(), op.address());
        // and every attestation in it still verifies after the round trip
        let Evidence::Equivocation { first, second } = &p.evidence else {
            panic!("not equivocation evidence");
        };
        assert!(check_equivocation(first, second).is_ok());
    }

    #[test]
    fn non_conflicting_pairs_are_refused() {
        let op = operator_key();
        let other = reporter_key();
        assert_eq!(
            check_equivocation(&attest(&op, 7, 1), &attest(&op, 7, 1)),
            Err(NotEquivocation::SameResult)
        );
        assert_eq!(
            check_equivocation(&attest(&op, 7, 1), &attest(&op, 8, 2)),
            Err(NotEquivocation::DifferentTasks {
                first: 7,
                second: 8
            })
        );
        assert_eq!(
            check_equivocation(&attest(&op, 7, 1), &attest(&other, 7, 2)),
            Err(NotEquivocation::DifferentSigners {
                first: op.address(),
                second: other.address()
            })
        );
        let elsewhere = sign_attestation(&op, "nodeop-1", 7, [2; 32]).unwrap();
        assert!(matches!(
            check_equivocation(&attest(&op, 7, 1), &elsewhere),
            Err(NotEquivocation::DifferentChains { .. })
        ));
        // a broken signature
        let mut bad = attest(&op, 7, 2);
        bad.signature[10] ^= 1;
        let e = check_equivocation(&attest(&op, 7, 1), &bad).unwrap_err();
        assert!(
            matches!(
                e,
                NotEquivocation::InvalidAttestation {
                    which: "second",
                    ..
                }
            ),
            "{e}"
        );
        // a high-S signature of the right body: the chain refuses those
        use k256::elliptic_curve::PrimeField;
        let mut high = attest(&op, 7, 2);
        let s_bytes: [u8; 32] = high.signature[32..].try_into().unwrap();
        let s = k256::Scalar::from_repr(k256::FieldBytes::from(s_bytes));
        let s: k256::Scalar = Option::from(s).unwrap();
        high.signature[32..].copy_from_slice(&(-s).to_bytes());
        let e = check_equivocation(&attest(&op, 7, 1), &high).unwrap_err();
        assert!(e.to_string().contains("high-S"), "{e}");

        // the proposal's operator and chain must be the signer's
        let e = check_equivocation(&attest(&op, 7, 1), &attest(&op, 7, 2)).unwrap();
        assert!(e.check_operator(&other.address()).is_err());
        assert!(e.check_chain("nodeop-1").is_err());
    }

    #[test]
    fn statement_dispute_and_vote_messages_pass_the_chains_stateless_checks() {
        let params = TxParams::default();
        let op = operator_key().address();
        for offence in [
            StatementOffence::FalseSubmission,
            StatementOffence::Performance,
            StatementOffence::Byzantine,
        ] {
            let msg = statement_msg(&op, offence, 5, 10, "never delivered", "task-5");
            let body = build_tx(CHAIN, 1, vec![msg.clone()], None, "", &params).unwrap();
            let bytes = encode_tx(&sign_tx(body, &reporter_key()).unwrap()).unwrap();
            let checked =
                check_stateless(&bytes, CHAIN, &params, &Verifier::default(), &()).unwrap();
            assert_eq!(checked.tx.body.msgs, vec![msg]);
        }
        for msg in [
            Msg::dispute_slash(3, "I delivered"),
            Msg::vote_dispute(3, true),
            Msg::vote_dispute(3, false),
        ] {
            let body = build_tx(CHAIN, 1, vec![msg.clone()], None, "", &params).unwrap();
            let bytes = encode_tx(&sign_tx(body, &operator_key()).unwrap()).unwrap();
            check_stateless(&bytes, CHAIN, &params, &Verifier::default(), &()).unwrap();
        }
        // the chain's limits are checked before signing
        let long = statement_msg(
            &op,
            StatementOffence::Performance,
            5,
            10,
            &"d".repeat(513),
            "",
        );
        let e = build_tx(CHAIN, 1, vec![long], None, "", &params).unwrap_err();
        assert!(e.to_string().contains("slashing.propose"), "{e}");
        let e = build_tx(
            CHAIN,
            1,
            vec![Msg::dispute_slash(3, &"r".repeat(513))],
            None,
            "",
            &params,
        )
        .unwrap_err();
        assert!(e.to_string().contains("slashing.dispute"), "{e}");
        // equivocation needs attestations, downtime is the chain's own
        let wrong = Msg::from(MsgProposeSlash {
            operator: op.to_bech32(),
            offence: Offence::Equivocation,
            evidence: Evidence::Statement {
                infraction_id: 1,
                infraction_height: 1,
                description: String::new(),
                reference: String::new(),
            },
        });
        assert!(build_tx(CHAIN, 1, vec![wrong], None, "", &params).is_err());
        let auto = Msg::from(MsgProposeSlash {
            operator: op.to_bech32(),
            offence: Offence::Downtime,
            evidence: Evidence::ResultMismatch { task_id: 1 },
        });
        assert!(build_tx(CHAIN, 1, vec![auto], None, "", &params).is_err());
    }

    #[test]
    fn slashing_messages_show_in_tx_views() {
        use crate::tx::MsgView;
        let op = operator_key();
        let e = check_equivocation(&attest(&op, 7, 1), &attest(&op, 7, 2)).unwrap();
        let view = MsgView::from(&propose_equivocation_msg(&e));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["type"], "slashing.propose");
        assert_eq!(json["offence"], "equivocation");
        assert_eq!(
            json["evidence"]["equivocation"]["first"]["body"]["task_id"],
            7
        );
        assert!(view.describe().starts_with(&format!(
            "slashing.propose equivocation against {}: two attestations by {}",
            op.address(),
            op.address()
        )));
        let statement = statement_msg(
            &op.address(),
            StatementOffence::Byzantine,
            3,
            9,
            "forged",
            "",
        );
        assert!(MsgView::from(&statement)
            .describe()
            .contains("byzantine against"));
        assert_eq!(
            MsgView::from(&Msg::dispute_slash(4, "no")).describe(),
            "slashing.dispute proposal 4: \"no\""
        );
        let json = serde_json::to_value(MsgView::from(&Msg::vote_dispute(4, false))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "slashing.vote", "proposal": 4, "uphold": false})
        );
    }

    fn sample_proposal() -> Proposal {
        let op = operator_key();
        Proposal {
            id: 4,
            operator: op.address(),
            offence: Offence::Equivocation,
            evidence: check_equivocation(&attest(&op, 7, 1), &attest(&op, 7, 2))
                .unwrap()
                .evidence,
            infraction_id: 7,
            infraction_height: 12,
            stake_at_infraction: 10_000_000_000,
            amount: 500_000_000,
            reporter: Some(reporter_key().address()),
            reporter_bond: 100_000_000,
            created_height: 12,
            deadline: 1_700_000_030,
            status: ProposalStatus::Pending,
            dispute: None,
            outcome: None,
            closed_height: None,
        }
    }

    #[test]
    fn proposals_read_for_people() {
        let mut p = sample_proposal();
        let text = proposal_text(&p, Some(1_700_000_018));
        assert!(
            text.contains("1700000030 (2023-11-14T22:13:50Z, in 12 s)"),
            "{text}"
        );
        assert!(text.contains("500.000000 NOP (500000000 unop)"), "{text}");
        assert!(text.contains("for task 7"), "{text}");
        assert!(
            text.starts_with("proposal:            4\nstatus:              pending"),
            "{text}"
        );

        p.status = ProposalStatus::Overturned;
        p.dispute = Some(Dispute {
            reason: "not me".into(),
            bond: 100_000_000,
            opened_height: 13,
            resolver: nodeop_app::modules::slashing::resolver::Resolver::ValidatorVote,
            decides_at: 1_700_000_050,
            eligible_power: 0,
            yes_power: 0,
            no_power: 0,
        });
        p.closed_height = Some(30);
        let text = proposal_text(&p, Some(1_700_000_060));
        assert!(text.contains("10 s ago"), "{text}");
        assert!(
            text.contains("dispute bond (100.000000 NOP (100000000 unop)) returned to the accused"),
            "{text}"
        );
        assert!(text.contains("paid to the accused"), "{text}");
        assert!(text.contains("closed at:           height 30"), "{text}");

        let table = proposals_text(&[p.clone()], None);
        assert!(
            table.contains("overturned") && table.contains("closed at height 30"),
            "{table}"
        );
        assert_eq!(relative(5, 5), "now");

        // the node's JSON for a proposal decodes into the app's type
        let json = serde_json::to_string(&p).unwrap();
        let back: Proposal = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let page: Page<Proposal> =
            serde_json::from_str(&format!(r#"{{"items":[{json}],"next":"4"}}"#)).unwrap();
        assert_eq!(page.next.as_deref(), Some("4"));
    }

    #[test]
    fn listing_paths() {
        let op = operator_key().address();
        assert_eq!(
            proposals_path(ProposalFilter::All, None, None, None),
            "/slashing/proposals?status=all"
        );
        assert_eq!(
            proposals_path(ProposalFilter::Disputed, Some(&op), Some(5), Some(9)),
            format!("/slashing/proposals?status=disputed&operator={op}&limit=5&after=9")
        );
    }

    #[test]
    fn the_proposal_id_comes_from_the_event() {
        let outcome = crate::node::outcome_with_event(
            nodeop_app::modules::slashing::events::SLASH_PROPOSED,
            "proposal",
            "12",
        );
        assert_eq!(proposal_id(&outcome), Some(12));
    }
}
