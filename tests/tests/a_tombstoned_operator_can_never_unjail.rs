use nodeop_app::tx::Msg;
use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, Key, TestChain,
};
use nodeop_driver::tasks::NOP;

#[test]
fn a_tombstoned_operator_can_never_unjail() {
    let big = Key::from_seed("big");
    let dave = Key::from_seed("dave");
    let mut g = genesis(&[(big.address, 1_000 * NOP), (dave.address, 1_000 * NOP)]);
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * NOP,
    );
    let mut chain = TestChain::start(&g);
    let (op, cons) = genesis_operator();
    chain.empty_blocks(3);
    chain.report_double_sign(&cons, 2, 10_000);
    let resp = chain.block(Vec::new());
    assert!(resp
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::staking::events::TOMBSTONED));
    assert!(resp
        .validator_updates
        .iter()
        .any(|u| u.ed25519_pubkey == cons && u.power == 0));
    let o = chain.operator(&op.address);
    assert!(o.tombstoned);
    // 5 % of 10_000 NOP
    assert_eq!(o.slashed_total, 500 * NOP);
    assert_eq!(o.tokens, 9_500 * NOP);

    // far in the future, still no
    chain.block_seconds = 10 * 86_400;
    chain.block(Vec::new());
    chain.block_seconds = 1;
    let (space, code, log) = chain.run(&op, Msg::unjail());
    assert_eq!((space.as_str(), code), ("staking", 14), "{log}");
    // nobody can delegate to it either
    let (_, code, _) = chain.run(&dave, Msg::delegate(&op.address, NOP));
    assert_eq!(code, 14);
    // more evidence for the same operator changes nothing
    chain.report_double_sign(&cons, 3, 10_000);
    chain.block(Vec::new());
    assert_eq!(chain.operator(&op.address).slashed_total, 500 * NOP);
    assert!(!chain.reported_set().iter().any(|(pk, _)| *pk == cons));
}
