//! Determinism of the supply history: a seeded simulation (tasks of random sizes and fees, some
//! committees with a liar, deliveries, vesting claims, time jumps across periods) run twice on
//! two independent chains gives byte-identical period records, payouts and epoch metrics, and
//! the same app hash; another seed gives another history.

use nodeop_app::modules::issuance::keys;
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::issuance::{schedule, task_genesis, GENESIS_TIME};
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{exact_task, Act, NOP};

/// Stored records: (key, bytes).
type Records = Vec<(Vec<u8>, Vec<u8>)>;

/// Every issuance record and the final app hash.
fn simulate(seed: u64) -> (Records, [u8; 32]) {
    let mut rng = Rng::new(seed);
    let team = nodeop_driver::issuance::key("team");
    let mut g = task_genesis(7, 3, 24);
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
        .push(schedule(&team.address, 500 * NOP, GENESIS_TIME, 20, 400));
    let mut net = g.start();
    for _ in 0..14 {
        match rng.below(4) {
            0 | 1 => {
                let consistency = if rng.below(2) == 0 {
                    Consistency::Eventual
                } else {
                    Consistency::Session
                };
                let fee = (1 + u128::from(rng.below(20))) * NOP + u128::from(rng.below(1_000));
                let id = net.post(exact_task(consistency, fee));
                let n = net.task(id).current_round().members.len();
                let mut acts = vec![Act::Answer(b"42".to_vec()); n];
                if n == 3 && rng.below(3) == 0 {
                    acts[rng.below(3) as usize] = Act::Answer(b"41".to_vec());
                }
                net.play_round(id, &acts);
                let t = net.task(id);
                if t.status == TaskStatus::Finalized && rng.below(2) == 0 {
                    let sub = t.submission.expect("a schedule");
                    let k = net.key(&sub.schedule[0]).clone();
                    net.run(&k, Msg::confirm_submission(id, "ref"));
                }
            }
            2 => {
                net.run(&team, Msg::claim_vested());
            }
            _ => {
                net.chain.block_seconds = 1 + rng.below(70) as i64;
                net.chain.block(Vec::new());
                net.chain.block_seconds = 1;
            }
        }
    }
    // close the last open period
    net.chain.block_seconds = 90;
    net.chain.block(Vec::new());
    let records = net
        .chain
        .raw_under(b"issuance/")
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with(keys::PERIOD_PREFIX)
                || k.starts_with(keys::PAYOUT_PREFIX)
                || k.starts_with(keys::METRICS_PREFIX)
        })
        .collect();
    (records, net.chain.app_hash())
}

#[test]
fn the_same_seeded_simulation_gives_identical_period_records() {
    let (a, hash_a) = simulate(0x5eed_0006);
    let (b, hash_b) = simulate(0x5eed_0006);
    let periods = a
        .iter()
        .filter(|(k, _)| k.starts_with(keys::PERIOD_PREFIX))
        .count();
    let payouts = a
        .iter()
        .filter(|(k, _)| k.starts_with(keys::PAYOUT_PREFIX))
        .count();
    assert!(periods >= 3, "the run crossed several periods: {periods}");
    assert!(payouts >= 3, "and paid operators for work: {payouts}");
    assert_eq!(a, b, "identical records, byte for byte");
    assert_eq!(hash_a, hash_b);
    let (c, hash_c) = simulate(0x5eed_0007);
    assert_ne!(hash_a, hash_c);
    assert_ne!(a, c);
}
