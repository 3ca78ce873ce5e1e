//! A Session round where all three members answer differently has no quorum: in the block of
//! the last reveal the task escalates to a fresh committee of 2n+1 = 7 (none of the originals,
//! quorum 5), the originals' capacity is released and nobody is paid or accused. When the
//! escalated round fails too (4 against 3), the task is Failed: the client gets the fee back
//! minus the protocol fee, which the treasury keeps, and nothing stays reserved or escrowed.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::num::checked_mul_div as mul_div_floor;
use nodeop_driver::tasks::{all_proposals, events_of, exact_task, Act, TaskGenesis, NOP};

#[test]
fn no_quorum_escalates_and_a_second_failure_refunds() {
    let mut net = TaskGenesis::new(10, 10).start();
    let fee = 4 * NOP + 1;
    let id = net.post(exact_task(Consistency::Session, fee));
    let client_after_post = net.balance(&net.client.address);
    let treasury_before = net.module_balance("treasury");
    let first: Vec<_> = net.members(id).iter().map(|k| k.address).collect();

    let resp = net.play_round(
        id,
        &[
            Act::Answer(b"a".to_vec()),
            Act::Answer(b"b".to_vec()),
            Act::Answer(b"c".to_vec()),
        ],
    );
    let escalated_at = net.chain.height;
    assert_eq!(
        events_of(&resp, nodeop_app::modules::tasks::events::TASK_ESCALATED).count(),
        1
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Assigned);
    assert_eq!(t.rounds.len(), 2);
    assert!(t.result.is_none());
    let round = t.current_round().clone();
    assert_eq!(round.number, 1);
    assert_eq!(round.members.len(), 7);
    assert_eq!(round.quorum, 5);
    assert_eq!(round.assigned_height, escalated_at);
    assert_eq!(round.commit_end, escalated_at + net.params().commit_blocks);
    let second: Vec<_> = round.members.iter().map(|m| m.operator).collect();
    let mut distinct = second.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 7);
    assert!(
        second.iter().all(|a| !first.contains(a)),
        "an original member was drawn again"
    );
    // the originals' capacity is free again; the new members hold theirs
    for a in &first {
        assert_eq!(net.reserved(a), 0);
    }
    for a in &second {
        assert_eq!(net.reserved(a), 1);
    }
    // no aggregate, so nobody is paid or accused, and the fee is still escrowed
    assert!(all_proposals(&net.chain).is_empty());
    assert_eq!(net.task(id).escrow, fee);
    assert_eq!(net.module_balance("task_escrow"), fee);
    assert_eq!(net.module_balance("treasury"), treasury_before);

    // the escalated round splits 4 / 3: below its quorum of 5
    let mut acts = vec![Act::Answer(b"x".to_vec()); 4];
    acts.extend(vec![Act::Answer(b"y".to_vec()); 3]);
    let resp = net.play_round(id, &acts);
    let failed: Vec<_> =
        events_of(&resp, nodeop_app::modules::tasks::events::TASK_FAILED).collect();
    assert_eq!(failed.len(), 1);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.finished_height, Some(net.chain.height));
    assert!(t.result.is_none());
    let protocol_fee =
        mul_div_floor(fee, u128::from(net.params().protocol_fee_ppm), 1_000_000).unwrap();
    assert_eq!(
        net.balance(&net.client.address),
        client_after_post + fee - protocol_fee
    );
    assert_eq!(
        net.module_balance("treasury"),
        treasury_before + protocol_fee
    );
    assert_eq!(net.module_balance("task_escrow"), 0);
    assert_eq!(t.escrow, 0);
    for a in first.iter().chain(&second) {
        assert_eq!(net.reserved(a), 0);
    }
    assert!(all_proposals(&net.chain).is_empty());
}
