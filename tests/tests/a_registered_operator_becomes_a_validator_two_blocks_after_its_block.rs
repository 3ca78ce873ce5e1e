use nodeop_driver::chain::{consensus_key, genesis, msgs, Key, TestChain};
use nodeop_driver::tasks::NOP;

#[test]
fn a_registered_operator_becomes_a_validator_two_blocks_after_its_block() {
    let bob = Key::from_seed("bob");
    let mut chain = TestChain::start(&genesis(&[(bob.address, 50_000 * NOP)]));
    let cons = consensus_key("bob");

    let resp = chain.ok(&bob, msgs::register(cons, "bob-op", 2_000 * NOP));
    let h = chain.height;
    // FinalizeBlock of its block returns the update…
    assert_eq!(resp.validator_updates.len(), 1);
    assert_eq!(resp.validator_updates[0].ed25519_pubkey, cons);
    assert_eq!(resp.validator_updates[0].power, 2_000);
    let op = chain.operator(&bob.address);
    assert_eq!(
        (op.tokens, op.shares, op.self_shares),
        (2_000 * NOP, 2_000 * NOP, 2_000 * NOP)
    );
    // the self-bond left bob's balance (and the fee, the only one paid so far, is in the fee pool)
    let fee = chain.balance(&nodeop_app::modules::bank::FEE_POOL.address());
    assert_eq!(
        chain.balance(&bob.address) + 2_000 * NOP + fee,
        50_000 * NOP
    );

    // …and CometBFT runs with it from h + 2, not h + 1
    assert_eq!(chain.power_of(&cons, h + 1), None);
    assert_eq!(chain.power_of(&cons, h + 2), Some(2_000));
    // the app's own view of the set already has it
    assert!(chain.reported_set().contains(&(cons, 2_000)));

    // a second registration of the same account or key is refused
    let carol = Key::from_seed("carol");
    chain.ok(&bob, nodeop_app::tx::Msg::send(&carol.address, 5_000 * NOP));
    assert_eq!(
        chain
            .run(
                &bob,
                msgs::register(consensus_key("x"), "again", 1_000 * NOP)
            )
            .1,
        1
    );
    assert_eq!(
        chain
            .run(&carol, msgs::register(cons, "stolen-key", 1_000 * NOP))
            .1,
        2
    );
    assert_eq!(
        chain
            .run(
                &carol,
                msgs::register(consensus_key("c"), "tiny", 999 * NOP)
            )
            .1,
        3
    );
}
