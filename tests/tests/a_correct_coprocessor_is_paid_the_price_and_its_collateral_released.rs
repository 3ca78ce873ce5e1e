//! A member sells its slot of a Session task; the winning coprocessor commits and reveals the
//! right result for it. At finalization the coprocessor is paid exactly the auction price out
//! of the member's pay line (the member keeps the rest), its locked collateral returns to free,
//! its reserved capacity is released, and both record a success.

use nodeop_app::modules::coprocessors::{events, AuctionStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::coprocessors::{bid, CoproGenesis};
use nodeop_driver::tasks::{commit, events_of, exact_task, reveal, NOP};

#[test]
fn a_correct_coprocessor_is_paid_the_price_and_its_collateral_released() {
    let mut cn = CoproGenesis::new(4, 10, 1).start();
    let copro = cn.coprocessors[0].clone();
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let expected = cn.expected_pay(id);
    let start = 10 * NOP;
    assert!(start <= expected);
    let auction = cn.open(&seller, id, start, 2 * NOP);
    let opened = cn.auction(auction).opened_height;

    // the coprocessor bids in the block after the opening: one step down
    let tx = cn.net.chain.tx(&copro, vec![bid(auction)]);
    let resp = cn.net.chain.block(vec![tx]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    let a = cn.auction(auction);
    assert_eq!(a.status, AuctionStatus::Won);
    let price = start - 2 * NOP;
    assert_eq!(cn.net.chain.height, opened + 1);
    assert_eq!(a.price, price);
    assert_eq!(a.collateral_locked, 2 * price, "collateral_ppm 2_000_000");
    let cp = cn.coprocessor(&copro.address);
    assert_eq!(cp.locked_collateral, 2 * price);
    assert_eq!(cp.free_collateral, 100 * NOP - 2 * price);
    assert_eq!(cp.reserved_units, 1);
    assert_eq!(events_of(&resp, events::AUCTION_WON).count(), 1);

    // the coprocessor commits and reveals for the seller's slot, with the seller's address
    let answer = b"block 42 hash".to_vec();
    let balance_before = cn.net.balance(&copro.address);
    let (_, fees) = cn.net.block_paying(vec![
        (copro.clone(), commit(id, &seller.address, &answer)),
        (b.clone(), commit(id, &b.address, &answer)),
        (c.clone(), commit(id, &c.address, &answer)),
    ]);
    let round = cn.net.task(id).current_round().clone();
    assert!(round.member(&seller.address).unwrap().commitment.is_some());
    cn.net.run_to(round.commit_end);
    let (resp, fees2) = cn.net.block_paying(vec![
        (copro.clone(), reveal(id, &seller.address, &answer)),
        (b.clone(), reveal(id, &b.address, &answer)),
        (c.clone(), reveal(id, &c.address, &answer)),
    ]);
    for r in &resp.tx_results {
        assert!(r.is_ok(), "{}", r.log);
    }
    let t = cn.net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.unwrap();
    assert!(
        fin.agreeing.contains(&seller.address),
        "the slot counts as the member's"
    );
    let line = fin
        .pay
        .iter()
        .find(|l| l.operator == seller.address)
        .unwrap();
    assert!(line.pay >= price);

    // the coprocessor got exactly the price; its collateral is free again
    assert_eq!(
        cn.net.balance(&copro.address),
        balance_before - fees[0] - fees2[0] + price
    );
    let paid: Vec<_> = events_of(&resp, events::COPROCESSOR_PAID).collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].get("price"), Some(price.to_string().as_str()));
    assert_eq!(
        paid[0].get("member_kept"),
        Some((line.pay - price).to_string().as_str())
    );
    let cp = cn.coprocessor(&copro.address);
    assert_eq!(cp.free_collateral, 100 * NOP);
    assert_eq!((cp.locked_collateral, cp.reserved_units), (0, 0));
    let a = cn.auction(auction);
    assert_eq!(
        (a.status, a.paid, a.slashed),
        (AuctionStatus::Paid, price, 0)
    );
    // success for both
    let r = cn.copro_reputation(&copro.address);
    assert_eq!(r.results.good, 1_000_000);
    assert_eq!(cn.net.reputation(&seller.address).results.good, 1_000_000);
}
