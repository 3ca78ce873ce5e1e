//! Nobody delivers: each scheduled member misses its window (a missed duty each), the open
//! window passes too, and at its last block — `h_f + (max_fallbacks + 1)·W` with a full
//! schedule — the task ends Undelivered, the submission fee goes back to the client to the
//! unop, the escrow is empty and every reservation has ended.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_driver::tasks::{events_of, exact_task, TaskGenesis, NOP};

#[test]
fn all_windows_missed_ends_undelivered_with_a_refund() {
    let mut net = TaskGenesis::new(4, 10).start();
    let fee = 2 * NOP + 9;
    let id = net.post(exact_task(Consistency::Session, fee));
    let h_f = net.finalize_honestly(id, b"value");
    let p = net.params();
    let (w, k) = (p.submission_window, u64::from(p.max_fallbacks));
    let sub = net.task(id).submission.unwrap();
    assert_eq!(sub.schedule.len() as u64, k.min(3));
    let windows = sub.schedule.len() as u64;
    let submission_fee = sub.submission_fee;
    assert_eq!(net.task(id).escrow, submission_fee);
    let client_before = net.balance(&net.client.address);
    let missed_before: Vec<u64> = sub.schedule.iter().map(|a| net.uptime(a).missed).collect();

    for j in 0..windows {
        net.run_to(h_f + (j + 1) * w);
        let t = net.task(id);
        assert_eq!(t.status, TaskStatus::Finalized);
        let now = t.submission.unwrap();
        assert_eq!(now.window as u64, j + 1);
        // member j's duty is missed and its reservation ends with its window
        assert_eq!(
            net.uptime(&sub.schedule[j as usize]).missed,
            missed_before[j as usize] + 1
        );
        assert_eq!(net.reserved(&sub.schedule[j as usize]), 0);
    }
    assert!(net.task(id).submission.unwrap().in_open_window());
    let end = h_f + (windows + 1) * w;
    net.run_to(end - 1);
    assert_eq!(net.task(id).status, TaskStatus::Finalized);
    assert_eq!(net.balance(&net.client.address), client_before);
    let resp = net.chain.block(Vec::new());
    assert_eq!(net.chain.height, end);
    let ev: Vec<_> =
        events_of(&resp, nodeop_app::modules::tasks::events::TASK_UNDELIVERED).collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        ev[0].get("refund"),
        Some(submission_fee.to_string().as_str())
    );

    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Undelivered);
    assert_eq!(t.finished_height, Some(end));
    assert_eq!(t.escrow, 0);
    assert_eq!(
        net.balance(&net.client.address),
        client_before + submission_fee
    );
    assert_eq!(net.module_balance("task_escrow"), 0);
    for m in t.all_members() {
        assert_eq!(net.reserved(&m), 0);
    }
    // the members were still paid for the result itself
    let fin = t.result.unwrap();
    assert_eq!(fin.pay.len(), 3);
    assert_eq!(
        fin.protocol_fee
            + fin.rounding_to_treasury
            + fin.pay.iter().map(|l| l.pay).sum::<u128>()
            + submission_fee,
        fee
    );
}
