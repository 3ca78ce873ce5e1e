//! `nodeopd export` carries the issuance state: after periods with task revenue, payouts,
//! vesting claims, epoch metrics, and mid-period with work and a faulty operator still open,
//! InitChain on the exported genesis reproduces every `issuance/` key byte for byte, and the
//! imported chain goes on to close the open period exactly as the original does.

use nodeop_app::app::{BlockTime, InitChainRequest};
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::state::Storage;
use nodeop_app::tx::Msg;
use nodeop_app::{App, AppOptions};
use nodeop_driver::chain::TestChain;
use nodeop_driver::issuance::{enter_period, schedule, task_genesis, GENESIS_TIME};
use nodeop_driver::tasks::{exact_task, Act, NOP};

fn issuance_keys(chain: &TestChain) -> Vec<(Vec<u8>, Vec<u8>)> {
    chain.raw_under(b"issuance/")
}

#[test]
fn issuance_state_survives_export_and_import() {
    let team = nodeop_driver::issuance::key("team");
    let mut g = task_genesis(4, 3, 24);
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
        .push(schedule(&team.address, 50 * NOP, GENESIS_TIME, 0, 200));
    let mut net = g.start();
    let id = net.post(exact_task(Consistency::Session, 4 * NOP));
    net.finalize_honestly(id, b"42");
    assert!(net.run(&team, Msg::claim_vested()).is_ok());
    enter_period(&mut net.chain, 2);
    // mid-period: a task with a liar (work, revenue and a faulty operator in the open epoch)
    let id = net.post(exact_task(Consistency::Session, 3 * NOP));
    net.play_round(
        id,
        &[
            Act::Answer(b"42".to_vec()),
            Act::Answer(b"41".to_vec()),
            Act::Answer(b"42".to_vec()),
        ],
    );
    let keys = issuance_keys(&net.chain);
    for family in [
        "period/", "payout/", "metrics/", "work/", "faulty/", "vesting/",
    ] {
        let prefix = format!("issuance/{family}");
        assert!(
            keys.iter().any(|(k, _)| k.starts_with(prefix.as_bytes())),
            "the run left a {prefix} record"
        );
    }

    let (chain_id, height, state) = net.chain.app.export().expect("export");
    let mut imported = App::new(
        Storage::in_memory().unwrap(),
        AppOptions {
            check_invariants: true,
            ..AppOptions::default()
        },
    );
    imported
        .init_chain(&InitChainRequest {
            chain_id,
            genesis_time: BlockTime {
                seconds: GENESIS_TIME,
                nanos: 0,
            },
            initial_height: height + 1,
            app_state: serde_json::to_vec(&state).unwrap(),
        })
        .expect("the export is a valid genesis");
    let mut copy = TestChain::resume(imported);
    copy.time = net.chain.time;
    assert_eq!(
        issuance_keys(&copy),
        keys,
        "every issuance key, byte for byte"
    );

    // both close the open period the same way
    enter_period(&mut net.chain, 3);
    enter_period(&mut copy, 3);
    assert_eq!(issuance_keys(&copy), issuance_keys(&net.chain));
}
