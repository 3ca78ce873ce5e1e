use nodeop_app::modules::slashing::{Evidence, Offence, ProposalStatus};
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;

#[test]
fn equivocation_is_proved_by_two_conflicting_attestations() {
    let rita = Key::from_seed("rita");
    let (g, big, _) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let mut chain = TestChain::start(&g);
    let (op, _) = genesis_operator();
    let id = chain.chain_id.clone();
    let a = op.attest(&id, 42, [1; 32]);
    let b = op.attest(&id, 42, [2; 32]);

    // not conflicting: the same result twice, or two different tasks
    let same = chain.run(
        &rita,
        slash_msgs::equivocation(&op.address, a.clone(), a.clone()),
    );
    assert_eq!((same.0.as_str(), same.1), ("slashing", 7), "{}", same.2);
    let other_task = op.attest(&id, 43, [2; 32]);
    assert_eq!(
        chain
            .run(
                &rita,
                slash_msgs::equivocation(&op.address, a.clone(), other_task)
            )
            .1,
        7
    );
    // another chain's attestation
    let foreign = op.attest("other-chain", 42, [2; 32]);
    assert_eq!(
        chain
            .run(
                &rita,
                slash_msgs::equivocation(&op.address, a.clone(), foreign)
            )
            .1,
        7
    );
    // signed by someone else than the accused
    let forged = big.attest(&id, 42, [2; 32]);
    let r = chain.run(
        &rita,
        slash_msgs::equivocation(&op.address, a.clone(), forged),
    );
    assert_eq!(r.1, 6, "{}", r.2);
    // a tampered signature
    let mut bad = b.clone();
    bad.signature[5] ^= 1;
    assert_eq!(
        chain
            .run(&rita, slash_msgs::equivocation(&op.address, a.clone(), bad))
            .1,
        5
    );
    // equivocation with a statement instead of attestations is refused before the fee
    let tx = chain.tx(
        &rita,
        vec![slash_msgs::statement(
            &op.address,
            Offence::Equivocation,
            1,
            1,
        )],
    );
    assert_eq!(chain.check(&tx).code, 4);

    // the real thing
    let resp = chain.ok(&rita, slash_msgs::equivocation(&op.address, a, b));
    assert!(resp.tx_results[0]
        .events
        .iter()
        .any(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_PROPOSED));
    let p = chain.proposal(1);
    assert_eq!(p.offence, Offence::Equivocation);
    assert_eq!(p.infraction_id, 42);
    assert_eq!(p.amount, 500 * NOP, "5 % of 10_000 NOP");
    assert!(matches!(p.evidence, Evidence::Equivocation { .. }));
    chain.run_until(p.deadline);
    assert_eq!(chain.proposal(1).status, ProposalStatus::Executed);
    assert_eq!(chain.operator(&op.address).tokens, 9_500 * NOP);
}
