//! The mint follows revenue with a decaying subsidy, `M = ⌊R × (1e6 + s(m)) / 1e6⌋` with
//! `s(m) = ⌊(S − m) × 1e6 / S⌋`: with S = 24, revenue R settled in period 0 mints 2R, in period
//! 12 mints ⌊1.5R⌋, and from period 24 on exactly R. Revenue is what the task module settles (a
//! finalized task's fee less the submission fee it holds for the submitter); periods without
//! revenue in between mint nothing. Every mint lands in the reward pool and is paid out the same
//! block, so the supply grows by exactly the minted amount.

use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::issuance::{enter_period, record, records, task_genesis};
use nodeop_driver::tasks::{exact_task, TaskNet, NOP};

/// Finalizes one task with `fee` in the open period; returns the revenue it settled.
fn settle(net: &mut TaskNet, fee: u128) -> u128 {
    let id = net.post(exact_task(Consistency::Session, fee));
    net.finalize_honestly(id, b"42");
    let t = net.task(id);
    t.fee - t.submission.expect("a submission schedule").submission_fee
}

#[test]
fn revenue_at_period_0_mints_twice_and_decays_with_the_subsidy() {
    let mut net = task_genesis(4, 3, 24).start();
    let genesis_supply = net.chain.supply().total_supply;

    let r0 = settle(&mut net, 5 * NOP + 3);
    let resp = enter_period(&mut net.chain, 1);
    let rec = record(&net.chain, 0).expect("period 0 is recorded");
    assert_eq!(rec.revenue, r0);
    assert_eq!(rec.subsidy_ppm, 1_000_000);
    assert_eq!(rec.minted, 2 * r0);
    let ev = resp
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::issuance::events::MINT)
        .expect("a mint event");
    assert_eq!(ev.get("minted"), Some((2 * r0).to_string().as_str()));
    assert_eq!(ev.get("revenue"), Some(r0.to_string().as_str()));
    assert_eq!(ev.get("subsidy_ppm"), Some("1000000"));

    enter_period(&mut net.chain, 12);
    let r12 = settle(&mut net, 7 * NOP + 1);
    assert_eq!(r12 % 2, 1, "an odd revenue shows the floor of 1.5 R");
    enter_period(&mut net.chain, 13);
    let rec = record(&net.chain, 12).expect("period 12 is recorded");
    assert_eq!(rec.revenue, r12);
    assert_eq!(rec.subsidy_ppm, 500_000);
    assert_eq!(rec.minted, r12 * 3 / 2);

    enter_period(&mut net.chain, 24);
    let r24 = settle(&mut net, 4 * NOP);
    enter_period(&mut net.chain, 30);
    let r29 = settle(&mut net, 6 * NOP + 9);
    enter_period(&mut net.chain, 31);
    for (m, r) in [(24, r24), (30, r29)] {
        let rec = record(&net.chain, m).expect("recorded");
        assert_eq!(rec.subsidy_ppm, 0);
        assert_eq!(rec.revenue, r);
        assert_eq!(rec.minted, r, "no subsidy from period S on");
    }

    // every period 0..=30 processed once, in order; only the four with revenue minted
    let all = records(&net.chain);
    assert_eq!(
        all.iter().map(|r| r.period).collect::<Vec<_>>(),
        (0..=30).collect::<Vec<_>>()
    );
    let minting: Vec<u64> = all
        .iter()
        .filter(|r| r.minted > 0)
        .map(|r| r.period)
        .collect();
    assert_eq!(minting, vec![0, 12, 24, 30]);
    for r in &all {
        assert_eq!(r.clipped, 0);
        assert_eq!(r.due, r.minted);
        assert_eq!(r.paid_out + r.to_treasury, r.carried_in + r.minted);
    }
    let minted: u128 = all.iter().map(|r| r.minted).sum();
    assert_eq!(minted, 2 * r0 + r12 * 3 / 2 + r24 + r29);
    let supply = net.chain.supply();
    assert_eq!(supply.minted, minted);
    assert_eq!(supply.total_supply, genesis_supply + minted);
    assert_eq!(net.module_balance("reward_pool"), 0);
}
