use nodeop_app::tx::Msg;
use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, Key, TestChain,
};
use nodeop_driver::tasks::NOP;

fn chain_with(slash_ppm: u32, dave: &Key) -> TestChain {
    let big = Key::from_seed("big");
    let mut g = genesis(&[(big.address, 1_000 * NOP), (dave.address, 20_000 * NOP)]);
    g.staking.params.double_sign_slash_ppm = slash_ppm;
    add_genesis_operator(
        &mut g,
        &big.address,
        consensus_key("big"),
        "big",
        30_000 * NOP,
    );
    TestChain::start(&g)
}

#[test]
fn a_double_sign_slash_reaches_unbonding_entries_created_after_the_infraction_but_not_before() {
    let dave = Key::from_seed("dave");
    let mut chain = chain_with(100_000, &dave); // 10 %
    let (op, cons) = genesis_operator();
    chain.ok(&dave, Msg::delegate(&op.address, 10_000 * NOP));
    chain.ok(&dave, Msg::undelegate(&op.address, 2_000 * NOP)); // before: not slashable
    let before_id = chain.unbonding_entries()[0].id;
    chain.empty_blocks(2);
    let infraction = chain.height;
    // the set at the infraction: 10_000 self + 8_000 dave
    let power = chain.operator(&op.address).tokens / NOP;
    assert_eq!(power, 18_000);
    chain.ok(&dave, Msg::undelegate(&op.address, 4_000 * NOP)); // after: slashable
    let supply = chain.supply().total_supply;
    let treasury = chain.balance(&nodeop_app::modules::bank::TREASURY.address());

    chain.report_double_sign(&cons, infraction, power as u64);
    chain.block(Vec::new());

    let entries = chain.unbonding_entries();
    let before = entries.iter().find(|e| e.id == before_id).unwrap();
    let after = entries.iter().find(|e| e.id != before_id).unwrap();
    assert_eq!(
        before.amount,
        2_000 * NOP,
        "the entry created before the infraction is untouched"
    );
    assert_eq!(
        after.amount,
        3_600 * NOP,
        "the entry created after pays 10 % of itself"
    );
    // 10 % of 18_000 = 1_800: 400 from the entry, 1_400 from the pool
    let o = chain.operator(&op.address);
    assert_eq!(o.tokens, 14_000 * NOP - 1_400 * NOP);
    assert_eq!(o.slashed_total, 1_800 * NOP);
    // half burned, half to the treasury
    assert_eq!(chain.supply().total_supply, supply - 900 * NOP);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::TREASURY.address()),
        treasury + 900 * NOP
    );
    let record: nodeop_app::modules::staking::state::SlashRecord = {
        let r = chain.query(&format!("/staking/slashes/{}", op.address), &[], 0, false);
        let v: Vec<nodeop_app::modules::staking::state::SlashRecord> =
            serde_json::from_slice(&r.value).unwrap();
        v[0].clone()
    };
    assert_eq!(
        (record.from_pool, record.from_unbonding),
        (1_400 * NOP, 400 * NOP)
    );
    assert_eq!(record.infraction_height, infraction);
}

#[test]
fn undelegating_after_an_infraction_does_not_escape_its_slash() {
    let dave = Key::from_seed("dave");
    let mut chain = chain_with(500_000, &dave); // 50 %, to make the share plain
    let (op, cons) = genesis_operator();
    chain.ok(&dave, Msg::delegate(&op.address, 10_000 * NOP));
    chain.empty_blocks(1);
    let infraction = chain.height;
    // dave leaves everything right after the infraction, before the evidence lands
    chain.ok(&dave, Msg::undelegate(&op.address, 10_000 * NOP));
    chain.empty_blocks(2);
    chain.report_double_sign(&cons, infraction, 20_000);
    chain.block(Vec::new());

    let entry = chain.unbonding_entries().pop().unwrap();
    assert_eq!(entry.amount, 5_000 * NOP, "dave's entry pays its 50 %");
    assert_eq!(
        chain.operator(&op.address).tokens,
        5_000 * NOP,
        "the pool pays the rest"
    );
    // dave receives only what is left at completion
    let balance = chain.balance(&dave.address);
    while chain.time.seconds < entry.completion_time {
        chain.block(Vec::new());
    }
    assert_eq!(chain.balance(&dave.address), balance + 5_000 * NOP);
}

#[test]
fn overlapping_slashes_never_take_more_than_exists() {
    let dave = Key::from_seed("dave");
    let mut chain = chain_with(1_000_000, &dave); // 100 %
    let (op, cons) = genesis_operator();
    chain.ok(&dave, Msg::delegate(&op.address, 5_000 * NOP));
    let infraction = chain.height;
    chain.ok(&dave, Msg::undelegate(&op.address, 5_000 * NOP));
    // report a power far above what exists: the slash is capped at the pool and the entries
    chain.report_double_sign(&cons, infraction, 1_000_000);
    chain.block(Vec::new());
    let o = chain.operator(&op.address);
    assert_eq!(o.tokens, 0);
    assert_eq!(chain.unbonding_entries()[0].amount, 0);
    assert_eq!(o.slashed_total, 15_000 * NOP);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::BONDED_POOL.address()),
        30_000 * NOP,
        "only big's pool is left"
    );
}
