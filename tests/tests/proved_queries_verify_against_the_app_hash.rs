//! A proved query returns the stored bytes and an ICS23 proof that verifies against the app hash
//! of the queried height — including past heights — and fails against any other root or value.

use nodeop_app::modules::bank::{self, keys};
use nodeop_app::query::verify_proof;
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn proved_account_queries_verify_at_the_latest_and_at_past_heights() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let tx = chain.send(&alice, &bob.address, 1234);
    chain.block(vec![tx]);
    let h1 = chain.height;
    let root1 = chain.app_hash();
    let tx = chain.send(&alice, &bob.address, 1);
    chain.block(vec![tx]);
    let root2 = chain.app_hash();
    assert_ne!(root1, root2);

    let path = format!("/account/{}", bob.address);
    // latest height
    let r = chain.query(&path, &[], 0, true);
    assert_eq!(r.code, 0, "{}", r.log);
    assert_eq!(r.height, chain.height);
    assert_eq!(r.key, keys::account(&bob.address));
    let acct: bank::Account = borsh::from_slice(&r.value).unwrap();
    assert_eq!(acct.balance, 1235);
    assert!(r.info.contains("\"balance\":\"1235\""), "{}", r.info);
    verify_proof(&r.proof_ops[0], &root2, &r.key, Some(&r.value)).unwrap();
    // a tampered value or another root does not verify
    let mut forged = r.value.clone();
    forged[0] ^= 1;
    assert!(verify_proof(&r.proof_ops[0], &root2, &r.key, Some(&forged)).is_err());
    assert!(verify_proof(&r.proof_ops[0], &root1, &r.key, Some(&r.value)).is_err());

    // a past height answers with that height's value and proof
    let r = chain.query(&path, &[], h1, true);
    assert_eq!(r.height, h1);
    let acct: bank::Account = borsh::from_slice(&r.value).unwrap();
    assert_eq!(acct.balance, 1234);
    verify_proof(&r.proof_ops[0], &root1, &r.key, Some(&r.value)).unwrap();
    // and without proof, as JSON
    let r = chain.query(&path, &[], h1, false);
    let json: serde_json::Value = serde_json::from_slice(&r.value).unwrap();
    assert_eq!(json["balance"], "1234");
}

#[test]
fn an_absent_record_is_proved_absent() {
    let alice = Key::from_seed("alice");
    let nobody = Key::from_seed("nobody");
    let chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let r = chain.query(&format!("/account/{}", nobody.address), &[], 0, true);
    assert_eq!(r.code, 0, "{}", r.log);
    assert!(r.value.is_empty());
    let root = chain.app_hash();
    verify_proof(&r.proof_ops[0], &root, &r.key, None).unwrap();
    // claiming it exists with any value fails
    assert!(verify_proof(&r.proof_ops[0], &root, &r.key, Some(b"x")).is_err());
}

#[test]
fn raw_store_reads_prove_the_supply_record() {
    let alice = Key::from_seed("alice");
    let chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let r = chain.query("/store", keys::SUPPLY, 0, true);
    assert_eq!(r.code, 0, "{}", r.log);
    let supply: bank::Supply = borsh::from_slice(&r.value).unwrap();
    assert_eq!(supply, chain.supply());
    verify_proof(
        &r.proof_ops[0],
        &chain.app_hash(),
        keys::SUPPLY,
        Some(&r.value),
    )
    .unwrap();
}

#[test]
fn bad_queries_get_stable_codes() {
    let alice = Key::from_seed("alice");
    let chain = TestChain::start(&genesis(&[(alice.address, 1)]));
    let code = |path: &str, height: u64, prove: bool| {
        let r = chain.query(path, &[], height, prove);
        (r.codespace, r.code)
    };
    assert_eq!(code("/nope", 0, false), ("query".into(), 1));
    assert_eq!(code("/account/nodeop1bad", 0, false), ("query".into(), 2));
    assert_eq!(code("/supply", 99, false), ("query".into(), 3));
    assert_eq!(code("/store", 0, false), ("query".into(), 2));
    assert_eq!(code("/validators", 0, true), ("query".into(), 5));
    assert_eq!(code("/status", 0, false), (String::new(), 0));
}
