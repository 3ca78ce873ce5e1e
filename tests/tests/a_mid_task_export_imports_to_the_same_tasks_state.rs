//! Exporting the state while tasks are in flight (one committing, one awaiting delivery, one
//! delivered) and importing the export gives back every `tasks/` key byte for byte: the tasks,
//! their status, client and operator indexes, the due and prune queues, the reserved units, the
//! result records, the block roots, the id counter and the unit price; and the escrow balance.

use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::TestChain;
use nodeop_driver::tasks::{commit, exact_task, TaskGenesis, NOP};

fn tasks_keys(chain: &TestChain) -> Vec<(Vec<u8>, Vec<u8>)> {
    chain.raw_under(b"tasks/")
}

#[test]
fn a_mid_task_export_imports_to_the_same_tasks_state() {
    let mut net = TaskGenesis::new(5, 10).start();
    let delivered = net.post(exact_task(Consistency::Session, NOP));
    net.play_honest(delivered, b"one");
    let sub = net.task(delivered).submission.expect("schedule");
    let submitter = net.key(&sub.schedule[0]).clone();
    assert!(net
        .run(&submitter, Msg::confirm_submission(delivered, "ref-1"))
        .is_ok());
    let awaiting = net.post(exact_task(Consistency::Eventual, NOP));
    net.play_honest(awaiting, b"two");
    let committing = net.post(exact_task(Consistency::Session, 2 * NOP));
    let member = net.members(committing)[0].clone();
    let r = net.run(&member, commit(committing, &member.address, b"three"));
    assert!(r.is_ok(), "{}", r.log);
    assert_eq!(net.task(delivered).status, TaskStatus::Delivered);
    assert_eq!(net.task(awaiting).status, TaskStatus::Finalized);
    assert_eq!(net.task(committing).status, TaskStatus::Assigned);

    let (_, _, exported) = net.chain.app.export().expect("export");
    let json = serde_json::to_vec(&exported).expect("encodes");
    let reimported: nodeop_app::genesis::AppState = serde_json::from_slice(&json).expect("decodes");
    assert!(reimported.problems("nodeop-test").is_empty());
    let copy = TestChain::start(&reimported);
    assert_eq!(tasks_keys(&copy), tasks_keys(&net.chain));
    let escrow = nodeop_app::modules::bank::TASK_ESCROW.address();
    assert_eq!(copy.balance(&escrow), net.chain.balance(&escrow));
    assert!(copy.balance(&escrow) > 0);
}
