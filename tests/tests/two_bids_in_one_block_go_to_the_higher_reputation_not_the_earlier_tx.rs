//! Two coprocessors bid on the same auction in the same block. The one whose tx comes first has
//! the lower reputation (its stake component counts less collateral); the bids are settled at
//! the end of the block, and the higher reputation wins. The loser's bid is recorded, its
//! collateral untouched.

use nodeop_app::modules::coprocessors::{state as cstate, AuctionStatus};
use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::coprocessors::{bid, CoproGenesis};
use nodeop_driver::tasks::{exact_task, NOP};

#[test]
fn two_bids_in_one_block_go_to_the_higher_reputation_not_the_earlier_tx() {
    let mut cn = CoproGenesis::new(4, 10, 2).start();
    let (low, high) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());
    cn.register(0, 4, 100 * NOP);
    cn.register(1, 4, 10_000 * NOP);
    let s = cn.net.chain.app.storage();
    let low_score = cstate::effective_score_ppm(s, &cn.coprocessor(&low.address));
    let high_score = cstate::effective_score_ppm(s, &cn.coprocessor(&high.address));
    assert!(high_score > low_score, "{high_score} > {low_score}");

    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(id)[0].clone();
    let auction = cn.open(&seller, id, 10 * NOP, 2 * NOP);
    let resp = cn.net.block(vec![
        (low.clone(), bid(auction)),
        (high.clone(), bid(auction)),
    ]);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    let a = cn.auction(auction);
    assert_eq!(a.status, AuctionStatus::Won);
    assert_eq!(a.winner, Some(high.address));
    assert_eq!(a.bids, 2);
    let s = cn.net.chain.app.storage();
    assert!(cstate::bid(s, auction, &high.address).unwrap().won);
    assert!(!cstate::bid(s, auction, &low.address).unwrap().won);
    let l = cn.coprocessor(&low.address);
    assert_eq!((l.free_collateral, l.locked_collateral), (100 * NOP, 0));
}
