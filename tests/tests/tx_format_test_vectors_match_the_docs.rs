//! docs/tx-format.md publishes test vectors so that another wallet can be written from the doc
//! alone. This test recomputes them from the code (signing with k256, RFC 6979 nonces, so the
//! signature is deterministic) and checks every published value, byte for byte, and that the
//! chain accepts the published tx.

use nodeop_app::crypto::{Address, Verifier};
use nodeop_app::modules::bank::MsgSend;
use nodeop_app::modules::issuance::MsgClaimVested;
use nodeop_app::modules::slashing::{
    Attestation, AttestationBody, Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute,
    Offence,
};
use nodeop_app::modules::staking::{
    MsgDelegate, MsgEditOperator, MsgRegisterOperator, MsgUndelegate, MsgUnjail,
};
use nodeop_app::modules::tasks::msg::commitment;
use nodeop_app::modules::tasks::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use nodeop_app::params::TxParams;
use nodeop_app::tx::{check_stateless, Msg, TxBody};
use nodeop_driver::chain::Key;

fn vector_key() -> ([u8; 32], Key) {
    let secret: [u8; 32] =
        hex::decode("0101010101010101010101010101010101010101010101010101010101010101")
            .unwrap()
            .try_into()
            .unwrap();
    (secret, Key::from_secret(&secret))
}

fn msg_hex(msg: &Msg) -> String {
    hex::encode(borsh::to_vec(msg).unwrap())
}

/// The Ed25519 base point, a valid consensus public key for the RegisterOperator vector.
const BASE_POINT: &str = "5866666666666666666666666666666666666666666666666666666666666666";

/// An attestation by the vector key: task 7 on `nodeop-1`, the result hash `fill` × 32.
fn vector_attestation(fill: u8) -> Attestation {
    use k256::ecdsa::signature::hazmat::PrehashSigner;
    use k256::ecdsa::{Signature, SigningKey};
    let (secret, key) = vector_key();
    let body = AttestationBody {
        chain_id: "nodeop-1".into(),
        task_id: 7,
        result_hash: [fill; 32],
    };
    let signing = SigningKey::from_slice(&secret).unwrap();
    let sig: Signature = signing.sign_prehash(&body.sign_bytes()).unwrap();
    let sig = sig.normalize_s().unwrap_or(sig);
    Attestation {
        body,
        pubkey: key.pubkey,
        signature: sig.to_bytes().into(),
    }
}

/// The staking and slashing messages (variants 1–8), with the attestations of an equivocation
/// report.
fn staking_and_slashing_vectors() -> Vec<(&'static str, String)> {
    let (_, key) = vector_key();
    let operator = Address([1; 20]).to_bech32();
    let first = vector_attestation(0x11);
    let second = vector_attestation(0x22);
    vec![
        (
            "RegisterOperator borsh(msg)",
            msg_hex(&Msg::RegisterOperator(MsgRegisterOperator {
                consensus_pubkey: hex::decode(BASE_POINT).unwrap().try_into().unwrap(),
                moniker: "n1".into(),
                capacity_units: 100,
                region: "eu".into(),
                commission_ppm: 100_000,
                self_bond: 1_000_000_000,
            })),
        ),
        (
            "EditOperator borsh(msg)",
            msg_hex(&Msg::EditOperator(MsgEditOperator {
                moniker: Some("n2".into()),
                capacity_units: None,
                region: None,
                commission_ppm: Some(50_000),
            })),
        ),
        (
            "Delegate borsh(msg)",
            msg_hex(&Msg::Delegate(MsgDelegate {
                operator: operator.clone(),
                amount: 2_000_000,
            })),
        ),
        (
            "Undelegate borsh(msg)",
            msg_hex(&Msg::Undelegate(MsgUndelegate {
                operator: operator.clone(),
                amount: 500_000,
            })),
        ),
        ("Unjail borsh(msg)", msg_hex(&Msg::Unjail(MsgUnjail {}))),
        (
            "ProposeSlash (performance, statement) borsh(msg)",
            msg_hex(&Msg::ProposeSlash(MsgProposeSlash {
                operator: operator.clone(),
                offence: Offence::Performance,
                evidence: Evidence::Statement {
                    infraction_id: 7,
                    infraction_height: 120,
                    description: "late".into(),
                    reference: "tx:ab".into(),
                },
            })),
        ),
        (
            "first attestation borsh(body)",
            hex::encode(borsh::to_vec(&first.body).unwrap()),
        ),
        (
            "first attestation sign bytes",
            hex::encode(first.body.sign_bytes()),
        ),
        (
            "first attestation signature (r ‖ s, low S)",
            hex::encode(first.signature),
        ),
        (
            "second attestation signature (r ‖ s, low S)",
            hex::encode(second.signature),
        ),
        (
            "ProposeSlash (equivocation) borsh(msg)",
            msg_hex(&Msg::ProposeSlash(MsgProposeSlash {
                operator: key.address.to_bech32(),
                offence: Offence::Equivocation,
                evidence: Evidence::Equivocation { first, second },
            })),
        ),
        (
            "DisputeSlash borsh(msg)",
            msg_hex(&Msg::DisputeSlash(MsgDisputeSlash {
                proposal: 3,
                reason: "was online".into(),
            })),
        ),
        (
            "VoteDispute borsh(msg)",
            msg_hex(&Msg::VoteDispute(MsgVoteDispute {
                proposal: 3,
                uphold: true,
            })),
        ),
        (
            "Downtime evidence borsh(evidence)",
            hex::encode(
                borsh::to_vec(&Evidence::Downtime {
                    period: 4,
                    uptime_ppm: 850_000,
                })
                .unwrap(),
            ),
        ),
        (
            "ResultMismatch evidence borsh(evidence)",
            hex::encode(borsh::to_vec(&Evidence::ResultMismatch { task_id: 7 }).unwrap()),
        ),
    ]
}

/// The task messages (variants 9–13), the commitment and a signed commit tx: a Numeric result
/// 12.345 at scale 3 (12345 as a big-endian i64) committed for task 7 by the vector key with a
/// salt of thirty-two 0x02 bytes.
fn task_vectors() -> Vec<(&'static str, String)> {
    let (_, key) = vector_key();
    let result = 12_345i64.to_be_bytes().to_vec();
    let salt = [2u8; 32];
    let preimage = [
        7u64.to_be_bytes().as_slice(),
        &key.address.0,
        &result,
        &salt,
    ]
    .concat();
    let c = commitment(7, &key.address, &result, &salt);
    let commit = Msg::CommitResult(MsgCommitResult {
        task_id: 7,
        commitment: c,
    });
    let body = TxBody {
        chain_id: "nodeop-1".into(),
        nonce: 8,
        fee: 5_000,
        memo: String::new(),
        msgs: vec![commit.clone()],
    };
    let tx = key.sign(body.clone());
    vec![
        (
            "PostTask (exact, session, inline) borsh(msg)",
            msg_hex(&Msg::PostTask(MsgPostTask {
                kind: TaskKind::Exact,
                consistency: Consistency::Session,
                payload: TaskPayload::Inline(b"2+2".to_vec()),
                difficulty_units: 2,
                min_reputation_ppm: 500_000,
                fee: 20_000,
            })),
        ),
        (
            "PostTask (numeric, strong, reference) borsh(msg)",
            msg_hex(&Msg::PostTask(MsgPostTask {
                kind: TaskKind::Numeric {
                    scale: 3,
                    tolerance_ppm: 10_000,
                },
                consistency: Consistency::Strong,
                payload: TaskPayload::Reference {
                    sha256: [0xab; 32],
                    uri: "ipfs://bafy".into(),
                },
                difficulty_units: 5,
                min_reputation_ppm: 0,
                fee: 1_000_000,
            })),
        ),
        ("numeric result 12.345 at scale 3", hex::encode(&result)),
        ("commitment preimage", hex::encode(&preimage)),
        ("commitment", hex::encode(c)),
        ("CommitResult borsh(msg)", msg_hex(&commit)),
        (
            "RevealResult borsh(msg)",
            msg_hex(&Msg::RevealResult(MsgRevealResult {
                task_id: 7,
                result: result.clone(),
                salt,
            })),
        ),
        (
            "ConfirmSubmission borsh(msg)",
            msg_hex(&Msg::ConfirmSubmission(MsgConfirmSubmission {
                task_id: 7,
                target_ref: "consumer-tx-42".into(),
            })),
        ),
        (
            "ClaimVested borsh(msg)",
            msg_hex(&Msg::ClaimVested(MsgClaimVested {})),
        ),
        (
            "commit tx borsh(body)",
            hex::encode(borsh::to_vec(&body).unwrap()),
        ),
        ("commit tx sign bytes", hex::encode(body.sign_bytes())),
        (
            "commit tx signature (r ‖ s, low S)",
            hex::encode(tx.signature),
        ),
        ("commit tx signed (borsh)", hex::encode(tx.to_bytes())),
        (
            "commit tx hash",
            hex::encode_upper(nodeop_app::tx::tx_hash(&tx.to_bytes())),
        ),
    ]
}

/// The coprocessor and auction messages (variants 14–19).
fn coprocessor_vectors() -> Vec<(&'static str, String)> {
    use nodeop_app::modules::coprocessors::{
        MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
        MsgWithdrawCollateral,
    };
    vec![
        (
            "RegisterCoprocessor borsh(msg)",
            msg_hex(&Msg::RegisterCoprocessor(MsgRegisterCoprocessor {
                capacity_units: 4,
                collateral: 100_000_000,
                moniker: "c1".into(),
            })),
        ),
        (
            "EditCoprocessor borsh(msg)",
            msg_hex(&Msg::EditCoprocessor(MsgEditCoprocessor {
                capacity_units: Some(8),
                moniker: None,
            })),
        ),
        (
            "AddCollateral borsh(msg)",
            msg_hex(&Msg::AddCollateral(MsgAddCollateral { amount: 5_000_000 })),
        ),
        (
            "WithdrawCollateral borsh(msg)",
            msg_hex(&Msg::WithdrawCollateral(MsgWithdrawCollateral {
                amount: 5_000_000,
            })),
        ),
        (
            "OpenAuction borsh(msg)",
            msg_hex(&Msg::OpenAuction(MsgOpenAuction {
                task_id: 7,
                start_price: 10_000_000,
                floor_price: 2_000_000,
            })),
        ),
        (
            "Bid borsh(msg)",
            msg_hex(&Msg::Bid(MsgBid { auction_id: 3 })),
        ),
    ]
}

fn vectors() -> Vec<(&'static str, String)> {
    let (secret, key) = vector_key();
    let to = Address([1; 20]);
    let body = TxBody {
        chain_id: "nodeop-1".into(),
        nonce: 7,
        fee: 5_000,
        memo: "hi".into(),
        msgs: vec![Msg::Send(MsgSend {
            to: to.to_bech32(),
            amount: 1_500_000,
        })],
    };
    let tx = key.sign(body.clone());
    vec![
        ("secret key", hex::encode(secret)),
        ("public key (compressed)", hex::encode(key.pubkey)),
        ("address", key.address.to_bech32()),
        ("recipient", to.to_bech32()),
        ("borsh(body)", hex::encode(borsh::to_vec(&body).unwrap())),
        ("sign bytes", hex::encode(body.sign_bytes())),
        ("signature (r ‖ s, low S)", hex::encode(tx.signature)),
        ("signed tx (borsh)", hex::encode(tx.to_bytes())),
        (
            "tx hash (SHA-256 of the signed tx, as CometBFT shows it)",
            hex::encode_upper(nodeop_app::tx::tx_hash(&tx.to_bytes())),
        ),
    ]
}

fn documented(label: &str) -> Option<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tx-format.md");
    let text = std::fs::read_to_string(path).expect("docs/tx-format.md exists");
    let prefix = format!("| {label} | `");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            rest.trim_end_matches(" |")
                .trim_end_matches('`')
                .to_string()
        })
}

#[test]
fn tx_format_test_vectors_match_the_docs() {
    let mut missing = Vec::new();
    for (label, value) in vectors()
        .into_iter()
        .chain(task_vectors())
        .chain(staking_and_slashing_vectors())
        .chain(coprocessor_vectors())
    {
        match documented(label) {
            Some(doc) => assert_eq!(doc, value, "docs/tx-format.md, {label}"),
            None => missing.push(format!("| {label} | `{value}` |")),
        }
    }
    assert!(
        missing.is_empty(),
        "add these rows to docs/tx-format.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_published_signed_tx_passes_the_stateless_checks() {
    let (_, signed) = vectors()
        .into_iter()
        .find(|(l, _)| *l == "signed tx (borsh)")
        .unwrap();
    let bytes = hex::decode(signed).unwrap();
    let checked = check_stateless(
        &bytes,
        "nodeop-1",
        &TxParams::default(),
        &Verifier::default(),
        &(),
    )
    .expect("the published tx is valid");
    assert_eq!(checked.tx.body.nonce, 7);
}

#[test]
fn the_published_commit_tx_passes_the_stateless_checks_and_carries_the_commitment() {
    let find = |label: &str| {
        task_vectors()
            .into_iter()
            .find(|(l, _)| *l == label)
            .unwrap()
            .1
    };
    let bytes = hex::decode(find("commit tx signed (borsh)")).unwrap();
    let checked = check_stateless(
        &bytes,
        "nodeop-1",
        &TxParams::default(),
        &Verifier::default(),
        &(),
    )
    .expect("the published commit tx is valid");
    let (_, key) = vector_key();
    assert_eq!(checked.signer, key.address);
    let [Msg::CommitResult(c)] = checked.tx.body.msgs.as_slice() else {
        panic!("not one commit: {:?}", checked.tx.body.msgs);
    };
    assert_eq!(hex::encode(c.commitment), find("commitment"));
    // the commitment is SHA-256 of the published preimage
    use sha2::Digest;
    let preimage = hex::decode(find("commitment preimage")).unwrap();
    assert_eq!(preimage.len(), 8 + 20 + 8 + 32);
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&preimage)),
        find("commitment")
    );
    // every published message decodes back as the message it claims to be
    for (label, variant) in [
        ("PostTask (exact, session, inline) borsh(msg)", 9u8),
        ("PostTask (numeric, strong, reference) borsh(msg)", 9),
        ("CommitResult borsh(msg)", 10),
        ("RevealResult borsh(msg)", 11),
        ("ConfirmSubmission borsh(msg)", 12),
        ("ClaimVested borsh(msg)", 13),
    ] {
        let bytes = hex::decode(find(label)).unwrap();
        assert_eq!(bytes[0], variant, "{label}");
        let msg: Msg = borsh::from_slice(&bytes).unwrap();
        assert_eq!(hex::encode(borsh::to_vec(&msg).unwrap()), find(label));
    }
}

#[test]
fn the_published_staking_and_slashing_messages_decode_and_pass_their_stateless_checks() {
    let find = |label: &str| {
        staking_and_slashing_vectors()
            .into_iter()
            .find(|(l, _)| *l == label)
            .unwrap()
            .1
    };
    let decode = |label: &str, variant: u8| -> Msg {
        let bytes = hex::decode(find(label)).unwrap();
        assert_eq!(bytes[0], variant, "{label}");
        let msg: Msg = borsh::from_slice(&bytes).unwrap();
        assert_eq!(hex::encode(borsh::to_vec(&msg).unwrap()), find(label));
        msg
    };
    let Msg::RegisterOperator(r) = decode("RegisterOperator borsh(msg)", 1) else {
        panic!("not RegisterOperator");
    };
    r.check_stateless()
        .expect("the published RegisterOperator is valid");
    let Msg::EditOperator(e) = decode("EditOperator borsh(msg)", 2) else {
        panic!("not EditOperator");
    };
    e.check_stateless()
        .expect("the published EditOperator is valid");
    let Msg::Delegate(d) = decode("Delegate borsh(msg)", 3) else {
        panic!("not Delegate");
    };
    assert_eq!(d.check_stateless().unwrap(), Address([1; 20]));
    let Msg::Undelegate(u) = decode("Undelegate borsh(msg)", 4) else {
        panic!("not Undelegate");
    };
    assert_eq!(u.check_stateless().unwrap(), Address([1; 20]));
    assert!(matches!(decode("Unjail borsh(msg)", 5), Msg::Unjail(_)));
    let Msg::ProposeSlash(p) = decode("ProposeSlash (performance, statement) borsh(msg)", 6) else {
        panic!("not ProposeSlash");
    };
    assert_eq!(p.check_stateless().unwrap(), Address([1; 20]));
    let Msg::ProposeSlash(p) = decode("ProposeSlash (equivocation) borsh(msg)", 6) else {
        panic!("not ProposeSlash");
    };
    let (_, key) = vector_key();
    assert_eq!(p.check_stateless().unwrap(), key.address);
    // both published attestations verify and name the vector key; the first is the one whose
    // body, sign bytes and signature are published
    let Evidence::Equivocation { first, second } = &p.evidence else {
        panic!("not equivocation evidence: {:?}", p.evidence);
    };
    let verifier = Verifier::default();
    assert_eq!(first.verify(&verifier, "first").unwrap(), key.address);
    assert_eq!(second.verify(&verifier, "second").unwrap(), key.address);
    assert_eq!(
        hex::encode(borsh::to_vec(&first.body).unwrap()),
        find("first attestation borsh(body)")
    );
    assert_eq!(
        hex::encode(first.signature),
        find("first attestation signature (r ‖ s, low S)")
    );
    assert_eq!(
        hex::encode(second.signature),
        find("second attestation signature (r ‖ s, low S)")
    );
    let Msg::DisputeSlash(d) = decode("DisputeSlash borsh(msg)", 7) else {
        panic!("not DisputeSlash");
    };
    d.check_stateless()
        .expect("the published DisputeSlash is valid");
    assert!(matches!(
        decode("VoteDispute borsh(msg)", 8),
        Msg::VoteDispute(MsgVoteDispute {
            proposal: 3,
            uphold: true
        })
    ));
    for (label, variant) in [
        ("Downtime evidence borsh(evidence)", 2u8),
        ("ResultMismatch evidence borsh(evidence)", 3),
    ] {
        let bytes = hex::decode(find(label)).unwrap();
        assert_eq!(bytes[0], variant, "{label}");
        let evidence: Evidence = borsh::from_slice(&bytes).unwrap();
        assert_eq!(hex::encode(borsh::to_vec(&evidence).unwrap()), find(label));
    }
}
