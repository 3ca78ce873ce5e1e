//! Early access follows free capacity: a coprocessor with free-capacity fraction φ may bid from
//! `h_open + ⌈(1 − φ)·K⌉` (K = `access_spread_blocks` = 4). One coprocessor holds a slot of an
//! earlier task on half its capacity (φ = 0.5): on a new auction it is refused until two blocks
//! after the opening, while a coprocessor with all its capacity free bids at once.

use nodeop_app::modules::coprocessors::CoprocessorsError;
use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::coprocessors::{assert_copro_refused, bid, CoproGenesis};
use nodeop_driver::tasks::{exact_task, NOP};

#[test]
fn a_coprocessor_with_less_free_capacity_may_bid_later() {
    let mut cn = CoproGenesis::new(4, 10, 2).start();
    let (busy, idle) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());
    cn.register(0, 2, 100 * NOP);
    cn.register(1, 2, 100 * NOP);
    let first = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(first)[0].clone();
    cn.sell(&m, first, 10 * NOP, 2 * NOP, 0);
    assert_eq!(cn.coprocessor(&busy.address).free_ppm(), 500_000);

    let second = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(second)[1].clone();
    let auction = cn.open(&seller, second, 10 * NOP, 2 * NOP);
    let opened = cn.auction(auction).opened_height;
    // h_open + 1: the busy one is too early
    assert_copro_refused(
        &cn.net.run(&busy, bid(auction)),
        &CoprocessorsError::BidTooEarly {
            free_ppm: 0,
            opens_at: 0,
            height: 0,
        },
    );
    assert_eq!(cn.net.chain.height, opened + 1);
    assert_eq!(cn.auction(auction).access_height(500_000), opened + 2);
    assert_eq!(cn.auction(auction).access_height(1_000_000), opened);
    // h_open + 2: it may bid; the idle one could have from the start
    let out = cn.net.run(&busy, bid(auction));
    assert!(out.is_ok(), "{}", out.log);
    assert_eq!(cn.auction(auction).winner, Some(busy.address));

    let third = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(third)[2].clone();
    // busy is now full (φ = 0): no capacity at all; idle bids in the block after the opening
    let auction = cn.open(&seller, third, 10 * NOP, 2 * NOP);
    assert_copro_refused(
        &cn.net.run(&busy, bid(auction)),
        &CoprocessorsError::InsufficientCapacity { free: 0, needed: 0 },
    );
    let out = cn.net.run(&idle, bid(auction));
    assert!(out.is_ok(), "{}", out.log);
}
