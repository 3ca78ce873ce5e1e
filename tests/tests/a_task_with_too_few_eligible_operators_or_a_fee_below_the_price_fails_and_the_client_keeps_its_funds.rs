//! PostTask fails, and the client keeps everything but the tx fee, when the fee is below
//! `difficulty × unit price` (a zero fee is refused before any block, costing nothing), when fewer operators than the committee size are eligible (too
//! few operators, a reputation floor nobody meets, a difficulty above every free capacity), or
//! when capacity is used up by open tasks. A fee of exactly the price is accepted.

use nodeop_app::modules::tasks::{Consistency, MsgPostTask, TasksError};
use nodeop_app::tx::Msg;
use nodeop_driver::tasks::{assert_refused, exact_task, tx_fee, TaskGenesis, TaskNet, NOP};

fn not_enough() -> TasksError {
    TasksError::NotEnoughEligible {
        needed: 0,
        eligible: 0,
        min_reputation_ppm: 0,
        difficulty: 0,
    }
}

/// Sends the post in one block; asserts it was refused with `expected` and that the client paid
/// only the tx fee and nothing was escrowed or recorded.
fn refused(net: &mut TaskNet, msg: MsgPostTask, expected: &TasksError) {
    let client = net.client.clone();
    let before = net.balance(&client.address);
    let escrow = net.module_balance("task_escrow");
    let tx = net.chain.tx(&client, vec![Msg::from(msg)]);
    let fee = tx_fee(&tx);
    let resp = net.chain.block(vec![tx]);
    assert_refused(&resp.tx_results[0], expected);
    assert_eq!(
        net.balance(&client.address),
        before - fee,
        "the client lost more than the tx fee"
    );
    assert_eq!(net.module_balance("task_escrow"), escrow);
}

#[test]
fn a_fee_below_the_price_fails_and_the_price_itself_is_enough() {
    let mut net = TaskGenesis::new(3, 10).start();
    let mut msg = exact_task(Consistency::Session, 0);
    msg.difficulty_units = 3;
    msg.fee = net.min_fee(3) - 1;
    refused(
        &mut net,
        msg.clone(),
        &TasksError::FeeBelowPrice {
            fee: 0,
            difficulty: 0,
            unit_price: 0,
            required: 0,
        },
    );
    // no fee at all is malformed: refused at CheckTx, so it never reaches a block or costs a fee
    msg.fee = 0;
    let before = net.balance(&net.client.address);
    let tx = net
        .chain
        .tx(&net.client.clone(), vec![Msg::from(msg.clone())]);
    assert_refused(
        &net.chain.check(&tx),
        &TasksError::InvalidField {
            field: "fee",
            reason: String::new(),
        },
    );
    assert!(!net.chain.app.process_proposal(&[tx]));
    assert_eq!(net.balance(&net.client.address), before);
    // exactly difficulty × the price in force for the block
    msg.fee = net.min_fee(3);
    let id = net.post(msg.clone());
    assert_eq!(net.task(id).fee, msg.fee);
    assert_eq!(net.module_balance("task_escrow"), msg.fee);
}

#[test]
fn too_few_eligible_operators_fails() {
    let mut net = TaskGenesis::new(4, 2).start();
    // a Strong committee needs 7; there are 4 operators
    refused(
        &mut net,
        exact_task(Consistency::Strong, NOP),
        &not_enough(),
    );
    // nobody has a reputation of 100 %
    let mut msg = exact_task(Consistency::Eventual, NOP);
    msg.min_reputation_ppm = 1_000_000;
    refused(&mut net, msg, &not_enough());
    // nobody has 3 free units
    let mut msg = exact_task(Consistency::Eventual, NOP);
    msg.difficulty_units = 3;
    refused(&mut net, msg, &not_enough());
    assert!(net.try_task(1).is_none());

    // open tasks use up capacity: two Session tasks of 1 unit hold 6 of the 8 units, so no
    // three distinct operators have a free unit left for a third
    let a = net.post(exact_task(Consistency::Session, NOP));
    let b = net.post(exact_task(Consistency::Session, NOP));
    let free: Vec<u64> = net
        .operators
        .iter()
        .map(|k| 2 - net.reserved(&k.address))
        .collect();
    assert_eq!(free.iter().sum::<u64>(), 8 - 6);
    refused(
        &mut net,
        exact_task(Consistency::Session, NOP),
        &not_enough(),
    );
    assert_eq!(
        net.task(a).escrow + net.task(b).escrow,
        net.module_balance("task_escrow")
    );
}
