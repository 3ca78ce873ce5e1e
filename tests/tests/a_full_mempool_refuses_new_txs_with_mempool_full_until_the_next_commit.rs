//! CheckTx holds new txs against app.toml's `[mempool]` limits: beyond `max_txs` txs or
//! `max_txs_bytes` bytes accepted since the last Commit, a new tx is refused with `tx` code 16
//! `mempool_full`. Rechecks are never refused and rebuild the count after a Commit. The count
//! decides CheckTx answers only: blocks execute, and hash, the same whatever the limits.

use nodeop_app::app::MempoolCount;
use nodeop_app::state::Storage;
use nodeop_app::{AppOptions, MempoolLimits};
use nodeop_driver::chain::{genesis, Key, TestChain};

fn chain_with(limits: MempoolLimits, accounts: &[Key]) -> TestChain {
    let funded: Vec<_> = accounts.iter().map(|k| (k.address, 1_000_000)).collect();
    TestChain::start_on(
        Storage::in_memory().expect("in-memory store"),
        AppOptions {
            check_invariants: true,
            mempool: limits,
            ..AppOptions::default()
        },
        &genesis(&funded),
    )
}

fn keys(n: usize) -> Vec<Key> {
    (0..n)
        .map(|i| Key::from_seed(&format!("sender-{i}")))
        .collect()
}

fn assert_full(r: &nodeop_app::app::TxOutcome, txs: u64) {
    assert_eq!((r.codespace.as_str(), r.code), ("tx", 16), "{}", r.log);
    assert!(
        r.log.starts_with("mempool_full: ")
            && r.log.contains(&format!("the mempool holds {txs} txs"))
            && r.log.ends_with("retry later"),
        "{}",
        r.log
    );
}

#[test]
fn the_tx_beyond_max_txs_is_refused_until_the_next_commit_and_then_gets_in() {
    let senders = keys(5);
    let bob = Key::from_seed("bob");
    let mut chain = chain_with(
        MempoolLimits {
            max_txs: 3,
            max_txs_bytes: 1 << 20,
        },
        &senders,
    );
    let txs: Vec<_> = senders
        .iter()
        .map(|k| chain.send_with_nonce(k, 0, &bob.address, 1_000))
        .collect();
    for tx in &txs[..3] {
        let r = chain.check(tx);
        assert!(r.is_ok(), "{}", r.log);
    }
    let bytes: u64 = txs[..3].iter().map(|t| t.len() as u64).sum();
    assert_eq!(chain.app.mempool_count(), MempoolCount { txs: 3, bytes });
    assert_full(&chain.check(&txs[3]), 3);
    assert_full(&chain.check(&txs[4]), 3);
    // a refusal counts nothing and promises nothing
    assert_eq!(chain.app.mempool_count(), MempoolCount { txs: 3, bytes });

    // the block takes the first two; CometBFT rechecks the third, which is counted again
    let resp = chain.block(txs[..2].to_vec());
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    assert_eq!(chain.app.mempool_count(), MempoolCount::default());
    assert!(chain.recheck(&txs[2]).is_ok());
    assert_eq!(chain.app.mempool_count().txs, 1);

    // the refused txs, sent again with the same nonce (and the same bytes), now get in
    for tx in &txs[3..] {
        let r = chain.check(tx);
        assert!(r.is_ok(), "{}", r.log);
    }
    assert_eq!(chain.app.mempool_count().txs, 3);
    let extra = chain.send_with_nonce(&senders[0], 1, &bob.address, 1);
    assert_full(&chain.check(&extra), 3);

    let resp = chain.block(txs[2..].to_vec());
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    for k in &senders {
        assert_eq!(chain.account(&k.address).nonce, 1);
    }
}

#[test]
fn a_recheck_is_never_refused_even_past_the_limits() {
    let senders = keys(4);
    let bob = Key::from_seed("bob");
    let mut chain = chain_with(
        MempoolLimits {
            max_txs: 4,
            max_txs_bytes: 1 << 20,
        },
        &senders,
    );
    let txs: Vec<_> = senders
        .iter()
        .map(|k| chain.send_with_nonce(k, 0, &bob.address, 1_000))
        .collect();
    for tx in &txs {
        assert!(chain.check(tx).is_ok());
    }
    // an empty block: all four stay in the mempool and are rechecked, by an App whose limit was
    // lowered meanwhile (the same store, max_txs 2): the rechecks still keep every one of them
    chain.block(Vec::new());
    let storage = std::mem::replace(
        &mut chain.app,
        nodeop_app::App::in_memory(AppOptions::default()).expect("in-memory app"),
    )
    .storage_into();
    chain.app = nodeop_app::App::new(
        storage,
        AppOptions {
            check_invariants: true,
            mempool: MempoolLimits {
                max_txs: 2,
                max_txs_bytes: 1 << 20,
            },
            ..AppOptions::default()
        },
    );
    for tx in &txs {
        let r = chain.recheck(tx);
        assert!(r.is_ok(), "{}", r.log);
    }
    assert_eq!(chain.app.mempool_count().txs, 4);
    let next = chain.send_with_nonce(&senders[0], 1, &bob.address, 1);
    assert_full(&chain.check(&next), 4);
}

#[test]
fn the_tx_that_would_pass_max_txs_bytes_is_refused() {
    let senders = keys(3);
    let bob = Key::from_seed("bob");
    let probe = {
        let chain = chain_with(MempoolLimits::default(), &senders);
        chain
            .send_with_nonce(&senders[0], 0, &bob.address, 1_000)
            .len() as u64
    };
    // room for two txs and a half
    let mut chain = chain_with(
        MempoolLimits {
            max_txs: 100,
            max_txs_bytes: probe * 5 / 2,
        },
        &senders,
    );
    let txs: Vec<_> = senders
        .iter()
        .map(|k| chain.send_with_nonce(k, 0, &bob.address, 1_000))
        .collect();
    assert!(txs.iter().all(|t| t.len() as u64 == probe));
    assert!(chain.check(&txs[0]).is_ok());
    assert!(chain.check(&txs[1]).is_ok());
    let r = chain.check(&txs[2]);
    assert_full(&r, 2);
    assert!(r.log.contains(&format!("{} bytes", 2 * probe)), "{}", r.log);
}

#[test]
fn the_limits_never_change_what_a_block_executes_or_its_app_hash() {
    let senders = keys(6);
    let bob = Key::from_seed("bob");
    let mut tight = chain_with(
        MempoolLimits {
            max_txs: 1,
            max_txs_bytes: 1 << 20,
        },
        &senders,
    );
    let mut roomy = chain_with(MempoolLimits::default(), &senders);
    for round in 0..3u64 {
        let txs: Vec<_> = senders
            .iter()
            .map(|k| tight.send_with_nonce(k, round, &bob.address, 10 + u128::from(round)))
            .collect();
        let refused = txs.iter().filter(|t| tight.check(t).code == 16).count();
        assert_eq!(refused, senders.len() - 1);
        assert!(txs.iter().all(|t| roomy.check(t).is_ok()));
        // a block built elsewhere holds all of them: both nodes execute it alike
        let a = tight.block(txs.clone());
        let b = roomy.block(txs);
        assert!(a.tx_results.iter().all(|r| r.is_ok()));
        assert_eq!(a.app_hash, b.app_hash);
    }
    assert_eq!(tight.app_hash(), roomy.app_hash());
}
