//! A Session task reserves a unit of each member's capacity from its assignment until the member's
//! duty ends; the reputation module adds up those unit-blocks and, at the epoch's end, turns them
//! into the utilisation `y = unit_blocks / (capacity × blocks in the epoch)` and the load state
//! `f ← f + 0.3·(y − f)`. An epoch without tasks then lowers `f` by 30 %. The reward weight of the
//! optimal-load curve follows `f`.

use nodeop_app::modules::reputation::score;
use nodeop_app::modules::reputation::ReputationParams;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{exact_task, TaskGenesis, NOP};

const CAPACITY: u64 = 4;

#[test]
fn the_load_state_follows_reserved_capacity_across_epochs() {
    let mut g = TaskGenesis::new(3, CAPACITY);
    // 40 one-second blocks per epoch: blocks 1..=39 are epoch 0, block 40 opens epoch 1
    g.state.staking.params.epoch_seconds = 40;
    let mut net = g.start();
    let p = ReputationParams::default();
    let fee = net.min_fee(1).max(3 * NOP);
    let id = net.post(exact_task(Consistency::Session, fee));
    net.play_honest(id, b"0xfeed");
    let sub = net.task(id).submission.expect("a schedule");
    let submitter = net.key(&sub.schedule[0]).clone();
    let r = net.run(&submitter, Msg::confirm_submission(id, "consumer-tx-1"));
    assert!(r.is_ok(), "{}", r.log);
    assert_eq!(net.task(id).status, TaskStatus::Delivered);

    net.run_to(39);
    let operators: Vec<_> = net.operators.iter().map(|k| k.address).collect();
    let mut unit_blocks = Vec::new();
    for a in &operators {
        assert_eq!(net.reserved(a), 0, "the delivered task released every unit");
        let r = net.reputation(a);
        assert_eq!(r.load_ppm, 0, "no epoch has ended yet");
        assert!(
            r.epoch_unit_blocks > 0,
            "every operator served in the committee"
        );
        unit_blocks.push(r.epoch_unit_blocks);
    }

    let resp = net.chain.block(Vec::new());
    assert_eq!(net.chain.height, 40);
    let e = resp
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::reputation::events::REPUTATION_EPOCH)
        .expect("epoch 0 ends in block 40");
    assert_eq!(e.get("epoch"), Some("1"));
    assert_eq!(e.get("blocks"), Some("39"));
    let mut loads = Vec::new();
    for (a, ub) in operators.iter().zip(&unit_blocks) {
        let r = net.reputation(a);
        let y = ub * 1_000_000 / (u128::from(CAPACITY) * 39);
        let f = (y * 3 / 10) as u32;
        assert_eq!(r.load_ppm, f, "f = 0 + ⌊0.3 × y⌋ with y = {y}");
        assert!(f > 0);
        assert_eq!(r.epoch_unit_blocks, 0, "the accumulator restarts");
        let weight = 1_000_000 + 200_000 * (700_000 - u64::from(f)) / 700_000;
        assert_eq!(
            score::reward_weight_ppm(r.load_ppm, &p),
            weight as u32,
            "below the optimal load the reward weight rises"
        );
        let v = net
            .chain
            .query(&format!("/reputation/operator/{a}"), &[], 0, false);
        let v: serde_json::Value = serde_json::from_slice(&v.value).unwrap();
        assert_eq!(v["load_ppm"], f);
        assert_eq!(v["reward_weight_ppm"], weight);
        assert_eq!(v["load_amplification_ppm"], 1_000_000);
        loads.push(f);
    }

    // an epoch without tasks: y = 0, f ← ⌊0.7 × f⌋, and the weight rises back
    net.run_to(80);
    for (a, f) in operators.iter().zip(&loads) {
        let r = net.reputation(a);
        assert_eq!(r.load_ppm, f * 7 / 10);
        assert!(score::reward_weight_ppm(r.load_ppm, &p) >= score::reward_weight_ppm(*f, &p));
    }
}
