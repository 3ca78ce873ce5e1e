//! A vesting schedule from genesis mints on claim: before `start + cliff` the claim is refused
//! with `issuance/2 before_cliff`; midway it mints `⌊total × elapsed / duration⌋`; after the end
//! it mints the rest, and then nothing is left (`issuance/3 nothing_to_claim`). An account with no
//! schedule gets `issuance/1`. Claims are minted (the supply grows by exactly the claims) and the
//! period record counts them.

use nodeop_app::modules::issuance::IssuanceError;
use nodeop_app::query::QueryRequest;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis, Key, TestChain};
use nodeop_driver::issuance::{enter_period, record, schedule, vesting, GENESIS_TIME};
use nodeop_driver::tasks::NOP;

fn code(e: IssuanceError) -> (String, u32) {
    ("issuance".into(), e.code())
}

/// Runs a claim by `who` in a block at exactly `time`.
fn claim_at(chain: &mut TestChain, who: &Key, time: i64) -> (String, u32, String) {
    chain.run_until(time - 1);
    chain.run(who, Msg::claim_vested())
}

#[test]
fn vesting_before_the_cliff_midway_and_after_the_end() {
    let team = Key::from_seed("team");
    let stranger = Key::from_seed("stranger");
    let total = 1_000 * NOP + 1;
    let start = GENESIS_TIME + 10;
    let mut g = genesis(&[(team.address, 10 * NOP), (stranger.address, 10 * NOP)]);
    g.staking.params.epoch_seconds = 10;
    g.issuance.params.issuance_period_epochs = 30;
    g.issuance
        .vesting
        .push(schedule(&team.address, total, start, 20, 100));
    let mut chain = TestChain::start(&g);
    let genesis_supply = chain.supply().total_supply;

    // before the cliff (start + 20): refused, with the time the cliff ends
    let (cs, c, log) = claim_at(&mut chain, &team, start + 19);
    assert_eq!(
        (cs, c),
        code(IssuanceError::BeforeCliff {
            cliff_ends: 0,
            now: 0
        })
    );
    assert!(log.starts_with("before_cliff"), "{log}");
    assert!(log.contains(&(start + 20).to_string()), "{log}");
    assert_eq!(vesting(&chain, &team.address).claimed, 0);
    assert_eq!(chain.supply().minted, 0);

    // no schedule at all
    let (cs, c, _) = chain.run(&stranger, Msg::claim_vested());
    assert_eq!((cs, c), code(IssuanceError::NoSchedule(String::new())));

    // midway: half of the duration has passed
    let before = chain.balance(&team.address);
    let tx = chain.tx(&team, vec![Msg::claim_vested()]);
    let fee = nodeop_driver::tasks::tx_fee(&tx);
    chain.run_until(start + 50 - 1);
    let resp = chain.block(vec![tx]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    let half = total * 50 / 100;
    assert_eq!(half, 500 * NOP, "⌊(1000 NOP + 1) × 50 / 100⌋");
    assert_eq!(chain.balance(&team.address), before - fee + half);
    assert_eq!(vesting(&chain, &team.address).claimed, half);
    let ev = resp.tx_results[0]
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::issuance::events::VESTED)
        .expect("a vested event");
    assert_eq!(ev.get("amount"), Some(half.to_string().as_str()));
    assert_eq!(
        ev.get("beneficiary"),
        Some(team.address.to_string().as_str())
    );

    // the query shows what is claimable at the last block's time
    let q = chain.app.query(&QueryRequest {
        path: format!("/issuance/vesting/{}", team.address),
        ..Default::default()
    });
    assert_eq!(q.code, 0, "{}", q.log);
    let v: serde_json::Value = serde_json::from_slice(&q.value).unwrap();
    assert_eq!(v["claimed"], half.to_string());
    assert_eq!(v["claimable"], "0");
    assert_eq!(v["cliff_ends"], start + 20);

    // after the end: the rest, exactly
    let (_, c, log) = claim_at(&mut chain, &team, start + 1_000);
    assert_eq!(c, 0, "{log}");
    assert_eq!(vesting(&chain, &team.address).claimed, total);
    let (cs, c, log) = chain.run(&team, Msg::claim_vested());
    assert_eq!(
        (cs, c),
        code(IssuanceError::NothingToClaim {
            vested: 0,
            claimed: 0
        })
    );
    assert!(log.starts_with("nothing_to_claim"), "{log}");

    // the supply grew by exactly the claims, and the period record counts them
    let s = chain.supply();
    assert_eq!(s.minted, total);
    assert_eq!(s.total_supply, genesis_supply + total);
    enter_period(&mut chain, 5);
    let claimed_in_periods: u128 = (0..5)
        .map(|m| record(&chain, m).expect("recorded").vested)
        .sum();
    assert_eq!(claimed_in_periods, total);
    // 300-second periods: the midway claim fell in period 0, the last one (at 1_010 s) in 3
    assert_eq!(record(&chain, 0).unwrap().vested, half);
    assert_eq!(record(&chain, 3).unwrap().vested, total - half);
}
