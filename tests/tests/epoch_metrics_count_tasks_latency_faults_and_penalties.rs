//! Each epoch closes with its NodeOP metrics (PROTOCOL.md §3.8): tasks finalized and failed, the
//! mean inclusion latency (blocks from posting to finalization, floored), the error rate, the
//! fault tolerance F = 1 − faulty operators / N (a liar, the silent members of a failed task and
//! a double-signer each count once), the revenue and its growth against the previous epoch, and
//! the stake slashed (consensus evidence and executed proposals alike). The record is provable and the next epoch starts from zero.

use std::collections::BTreeSet;

use nodeop_app::modules::issuance::EpochMetrics;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::query::verify_proof;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::consensus_key;
use nodeop_driver::issuance::{metrics, task_genesis};
use nodeop_driver::tasks::{exact_task, Act, NOP};

#[test]
fn epoch_metrics_count_tasks_latency_faults_and_penalties() {
    let mut g = task_genesis(8, 3, 24);
    // 200-second epochs: everything below happens inside epoch 0
    g.state.staking.params.epoch_seconds = 200;
    let mut net = g.start();
    let mut faulty = BTreeSet::new();
    let mut latencies = Vec::new();
    let mut revenue = 0u128;

    // two honest tasks, one with a liar who disagrees with the aggregate
    for liar in [false, true] {
        let id = net.post(exact_task(Consistency::Session, 4 * NOP));
        let members = net.members(id);
        let mut acts = vec![Act::Answer(b"42".to_vec()); 3];
        if liar {
            acts[1] = Act::Answer(b"41".to_vec());
            faulty.insert(members[1].address);
        }
        net.play_round(id, &acts);
        let t = net.task(id);
        assert_eq!(t.status, TaskStatus::Finalized);
        latencies.push(t.result.unwrap().finalized_height - t.posted_height);
        // delivered in window 0: the whole fee is revenue (an undelivered task would also
        // count as failed when its last window closes)
        let submitter = net.key(&t.submission.unwrap().schedule[0]).clone();
        let r = net.run(&submitter, Msg::confirm_submission(id, "consumer-ref"));
        assert!(r.is_ok(), "{}", r.log);
        assert_eq!(net.task(id).status, TaskStatus::Delivered);
        revenue += t.fee;
    }
    // a task whose committee and escalated committee stay silent: failed, protocol fee kept
    let fee = 5 * NOP;
    let id = net.post(exact_task(Consistency::Eventual, fee));
    for m in net.members(id) {
        faulty.insert(m.address);
    }
    let end = net.task(id).current_round().reveal_end;
    net.run_to(end + 1);
    let t = net.task(id);
    assert_eq!(t.rounds.len(), 2, "escalated to a fresh committee");
    for m in net.members(id) {
        faulty.insert(m.address);
    }
    let end = net.task(id).current_round().reveal_end;
    net.run_to(end + 1);
    assert_eq!(net.task(id).status, TaskStatus::Failed);
    revenue += fee * u128::from(net.params().protocol_fee_ppm) / 1_000_000;

    // a double-signer: slashed at once
    let pool_before = net.pool(&net.operators[7].address);
    let cons = consensus_key("task-op-7");
    let h = net.chain.height;
    net.chain
        .report_double_sign(&cons, h, (pool_before / NOP) as u64);
    net.chain.block(Vec::new());
    let penalty = pool_before - net.pool(&net.operators[7].address);
    assert!(penalty > 0);
    faulty.insert(net.operators[7].address);
    assert!(net.chain.time.seconds < 1_700_000_200, "still epoch 0");

    // close epoch 0
    net.chain.run_until(1_700_000_200);
    let h_close = net.chain.height;
    let m: EpochMetrics = metrics(&net.chain, 0).expect("epoch 0 is recorded");
    assert_eq!(m.epoch, 0);
    assert_eq!(m.height, h_close);
    assert_eq!(m.tasks_finalized, 2);
    assert_eq!(m.tasks_failed, 1);
    assert_eq!(
        m.mean_latency_blocks,
        latencies.iter().sum::<u64>() / latencies.len() as u64
    );
    assert_eq!(m.error_rate_ppm, 333_333, "1 of 3, floored");
    assert_eq!(
        m.operators, 7,
        "N: the tombstoned double-signer no longer counts"
    );
    assert_eq!(m.faulty_operators as usize, faulty.len().min(7));
    assert_eq!(
        u64::from(m.fault_tolerance_ppm),
        (7 - m.faulty_operators) * 1_000_000 / 7
    );
    assert_eq!(m.revenue, revenue);
    assert_eq!(
        m.revenue_growth_ppm, None,
        "growth from an epoch without revenue"
    );
    // the double-sign, and the liar's result_mismatch proposal executed after its 30 s window
    let slashed: u128 = net
        .operators
        .iter()
        .map(|k| net.chain.operator(&k.address).slashed_total)
        .sum();
    assert!(slashed > penalty, "the liar was slashed too");
    assert_eq!(m.penalties, slashed);

    // provable, and the next epoch starts empty: no revenue after some → −100 %
    let q = net.chain.query("/issuance/metrics/0", &[], 0, true);
    assert_eq!(q.code, 0, "{}", q.log);
    verify_proof(
        &q.proof_ops[0],
        &net.chain.app_hash(),
        &q.key,
        Some(&q.value),
    )
    .unwrap();
    net.chain.run_until(1_700_000_400);
    let m1 = metrics(&net.chain, 1).expect("epoch 1 is recorded");
    assert_eq!(
        (m1.tasks_finalized, m1.tasks_failed, m1.penalties),
        (0, 0, 0)
    );
    assert_eq!(m1.faulty_operators, 0);
    assert_eq!(m1.fault_tolerance_ppm, 1_000_000);
    assert_eq!(m1.revenue_growth_ppm, Some(-1_000_000));
}
