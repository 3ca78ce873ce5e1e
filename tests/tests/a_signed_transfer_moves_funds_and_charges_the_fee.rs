use nodeop_app::tx::min_fee;
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn a_signed_transfer_moves_funds_and_charges_the_fee() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let supply_before = chain.supply().total_supply;

    let tx = chain.send(&alice, &bob.address, 250_000);
    let fee = min_fee(&chain.params(), tx.len()).unwrap();
    assert!(chain.check(&tx).is_ok());
    let resp = chain.block(vec![tx]);

    assert_eq!(resp.tx_results.len(), 1);
    let r = &resp.tx_results[0];
    assert_eq!(r.code, 0, "{}", r.log);
    let transfer = r
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::bank::events::TRANSFER)
        .expect("transfer event");
    assert_eq!(
        transfer.get("sender"),
        Some(alice.address.to_string().as_str())
    );
    assert_eq!(
        transfer.get("recipient"),
        Some(bob.address.to_string().as_str())
    );
    assert_eq!(transfer.get("amount"), Some("250000"));
    // CometBFT's indexer refuses a block whose events use its reserved keys tx.hash / tx.height
    for e in &r.events {
        for a in &e.attributes {
            let composite = format!("{}.{}", e.kind, a.key);
            assert!(
                composite != "tx.hash" && composite != "tx.height",
                "reserved key {composite}"
            );
        }
    }
    let tx_event = r.events.iter().find(|e| e.kind == "tx").expect("tx event");
    assert_eq!(
        tx_event.get("signer"),
        Some(alice.address.to_string().as_str())
    );
    assert_eq!(tx_event.get("nonce"), Some("0"));

    assert_eq!(chain.balance(&alice.address), 1_000_000 - 250_000 - fee);
    assert_eq!(chain.account(&alice.address).nonce, 1);
    assert_eq!(chain.balance(&bob.address), 250_000);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::FEE_POOL.address()),
        fee
    );
    // fees move tokens, they do not create or destroy them
    assert_eq!(chain.supply().total_supply, supply_before);
}
