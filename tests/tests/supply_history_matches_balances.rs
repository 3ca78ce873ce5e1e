//! The period records are a supply history an auditor can check: at the height that recorded a
//! period, the sum of every balance equals the record's `total_supply`; each record starts where
//! the previous one ended and moves by exactly `vested + minted − burned`; the minted and burned
//! totals of the supply record are the sums over the periods; and each record is proved against
//! the app hash of its height. The run mixes task revenue, vesting claims, a double-sign slash
//! (half of it burned), and tokens sent to the reward pool (paid out with the next mint).

use std::collections::BTreeMap;

use nodeop_app::modules::issuance::{keys, PeriodRecord};
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::query::verify_proof;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{consensus_key, Key};
use nodeop_driver::issuance::{open_period, records, schedule, task_genesis, GENESIS_TIME};
use nodeop_driver::tasks::{exact_task, Act, TaskNet, NOP};

#[test]
fn supply_history_matches_balances() {
    let mut g = task_genesis(5, 3, 24);
    let team = nodeop_driver::issuance::key("team");
    g.state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: team.address,
            balance: 10 * NOP,
            nonce: 0,
        });
    g.state
        .issuance
        .vesting
        .push(schedule(&team.address, 90 * NOP, GENESIS_TIME, 5, 120));
    let mut net = g.start();
    let genesis_supply = net.chain.supply().total_supply;
    // height → (app hash, Σ balances), after every block
    let mut seen: BTreeMap<u64, ([u8; 32], u128)> = BTreeMap::new();
    let observe = |net: &TaskNet, seen: &mut BTreeMap<u64, ([u8; 32], u128)>| {
        seen.insert(
            net.chain.height,
            (net.chain.app_hash(), net.chain.sum_of_balances()),
        );
    };

    for round in 0..6u64 {
        let fee = (3 + round) as u128 * NOP + round as u128;
        let id = net.post(exact_task(Consistency::Session, fee));
        observe(&net, &mut seen);
        // the honest round, block by block
        let plan: Vec<(Key, Act)> = net
            .members(id)
            .into_iter()
            .map(|k| (k, Act::Answer(b"42".to_vec())))
            .collect();
        net.commit_all(id, &plan);
        observe(&net, &mut seen);
        let commit_end = net.task(id).current_round().commit_end;
        while net.chain.height < commit_end {
            net.chain.block(Vec::new());
            observe(&net, &mut seen);
        }
        net.reveal_all(id, &plan);
        observe(&net, &mut seen);
        let r = net.run(&team, Msg::claim_vested());
        assert!(
            r.is_ok() || r.log.starts_with("nothing_to_claim"),
            "{}",
            r.log
        );
        observe(&net, &mut seen);
        match round {
            1 => {
                // double-sign evidence against operator 0: 5 % slashed, half of it burned
                net.chain.report_double_sign(
                    &consensus_key("operator-0"),
                    net.chain.height,
                    10_000,
                );
                net.chain.block(Vec::new());
            }
            3 => {
                let client = net.client.clone();
                let r = net.run(
                    &client,
                    Msg::send(&nodeop_app::modules::bank::REWARD_POOL.address(), 7 * NOP),
                );
                assert!(r.is_ok(), "{}", r.log);
            }
            _ => {}
        }
        observe(&net, &mut seen);
        // 1-second blocks up to a few seconds into the next period
        let target = open_period(&net.chain).period + 1;
        while open_period(&net.chain).period < target {
            net.chain.block(Vec::new());
            observe(&net, &mut seen);
        }
    }

    let history: Vec<PeriodRecord> = records(&net.chain);
    assert!(history.len() >= 6);
    let mut start = genesis_supply;
    for (i, rec) in history.iter().enumerate() {
        let m = rec.period;
        assert_eq!(m, i as u64);
        let height = &rec.height;
        let (root, balances) = &seen[height];
        assert_eq!(
            rec.total_supply, *balances,
            "period {m}: Σ balances at its height"
        );
        assert_eq!(
            rec.supply_at_start,
            start,
            "period {m} starts where {} ended",
            m.wrapping_sub(1)
        );
        assert_eq!(
            rec.total_supply,
            rec.supply_at_start + rec.vested + rec.minted - rec.burned
        );
        assert_eq!(rec.paid_out + rec.to_treasury, rec.carried_in + rec.minted);
        start = rec.total_supply;
        // the record is proved against the app hash of its height
        let q = net
            .chain
            .query(&format!("/issuance/period/{m}"), &[], *height, true);
        assert_eq!(q.code, 0, "{}", q.log);
        assert_eq!(q.key, keys::period(m));
        assert_eq!(borsh::from_slice::<PeriodRecord>(&q.value).unwrap(), *rec);
        verify_proof(&q.proof_ops[0], root, &q.key, Some(&q.value)).unwrap();
    }
    let s = net.chain.supply();
    let minted: u128 = history.iter().map(|r| r.minted + r.vested).sum();
    let burned: u128 = history.iter().map(|r| r.burned).sum();
    let open = open_period(&net.chain);
    assert_eq!(s.minted, minted + open.vested);
    // genesis burned nothing: what the records burned is what had burned when the open period began
    assert_eq!(burned, open.burned_at_start);
    assert!(
        burned > 0,
        "the slash burned tokens inside a recorded period"
    );
    assert!(history.iter().any(|r| r.carried_in == 7 * NOP));
    assert!(history.iter().filter(|r| r.vested > 0).count() >= 2);
    assert_eq!(s.total_supply, net.chain.sum_of_balances());
}
