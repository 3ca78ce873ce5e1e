//! The first scheduled member stays silent through its window: at the window's last block the
//! chain records a missed duty for it (reputation's duty tally and the downtime SLA's counter),
//! ends its reservation and opens window 1 for the next member, who delivers and is paid the
//! submission fee (commission to its account, the rest into its pool). The silent primary gets
//! nothing.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::num::checked_mul_div as mul_div_floor;
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{events_of, exact_task, TaskGenesis, NOP};

#[test]
fn a_silent_primary_is_replaced_by_the_next_member() {
    let mut net = TaskGenesis::new(4, 10).start();
    let fee = 5 * NOP + 3;
    let id = net.post(exact_task(Consistency::Session, fee));
    let h_f = net.finalize_honestly(id, b"value");
    let w = net.params().submission_window;
    let sub = net.task(id).submission.unwrap();
    let (primary, next) = (
        net.key(&sub.schedule[0]).clone(),
        net.key(&sub.schedule[1]).clone(),
    );
    let submission_fee =
        mul_div_floor(fee, u128::from(net.params().submission_fee_ppm), 1_000_000).unwrap();
    assert_eq!(sub.submission_fee, submission_fee);
    assert_eq!(net.reserved(&primary.address), 1);

    net.run_to(h_f + w - 1);
    let duties = net.reputation(&primary.address).duties;
    let uptime = net.uptime(&primary.address);
    let primary_balance = net.balance(&primary.address);
    let primary_pool = net.pool(&primary.address);
    assert_eq!(net.task(id).submission.unwrap().window, 0);
    // the last block of window 0 closes it and opens window 1 for the next member
    let resp = net.chain.block(Vec::new());
    let due: Vec<_> =
        events_of(&resp, nodeop_app::modules::tasks::events::SUBMISSION_DUE).collect();
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].get("missed_by"),
        Some(primary.address.to_string().as_str())
    );
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Finalized);
    let sub = t.submission.unwrap();
    assert_eq!(sub.window, 1);
    assert_eq!(sub.current_member(), Some(next.address));
    assert_eq!(sub.window_end, h_f + 2 * w);
    // a missed duty, in reputation and in the SLA counter; its reservation ends
    let after = net.reputation(&primary.address).duties;
    assert!(after.bad > duties.bad, "{duties:?} → {after:?}");
    assert_eq!(after.good, duties.good);
    assert_eq!(net.uptime(&primary.address).missed, uptime.missed + 1);
    assert_eq!(net.reserved(&primary.address), 0);

    // the next member delivers and is paid the submission fee
    let commission_ppm = u128::from(net.chain.operator(&next.address).commission_ppm);
    let next_balance = net.balance(&next.address);
    let next_pool = net.pool(&next.address);
    let escrow = net.module_balance("task_escrow");
    let (resp, fees) = net.block_paying(vec![(
        next.clone(),
        Msg::confirm_submission(id, "delivered-by-next"),
    )]);
    assert!(resp.tx_results[0].is_ok(), "{}", resp.tx_results[0].log);
    assert_eq!(
        events_of(
            &resp,
            nodeop_app::modules::tasks::events::SUBMISSION_CONFIRMED
        )
        .count(),
        1
    );
    let commission = mul_div_floor(submission_fee, commission_ppm, 1_000_000).unwrap();
    assert_eq!(
        net.balance(&next.address),
        next_balance - fees[0] + commission
    );
    assert_eq!(
        net.pool(&next.address),
        next_pool + submission_fee - commission
    );
    assert_eq!(net.module_balance("task_escrow"), escrow - submission_fee);
    let t = net.task(id);
    assert_eq!(t.status, TaskStatus::Delivered);
    assert_eq!(t.escrow, 0);
    assert_eq!(t.submission.unwrap().submitter, Some(next.address));
    // the primary got nothing for the window it missed
    assert_eq!(net.balance(&primary.address), primary_balance);
    assert_eq!(net.pool(&primary.address), primary_pool);
    // every reservation of the delivered task has ended
    for m in net.task(id).all_members() {
        assert_eq!(net.reserved(&m), 0);
    }
}
