use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, Key, TestChain,
};
use nodeop_driver::tasks::NOP;

#[test]
fn fees_are_paid_to_validators_by_power_at_each_epoch() {
    let alice = Key::from_seed("alice");
    let big = Key::from_seed("big");
    let mut g = genesis(&[(alice.address, 1_000 * NOP), (big.address, 1_000 * NOP)]);
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * NOP,
    );
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    let bob = Key::from_seed("bob");
    // epoch_seconds = 10 on the devnet genesis; blocks are 1 s apart
    for _ in 0..5 {
        let tx = chain.send(&alice, &bob.address, 1);
        chain.block(vec![tx]);
    }
    let fees = chain.balance(&nodeop_app::modules::bank::FEE_POOL.address());
    assert!(fees > 0);
    let op_balance = chain.balance(&op.address);
    let big_balance = chain.balance(&big.address);
    let treasury = chain.balance(&nodeop_app::modules::bank::TREASURY.address());
    let resp = loop {
        let resp = chain.block(Vec::new());
        if resp
            .events
            .iter()
            .any(|e| e.kind == nodeop_app::modules::staking::events::EPOCH)
        {
            break resp;
        }
    };
    let e = resp
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::staking::events::EPOCH)
        .unwrap();
    assert_eq!(e.get("epoch"), Some("1"));
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::FEE_POOL.address()),
        0
    );
    // power 10_000 and 30_000: a quarter and three quarters, commission 10 % to the account
    let share_op = fees * 10_000 / 40_000;
    let share_big = fees * 30_000 / 40_000;
    let op_commission = share_op / 10;
    let big_commission = share_big / 10;
    assert_eq!(chain.balance(&op.address), op_balance + op_commission);
    assert_eq!(chain.balance(&big.address), big_balance + big_commission);
    assert_eq!(
        chain.operator(&op.address).tokens,
        10_000 * NOP + share_op - op_commission
    );
    assert_eq!(
        chain.operator(&big.address).tokens,
        30_000 * NOP + share_big - big_commission
    );
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::TREASURY.address()),
        treasury + fees - share_op - share_big,
        "the rounding remainder goes to the treasury"
    );
}

#[test]
fn every_epoch_boundary_is_processed_once_even_after_a_long_gap() {
    let alice = Key::from_seed("alice");
    let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000 * NOP)]));
    chain.block_seconds = 95; // 9 boundaries crossed at once (epochs of 10 s)
    let resp = chain.block(Vec::new());
    chain.block_seconds = 1;
    let epochs: Vec<&str> = resp
        .events
        .iter()
        .filter(|e| e.kind == nodeop_app::modules::staking::events::EPOCH)
        .filter_map(|e| e.get("epoch"))
        .collect();
    assert_eq!(epochs, vec!["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // the next block, still in epoch 9, processes none
    let resp = chain.block(Vec::new());
    assert!(!resp
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::staking::events::EPOCH));
}
