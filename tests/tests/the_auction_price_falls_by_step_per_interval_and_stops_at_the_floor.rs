//! An auction from 10 NOP to a floor of 1 NOP with `descent_intervals` 3 and
//! `price_interval_blocks` 2: the step is ⌈9 / 3⌉ = 3 NOP, so the price reads 10, 10, 7, 7, 4,
//! 4, then 1 (it would be −2: the floor holds) until the auction expires. The
//! `/coprocessors/price/{id}` query and a bid's recorded price agree with the formula.

use nodeop_app::modules::coprocessors::CoprocessorsParams;
use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::coprocessors::{bid, CoproGenesis};
use nodeop_driver::tasks::{exact_task, NOP};
use serde_json::Value;

#[test]
fn the_auction_price_falls_by_step_per_interval_and_stops_at_the_floor() {
    let mut g = CoproGenesis::new(4, 10, 1);
    g.tasks.state.coprocessors.params = CoprocessorsParams {
        descent_intervals: 3,
        price_interval_blocks: 2,
        expiry_grace_blocks: 2,
        ..CoprocessorsParams::default()
    };
    let mut cn = g.start();
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let seller = cn.net.members(id)[0].clone();
    let auction = cn.open(&seller, id, 10 * NOP, NOP);
    let a = cn.auction(auction);
    assert_eq!(a.step, 3 * NOP);
    assert_eq!(a.expires_height, a.opened_height + 3 * 2 + 2);

    let mut seen = Vec::new();
    for _ in 0..7 {
        let r = cn
            .net
            .chain
            .query(&format!("/coprocessors/price/{auction}"), &[], 0, false);
        assert_eq!(r.code, 0, "{}", r.log);
        let v: Value = serde_json::from_slice(&r.value).unwrap();
        let h = v["height"].as_u64().unwrap();
        let now: u128 = v["price_now"].as_str().unwrap().parse().unwrap();
        assert_eq!(now, a.price_at(h));
        seen.push((h - a.opened_height, now / NOP));
        cn.net.chain.block(Vec::new());
    }
    assert_eq!(
        seen,
        vec![(0, 10), (1, 10), (2, 7), (3, 7), (4, 4), (5, 4), (6, 1)]
    );
    // a bid in the auction's last block pays the price of that block: the floor
    let copro = cn.coprocessors[0].clone();
    let out = cn.net.run(&copro, bid(auction));
    assert!(out.is_ok(), "{}", out.log);
    assert_eq!(cn.auction(auction).price, NOP);
}
