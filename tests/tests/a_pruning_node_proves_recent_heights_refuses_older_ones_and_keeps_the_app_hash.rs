//! A node whose store keeps only the last `keep_recent` heights computes the same app hash as a
//! node that keeps every height; proved queries at the kept heights verify against those heights'
//! app hashes, and queries below the window answer `query/3` `height_unavailable` (pruned).

use nodeop_app::modules::bank;
use nodeop_app::query::verify_proof;
use nodeop_app::state::{Storage, StoreOptions};
use nodeop_app::AppOptions;
use nodeop_driver::chain::{genesis, Key, TestChain};

const KEEP: u64 = 5;

#[test]
fn a_pruning_node_proves_recent_heights_refuses_older_ones_and_keeps_the_app_hash() {
    let alice = Key::from_seed("alice");
    let bob = Key::from_seed("bob");
    let carol = Key::from_seed("carol");
    let g = genesis(&[
        (alice.address, 1_000_000_000),
        (bob.address, 1_000_000_000),
        (carol.address, 1_000_000_000),
    ]);
    let options = || AppOptions {
        check_invariants: true,
        ..AppOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut pruned = TestChain::start_on(
        Storage::open_with(
            &dir.path().join("state.redb"),
            StoreOptions { keep_recent: KEEP },
        )
        .unwrap(),
        options(),
        &g,
    );
    let mut full = TestChain::start(&g);
    assert_eq!(pruned.app_hash(), full.app_hash());
    // the genesis state is height 0 (initial height 1 − 1); query height 0 means the latest
    let first = pruned.height + 1;

    // blocks of transfers: alice pays bob, bob pays carol, carol pays alice (from the second block)
    for n in 0..40u128 {
        let mut txs = vec![
            pruned.send(&alice, &bob.address, 100 + n),
            pruned.send(&bob, &carol.address, 1 + n),
        ];
        if n > 0 {
            txs.push(pruned.send(&carol, &alice.address, 1));
        }
        let r = pruned.block(txs.clone());
        assert!(
            r.tx_results.iter().all(|t| t.code == 0),
            "{:?}",
            r.tx_results
        );
        full.block(txs);
        assert_eq!(
            pruned.app_hash(),
            full.app_hash(),
            "height {}",
            pruned.height
        );
    }
    let latest = pruned.height;
    let earliest = latest - KEEP + 1;
    assert_eq!(
        pruned.app.storage().earliest_height(),
        Some(earliest),
        "the store keeps the last {KEEP} heights"
    );

    // every kept height: proved answers verify against that height's app hash and agree with
    // the node that keeps everything
    for who in [&alice, &bob, &carol] {
        let path = format!("/account/{}", who.address);
        for h in earliest..=latest {
            let root = pruned.app.storage().root_at(h).unwrap().unwrap();
            let r = pruned.query(&path, &[], h, true);
            assert_eq!(r.code, 0, "{h}: {}", r.log);
            assert_eq!(r.height, h);
            verify_proof(&r.proof_ops[0], &root, &r.key, Some(&r.value)).unwrap();
            let expected = full.query(&path, &[], h, true);
            assert_eq!(r.value, expected.value, "{h}");
            let acct: bank::Account = borsh::from_slice(&r.value).unwrap();
            assert!(acct.balance > 0);
            let plain = pruned.query(&path, &[], h, false);
            assert_eq!(plain.code, 0, "{}", plain.log);
            assert_eq!(plain.value, full.query(&path, &[], h, false).value);
        }
        // older heights are refused, with or without proof; the full node still answers them
        for h in first..earliest {
            for prove in [true, false] {
                let r = pruned.query(&path, &[], h, prove);
                assert_eq!(
                    (r.codespace.as_str(), r.code),
                    ("query", 3),
                    "{h}: {}",
                    r.log
                );
                assert!(
                    r.log.contains(&format!(
                        "height {h} is not available: it is pruned; this node keeps the last \
                         {KEEP} versions (earliest available height {earliest})"
                    )),
                    "{}",
                    r.log
                );
                assert!(r.value.is_empty() && r.proof_ops.is_empty());
                assert_eq!(full.query(&path, &[], h, prove).code, 0);
            }
        }
    }
    // the latest state is the same
    assert_eq!(pruned.dump(), full.dump());
}
