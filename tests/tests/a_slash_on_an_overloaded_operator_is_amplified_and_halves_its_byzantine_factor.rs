//! The reputation module's load state reaches slashing: three validators with load states 0,
//! 850_000 and 1_000_000 (from genesis; the optimal load is 700_000) are each reported for a
//! `false_submission` (5 %). The amounts are amplified by 1.0, 1.25 and 1.5, and once the
//! proposals execute each operator's Byzantine factor is halved, halving its effective score.

use nodeop_app::crypto::Address;
use nodeop_app::modules::reputation::genesis::GenesisOperatorReputation;
use nodeop_app::modules::reputation::OperatorReputation;
use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;
use serde_json::Value;

fn reputation(chain: &TestChain, who: &Address) -> Value {
    let r = chain.query(&format!("/reputation/operator/{who}"), &[], 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    serde_json::from_slice(&r.value).expect("JSON")
}

fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

#[test]
fn a_slash_on_an_overloaded_operator_is_amplified_and_halves_its_byzantine_factor() {
    let rita = Key::from_seed("rita");
    let (mut g, big, mid) = three_validators(&[(rita.address, 1_000 * NOP)]);
    let (op0, _) = genesis_operator();
    g.reputation.operators = [(big.address, 850_000), (mid.address, 1_000_000)]
        .iter()
        .map(|(address, load_ppm)| GenesisOperatorReputation {
            address: *address,
            record: OperatorReputation {
                load_ppm: *load_ppm,
                ..OperatorReputation::default()
            },
        })
        .collect();
    let mut chain = TestChain::start(&g);
    chain.empty_blocks(2);

    // (operator, stake, amplification): 5 % of the stake, times the amplification
    let cases = [
        (op0.address, 10_000 * NOP, 1_000_000u64),
        (big.address, 30_000 * NOP, 1_250_000),
        (mid.address, 20_000 * NOP, 1_500_000),
    ];
    let mut before = Vec::new();
    for (i, (operator, stake, amplification)) in cases.iter().enumerate() {
        let v = reputation(&chain, operator);
        assert_eq!(num(&v, "load_amplification_ppm"), *amplification);
        assert_eq!(num(&v, "byz_factor_ppm"), 1_000_000);
        let height = chain.height;
        chain.ok(
            &rita,
            slash_msgs::statement(operator, Offence::FalseSubmission, i as u64 + 1, height),
        );
        let p = chain.proposal(i as u64 + 1);
        assert_eq!(p.operator, *operator);
        assert_eq!(p.stake_at_infraction, *stake);
        assert_eq!(
            p.amount,
            stake * 50_000 / 1_000_000 * u128::from(*amplification) / 1_000_000
        );
        // proposed, not yet executed: the factor is untouched
        assert_eq!(
            num(&reputation(&chain, operator), "byz_factor_ppm"),
            1_000_000
        );
        before.push(num(&reputation(&chain, operator), "score_ppm"));
    }
    assert_eq!(chain.proposal(2).amount, 1_875 * NOP);
    assert_eq!(chain.proposal(3).amount, 1_500 * NOP);

    let last_deadline = chain.proposal(3).deadline;
    chain.run_until(last_deadline);
    for (i, (operator, _, _)) in cases.iter().enumerate() {
        assert_eq!(
            chain.proposal(i as u64 + 1).status,
            ProposalStatus::Executed
        );
        let v = reputation(&chain, operator);
        assert_eq!(num(&v, "byz_factor_ppm"), 500_000, "{operator}");
        assert_eq!(num(&v, "effective_score_ppm"), num(&v, "score_ppm") / 2);
        assert!(num(&v, "effective_score_ppm") < before[i] / 2 + 1);
    }
}
