use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;

#[test]
fn an_operator_who_undelegates_everything_during_the_dispute_window_is_still_slashed_in_full() {
    let rita = Key::from_seed("rita");
    let (g, _, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Byzantine, 1, 2),
    );
    let p = chain.proposal(1);
    assert_eq!(p.amount, 10_000 * NOP, "byzantine: 100 %");

    // the operator takes everything out while the proposal is pending…
    chain.ok(&op, Msg::undelegate(&op.address, 10_000 * NOP));
    assert_eq!(chain.operator(&op.address).tokens, 0);
    let entry = chain.unbonding_entries().pop().unwrap();
    assert_eq!(entry.amount, 10_000 * NOP);

    // …but its entry is not paid while the proposal is open, and the slash takes it all
    let resp_events = {
        let mut all = Vec::new();
        while chain.proposal(1).status.is_open() {
            all.extend(chain.block(Vec::new()).events);
        }
        all
    };
    assert!(resp_events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_EXECUTED));
    assert!(!resp_events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::staking::events::UNBONDING_COMPLETED));
    assert_eq!(chain.proposal(1).status, ProposalStatus::Executed);
    let out = chain.proposal(1).outcome.unwrap();
    assert_eq!(out.from_unbonding, 10_000 * NOP);
    assert_eq!(chain.unbonding_entries()[0].amount, 0);
    // byzantine also tombstones
    assert!(chain.operator(&op.address).tombstoned);

    // nothing is left to pay at completion
    let balance = chain.balance(&op.address);
    chain.run_until(entry.completion_time);
    assert_eq!(chain.balance(&op.address), balance);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::UNBONDING_POOL.address()),
        0
    );
}

#[test]
fn unbonding_entries_wait_while_a_proposal_is_open_and_are_paid_once_it_closes() {
    let rita = Key::from_seed("rita");
    let dave = Key::from_seed("dave");
    let (mut g, _, _) =
        three_validators(&[(rita.address, 1_000 * NOP), (dave.address, 5_000 * NOP)]);
    // unbonding shorter than nothing else: still ≥ dispute + vote + task lifetime (120 s)
    g.staking.params.unbonding_time = 120;
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.ok(&dave, Msg::delegate(&op.address, 1_000 * NOP));
    chain.ok(&dave, Msg::undelegate(&op.address, 1_000 * NOP));
    let entry = chain.unbonding_entries().pop().unwrap();
    // a proposal opened just before the entry matures, then disputed: it stays open past it
    chain.run_until(entry.completion_time - 10);
    let h = chain.height;
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Performance, 5, h),
    );
    chain.ok(&op, Msg::dispute_slash(1, "not me"));
    chain.run_until(entry.completion_time + 5);
    assert_eq!(
        chain.unbonding_entries().len(),
        1,
        "held while the proposal is open"
    );
    // nobody votes: overturned at the end of the vote, and the entry is paid in that block
    let balance = chain.balance(&dave.address);
    while chain.proposal(1).status.is_open() {
        chain.block(Vec::new());
    }
    assert_eq!(chain.proposal(1).status, ProposalStatus::Overturned);
    assert!(chain.unbonding_entries().is_empty());
    assert_eq!(chain.balance(&dave.address), balance + 1_000 * NOP);
}

#[test]
fn a_tombstoned_operator_can_still_be_slashed_for_what_it_did_before() {
    let rita = Key::from_seed("rita");
    let (g, _, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, cons) = genesis_operator();
    chain.empty_blocks(3);
    chain.report_double_sign(&cons, 2, 10_000);
    chain.block(Vec::new());
    assert!(chain.operator(&op.address).tombstoned);
    assert_eq!(chain.operator(&op.address).tokens, 9_500 * NOP);
    // its remaining stake still answers for an earlier offence
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::FalseSubmission, 3, 1),
    );
    let p = chain.proposal(1);
    chain.run_until(p.deadline);
    assert_eq!(chain.proposal(1).status, ProposalStatus::Executed);
    assert_eq!(chain.operator(&op.address).tokens, 9_500 * NOP - p.amount);
    assert!(chain.operator(&op.address).tombstoned);
}
