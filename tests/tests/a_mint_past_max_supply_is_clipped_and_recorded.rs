//! A period mint that would take the supply past `max_supply` mints only up to the cap; the
//! period record keeps what was due, what was minted and what the cap clipped. Once the cap is
//! reached later periods mint nothing and record the whole amount as clipped, and a vesting claim
//! is refused with `issuance/4 vesting_past_max_supply` without losing anything: the schedule is
//! unchanged.

use nodeop_app::modules::issuance::IssuanceError;
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::tx::Msg;
use nodeop_driver::issuance::{
    enter_period, key, record, schedule, task_genesis, vesting, GENESIS_TIME,
};
use nodeop_driver::tasks::{exact_task, TaskNet, NOP};

fn settle(net: &mut TaskNet, fee: u128) -> u128 {
    let id = net.post(exact_task(Consistency::Session, fee));
    net.finalize_honestly(id, b"42");
    let t = net.task(id);
    t.fee - t.submission.expect("a submission schedule").submission_fee
}

#[test]
fn a_mint_past_max_supply_is_clipped_and_recorded() {
    let investor = key("investor");
    let mut g = task_genesis(4, 3, 24);
    g.state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: investor.address,
            balance: NOP,
            nonce: 0,
        });
    let balances: u128 = g
        .state
        .bank
        .accounts
        .iter()
        .map(|a| a.balance)
        .sum::<u128>()
        + g.state
            .bank
            .module_accounts
            .iter()
            .map(|m| m.balance)
            .sum::<u128>();
    // room for 3 NOP beyond the genesis balances, one of which the vesting schedule may claim
    g.state.bank.max_supply = balances + 3 * NOP;
    g.state
        .issuance
        .vesting
        .push(schedule(&investor.address, NOP, GENESIS_TIME, 0, 0));
    let mut net = g.start();
    let max = net.chain.supply().max_supply;

    // period 0: revenue R with R × 2 far past the 3 NOP of room
    let r = settle(&mut net, 5 * NOP);
    assert!(2 * r > 3 * NOP);
    let room = max - net.chain.supply().total_supply;
    assert_eq!(room, 3 * NOP);
    let resp = enter_period(&mut net.chain, 1);
    let rec = record(&net.chain, 0).expect("period 0 is recorded");
    assert_eq!(rec.due, 2 * r);
    assert_eq!(rec.minted, room);
    assert_eq!(rec.clipped, 2 * r - room);
    assert_eq!(rec.total_supply, max);
    assert_eq!(rec.paid_out + rec.to_treasury, room);
    let ev = resp
        .events
        .iter()
        .find(|e| e.kind == nodeop_app::modules::issuance::events::MINT)
        .expect("a mint event");
    assert_eq!(ev.get("clipped"), Some(rec.clipped.to_string().as_str()));
    assert_eq!(net.chain.supply().total_supply, max);

    // the vesting claim finds no room: refused, nothing claimed, nothing lost
    let before = net.balance(&investor.address);
    let out = net.run(&investor, Msg::claim_vested());
    let expected = IssuanceError::MaxSupplyReached {
        amount: 0,
        total: 0,
        max: 0,
    };
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("issuance", expected.code()),
        "{}",
        out.log
    );
    assert!(
        out.log.starts_with("vesting_past_max_supply"),
        "{}",
        out.log
    );
    assert_eq!(vesting(&net.chain, &investor.address).claimed, 0);
    assert!(
        net.balance(&investor.address) < before,
        "only the tx fee was paid"
    );

    // a later period with revenue mints nothing: all of it is clipped
    let r1 = settle(&mut net, 2 * NOP);
    enter_period(&mut net.chain, 2);
    let rec = record(&net.chain, 1).expect("period 1 is recorded");
    assert_eq!(rec.revenue, r1);
    assert_eq!(rec.minted, 0);
    assert_eq!(rec.clipped, rec.due);
    assert_eq!(rec.due, r1 * 1_958_333 / 1_000_000);
    assert_eq!(net.chain.supply().total_supply, max);
}
