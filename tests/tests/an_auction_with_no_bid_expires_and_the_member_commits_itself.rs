//! A member auctions its slot and nobody bids. While the auction is open the member cannot
//! commit for the slot; at the end of its expiry height (the floor's height plus the grace,
//! before the commit window's end) the auction expires and the member commits and reveals
//! itself as if it had never offered the slot.

use nodeop_app::modules::coprocessors::{events, AuctionStatus, CoprocessorsError};
use nodeop_app::modules::tasks::{Consistency, TaskStatus, TasksError};
use nodeop_driver::coprocessors::{assert_copro_refused, bid, CoproGenesis};
use nodeop_driver::tasks::{assert_refused, commit, events_of, exact_task, NOP};

#[test]
fn an_auction_with_no_bid_expires_and_the_member_commits_itself() {
    let mut cn = CoproGenesis::new(4, 10, 1).start();
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(id)[0].clone();
    let auction = cn.open(&seller, id, 10 * NOP, 2 * NOP);
    let a = cn.auction(auction);
    let p = cn.net.params();
    // 4 intervals of 1 block to the floor, then a grace of 2
    assert_eq!(a.expires_height, a.opened_height + 4 + 2);
    assert!(a.expires_height < a.commit_end);
    assert_eq!(
        a.commit_end,
        cn.net.task(id).current_round().assigned_height + p.commit_blocks
    );

    let answer = b"answer".to_vec();
    assert_refused(
        &cn.net.run(&seller, commit(id, &seller.address, &answer)),
        &TasksError::SlotOffered {
            task: 0,
            member: String::new(),
        },
    );
    cn.net.run_to(a.expires_height - 1);
    let resp = cn.net.chain.block(Vec::new());
    assert_eq!(events_of(&resp, events::AUCTION_EXPIRED).count(), 1);
    assert_eq!(cn.auction(auction).status, AuctionStatus::Expired);
    // a late bid finds it closed
    cn.register(0, 4, 100 * NOP);
    let copro = cn.coprocessors[0].clone();
    assert_copro_refused(
        &cn.net.run(&copro, bid(auction)),
        &CoprocessorsError::AuctionNotOpen { id: 0, status: "" },
    );

    // the member executes itself: the rest of the round as usual
    let members = cn.net.members(id);
    let round = cn.net.task(id).current_round().clone();
    assert!(cn.net.chain.height < round.commit_end);
    cn.net.block_ok(
        members
            .iter()
            .map(|k| (k.clone(), commit(id, &k.address, &answer)))
            .collect(),
    );
    cn.net.run_to(round.commit_end);
    cn.net.reveal_all(
        id,
        &members
            .iter()
            .map(|k| (k.clone(), nodeop_driver::tasks::Act::Answer(answer.clone())))
            .collect::<Vec<_>>(),
    );
    let t = cn.net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    assert!(t.result.unwrap().agreeing.contains(&seller.address));
}
