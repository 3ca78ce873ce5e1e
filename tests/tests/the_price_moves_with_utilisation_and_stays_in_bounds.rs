//! The unit price follows the utilisation of total operator capacity: below the target it falls,
//! above it rises, on it stays, by at most 1/8 per block, and never leaves
//! [min_unit_price, max_unit_price]. Idle, it falls to the floor and stays; when open tasks hold
//! all capacity it climbs to the ceiling and stays; when they end it falls back. The price query
//! reports what the chain charges.

use nodeop_app::modules::tasks::state::{capacity, unit_price};
use nodeop_app::modules::tasks::{Consistency, TasksParams};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{exact_task, TaskGenesis, TaskNet};

/// Runs one block (with `txs`) and checks the price step it made; returns the utilisation.
fn step(net: &mut TaskNet, txs: Vec<Vec<u8>>, p: &TasksParams) -> u32 {
    let before = net.unit_price();
    let resp = net.chain.block(txs);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    let after = net.unit_price();
    let u = capacity(net.chain.app.storage()).utilisation_ppm;
    let target = p.target_utilisation_ppm;
    assert!(
        (p.min_unit_price..=p.max_unit_price).contains(&after),
        "{after} out of bounds"
    );
    assert!(
        after.abs_diff(before) <= before / 8,
        "{before} → {after}: more than 1/8"
    );
    if u > target {
        assert!(
            after > before || after == p.max_unit_price,
            "u {u}: {before} → {after}"
        );
    } else if u < target {
        assert!(after <= before, "u {u}: {before} → {after}");
        // at full deviation the step is a whole eighth (or the floor)
        if u == 0 {
            assert_eq!(after, (before - before / 8).max(p.min_unit_price));
        }
    } else {
        assert_eq!(after, before, "on target the price stays");
    }
    // what the query reports is what the chain stored
    let r = net.chain.query("/tasks/price", &[], 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    let v: serde_json::Value = serde_json::from_slice(&r.value).unwrap();
    assert_eq!(
        v["unit_price"].to_string().trim_matches('"'),
        after.to_string()
    );
    assert_eq!(v["utilisation_ppm"], u);
    u
}

#[test]
fn the_price_moves_with_utilisation_and_stays_in_bounds() {
    // 3 operators × 2 units
    let mut g = TaskGenesis::new(3, 2);
    g.state.tasks.params.min_unit_price = 1_000;
    g.state.tasks.params.max_unit_price = 2_000;
    g.state.tasks.params.initial_unit_price = 1_500;
    let p = g.state.tasks.params.clone();
    let mut net = g.start();
    assert_eq!(unit_price(net.chain.app.storage()), 1_500);

    // idle: down to the floor, and it stays there
    for _ in 0..8 {
        assert_eq!(step(&mut net, Vec::new(), &p), 0);
    }
    assert_eq!(net.unit_price(), p.min_unit_price);

    // six single-member tasks of one unit: utilisation 1/6, 2/6, 3/6 (on target), …, 6/6
    let client = net.client.clone();
    let mut seen = Vec::new();
    for k in 1..=6u32 {
        let tx = net.chain.tx(
            &client,
            vec![Msg::from(exact_task(
                Consistency::Eventual,
                p.max_unit_price,
            ))],
        );
        let u = step(&mut net, vec![tx], &p);
        assert_eq!(u, k * 1_000_000 / 6);
        seen.push(net.unit_price());
    }
    assert_eq!(seen[2], seen[1], "on target, unchanged");
    assert!(seen[3] > seen[2] && seen[4] > seen[3] && seen[5] > seen[4]);
    // full: the price climbs to the ceiling and stays while the tasks hold the capacity
    for _ in 0..8 {
        assert_eq!(step(&mut net, Vec::new(), &p), 1_000_000);
    }
    assert_eq!(net.unit_price(), p.max_unit_price);

    // the silent tasks end (no quorum, no fresh committee): capacity is free, the price falls back
    let last_end = net.task(6).current_round().reveal_end;
    while net.chain.height < last_end {
        step(&mut net, Vec::new(), &p);
    }
    for _ in 0..8 {
        assert_eq!(step(&mut net, Vec::new(), &p), 0);
    }
    assert_eq!(net.unit_price(), p.min_unit_price);
}
