use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;

struct Setup {
    chain: TestChain,
    rita: Key,
    op: Key,
    big: Key,
    mid: Key,
}

/// Rita reports the genesis operator (10_000 NOP); it disputes. `big` has 30_000, `mid` 20_000.
fn disputed() -> Setup {
    let rita = Key::from_seed("rita");
    let (g, big, mid) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Performance, 1, 2),
    );
    let resp = chain.ok(&op, Msg::dispute_slash(1, "not me"));
    assert!(resp.tx_results[0]
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_DISPUTED));
    let p = chain.proposal(1);
    assert_eq!(p.status, ProposalStatus::Disputed);
    assert_eq!(
        p.dispute.as_ref().unwrap().eligible_power,
        50_000,
        "the accused's power excluded"
    );
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::DISPUTE_ESCROW.address()),
        200 * NOP,
        "both bonds"
    );
    Setup {
        chain,
        rita,
        op,
        big,
        mid,
    }
}

fn decide(s: &mut Setup) -> ProposalStatus {
    let at = s.chain.proposal(1).dispute.unwrap().decides_at;
    s.chain.run_until(at - 1);
    assert!(s.chain.proposal(1).status.is_open());
    s.chain.block(Vec::new());
    s.chain.proposal(1).status
}

#[test]
fn disputed_and_upheld() {
    let mut s = disputed();
    let supply = s.chain.supply().total_supply;
    let rita_before = s.chain.balance(&s.rita.address);
    let op_before = s.chain.balance(&s.op.address);
    s.chain.ok(&s.big, Msg::vote_dispute(1, true));
    s.chain.ok(&s.mid, Msg::vote_dispute(1, false));
    assert_eq!(decide(&mut s), ProposalStatus::Executed);
    // 8 % of 10_000 = 800 NOP: 400 burned, 240 to rita, 160 to the treasury; the dispute bond
    // is burned, rita's bond comes back
    assert_eq!(s.chain.operator(&s.op.address).tokens, 9_200 * NOP);
    assert_eq!(
        s.chain.supply().total_supply,
        supply - 400 * NOP - 100 * NOP
    );
    assert_eq!(
        s.chain.balance(&s.rita.address),
        rita_before + 240 * NOP + 100 * NOP
    );
    assert_eq!(s.chain.balance(&s.op.address), op_before);
    assert_eq!(
        s.chain
            .balance(&nodeop_app::modules::bank::DISPUTE_ESCROW.address()),
        0
    );
}

#[test]
fn disputed_and_overturned() {
    let mut s = disputed();
    let supply = s.chain.supply().total_supply;
    let op_before = s.chain.balance(&s.op.address);
    s.chain.ok(&s.big, Msg::vote_dispute(1, false));
    assert_eq!(decide(&mut s), ProposalStatus::Overturned);
    assert_eq!(
        s.chain.operator(&s.op.address).tokens,
        10_000 * NOP,
        "nothing slashed"
    );
    // the accused gets its dispute bond back and the reporter's bond
    assert_eq!(s.chain.balance(&s.op.address), op_before + 200 * NOP);
    assert_eq!(s.chain.supply().total_supply, supply);
    assert_eq!(
        s.chain
            .balance(&nodeop_app::modules::bank::DISPUTE_ESCROW.address()),
        0
    );
}

#[test]
fn a_tie_overturns() {
    let rita = Key::from_seed("rita");
    let (mut g, big, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    // make mid as strong as big: 30_000 each
    for o in g
        .staking
        .operators
        .iter_mut()
        .filter(|o| o.moniker == "mid")
    {
        o.tokens = 30_000 * NOP;
        o.shares = 30_000 * NOP;
        o.self_shares = 30_000 * NOP;
    }
    for d in g.staking.delegations.iter_mut() {
        if g.staking
            .operators
            .iter()
            .any(|o| o.moniker == "mid" && o.address == d.operator)
        {
            d.shares = 30_000 * NOP;
        }
    }
    for m in g
        .bank
        .module_accounts
        .iter_mut()
        .filter(|m| m.name == "bonded_pool")
    {
        m.balance += 10_000 * NOP;
    }
    let mid = Key::from_seed("mid");
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Performance, 1, 2),
    );
    chain.ok(&op, Msg::dispute_slash(1, "not me"));
    chain.ok(&big, Msg::vote_dispute(1, true));
    chain.ok(&mid, Msg::vote_dispute(1, false));
    let at = chain.proposal(1).dispute.unwrap().decides_at;
    chain.run_until(at);
    assert_eq!(chain.proposal(1).status, ProposalStatus::Overturned);
}

#[test]
fn a_missed_quorum_overturns() {
    let mut s = disputed();
    // nobody votes: 0 of 50_000 < 1/3
    assert_eq!(decide(&mut s), ProposalStatus::Overturned);
}

#[test]
fn the_accused_cannot_vote_non_validators_cannot_and_nobody_votes_twice() {
    let mut s = disputed();
    assert_eq!(s.chain.run(&s.op, Msg::vote_dispute(1, false)).1, 16);
    assert_eq!(s.chain.run(&s.rita, Msg::vote_dispute(1, true)).1, 15);
    s.chain.ok(&s.big, Msg::vote_dispute(1, true));
    assert_eq!(s.chain.run(&s.big, Msg::vote_dispute(1, false)).1, 17);
    // a second dispute, or a dispute by someone else, is refused
    assert_eq!(s.chain.run(&s.op, Msg::dispute_slash(1, "not me")).1, 13);
    assert_eq!(s.chain.run(&s.rita, Msg::dispute_slash(1, "not me")).1, 11);
    // after the vote closes
    let at = s.chain.proposal(1).dispute.unwrap().decides_at;
    s.chain.run_until(at);
    assert_eq!(s.chain.run(&s.mid, Msg::vote_dispute(1, true)).1, 13);
}

#[test]
fn a_dispute_after_the_deadline_is_refused() {
    let rita = Key::from_seed("rita");
    let (g, _, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Performance, 1, 2),
    );
    let deadline = chain.proposal(1).deadline;
    chain.run_until(deadline - 1);
    // a dispute in the block at the deadline comes too late (and the proposal executes there)
    let (_, code, log) = chain.run(&op, Msg::dispute_slash(1, "not me"));
    assert_eq!(code, 12, "{log}");
    assert_eq!(chain.proposal(1).status, ProposalStatus::Executed);
}
