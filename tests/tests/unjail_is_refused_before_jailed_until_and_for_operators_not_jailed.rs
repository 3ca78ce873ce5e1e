use nodeop_app::tx::Msg;
use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, Key, TestChain,
};
use nodeop_driver::tasks::NOP;

#[test]
fn unjail_is_refused_before_jailed_until_and_for_operators_not_jailed() {
    let big = Key::from_seed("big");
    let mut g = genesis(&[(big.address, 1_000 * NOP)]);
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * NOP,
    );
    let mut chain = TestChain::start(&g);
    let (op, cons) = genesis_operator();

    let (space, code, log) = chain.run(&op, Msg::unjail());
    assert_eq!((space.as_str(), code), ("staking", 12), "{log}");

    chain.offline.insert(cons);
    for _ in 0..300 {
        if chain.operator(&op.address).jailed_until.is_some() {
            break;
        }
        chain.block(Vec::new());
    }
    assert!(
        chain.operator(&op.address).jailed_until.is_some(),
        "jailed within 300 blocks"
    );
    chain.offline.clear();
    let until = chain.operator(&op.address).jailed_until.unwrap();

    // too early: a distinct code, and the log says until when
    let (space, code, log) = chain.run(&op, Msg::unjail());
    assert_eq!((space.as_str(), code), ("staking", 13), "{log}");
    assert!(log.contains(&until.to_string()), "{log}");
    assert!(chain.operator(&op.address).jailed_until.is_some());

    while chain.time.seconds + chain.block_seconds < until {
        chain.block(Vec::new());
    }
    // the block at jailed_until accepts it, and the operator returns to the set two blocks later
    let resp = chain.ok(&op, Msg::unjail());
    assert_eq!(chain.time.seconds, until);
    assert!(resp
        .validator_updates
        .iter()
        .any(|u| u.ed25519_pubkey == cons && u.power == 10_000));
    let h = chain.height;
    assert_eq!(chain.power_of(&cons, h + 2), Some(10_000));
    assert_eq!(chain.operator(&op.address).jailed_until, None);
    // and its liveness window starts again: a few missed blocks do not jail it at once
    chain.offline.insert(cons);
    chain.empty_blocks(10);
    assert_eq!(chain.operator(&op.address).jailed_until, None);
}
