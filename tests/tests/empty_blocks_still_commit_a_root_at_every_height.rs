//! A block without txs still commits: a root is written at every height, Info reports the last
//! one, and a record can be read and proved at each height.

use nodeop_app::modules::bank::keys;
use nodeop_app::query::verify_proof;
use nodeop_driver::chain::{genesis, Key, TestChain};

#[test]
fn empty_blocks_still_commit_a_root_at_every_height() {
    let alice = Key::from_seed("alice");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000)]));
    let mut roots = vec![chain.app_hash()];
    for _ in 0..5 {
        let resp = chain.block(Vec::new());
        assert!(resp.tx_results.is_empty());
        roots.push(resp.app_hash);
    }
    for (h, root) in roots.iter().enumerate() {
        let h = h as u64;
        assert_eq!(
            chain.app.storage().root_at(h).unwrap(),
            Some(*root),
            "height {h}"
        );
        if h == 0 {
            continue; // a query at height 0 means "the latest"; genesis is only a root here
        }
        let r = chain.query("/store", keys::SUPPLY, h, true);
        assert_eq!((r.code, r.height), (0, h), "{}", r.log);
        verify_proof(&r.proof_ops[0], root, keys::SUPPLY, Some(&r.value)).unwrap();
    }
    let info = chain.app.info();
    assert_eq!(info.last_block_height, 5);
    assert_eq!(info.last_block_app_hash, roots[5].to_vec());
}
