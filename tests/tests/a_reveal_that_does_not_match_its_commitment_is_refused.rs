//! A reveal is accepted only when `SHA-256(task ‖ member ‖ result ‖ salt)` equals the member's
//! commitment: another result, another salt, or a result of the wrong size for a Numeric task is
//! refused and changes nothing; the matching reveal is then accepted once, and a member that
//! never committed has nothing to reveal.

use nodeop_app::modules::tasks::{Consistency, TaskStatus, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{
    assert_refused, commit, exact_task, numeric, numeric_task, reveal, salt, TaskGenesis, NOP,
};

#[test]
fn a_reveal_that_does_not_match_its_commitment_is_refused() {
    let mut net = TaskGenesis::new(3, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    let m = net.members(id);
    let (a, b, silent) = (m[0].clone(), m[1].clone(), m[2].clone());
    let answer = b"the answer".to_vec();
    net.block_ok(vec![
        (a.clone(), commit(id, &a.address, &answer)),
        (b.clone(), commit(id, &b.address, &answer)),
    ]);
    let round = net.task(id).current_round().clone();
    net.run_to(round.commit_end);
    let before = net.task(id);

    // another result with the committed salt
    let other = Msg::reveal_result(id, b"another answer", &salt(id, &a.address, &answer));
    assert_refused(&net.run(&a, other), &TasksError::CommitmentMismatch);
    // the committed result with another salt
    let mut wrong_salt = salt(id, &a.address, &answer);
    wrong_salt[0] ^= 1;
    let msg = Msg::reveal_result(id, &answer, &wrong_salt);
    assert_refused(&net.run(&a, msg), &TasksError::CommitmentMismatch);
    // b's opening does not open a's commitment
    let msg = Msg::reveal_result(id, &answer, &salt(id, &b.address, &answer));
    assert_refused(&net.run(&a, msg), &TasksError::CommitmentMismatch);
    // a member that never committed has nothing to reveal
    assert_refused(
        &net.run(&silent, reveal(id, &silent.address, &answer)),
        &TasksError::RevealWithoutCommit,
    );
    assert_eq!(
        net.task(id).rounds,
        before.rounds,
        "refused reveals changed the round"
    );

    // the matching reveal is accepted, and only once
    assert!(net.run(&a, reveal(id, &a.address, &answer)).is_ok());
    assert_refused(
        &net.run(&a, reveal(id, &a.address, &answer)),
        &TasksError::AlreadyRevealed(0),
    );
    net.block_ok(vec![(b.clone(), reveal(id, &b.address, &answer))]);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    assert_eq!(t.result.unwrap().result, answer);
}

#[test]
fn a_numeric_reveal_of_the_wrong_size_is_refused() {
    let mut net = TaskGenesis::new(3, 10).start();
    let id = net.post(numeric_task(Consistency::Session, 2, 10_000, NOP));
    let m = net.members(id);
    // a committed to 4 bytes: the commitment matches, the size does not
    let short = vec![0, 0, 1, 0];
    net.block_ok(vec![
        (m[0].clone(), commit(id, &m[0].address, &short)),
        (m[1].clone(), commit(id, &m[1].address, &numeric(100))),
    ]);
    let round = net.task(id).current_round().clone();
    net.run_to(round.commit_end);
    let out = net.run(&m[0], reveal(id, &m[0].address, &short));
    assert_eq!(out.codespace, "tasks");
    assert_eq!(
        out.code,
        TasksError::WrongResultSize {
            got: 0,
            expected: String::new()
        }
        .code(),
        "{}",
        out.log
    );
    assert!(net.task(id).current_round().members[0].result.is_none());
}
