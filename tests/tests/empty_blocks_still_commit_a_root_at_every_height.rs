use nodeop_tests::harness::{genesis, Key, TestChain};

#[test]
fn empty_blocks_still_commit_a_root_at_every_height() {
    let alice = Key::from_seed("alice");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000)]));
    let genesis_hash = chain.app_hash();
    chain.empty_blocks(5);
    for h in 0..=5 {
        assert_eq!(
            chain.app.storage().root_at(h).unwrap(),
            Some(genesis_hash),
            "height {h}"
        );
    }
    let info = chain.app.info();
    assert_eq!(info.last_block_height, 5);
    assert_eq!(info.last_block_app_hash, genesis_hash.to_vec());
}
