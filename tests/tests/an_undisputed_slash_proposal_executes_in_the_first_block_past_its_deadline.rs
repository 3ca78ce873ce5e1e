use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;

#[test]
fn an_undisputed_slash_proposal_executes_in_the_first_block_past_its_deadline_and_not_earlier() {
    let rita = Key::from_seed("rita");
    let (g, _, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    let supply = chain.supply().total_supply;
    let treasury = chain.balance(&nodeop_app::modules::bank::TREASURY.address());
    let rita_before = chain.balance(&rita.address);

    let resp = chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::FalseSubmission, 7, 2),
    );
    let fee = rita_before - chain.balance(&rita.address) - 100 * NOP;
    assert!(resp.tx_results[0]
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_PROPOSED));
    let p = chain.proposal(1);
    assert_eq!(
        p.deadline,
        chain.time.seconds + 30,
        "devnet dispute window: 30 s"
    );
    assert_eq!(p.stake_at_infraction, 10_000 * NOP);
    assert_eq!(p.amount, 500 * NOP, "false_submission: 5 %");
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::DISPUTE_ESCROW.address()),
        100 * NOP,
        "the report bond"
    );

    // the block before the deadline: still pending
    chain.run_until(p.deadline - 1);
    assert_eq!(chain.proposal(1).status, ProposalStatus::Pending);
    assert_eq!(chain.operator(&op.address).tokens, 10_000 * NOP);
    // the block at the deadline executes it
    let resp = chain.block(Vec::new());
    assert_eq!(chain.time.seconds, p.deadline);
    let e = resp
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_EXECUTED)
        .expect("executed");
    assert_eq!(e.get("amount"), Some("500000000"));
    let p = chain.proposal(1);
    assert_eq!(p.status, ProposalStatus::Executed);

    // 500 NOP: 250 burned, 150 to the reporter, 100 to the treasury; the report bond returns
    assert_eq!(chain.operator(&op.address).tokens, 9_500 * NOP);
    assert_eq!(chain.supply().total_supply, supply - 250 * NOP);
    assert_eq!(chain.balance(&rita.address), rita_before - fee + 150 * NOP);
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::TREASURY.address()),
        treasury + 100 * NOP
    );
    assert_eq!(
        chain.balance(&nodeop_app::modules::bank::DISPUTE_ESCROW.address()),
        0
    );
    let out = p.outcome.unwrap();
    assert_eq!(
        (out.burned, out.to_reporter, out.to_treasury),
        (250 * NOP, 150 * NOP, 100 * NOP)
    );
    // the validator's power follows
    assert!(chain.reported_set().iter().any(|(_, p)| *p == 9_500));
}

#[test]
fn two_proposals_for_one_infraction_are_refused() {
    let rita = Key::from_seed("rita");
    let sam = Key::from_seed("sam");
    let (g, _, _) = three_validators(&[(rita.address, 1_000 * NOP), (sam.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    chain.empty_blocks(2);
    chain.ok(
        &rita,
        slash_msgs::statement(&op.address, Offence::Performance, 9, 1),
    );
    let (space, code, log) = chain.run(
        &sam,
        slash_msgs::statement(&op.address, Offence::Performance, 9, 2),
    );
    assert_eq!((space.as_str(), code), ("slashing", 9), "{log}");
    assert!(
        log.contains('1'),
        "the log names the existing proposal: {log}"
    );
    // the same id under another offence is another infraction
    chain.ok(
        &sam,
        slash_msgs::statement(&op.address, Offence::FalseSubmission, 9, 2),
    );
    // listings page: one at a time, by operator too
    let page = |path: &str| -> serde_json::Value {
        let r = chain.query(path, &[], 0, false);
        assert_eq!(r.code, 0, "{}", r.log);
        serde_json::from_slice(&r.value).unwrap()
    };
    let first = page("/slashing/proposals?limit=1");
    assert_eq!(first["items"][0]["id"], 1);
    assert_eq!(first["next"], "1");
    let second = page("/slashing/proposals?limit=1&after=1");
    assert_eq!(second["items"][0]["id"], 2);
    assert!(second["next"].is_null());
    let by_op = page(&format!(
        "/slashing/proposals?operator={}&status=pending",
        op.address
    ));
    assert_eq!(by_op["items"].as_array().unwrap().len(), 2);
    // an infraction at height 0 (there is no block 0) is refused
    let (_, code, _) = chain.run(
        &sam,
        slash_msgs::statement(&op.address, Offence::Byzantine, 2, 0),
    );
    assert_eq!(code, 8);
    // the chain's own offences cannot be reported
    // (refused by the stateless checks, so CheckTx and ProcessProposal refuse it)
    let tx = chain.tx(
        &sam,
        vec![slash_msgs::statement(&op.address, Offence::Downtime, 1, 1)],
    );
    let r = chain.check(&tx);
    assert_eq!((r.codespace.as_str(), r.code), ("slashing", 3), "{}", r.log);
    assert!(!chain.app.process_proposal(&[tx]));
    // an infraction from the future is refused
    let h = chain.height;
    let (_, code, _) = chain.run(
        &sam,
        slash_msgs::statement(&op.address, Offence::Byzantine, 1, h + 5),
    );
    assert_eq!(code, 8);
}
