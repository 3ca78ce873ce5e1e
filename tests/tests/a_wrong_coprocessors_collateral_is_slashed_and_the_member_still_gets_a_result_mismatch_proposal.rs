//! The coprocessor that bought a member's slot reveals a result the other two members outvote.
//! Its locked collateral is slashed by `coproc_mismatch_slash_ppm` (50 %, no load
//! amplification), split 50 % burned and 50 % to the treasury (the reporter's 30 % of an
//! automatic slash and the treasury's 20 %); the rest returns to free collateral; its Byzantine
//! factor halves; and the member, liable for its slot, gets the usual result_mismatch proposal.

use nodeop_app::modules::coprocessors::AuctionStatus;
use nodeop_app::modules::issuance::state::open_epoch;
use nodeop_app::modules::slashing::Offence;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{commit, exact_task, reveal, NOP};

#[test]
fn a_wrong_coprocessors_collateral_is_slashed_and_the_member_still_gets_a_result_mismatch_proposal()
{
    let mut cn = CoproGenesis::new(4, 10, 1).start();
    let copro = cn.coprocessors[0].clone();
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let auction = cn.sell(&seller, id, 10 * NOP, 2 * NOP, 0);
    let locked = cn.auction(auction).collateral_locked;
    assert_eq!(locked, 16 * NOP);

    let (right, wrong) = (b"right".to_vec(), b"wrong".to_vec());
    cn.net.block_ok(vec![
        (copro.clone(), commit(id, &seller.address, &wrong)),
        (b.clone(), commit(id, &b.address, &right)),
        (c.clone(), commit(id, &c.address, &right)),
    ]);
    let round = cn.net.task(id).current_round().clone();
    cn.net.run_to(round.commit_end);
    let supply_before = cn.net.chain.supply();
    let treasury_before = cn.net.module_balance("treasury");
    let epoch_before = open_epoch(cn.net.chain.app.storage());
    cn.net.block_ok(vec![
        (copro.clone(), reveal(id, &seller.address, &wrong)),
        (b.clone(), reveal(id, &b.address, &right)),
        (c.clone(), reveal(id, &c.address, &right)),
    ]);
    let t = cn.net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    assert!(t.result.unwrap().disagreeing.contains(&seller.address));

    let slashed = locked / 2;
    // the slashed collateral is a penalty of the open epoch, as a stake slash is
    let epoch_after = open_epoch(cn.net.chain.app.storage());
    assert_eq!(epoch_after.epoch, epoch_before.epoch);
    assert_eq!(epoch_after.penalties - epoch_before.penalties, slashed);
    let a = cn.auction(auction);
    assert_eq!(
        (a.status, a.slashed, a.paid),
        (AuctionStatus::Slashed, slashed, 0)
    );
    let cp = cn.coprocessor(&copro.address);
    assert_eq!(cp.free_collateral, 100 * NOP - slashed);
    assert_eq!((cp.locked_collateral, cp.reserved_units), (0, 0));
    assert_eq!(cn.module_collateral(), 100 * NOP - slashed);
    // half burned, half to the treasury (which also took the task's protocol fee and remainder)
    assert_eq!(
        cn.net.chain.supply().burned - supply_before.burned,
        slashed / 2
    );
    assert!(cn.net.module_balance("treasury") - treasury_before >= slashed / 2);
    assert_eq!(cn.copro_reputation(&copro.address).byz_factor_ppm, 500_000);
    assert_eq!(cn.copro_reputation(&copro.address).results.bad, 1_000_000);

    // the member stays liable for its slot
    let proposals = cn.net.proposals_against(&seller.address);
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0].offence, Offence::ResultMismatch);
}
