//! docs/tx-format.md publishes test vectors so that another wallet can be written from the doc
//! alone. This test recomputes them from the code (signing with k256, RFC 6979 nonces, so the
//! signature is deterministic) and checks every published value, byte for byte, and that the
//! chain accepts the published tx.

use nodeop_app::crypto::{Address, Verifier};
use nodeop_app::modules::bank::MsgSend;
use nodeop_app::params::TxParams;
use nodeop_app::tx::{check_stateless, Msg, TxBody};
use nodeop_tests::harness::Key;

fn vectors() -> Vec<(&'static str, String)> {
    let secret: [u8; 32] =
        hex::decode("0101010101010101010101010101010101010101010101010101010101010101")
            .unwrap()
            .try_into()
            .unwrap();
    let key = Key::from_secret(&secret);
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
    for (label, value) in vectors() {
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
