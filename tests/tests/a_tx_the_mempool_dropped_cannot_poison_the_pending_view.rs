//! The pending nonce/balance view CheckTx keeps is rebuilt at every Commit from the committed
//! state and CometBFT's recheck of the txs left in its mempool. So a tx CheckTx accepted that
//! the mempool then lost (dropped by CometBFT, or lost with a crashed node's mempool) can hold
//! its account's later txs back for at most one block: the first Commit forgets it, the recheck
//! evicts the later txs that depended on it, and the account's next nonce is the committed one
//! again.

use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn a_dropped_tx_is_forgotten_at_the_next_commit_and_its_nonce_gets_in_again() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));

    let a0 = chain.send_with_nonce(&alice, 0, &bob.address, 100);
    let a1 = chain.send_with_nonce(&alice, 1, &bob.address, 200);
    assert!(chain.check(&a0).is_ok());
    assert!(chain.check(&a1).is_ok());
    // CometBFT drops a0 after CheckTx accepted it; a1 stays in its mempool. Until the next
    // Commit the view still counts a0: a second nonce 0 is a replay.
    let other0 = chain.send_with_nonce(&alice, 0, &bob.address, 300);
    assert_eq!(chain.check(&other0).code, 7);
    // a proposer given only a1 leaves it out (its nonce is ahead of the committed one)
    let resp = chain.propose(vec![a1.clone()], 1 << 20);
    assert!(resp.tx_results.is_empty());
    assert_eq!(chain.account(&alice.address).nonce, 0);

    // after that Commit, CometBFT rechecks what its mempool holds: a1 alone, refused for its gap
    // (and evicted), so nothing of a0 is left anywhere
    let r = chain.recheck(&a1);
    assert_eq!((r.codespace.as_str(), r.code), ("tx", 8), "{}", r.log);
    assert_eq!(chain.app.mempool_count().txs, 0);

    // the wallet sends nonce 0 again (here a new tx with that nonce), then nonce 1
    assert!(chain.check(&other0).is_ok());
    assert!(chain.check(&a1).is_ok());
    let resp = chain.propose(vec![other0, a1], 1 << 20);
    assert_eq!(resp.tx_results.len(), 2);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    assert_eq!(chain.account(&alice.address).nonce, 2);
    assert_eq!(chain.balance(&bob.address), 500);
}

#[test]
fn a_recheck_rebuilds_the_promised_balance_from_the_committed_one() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let fee = {
        let chain = TestChain::start(&genesis(&[(alice.address, 1)]));
        let tx = chain.send_with_nonce(&alice, 0, &bob.address, 1);
        let decoded: nodeop_app::tx::Tx = borsh::from_slice(&tx).unwrap();
        decoded.body.fee
    };
    let mut chain = TestChain::start(&genesis(&[(alice.address, 100_000 + 2 * fee)]));
    let big = chain.send_with_nonce(&alice, 0, &bob.address, 60_000);
    let second = chain.send_with_nonce(&alice, 1, &bob.address, 60_000);
    assert!(chain.check(&big).is_ok());
    // the balance is promised to `big`
    assert_eq!(chain.check(&second).code, 2);
    // `big` is dropped by the mempool; an empty block commits and nothing is rechecked
    chain.block(Vec::new());
    // the promise went with the Commit: the same amount at nonce 0 fits again
    let again = chain.send_with_nonce(&alice, 0, &bob.address, 60_000);
    assert!(chain.check(&again).is_ok());
    let resp = chain.block(vec![again]);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    assert_eq!(chain.balance(&bob.address), 60_000);
}
