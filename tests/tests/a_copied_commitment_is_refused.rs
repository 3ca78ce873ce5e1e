//! A copied commitment cannot be used: an operator off the committee cannot commit it, and a
//! member that commits another member's commitment cannot open it — the commitment binds the
//! committer's address, so revealing the copied member's result and salt (seen in its reveal)
//! is refused — nor replace it (one commit per member). The copier counts as a member that
//! committed but never revealed, earns nothing, and the two honest members finalize without it.

use nodeop_app::modules::reputation;
use nodeop_app::modules::tasks::msg::commitment;
use nodeop_app::modules::tasks::{Consistency, MsgCommitResult, TaskStatus, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{assert_refused, commit, exact_task, reveal, salt, TaskGenesis, NOP};

#[test]
fn a_copied_commitment_is_refused() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    let m = net.members(id);
    let (a, copier, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let answer = b"block 42 hash".to_vec();

    // a and c commit honestly; the copier sends a's commitment, read from the chain a block later
    net.block_ok(vec![
        (a.clone(), commit(id, &a.address, &answer)),
        (c.clone(), commit(id, &c.address, &answer)),
    ]);
    let copied = net
        .task(id)
        .current_round()
        .member(&a.address)
        .unwrap()
        .commitment
        .unwrap();
    assert_eq!(
        copied,
        commitment(id, &a.address, &answer, &salt(id, &a.address, &answer))
    );
    let copy = Msg::from(MsgCommitResult {
        task_id: id,
        commitment: copied,
    });
    // an operator off the committee cannot commit at all
    let outsider = net.outsiders(id)[0].clone();
    assert_refused(
        &net.run(&outsider, copy.clone()),
        &TasksError::NotAMember {
            task: 0,
            operator: String::new(),
        },
    );
    // a member's copy is accepted as an opaque hash: nothing on chain can tell it is a copy yet
    let out = net.run(&copier, copy);
    assert!(out.is_ok(), "{}", out.log);

    // and it cannot be swapped for a proper commitment later: one commit per member
    assert_refused(
        &net.run(&copier, commit(id, &copier.address, &answer)),
        &TasksError::AlreadyCommitted(0),
    );

    // a reveals first; the copier replays a's result and salt: the hash names a, not the copier
    let round = net.task(id).current_round().clone();
    net.run_to(round.commit_end);
    net.block_ok(vec![(a.clone(), reveal(id, &a.address, &answer))]);
    let replay = Msg::reveal_result(id, &answer, &salt(id, &a.address, &answer));
    let duties_before = reputation::state::record(net.chain.app.storage(), &copier.address).duties;
    assert_refused(&net.run(&copier, replay), &TasksError::CommitmentMismatch);
    // its own salt does not open a's commitment either
    assert_refused(
        &net.run(&copier, reveal(id, &copier.address, &answer)),
        &TasksError::CommitmentMismatch,
    );
    let t = net.task(id);
    let member = t.current_round().member(&copier.address).unwrap();
    assert!(member.result.is_none() && member.reveal_height.is_none());

    // c reveals; the round still waits for the copier's reveal until the window ends
    net.block_ok(vec![(c.clone(), reveal(id, &c.address, &answer))]);
    assert_eq!(net.task(id).status, TaskStatus::Assigned);
    net.run_to(round.reveal_end);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let fin = t.result.unwrap();
    assert_eq!(fin.result, answer);
    assert_eq!(fin.finalized_height, round.reveal_end);
    assert!(!fin.agreeing.contains(&copier.address));
    assert!(!fin.disagreeing.contains(&copier.address));
    assert!(fin.pay.iter().all(|l| l.operator != copier.address));
    assert_eq!(fin.pay.len(), 2);
    // the missed reveal is recorded as a missed duty
    let duties_after = reputation::state::record(net.chain.app.storage(), &copier.address).duties;
    assert_ne!(duties_before, duties_after);
    assert!(net.proposals_against(&copier.address).is_empty());
}
