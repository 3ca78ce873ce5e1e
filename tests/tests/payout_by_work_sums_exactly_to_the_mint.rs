//! The period's mint is paid to the operators who did the work: each operator's share is
//! `⌊pool × wᵢ / Σ w⌋` with `wᵢ` its task pay weighted by its reward weight; the commission goes
//! to its account and the rest into its pool; the rounding goes to the treasury. Every unop of
//! the mint is accounted for, the reward pool ends empty, and the supply grows by exactly the
//! minted amount.

use std::collections::BTreeMap;

use nodeop_app::crypto::Address;
use nodeop_app::modules::issuance::state::work;
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::num::checked_mul_div as mul_div_floor;
use nodeop_app::tx::Msg;
use nodeop_driver::issuance::{enter_period, payouts, record, task_genesis};
use nodeop_driver::tasks::{exact_task, NOP};

#[test]
fn payout_by_work_sums_exactly_to_the_mint() {
    // 6-epoch periods (60 s): the tasks finish and an epoch boundary empties the fee pool before
    // the period ends, so the closing block moves pools by the payout alone
    let mut net = task_genesis(6, 6, 24).start();
    let mut earned: BTreeMap<Address, u128> = BTreeMap::new();
    let mut revenue = 0u128;
    for (i, fee) in [3 * NOP + 11, 5 * NOP + 2].into_iter().enumerate() {
        let id = net.post(exact_task(Consistency::Session, fee));
        net.finalize_honestly(id, b"42");
        let t = net.task(id);
        let fin = t.result.clone().expect("finalized");
        for line in &fin.pay {
            *earned.entry(line.operator).or_default() += line.pay;
        }
        let sub = t.submission.clone().expect("a schedule");
        revenue += t.fee - sub.submission_fee;
        if i == 0 {
            // the first task is delivered: its submission fee is revenue and work too
            let submitter = net.key(&sub.schedule[0]).clone();
            let r = net.run(&submitter, Msg::confirm_submission(id, "consumer-ref"));
            assert!(r.is_ok(), "{}", r.log);
            *earned.entry(submitter.address).or_default() += sub.submission_fee;
            revenue += sub.submission_fee;
        }
    }
    let pending = work(net.chain.app.storage());
    assert_eq!(
        pending
            .iter()
            .map(|(a, w)| (*a, w.pay))
            .collect::<BTreeMap<_, _>>(),
        earned,
        "the open period's work is the pay each operator earned"
    );
    assert!(earned.len() >= 3);

    // let an epoch boundary pay the tx fees out before the period's end
    let period_end = nodeop_driver::issuance::period_start(&net.chain, 1);
    net.chain.run_until(period_end - 5);
    assert_eq!(net.module_balance("fee_pool"), 0);
    let ops: Vec<Address> = net.operators.iter().map(|k| k.address).collect();
    let pools: Vec<u128> = ops.iter().map(|a| net.pool(a)).collect();
    let accounts: Vec<u128> = ops.iter().map(|a| net.balance(a)).collect();
    let treasury = net.module_balance("treasury");
    let supply = net.chain.supply().total_supply;

    enter_period(&mut net.chain, 1);
    let rec = record(&net.chain, 0).expect("period 0 is recorded");
    assert_eq!(rec.revenue, revenue);
    assert_eq!(rec.minted, 2 * revenue);
    assert_eq!(rec.carried_in, 0);
    assert_eq!(rec.work, earned.values().sum::<u128>());
    let pool = rec.minted;

    let list = payouts(&net.chain, 0);
    assert_eq!(list.len(), earned.len());
    let total_w: u128 = list.iter().map(|p| p.weighted).sum();
    let mut shares = 0u128;
    for p in &list {
        assert_eq!(p.pay, earned[&p.operator]);
        assert!(
            p.weighted >= p.pay * 1_000_000,
            "reward weights are at least 1"
        );
        assert_eq!(p.share, mul_div_floor(pool, p.weighted, total_w).unwrap());
        let op = net.chain.operator(&p.operator);
        assert_eq!(
            p.commission,
            mul_div_floor(p.share, u128::from(op.commission_ppm), 1_000_000).unwrap()
        );
        assert_eq!(p.commission + p.to_pool, p.share);
        assert_eq!(p.to_treasury, 0);
        let i = ops.iter().position(|a| *a == p.operator).unwrap();
        assert_eq!(
            net.pool(&p.operator) - pools[i],
            p.to_pool,
            "the pool grew by its part"
        );
        assert_eq!(net.balance(&p.operator) - accounts[i], p.commission);
        shares += p.share;
    }
    // operators that did no work got nothing
    for (i, a) in ops.iter().enumerate() {
        if !earned.contains_key(a) {
            assert_eq!(net.pool(a), pools[i]);
        }
    }
    let rounding = pool - shares;
    assert!(
        rounding < list.len() as u128,
        "rounding is below one unop per share"
    );
    assert_eq!(rec.paid_out, shares);
    assert_eq!(rec.to_treasury, rounding);
    assert_eq!(
        rec.commission,
        list.iter().map(|p| p.commission).sum::<u128>()
    );
    assert_eq!(rec.operators_paid as usize, list.len());
    assert_eq!(net.module_balance("treasury") - treasury, rounding);
    assert_eq!(net.module_balance("reward_pool"), 0);
    assert_eq!(net.chain.supply().total_supply, supply + rec.minted);
    assert!(
        work(net.chain.app.storage()).is_empty(),
        "the work starts again"
    );
}
