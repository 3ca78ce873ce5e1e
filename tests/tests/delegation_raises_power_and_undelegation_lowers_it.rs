use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis, genesis_operator, Key, TestChain, GENESIS_SELF_BOND};
use nodeop_driver::tasks::NOP;

#[test]
fn delegation_raises_power_and_undelegation_lowers_it() {
    let dave = Key::from_seed("dave");
    let mut chain = TestChain::start(&genesis(&[(dave.address, 10_000 * NOP)]));
    let (op, cons) = genesis_operator();
    let before = GENESIS_SELF_BOND / NOP;
    assert_eq!(chain.reported_set(), vec![(cons, before as u64)]);

    let resp = chain.ok(&dave, Msg::delegate(&op.address, 2_500 * NOP));
    assert_eq!(resp.validator_updates[0].power, (before + 2_500) as u64);
    let o = chain.operator(&op.address);
    assert_eq!(o.tokens, GENESIS_SELF_BOND + 2_500 * NOP);
    // first delegation into an untouched pool: 1 share per unop
    let d = nodeop_app::modules::staking::state::delegation(
        chain.app.storage(),
        &dave.address,
        &op.address,
    )
    .unwrap();
    assert_eq!(d.shares, 2_500 * NOP);
    let h = chain.height;
    assert_eq!(chain.power_of(&cons, h + 2), Some((before + 2_500) as u64));

    let resp = chain.ok(&dave, Msg::undelegate(&op.address, 1_000 * NOP));
    assert_eq!(resp.validator_updates[0].power, (before + 1_500) as u64);
    // a delegator cannot take out more than it holds
    let (_, code, log) = chain.run(&dave, Msg::undelegate(&op.address, 1_501 * NOP));
    assert_eq!(code, 9, "{log}");
    // the operator cannot drop its own bond below min_self_bond, but may withdraw all of it
    let (_, code, log) = chain.run(
        &op,
        Msg::undelegate(&op.address, GENESIS_SELF_BOND - 999 * NOP),
    );
    assert_eq!(code, 11, "{log}");
}
