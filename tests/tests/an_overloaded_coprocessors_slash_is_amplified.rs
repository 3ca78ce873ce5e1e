//! Two coprocessors each buy a slot (on two tasks) at the same price and reveal a result the
//! other members outvote. One has load state 0, the other 1_000_000 (from genesis; the optimal
//! load is 700_000 and k_high 500_000): the first loses 50 % of its locked collateral, the
//! overloaded one 50 % × 1.5 = 75 %.

use nodeop_app::modules::coprocessors::{events, state as cstate, AuctionStatus};
use nodeop_app::modules::tasks::Consistency;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::tasks::{commit, events_of, exact_task, reveal, NOP};

#[test]
fn an_overloaded_coprocessors_slash_is_amplified() {
    let mut cn = CoproGenesis::new(4, 10, 2)
        .registered_at_genesis(0, 4, 100 * NOP, 0)
        .registered_at_genesis(1, 4, 100 * NOP, 1_000_000)
        .start();
    let s = cn.net.chain.app.storage();
    let (calm, busy) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());
    assert_eq!(cstate::load_amplification_ppm(s, &calm.address), 1_000_000);
    assert_eq!(cstate::load_amplification_ppm(s, &busy.address), 1_500_000);

    let mut slashed = Vec::new();
    for (i, copro) in [calm.clone(), busy.clone()].iter().enumerate() {
        let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
        let m = cn.net.members(id);
        let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
        let auction = cn.sell(&seller, id, 10 * NOP, 2 * NOP, i);
        let locked = cn.auction(auction).collateral_locked;
        assert_eq!(locked, 16 * NOP);
        let (right, wrong) = (b"right".to_vec(), b"wrong".to_vec());
        cn.net.block_ok(vec![
            (copro.clone(), commit(id, &seller.address, &wrong)),
            (b.clone(), commit(id, &b.address, &right)),
            (c.clone(), commit(id, &c.address, &right)),
        ]);
        let round = cn.net.task(id).current_round().clone();
        cn.net.run_to(round.commit_end);
        let resp = cn.net.block_ok(vec![
            (copro.clone(), reveal(id, &seller.address, &wrong)),
            (b.clone(), reveal(id, &b.address, &right)),
            (c.clone(), reveal(id, &c.address, &right)),
        ]);
        let a = cn.auction(auction);
        assert_eq!(a.status, AuctionStatus::Slashed);
        let ev: Vec<_> = events_of(&resp, events::COLLATERAL_SLASHED).collect();
        assert_eq!(ev.len(), 1);
        slashed.push((
            a.slashed,
            ev[0].get("amplification_ppm").unwrap().to_string(),
        ));
        let cp = cn.coprocessor(&copro.address);
        assert_eq!(cp.free_collateral, 100 * NOP - a.slashed);
    }
    assert_eq!(
        slashed,
        vec![
            (8 * NOP, "1000000".to_string()),
            (12 * NOP, "1500000".to_string())
        ]
    );
}
