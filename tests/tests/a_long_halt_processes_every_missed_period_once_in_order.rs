//! After a halt that spans several issuance periods, the first block processes every missed
//! period once, oldest first: the period that had revenue mints for it at its own subsidy, the
//! empty ones record nothing minted, the records chain (each starts at the supply the previous
//! ended with), and the next block processes nothing again. Every skipped epoch gets its
//! metrics record too.

use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::issuance::{
    all_metrics, enter_period, open_period, period_start, records, task_genesis,
};
use nodeop_driver::tasks::{exact_task, NOP};

#[test]
fn a_long_halt_processes_every_missed_period_once_in_order() {
    let mut net = task_genesis(4, 3, 24).start();
    enter_period(&mut net.chain, 1);
    let id = net.post(exact_task(Consistency::Session, 4 * NOP + 1));
    net.finalize_honestly(id, b"42");
    let t = net.task(id);
    let revenue = t.fee - t.submission.expect("a schedule").submission_fee;
    assert_eq!(open_period(&net.chain).period, 1);
    assert_eq!(open_period(&net.chain).revenue, revenue);

    // the halt: the next block comes 5 s into period 7 (its first epoch, 21)
    let halt_end = period_start(&net.chain, 7) + 5;
    net.chain.block_seconds = halt_end - net.chain.time.seconds;
    let resp = net.chain.block(Vec::new());
    net.chain.block_seconds = 1;
    let height = net.chain.height;

    let mints: Vec<u64> = resp
        .events
        .iter()
        .filter(|e| e.kind == nodeop_app::modules::issuance::events::MINT)
        .map(|e| e.get("period").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        mints,
        vec![1, 2, 3, 4, 5, 6],
        "every missed period, oldest first"
    );
    let all = records(&net.chain);
    assert_eq!(
        all.iter().map(|r| r.period).collect::<Vec<_>>(),
        (0..=6).collect::<Vec<_>>()
    );
    let r1 = &all[1];
    assert_eq!(r1.revenue, revenue);
    assert_eq!(r1.subsidy_ppm, 958_333, "period 1's own subsidy, 23/24");
    assert_eq!(r1.minted, revenue * 1_958_333 / 1_000_000);
    for r in &all[1..] {
        assert_eq!(
            r.height, height,
            "all processed in the block after the halt"
        );
        assert_eq!(r.time, halt_end);
    }
    for r in &all[2..] {
        assert_eq!((r.revenue, r.minted, r.paid_out), (0, 0, 0));
        assert_eq!(r.subsidy_ppm as u64, (24 - r.period) * 1_000_000 / 24);
    }
    for w in all.windows(2) {
        assert_eq!(w[1].supply_at_start, w[0].total_supply);
        assert_eq!(
            w[1].total_supply,
            w[1].supply_at_start + w[1].vested + w[1].minted - w[1].burned
        );
    }
    assert_eq!(open_period(&net.chain).period, 7);
    assert_eq!(open_period(&net.chain).revenue, 0);

    // epochs 0..=20 closed, each once; the tasks' revenue sits in the epoch it settled in
    let metrics = all_metrics(&net.chain);
    assert_eq!(
        metrics.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        (0..=20).collect::<Vec<_>>()
    );
    assert_eq!(metrics.iter().map(|m| m.revenue).sum::<u128>(), revenue);
    assert_eq!(metrics.iter().map(|m| m.tasks_finalized).sum::<u64>(), 1);
    for m in &metrics[6..] {
        assert_eq!(m.height, height);
    }

    // the next blocks process nothing again
    let before = records(&net.chain);
    for _ in 0..3 {
        let resp = net.chain.block(Vec::new());
        assert!(resp
            .events
            .iter()
            .all(|e| e.kind != nodeop_app::modules::issuance::events::MINT));
    }
    assert_eq!(records(&net.chain), before);
    assert_eq!(all_metrics(&net.chain).len(), 21);
}
