//! The store on disk is the node's memory: reopening it gives the same height, app hash and
//! state, and a block that was finalized but not committed is simply run again (as CometBFT's
//! handshake replays it) with the same result.

use nodeop_app::app::BlockRequest;
use nodeop_app::state::Storage;
use nodeop_app::{App, AppOptions};
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn a_restarted_node_resumes_at_the_same_height_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let options = AppOptions {
        check_invariants: true,
        ..AppOptions::default()
    };

    let (height, hash, pending) = {
        let mut chain = TestChain::start_on(
            Storage::open(&path).unwrap(),
            options.clone(),
            &genesis(&[(alice.address, 1_000_000)]),
        );
        for _ in 0..3 {
            let tx = chain.send(&alice, &bob.address, 10);
            chain.block(vec![tx]);
        }
        // A fourth block is finalized, then the process dies before Commit.
        let tx = chain.send(&alice, &bob.address, 10);
        let req = BlockRequest {
            height: chain.height + 1,
            time: chain.time,
            hash: vec![1; 32],
            proposer_address: vec![0; 20],
            txs: vec![tx],
            decided_last_commit: Vec::new(),
            misbehavior: Vec::new(),
        };
        let finalized = chain.app.finalize_block(&req).unwrap().app_hash;
        (chain.height, chain.app_hash(), (req, finalized))
    };

    let app = App::new(Storage::open(&path).unwrap(), options);
    let info = app.info();
    assert_eq!(info.last_block_height, height);
    assert_eq!(info.last_block_app_hash, hash.to_vec());
    assert_eq!(info.chain_id.as_deref(), Some("nodeop-test"));

    let mut chain = TestChain::resume(app);
    assert_eq!(chain.balance(&bob.address), 30);
    // the replayed block gives the same app hash as before the crash
    let (req, finalized) = pending;
    let replayed = chain.app.finalize_block(&req).unwrap().app_hash;
    assert_eq!(replayed, finalized);
    chain.app.commit().unwrap();
    assert_eq!(chain.app.info().last_block_height, height + 1);
    assert_eq!(chain.balance(&bob.address), 40);
}

#[test]
fn init_chain_can_be_repeated_until_the_first_block() {
    // CometBFT calls InitChain again if the node stopped before committing block 1.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let alice = Key::from_seed("alice");
    let g = genesis(&[(alice.address, 5)]);
    let first =
        TestChain::start_on(Storage::open(&path).unwrap(), AppOptions::default(), &g).app_hash();
    let app = App::new(Storage::open(&path).unwrap(), AppOptions::default());
    assert_eq!(
        app.info().last_block_height,
        0,
        "genesis alone is not a block"
    );
    let again = TestChain::start_on(app.storage_into(), AppOptions::default(), &g).app_hash();
    assert_eq!(first, again);
}
