use nodeop_app::tx::{min_fee, Msg, TxBody};
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn a_failed_message_still_pays_the_fee_and_consumes_the_nonce() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let carol = Key::from_seed("carol");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 100_000)]));
    let params = chain.params();

    // Two messages: the first succeeds, the second overspends. Messages are atomic, so the first
    // is rolled back too; the fee and the nonce are still charged.
    let mut body = TxBody {
        chain_id: chain.chain_id.clone(),
        nonce: 0,
        fee: 0,
        memo: "atomic".into(),
        msgs: vec![
            Msg::send(&bob.address, 10_000),
            Msg::send(&carol.address, 95_000),
        ],
    };
    let len = alice.sign(body.clone()).to_bytes().len();
    body.fee = min_fee(&params, len).unwrap();
    let fee = body.fee;
    let tx = alice.sign(body).to_bytes();

    // CheckTx keeps such a tx out of the mempool…
    let check = chain.check(&tx);
    assert_eq!(
        (check.codespace.as_str(), check.code),
        ("bank", 2),
        "{}",
        check.log
    );
    // …but a block may still hold it (the state could have moved), and then the fee is paid.
    let resp = chain.finalize_and_commit(vec![tx]);
    let r = &resp.tx_results[0];
    assert_eq!((r.codespace.as_str(), r.code), ("bank", 2), "{}", r.log);
    assert!(r.log.contains("insufficient_funds"), "{}", r.log);

    assert_eq!(chain.balance(&alice.address), 100_000 - fee);
    assert_eq!(chain.account(&alice.address).nonce, 1);
    assert_eq!(chain.balance(&bob.address), 0);
    assert_eq!(chain.balance(&carol.address), 0);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::FEE_POOL.address()),
        fee
    );
}
