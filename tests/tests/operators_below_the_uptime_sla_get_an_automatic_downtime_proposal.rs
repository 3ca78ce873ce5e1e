use nodeop_app::modules::slashing::{Evidence, ProposalStatus};
use nodeop_driver::chain::{genesis_operator, three_validators, TestChain};

#[test]
fn operators_below_the_uptime_sla_get_an_automatic_downtime_proposal() {
    let (mut g, _, _) = three_validators(&[]);
    // 10 s epochs, a 3-epoch SLA period; a long liveness window so that jailing stays out of it
    g.staking.params.epoch_seconds = 10;
    g.staking.params.signed_blocks_window = 1_000;
    g.slashing.params.downtime_period_epochs = 3;
    let mut chain = TestChain::start(&g);
    let (op, cons) = genesis_operator();
    let treasury = chain.balance(&nodeop_app::modules::bank::TREASURY.address());
    // miss 3 blocks of the ~30 of the first period: uptime ≈ 90 %, 5 points below 95 %
    chain.offline.insert(cons);
    chain.empty_blocks(3);
    chain.offline.clear();
    let mut proposed = None;
    for _ in 0..40 {
        let resp = chain.block(Vec::new());
        if let Some(e) = resp
            .events
            .iter()
            .find(|e| e.kind == nodeop_app::modules::slashing::events::SLASH_PROPOSED)
        {
            proposed = Some(e.clone());
            break;
        }
    }
    let e = proposed.expect("a downtime proposal at the end of the first SLA period");
    assert_eq!(e.get("operator"), Some(op.address.to_string().as_str()));
    assert_eq!(e.get("offence"), Some("downtime"));
    assert_eq!(e.get("reporter"), Some("automatic"));
    let p = chain.proposal(1);
    let Evidence::Downtime { period, uptime_ppm } = p.evidence else {
        panic!("{:?}", p.evidence)
    };
    assert_eq!(period, 0);
    assert!(uptime_ppm < 950_000 && uptime_ppm > 850_000, "{uptime_ppm}");
    // 2 % per point below 95 %
    let fraction = u128::from(950_000 - uptime_ppm) * 2;
    assert_eq!(p.amount, p.stake_at_infraction * fraction / 1_000_000);
    assert_eq!(p.reporter, None);
    assert_eq!(p.reporter_bond, 0);
    // the other validators signed everything: no proposal for them
    assert_eq!(chain.query("/slashing/proposals", &[], 0, false).code, 0);
    assert!(nodeop_app::modules::slashing::state::proposal(chain.app.storage(), 2).is_none());

    chain.run_until(p.deadline);
    assert_eq!(chain.proposal(1).status, ProposalStatus::Executed);
    let out = chain.proposal(1).outcome.unwrap();
    assert_eq!(
        out.to_reporter, 0,
        "automatic: the reporter's share stays in the treasury"
    );
    let taken = out.from_pool + out.from_unbonding;
    assert!(
        chain.balance(&nodeop_app::modules::bank::TREASURY.address())
            >= treasury + taken - out.burned
    );
}
