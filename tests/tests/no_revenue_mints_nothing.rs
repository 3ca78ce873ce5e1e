//! Periods without task revenue mint nothing, even while the subsidy is at its highest: the
//! subsidy multiplies revenue, it is not a calendar emission. Each period is still processed
//! once, in the first block past its end, and leaves a record and a `mint` event saying so.

use nodeop_driver::issuance::{open_period, period_start, record, task_genesis};

#[test]
fn no_revenue_mints_nothing() {
    let mut net = task_genesis(2, 3, 24).start();
    let chain = &mut net.chain;
    let supply = chain.supply();
    let mut mint_events = Vec::new();
    // 1-second blocks through three whole periods (30 s each)
    while open_period(chain).period < 3 {
        let resp = chain.block(Vec::new());
        for e in resp
            .events
            .iter()
            .filter(|e| e.kind == nodeop_app::modules::issuance::events::MINT)
        {
            mint_events.push((chain.height, chain.time.seconds, e.clone()));
        }
    }
    assert_eq!(mint_events.len(), 3, "one mint event per closed period");
    for (m, (height, time, event)) in mint_events.iter().enumerate() {
        let m = m as u64;
        assert_eq!(event.get("period"), Some(m.to_string().as_str()));
        assert_eq!(event.get("revenue"), Some("0"));
        assert_eq!(event.get("minted"), Some("0"));
        assert_eq!(event.get("clipped"), Some("0"));
        let r = record(chain, m).expect("a record per period");
        assert_eq!(r.period, m);
        assert_eq!((r.first_epoch, r.last_epoch), (3 * m, 3 * m + 2));
        // processed in the first block of the next period, not before
        assert_eq!(r.height, *height);
        assert_eq!(r.time, *time);
        assert_eq!(
            *time,
            period_start(chain, m + 1),
            "1-second blocks hit the boundary"
        );
        assert_eq!(r.revenue, 0);
        assert_eq!(r.subsidy_ppm, [1_000_000, 958_333, 916_666][m as usize]);
        assert_eq!((r.due, r.minted, r.clipped), (0, 0, 0));
        assert_eq!((r.paid_out, r.to_treasury, r.work), (0, 0, 0));
        assert_eq!(r.total_supply, supply.total_supply);
        assert_eq!(r.supply_at_start, supply.total_supply);
    }
    let after = chain.supply();
    assert_eq!(after.minted, 0);
    assert_eq!(after.total_supply, supply.total_supply);
    assert_eq!(chain.sum_of_balances(), supply.total_supply);
}
