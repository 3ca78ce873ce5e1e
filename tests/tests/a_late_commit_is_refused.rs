//! Commits are accepted only in blocks `(h_assign, h_assign + commit_blocks]`: not in the block
//! that posts the task, yes in the last block of the window, not one block later. The member
//! that came late counts as silent (it may not reveal), and the other two finalize.

use nodeop_app::modules::tasks::{Consistency, TaskStatus, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{assert_refused, commit, exact_task, reveal, TaskGenesis, NOP};

#[test]
fn a_late_commit_is_refused() {
    // three operators: every Session task takes all three, so the committee is known in advance
    let mut net = TaskGenesis::new(3, 10).start();
    let answer = b"ok".to_vec();
    let client = net.client.clone();
    let early = net.operators[0].clone();
    let resp = net.block(vec![
        (client, Msg::from(exact_task(Consistency::Session, NOP))),
        (early.clone(), commit(1, &early.address, &answer)),
    ]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    assert_refused(
        &resp.tx_results[1],
        &TasksError::WindowNotOpen {
            phase: "commit",
            opens_after: 0,
            height: 0,
        },
    );
    let id = 1;
    let round = net.task(id).current_round().clone();
    assert_eq!(round.assigned_height, net.chain.height);
    assert_eq!(
        round.commit_end,
        round.assigned_height + net.params().commit_blocks
    );

    let m = net.members(id);
    let (first, last, late) = (m[0].clone(), m[1].clone(), m[2].clone());
    net.block_ok(vec![(first.clone(), commit(id, &first.address, &answer))]);
    // the last block of the window still accepts
    net.run_to(round.commit_end - 1);
    net.block_ok(vec![(last.clone(), commit(id, &last.address, &answer))]);
    assert_eq!(net.chain.height, round.commit_end);
    // one block later is too late
    assert_refused(
        &net.run(&late, commit(id, &late.address, &answer)),
        &TasksError::WindowClosed {
            phase: "commit",
            closed_at: 0,
            height: 0,
        },
    );
    let t = net.task(id);
    assert!(t
        .current_round()
        .member(&late.address)
        .unwrap()
        .commitment
        .is_none());
    // so it has nothing to reveal
    assert_refused(
        &net.run(&late, reveal(id, &late.address, &answer)),
        &TasksError::RevealWithoutCommit,
    );
    // the two in time reveal: everyone who committed has revealed, the round finalizes at once
    net.block_ok(vec![
        (first.clone(), reveal(id, &first.address, &answer)),
        (last.clone(), reveal(id, &last.address, &answer)),
    ]);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.unwrap();
    assert_eq!(fin.finalized_height, net.chain.height);
    assert!(!fin.agreeing.contains(&late.address));
    assert!(fin.pay.iter().all(|l| l.operator != late.address));
}
