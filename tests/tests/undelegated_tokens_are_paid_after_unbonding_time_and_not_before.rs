use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis, genesis_operator, Key, TestChain};
use nodeop_driver::tasks::NOP;

#[test]
fn undelegated_tokens_are_paid_after_unbonding_time_and_not_before() {
    let dave = Key::from_seed("dave");
    let mut chain = TestChain::start(&genesis(&[(dave.address, 10_000 * NOP)]));
    let (op, _) = genesis_operator();
    chain.ok(&dave, Msg::delegate(&op.address, 3_000 * NOP));
    chain.ok(&dave, Msg::undelegate(&op.address, 3_000 * NOP));
    let entry = chain.unbonding_entries().pop().expect("an entry");
    assert_eq!(entry.amount, 3_000 * NOP);
    assert_eq!(
        entry.completion_time,
        chain.time.seconds + 300,
        "devnet unbonding_time is 300 s"
    );
    let balance = chain.balance(&dave.address);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::UNBONDING_POOL.address()),
        3_000 * NOP
    );

    // blocks are 1 s apart: the block at completion_time − 1 does not pay…
    while chain.time.seconds + chain.block_seconds < entry.completion_time {
        chain.block(Vec::new());
    }
    assert_eq!(chain.balance(&dave.address), balance);
    assert_eq!(chain.unbonding_entries().len(), 1);
    // …the first block at or past completion_time does
    let resp = chain.block(Vec::new());
    assert_eq!(chain.time.seconds, entry.completion_time);
    assert!(resp
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::staking::events::UNBONDING_COMPLETED));
    assert_eq!(chain.balance(&dave.address), balance + 3_000 * NOP);
    assert!(chain.unbonding_entries().is_empty());
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::UNBONDING_POOL.address()),
        0
    );
}
