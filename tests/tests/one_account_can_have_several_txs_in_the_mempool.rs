use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn one_account_can_have_several_txs_in_the_mempool() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));

    let txs: Vec<_> = (0..3)
        .map(|n| chain.send_with_nonce(&alice, n, &bob.address, 1_000))
        .collect();
    for tx in &txs {
        let r = chain.check(tx);
        assert!(r.is_ok(), "{}", r.log);
    }
    // the same nonce again is a replay of a pending tx
    let again = chain.send_with_nonce(&alice, 1, &bob.address, 7);
    let r = chain.check(&again);
    assert_eq!((r.codespace.as_str(), r.code), ("tx", 7), "{}", r.log);
    // a gap beyond the pending nonce is refused
    let gap = chain.send_with_nonce(&alice, 5, &bob.address, 7);
    assert_eq!(chain.check(&gap).code, 8);

    let resp = chain.propose(txs, 1 << 20);
    assert_eq!(resp.tx_results.len(), 3);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    assert_eq!(chain.account(&alice.address).nonce, 3);
    assert_eq!(chain.balance(&bob.address), 3_000);

    // after Commit the mempool view restarts from the committed state: nonce 3 is next
    let next = chain.send_with_nonce(&alice, 3, &bob.address, 1);
    assert!(chain.check(&next).is_ok());
}

#[test]
fn check_tx_never_promises_a_balance_twice() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 100_000)]));
    let first = chain.send_with_nonce(&alice, 0, &bob.address, 60_000);
    let second = chain.send_with_nonce(&alice, 1, &bob.address, 60_000);
    assert!(chain.check(&first).is_ok());
    let r = chain.check(&second);
    assert_eq!((r.codespace.as_str(), r.code), ("bank", 2), "{}", r.log);
}
