//! A coprocessor registered in a hand-written genesis (no `last_epoch` marks) takes its
//! reputation's epoch steps like one registered by a tx: its epoch clock starts at the chain's
//! first block, and every staking epoch entered after that gives a `coprocessor_epoch` event
//! and moves its load state towards what it used (an idle one's load falls).

use nodeop_app::modules::coprocessors::events::COPROCESSOR_EPOCH;
use nodeop_app::modules::coprocessors::{keys, state};
use nodeop_app::state::StateReadExt;
use nodeop_driver::coprocessors::CoproGenesis;
use nodeop_driver::issuance::{task_genesis, EPOCH_SECONDS};
use nodeop_driver::tasks::NOP;

#[test]
fn a_coprocessor_registered_at_genesis_takes_its_epoch_steps() {
    let g = CoproGenesis::with_tasks(task_genesis(4, 6, 24), 1).listed_at_genesis(
        0,
        4,
        100 * NOP,
        1_000_000,
    );
    let address = g.coprocessors[0].address;
    assert_eq!(g.tasks.state.coprocessors.last_epoch, None);
    let mut cn = g.start();
    let storage = cn.net.chain.app.storage();
    assert_eq!(
        storage.get::<u64>(keys::LAST_EPOCH),
        Some(0),
        "the clock starts"
    );
    assert!(storage.get::<u64>(keys::LAST_EPOCH_HEIGHT).is_some());
    let before = state::reputation_record(storage, &address);

    // run through a few staking epochs, collecting the begin-block events
    let mut epochs = Vec::new();
    let blocks = (4 * EPOCH_SECONDS as u64) / cn.net.chain.block_seconds.max(1) as u64 + 2;
    for _ in 0..blocks {
        let resp = cn.net.chain.block(Vec::new());
        for e in resp.events.iter().filter(|e| e.kind == COPROCESSOR_EPOCH) {
            epochs.push(e.clone());
        }
    }
    assert!(
        epochs.len() >= 3,
        "{} coprocessor epoch steps in {blocks} blocks",
        epochs.len()
    );
    let after = state::reputation_record(cn.net.chain.app.storage(), &address);
    assert!(
        after.load_ppm < before.load_ppm,
        "an idle coprocessor's load state falls: {} → {}",
        before.load_ppm,
        after.load_ppm
    );
}
