//! `/pending/account/{address}` answers with the account as CheckTx sees it: after two txs
//! entered the mempool the nonce is two ahead of the committed one and the balance is what the
//! two leave, while `committed_*` is unchanged; a tx with that nonce is accepted; after the block
//! both views agree again.

use nodeop_app::query::PendingAccountView;
use nodeop_app::tx::min_fee;
use nodeop_driver::chain::{genesis, Key, TestChain};

fn pending(chain: &TestChain, key: &Key) -> PendingAccountView {
    let path = format!("/pending/account/{}", key.address);
    let r = chain.query(&path, &[], 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    serde_json::from_slice(&r.value).expect("a pending account view")
}

#[test]
fn the_pending_account_query_gives_the_nonce_the_next_tx_must_carry() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000)]));
    let before = pending(&chain, &alice);
    assert_eq!((before.nonce, before.committed_nonce), (0, 0));
    assert_eq!(before.balance, before.committed_balance);

    let txs: Vec<Vec<u8>> = (0..2)
        .map(|n| chain.send_with_nonce(&alice, n, &bob.address, 1_000))
        .collect();
    let mut spent = 0;
    for tx in &txs {
        assert!(chain.check(tx).is_ok());
        spent += 1_000 + min_fee(&chain.params(), tx.len()).unwrap();
    }
    let p = pending(&chain, &alice);
    assert_eq!((p.nonce, p.committed_nonce), (2, 0));
    assert_eq!(p.balance, 1_000_000 - spent);
    assert_eq!(p.committed_balance, 1_000_000);
    // the nonce it names is the one the next tx must carry
    assert!(chain
        .check(&chain.send_with_nonce(&alice, p.nonce, &bob.address, 1))
        .is_ok());
    // an account never seen: zeros, in both views
    let carol = Key::from_seed("carol");
    let c = pending(&chain, &carol);
    assert_eq!((c.nonce, c.balance, c.committed_nonce), (0, 0, 0));
    // a malformed address is a clear error
    let r = chain.query("/pending/account/nonsense", &[], 0, false);
    assert_ne!(r.code, 0);

    chain.propose(txs, 1 << 20);
    let after = pending(&chain, &alice);
    assert_eq!(after.nonce, after.committed_nonce);
    assert_eq!(after.nonce, 2);
    assert_eq!(after.balance, after.committed_balance);
}
