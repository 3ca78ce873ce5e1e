//! Two operators start with a history (from genesis): one that failed most of its results, duties
//! and commits and had its Byzantine factor halved three times, and one with a perfect record. Both
//! are jailed, so nothing new is recorded for them, and each block opens a new epoch. Their scores
//! move toward the neutral 500_000 (their bond, half the stake cap, makes the stake component
//! neutral too) monotonically and by `decay_ppm` per epoch, as PROTOCOL.md §3.3 writes it; the
//! Byzantine factor recovers toward 1.0.

use nodeop_app::crypto::Address;
use nodeop_app::modules::reputation::genesis::GenesisOperatorReputation;
use nodeop_app::modules::reputation::{OperatorReputation, ReputationParams, Tally};
use nodeop_driver::chain::{add_genesis_operator, consensus_key, genesis, Key, TestChain};
use nodeop_driver::tasks::NOP;
use serde_json::Value;

const EVENT: u128 = 1_000_000;

fn tally(good: u128, bad: u128) -> Tally {
    Tally {
        good: good * EVENT,
        bad: bad * EVENT,
        neutral: 0,
    }
}

fn reputation(chain: &TestChain, who: &Address) -> Value {
    let r = chain.query(&format!("/reputation/operator/{who}"), &[], 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    serde_json::from_slice(&r.value).expect("JSON")
}

fn num(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

#[test]
fn reputation_decays_toward_neutral_over_epochs() {
    let low = Key::from_seed("low");
    let high = Key::from_seed("high");
    let mut g = genesis(&[]);
    // one epoch per block
    g.staking.params.epoch_seconds = 1;
    for (key, name) in [(&low, "low"), (&high, "high")] {
        add_genesis_operator(
            &mut g,
            &key.address,
            consensus_key(name),
            name,
            10_000 * NOP,
        );
    }
    for op in &mut g.staking.operators {
        if op.address == low.address || op.address == high.address {
            op.jailed_until = Some(i64::MAX);
        }
    }
    let decay = ReputationParams::default().decay_ppm;
    assert_eq!(g.reputation.params.decay_ppm, decay);
    g.reputation.operators = vec![
        GenesisOperatorReputation {
            address: low.address,
            record: OperatorReputation {
                results: tally(1, 9),
                duties: tally(0, 4),
                blocks: tally(50, 50),
                latency: Tally {
                    good: 200_000,
                    bad: 800_000,
                    neutral: 0,
                },
                byz_factor_ppm: 125_000,
                ..OperatorReputation::default()
            },
        },
        GenesisOperatorReputation {
            address: high.address,
            record: OperatorReputation {
                results: tally(10, 0),
                duties: tally(4, 0),
                latency: tally(1, 0),
                ..OperatorReputation::default()
            },
        },
    ];
    let mut chain = TestChain::start(&g);

    // the histories as genesis wrote them
    let l = reputation(&chain, &low.address);
    assert_eq!(l["registered"], true);
    assert_eq!(num(&l["components"], "stake_ppm"), 500_000);
    assert_eq!(num(&l["components"], "success_ppm"), 100_000);
    assert_eq!(num(&l["components"], "uptime_ppm"), 250_000, "avg(0, 0.5)");
    assert_eq!(num(&l["components"], "latency_ppm"), 200_000);
    // 0.3×0.1 + 0.4×0.25 + 0.2×0.2 + 0.1×0.5
    assert_eq!(num(&l, "score_ppm"), 220_000);
    assert_eq!(num(&l, "effective_score_ppm"), 27_500);
    let h = reputation(&chain, &high.address);
    assert_eq!(num(&h, "score_ppm"), 950_000);

    let mut last: Vec<(i64, i64)> = [&l, &h]
        .iter()
        .map(|v| (num(v, "score_ppm"), num(v, "byz_factor_ppm")))
        .collect();
    let first = last.clone();
    let epochs = 400;
    for epoch in 1..=epochs {
        let resp = chain.block(Vec::new());
        let e = resp
            .events
            .iter()
            .find(|e| e.kind == nodeop_app::modules::reputation::events::REPUTATION_EPOCH)
            .unwrap_or_else(|| panic!("no reputation_epoch event in block {}", chain.height));
        assert_eq!(e.get("epoch"), Some(epoch.to_string().as_str()));
        for (i, who) in [low.address, high.address].iter().enumerate() {
            let v = reputation(&chain, who);
            let (score, byz) = (num(&v, "score_ppm"), num(&v, "byz_factor_ppm"));
            let (prev_score, prev_byz) = last[i];
            let dev = score - 500_000;
            let prev_dev = prev_score - 500_000;
            // the protocol's step, 500_000 + (score − 500_000) × decay, up to the floors
            let expected = prev_dev * i64::from(decay) / 1_000_000;
            assert!(
                (dev - expected).abs() <= 3,
                "epoch {epoch}, {who}: deviation {dev}, expected {expected}"
            );
            assert!(
                dev.signum() * prev_dev.signum() >= 0,
                "never crosses neutral"
            );
            assert!(dev.abs() <= prev_dev.abs(), "monotone toward neutral");
            if prev_dev.abs() > 1_000 {
                assert!(dev.abs() < prev_dev.abs(), "epoch {epoch}: strictly closer");
            }
            assert!(byz >= prev_byz, "the factor only recovers");
            if prev_byz < 1_000_000 {
                assert!(byz > prev_byz);
            }
            // nothing new was recorded: only the decay moved the tallies
            assert_eq!(num(&v["components"], "stake_ppm"), 500_000);
            last[i] = (score, byz);
        }
    }
    let (low_score, low_byz) = last[0];
    let (high_score, high_byz) = last[1];
    // 0.992699^400 ≈ 0.0536 of the starting distance is left
    assert!(
        (500_000 - low_score) * 100 <= (500_000 - first[0].0) * 6,
        "{low_score}"
    );
    assert!(
        (high_score - 500_000) * 100 <= (first[1].0 - 500_000) * 6,
        "{high_score}"
    );
    assert!(low_score < 500_000 && high_score > 500_000);
    // the gap 875_000 shrank the same way
    assert!(low_byz >= 1_000_000 - 875_000 * 6 / 100, "{low_byz}");
    assert_eq!(high_byz, 1_000_000);
    // the tallies kept their mass: the forgotten outcomes are neutral now
    let counters = &reputation(&chain, &low.address)["counters"];
    let mass = |t: &Value| -> u128 {
        ["good", "bad", "neutral"]
            .iter()
            .map(|k| t[k].as_str().unwrap().parse::<u128>().unwrap())
            .sum()
    };
    assert_eq!(mass(&counters["results"]), 10 * EVENT);
    assert_eq!(mass(&counters["blocks"]), 100 * EVENT);
    let neutral: u128 = counters["results"]["neutral"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(neutral > 9 * EVENT, "{neutral}");
}
