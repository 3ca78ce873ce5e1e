//! Once a member's slot is sold, only the winning coprocessor acts for it: the member's own
//! commit and reveal are refused, another coprocessor or operator cannot act for it, and the
//! coprocessor's commitment binds the member's address (a commitment built over the
//! coprocessor's own address does not open).

use nodeop_app::modules::tasks::{Consistency, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{assert_refused, commit, exact_task, reveal, salt, NOP};

#[test]
fn a_member_cannot_commit_for_a_slot_it_sold() {
    let mut cn = CoproGenesis::new(4, 10, 2).start();
    let (copro, other) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());
    cn.register(0, 4, 100 * NOP);
    cn.register(1, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(id)[0].clone();
    cn.sell(&seller, id, 10 * NOP, 2 * NOP, 0);
    let answer = b"answer".to_vec();
    let sold = TasksError::SlotOffered {
        task: 0,
        member: String::new(),
    };
    assert_refused(
        &cn.net.run(&seller, commit(id, &seller.address, &answer)),
        &sold,
    );
    // a coprocessor that did not win is no member
    assert_refused(
        &cn.net.run(&other, commit(id, &seller.address, &answer)),
        &TasksError::NotAMember {
            task: 0,
            operator: String::new(),
        },
    );
    // the winner commits over its own address: accepted as an opaque hash, but it cannot open
    let own = Msg::commit_result(
        id,
        &copro.address,
        &answer,
        &salt(id, &copro.address, &answer),
    );
    assert!(cn.net.run(&copro, own).is_ok());
    let round = cn.net.task(id).current_round().clone();
    cn.net.run_to(round.commit_end);
    assert_refused(
        &cn.net.run(&copro, reveal(id, &copro.address, &answer)),
        &TasksError::CommitmentMismatch,
    );
    assert_refused(
        &cn.net.run(&seller, reveal(id, &seller.address, &answer)),
        &sold,
    );
}
