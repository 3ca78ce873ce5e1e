//! The coprocessor that bought a member's slot never commits. The two other members commit and
//! reveal, and (every member that committed having revealed) the round finalizes in their reveal
//! block; the slot counts as not revealed (the member is neither
//! agreeing nor disagreeing, earns nothing and records two missed duties); the coprocessor loses
//! `coproc_miss_slash_ppm` (10 %) of its locked collateral and records two missed duties.

use nodeop_app::modules::coprocessors::{events, AuctionStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{commit, events_of, exact_task, reveal, NOP};

#[test]
fn a_silent_coprocessor_is_slashed_for_liveness_and_the_slot_counts_as_missed() {
    let mut cn = CoproGenesis::new(4, 10, 1).start();
    let copro = cn.coprocessors[0].clone();
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let auction = cn.sell(&seller, id, 10 * NOP, 2 * NOP, 0);
    let locked = cn.auction(auction).collateral_locked;

    let answer = b"answer".to_vec();
    cn.net.block_ok(vec![
        (b.clone(), commit(id, &b.address, &answer)),
        (c.clone(), commit(id, &c.address, &answer)),
    ]);
    let round = cn.net.task(id).current_round().clone();
    cn.net.run_to(round.commit_end);
    let duties_before = cn.net.reputation(&seller.address).duties;
    let resp = cn.net.block_ok(vec![
        (b.clone(), reveal(id, &b.address, &answer)),
        (c.clone(), reveal(id, &c.address, &answer)),
    ]);
    let t = cn.net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.unwrap();
    assert!(!fin.agreeing.contains(&seller.address));
    assert!(!fin.disagreeing.contains(&seller.address));
    assert!(fin.pay.iter().all(|l| l.operator != seller.address));
    assert!(cn.net.proposals_against(&seller.address).is_empty());
    // a missed duty for both (commit and reveal)
    assert_eq!(
        cn.net.reputation(&seller.address).duties.bad - duties_before.bad,
        2_000_000
    );
    assert_eq!(cn.copro_reputation(&copro.address).duties.bad, 2_000_000);

    let slashed = locked / 10;
    let a = cn.auction(auction);
    assert_eq!((a.status, a.slashed), (AuctionStatus::Missed, slashed));
    let ev: Vec<_> = events_of(&resp, events::COLLATERAL_SLASHED).collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].get("reason"), Some("missed_commit"));
    let cp = cn.coprocessor(&copro.address);
    assert_eq!(cp.free_collateral, 100 * NOP - slashed);
    assert_eq!((cp.locked_collateral, cp.reserved_units), (0, 0));
}
