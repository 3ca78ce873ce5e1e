//! docs/tx-format.md publishes test vectors so that another wallet can be written from the doc
//! alone. This test recomputes them from the code (signing with k256, RFC 6979 nonces, so the
//! signature is deterministic) and checks every published value, byte for byte, and that the
//! chain accepts the published tx.

use nodeop_app::crypto::{Address, Verifier};
use nodeop_app::modules::bank::MsgSend;
use nodeop_app::modules::issuance::MsgClaimVested;
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
    for (label, value) in vectors().into_iter().chain(task_vectors()) {
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
