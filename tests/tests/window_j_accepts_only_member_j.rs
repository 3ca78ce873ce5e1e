//! After finalization the agreeing members are ordered by `SHA-256(seed ‖ member)` (seed per
//! PROTOCOL §1, domain `tasks/schedule`) into a schedule; window j covers blocks
//! `(h_f + j·W, h_f + (j+1)·W]` and accepts ConfirmSubmission only from member j. The window
//! after the last scheduled one is open to any bonded operator, and to nobody else.

use nodeop_app::crypto::sha256;
use nodeop_app::modules::tasks::{Consistency, TaskStatus, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{assert_refused, exact_task, Act, TaskGenesis, NOP};

fn not_scheduled() -> TasksError {
    TasksError::NotScheduledSubmitter {
        task: 0,
        window: 0,
        expected: String::new(),
    }
}

#[test]
fn window_j_accepts_only_member_j() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    let members = net.members(id);
    // no confirmation before there is a result
    assert_refused(
        &net.run(&members[0], Msg::confirm_submission(id, "too-early")),
        &TasksError::WrongTaskStatus { id: 0, status: "" },
    );
    let prev_app_hash = {
        // the round aggregates in the block of the reveals, which follows the commit window
        let round = net.task(id).current_round().clone();
        let acts = vec![Act::Answer(b"r".to_vec()); 3];
        let plan: Vec<_> = members.iter().cloned().zip(acts).collect();
        net.commit_all(id, &plan);
        net.run_to(round.commit_end);
        let h = net.chain.app_hash();
        net.reveal_all(id, &plan);
        h
    };
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let h_f = t.result.as_ref().unwrap().finalized_height;
    let w = net.params().submission_window;
    let sub = t.submission.clone().unwrap();

    // the schedule, recomputed from the protocol's rule
    let seed = sha256(&[
        b"nodeop/seed",
        &prev_app_hash,
        &h_f.to_be_bytes(),
        b"tasks/schedule",
        &id.to_be_bytes(),
    ]);
    let mut expected: Vec<_> = t.result.as_ref().unwrap().agreeing.clone();
    expected.sort_by_key(|a| sha256(&[&seed, &a.0]));
    expected.truncate(net.params().max_fallbacks as usize);
    assert_eq!(sub.schedule, expected);
    assert_eq!((sub.window, sub.window_end), (0, h_f + w));
    let s: Vec<_> = sub.schedule.iter().map(|a| net.key(a).clone()).collect();
    let outsider = net.outsiders(id)[0].clone();
    let client = net.client.clone();

    // window 0: members 1 and 2, an operator off the committee and the client are refused
    let resp = net.block(vec![
        (s[1].clone(), Msg::confirm_submission(id, "x")),
        (s[2].clone(), Msg::confirm_submission(id, "x")),
        (outsider.clone(), Msg::confirm_submission(id, "x")),
        (client.clone(), Msg::confirm_submission(id, "x")),
    ]);
    for r in &resp.tx_results {
        assert_refused(r, &not_scheduled());
    }
    // member 0 lets its window pass; window 1 opens after h_f + W
    net.run_to(h_f + w);
    let sub = net.task(id).submission.unwrap();
    assert_eq!((sub.window, sub.window_end), (1, h_f + 2 * w));
    // window 1: member 0 is too late, member 2 is not yet due, the outsider never is
    let resp = net.block(vec![
        (s[0].clone(), Msg::confirm_submission(id, "x")),
        (s[2].clone(), Msg::confirm_submission(id, "x")),
        (outsider, Msg::confirm_submission(id, "x")),
    ]);
    for r in &resp.tx_results {
        assert_refused(r, &not_scheduled());
    }
    assert_eq!(net.task(id).status, TaskStatus::Finalized);
    // member 1 delivers in its window
    net.block_ok(vec![(
        s[1].clone(),
        Msg::confirm_submission(id, "consumer-tx-0xfeed"),
    )]);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    let sub = t.submission.unwrap();
    assert_eq!(sub.submitter, Some(s[1].address));
    assert_eq!(sub.target_ref.as_deref(), Some("consumer-tx-0xfeed"));
    assert_eq!(sub.delivered_height, Some(net.chain.height));
    // nothing more to confirm
    assert_refused(
        &net.run(&s[2], Msg::confirm_submission(id, "x")),
        &TasksError::WrongTaskStatus { id: 0, status: "" },
    );
}

#[test]
fn the_window_after_the_schedule_is_open_to_any_bonded_operator_only() {
    let mut net = TaskGenesis::new(4, 10).start();
    let id = net.post(exact_task(Consistency::Session, NOP));
    let h_f = net.finalize_honestly(id, b"r");
    let p = net.params();
    let scheduled = net.task(id).submission.unwrap().schedule.len() as u64;
    assert_eq!(scheduled, u64::from(p.max_fallbacks).min(3));
    // every scheduled member stays silent
    net.run_to(h_f + scheduled * p.submission_window);
    let sub = net.task(id).submission.unwrap();
    assert!(sub.in_open_window());
    assert_eq!(sub.window_end, h_f + (scheduled + 1) * p.submission_window);
    // an account without a bond is refused; an operator off the committee may deliver
    let client = net.client.clone();
    assert_refused(
        &net.run(&client, Msg::confirm_submission(id, "x")),
        &TasksError::NotBondedOperator(String::new()),
    );
    let outsider = net.outsiders(id)[0].clone();
    net.block_ok(vec![(
        outsider.clone(),
        Msg::confirm_submission(id, "consumer-ref"),
    )]);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    assert_eq!(t.submission.unwrap().submitter, Some(outsider.address));
}
