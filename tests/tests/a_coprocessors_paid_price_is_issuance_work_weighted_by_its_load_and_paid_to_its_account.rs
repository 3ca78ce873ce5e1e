//! Two members each sell their slot of a Session task, one to an idle coprocessor (load state
//! 0, reward weight above 1) and one to a coprocessor at full load (reward weight 1). When the
//! tasks finalize, each coprocessor's paid price is recorded as its issuance work, weighted by
//! its own reward weight, and each seller's work is only the pay it kept. At the period's end
//! the coprocessors, which are not operators, are paid their shares straight to their accounts,
//! and the idle one earns more per unop of work than the loaded one.

use nodeop_app::modules::coprocessors::state::reward_weight_ppm;
use nodeop_app::modules::issuance::state::work;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::num::checked_mul_div;
use nodeop_driver::coprocessors::{CoproGenesis, CoproNet};
use nodeop_driver::issuance::{enter_period, payouts, record, task_genesis};
use nodeop_driver::tasks::{commit, exact_task, reveal, NOP};

/// Sells member 0's slot of a new Session task to coprocessor `buyer` and finalizes the task
/// with every slot right. Returns the seller, the pay it kept, the price, and the
/// coprocessor's reward weight at settlement.
fn sell_and_finalize(
    cn: &mut CoproNet,
    buyer: usize,
) -> (nodeop_app::crypto::Address, u128, u128, u32) {
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let auction = cn.sell(&seller, id, 10 * NOP, 2 * NOP, buyer);
    let copro = cn.coprocessors[buyer].clone();
    let answer = b"the answer".to_vec();
    cn.net.block_paying(vec![
        (copro.clone(), commit(id, &seller.address, &answer)),
        (b.clone(), commit(id, &b.address, &answer)),
        (c.clone(), commit(id, &c.address, &answer)),
    ]);
    let end = cn.net.task(id).current_round().commit_end;
    cn.net.run_to(end);
    let (resp, _) = cn.net.block_paying(vec![
        (copro.clone(), reveal(id, &seller.address, &answer)),
        (b.clone(), reveal(id, &b.address, &answer)),
        (c.clone(), reveal(id, &c.address, &answer)),
    ]);
    for r in &resp.tx_results {
        assert!(r.is_ok(), "{}", r.log);
    }
    let t = cn.net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let pay = t
        .result
        .unwrap()
        .pay
        .iter()
        .find(|l| l.operator == seller.address)
        .unwrap()
        .pay;
    let price = cn.auction(auction).paid;
    assert!(price > 0 && price <= pay);
    // the weight settlement used: no epoch step runs between settlement and this read
    let weight = reward_weight_ppm(cn.net.chain.app.storage(), &copro.address);
    (seller.address, pay - price, price, weight)
}

#[test]
fn a_coprocessors_paid_price_is_issuance_work_weighted_by_its_load_and_paid_to_its_account() {
    let mut cn = CoproGenesis::with_tasks(task_genesis(4, 6, 24), 2)
        .registered_at_genesis(0, 4, 100 * NOP, 0)
        .registered_at_genesis(1, 4, 100 * NOP, 1_000_000)
        .start();
    let idle = cn.coprocessors[0].address;
    let loaded = cn.coprocessors[1].address;

    let (seller0, kept0, price0, w0) = sell_and_finalize(&mut cn, 0);
    let (seller1, kept1, price1, w1) = sell_and_finalize(&mut cn, 1);
    assert!(
        w0 > 1_000_000,
        "an idle coprocessor's reward weight is above 1 ({w0})"
    );
    assert_eq!(w1, 1_000_000, "at or above load_opt the weight is 1");

    // the open period's work: the price for each coprocessor, weighted by its own weight
    let pending = work(cn.net.chain.app.storage());
    let of = |a| {
        pending
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, w)| w.clone())
    };
    let wk0 = of(idle).expect("the idle coprocessor has work");
    let wk1 = of(loaded).expect("the loaded coprocessor has work");
    assert_eq!(wk0.pay, price0);
    assert_eq!(wk0.weighted, price0 * u128::from(w0));
    assert_eq!(wk1.pay, price1);
    assert_eq!(wk1.weighted, price1 * u128::from(w1));
    // a seller's work is what it kept (it may also have work from the other task)
    let seller_work = |a| of(a).map(|w| w.pay).unwrap_or(0);
    assert!(seller_work(seller0) >= kept0);
    assert!(seller_work(seller1) >= kept1);
    let total_pay: u128 = pending.iter().map(|(_, w)| w.pay).sum();

    let balances = (cn.net.balance(&idle), cn.net.balance(&loaded));
    enter_period(&mut cn.net.chain, 1);
    let rec = record(&cn.net.chain, 0).expect("period 0 is recorded");
    assert_eq!(rec.work, total_pay);
    let list = payouts(&cn.net.chain, 0);
    let total_w: u128 = list.iter().map(|p| p.weighted).sum();
    let p0 = list.iter().find(|p| p.operator == idle).expect("a payout");
    let p1 = list
        .iter()
        .find(|p| p.operator == loaded)
        .expect("a payout");
    for (p, w) in [(p0, &wk0), (p1, &wk1)] {
        assert_eq!(p.weighted, w.weighted);
        assert_eq!(
            p.share,
            checked_mul_div(rec.minted, p.weighted, total_w).unwrap()
        );
        assert!(p.share > 0);
        assert_eq!(
            p.to_account, p.share,
            "not an operator: paid to the account"
        );
        assert_eq!((p.commission, p.to_pool, p.to_treasury), (0, 0, 0));
    }
    assert_eq!(cn.net.balance(&idle) - balances.0, p0.share);
    assert_eq!(cn.net.balance(&loaded) - balances.1, p1.share);
    assert_eq!(rec.to_accounts, p0.share + p1.share);
    // operators' payouts are unchanged in kind: into pools and commission
    for p in list
        .iter()
        .filter(|p| p.operator != idle && p.operator != loaded)
    {
        assert_eq!(p.to_account, 0);
        assert_eq!(p.commission + p.to_pool, p.share);
    }
    // the idle coprocessor earns more issuance per unop of work: share/price compared exactly
    assert!(
        p0.share * price1 > p1.share * price0,
        "idle {} / {price0} vs loaded {} / {price1}",
        p0.share,
        p1.share
    );
    assert_eq!(cn.net.module_balance("reward_pool"), 0);
}
