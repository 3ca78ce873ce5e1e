//! A closed auction is kept as long as a finished task is: `task_retention` blocks after it
//! closes, its record, its bids and its index entries (by task, by member, by coprocessor) are
//! deleted, and a proved query then answers with its absence. An auction that expired while its
//! task still runs commit–reveal is kept until the task has finished (its record holds the slot
//! against a second auction), then pruned the same way.

use nodeop_app::modules::coprocessors::{keys, AuctionStatus};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::query::verify_proof;
use nodeop_app::records::Record;
use nodeop_driver::coprocessors::{bid, CoproGenesis, CoproNet};
use nodeop_driver::tasks::{commit, exact_task, reveal, NOP};

const RETENTION: u64 = 5;

/// Every key of the coprocessors module that names auction `id` (record, bids, indexes).
fn keys_of(cn: &CoproNet, id: u64) -> usize {
    let a = cn.auction(id);
    let mut n = 0;
    for k in [
        keys::auction(id),
        keys::by_task(a.task_id, &a.member),
        keys::by_member(&a.member, id),
    ] {
        n += cn.net.chain.raw_under(&k).len();
    }
    if let Some(w) = a.winner {
        n += cn.net.chain.raw_under(&keys::by_coprocessor(&w, id)).len();
    }
    n + cn.net.chain.raw_under(&keys::bid_prefix(id)).len()
}

fn gone(cn: &CoproNet, id: u64, task: u64, member: &nodeop_app::crypto::Address) -> bool {
    cn.net.chain.raw_under(&keys::auction(id)).is_empty()
        && cn.net.chain.raw_under(&keys::bid_prefix(id)).is_empty()
        && cn
            .net
            .chain
            .raw_under(&keys::by_task(task, member))
            .is_empty()
        && cn
            .net
            .chain
            .raw_under(&keys::by_member(member, id))
            .is_empty()
}

#[test]
fn closed_auctions_and_their_bids_are_pruned_after_task_retention() {
    let mut g = CoproGenesis::new(4, 10, 2);
    g.tasks.state.tasks.params.task_retention = RETENTION;
    let mut cn = g.start();
    cn.register(0, 4, 100 * NOP);
    cn.register(1, 4, 100 * NOP);
    let (c0, c1) = (cn.coprocessors[0].clone(), cn.coprocessors[1].clone());

    // task 1: two bids in one block, one winner, the slot executed and paid
    let t1 = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(t1);
    let (seller, b, c) = (m[0].clone(), m[1].clone(), m[2].clone());
    let a1 = cn.open(&seller, t1, 10 * NOP, 2 * NOP);
    let resp = cn
        .net
        .block(vec![(c0.clone(), bid(a1)), (c1.clone(), bid(a1))]);
    assert!(resp.tx_results.iter().all(|r| r.is_ok()));
    let winner = cn.auction(a1).winner.expect("a winner");
    let wk = if winner == c0.address { &c0 } else { &c1 }.clone();
    assert_eq!(cn.net.chain.raw_under(&keys::bid_prefix(a1)).len(), 2);
    let answer = b"the answer".to_vec();
    cn.net.block_ok(vec![
        (wk.clone(), commit(t1, &seller.address, &answer)),
        (b.clone(), commit(t1, &b.address, &answer)),
        (c.clone(), commit(t1, &c.address, &answer)),
    ]);

    // task 2: an auction nobody bids on expires early in the commit window; then the members
    // commit themselves
    let t2 = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m2 = cn.net.members(t2);
    let seller2 = m2[0].clone();
    let a2 = cn.open(&seller2, t2, 10 * NOP, 2 * NOP);
    cn.net.run_to(cn.auction(a2).expires_height);
    let e2 = cn.auction(a2);
    assert_eq!(e2.status, AuctionStatus::Expired);
    let closed2 = e2.closed_height.unwrap();
    cn.net.block_ok(
        m2.iter()
            .map(|k| (k.clone(), commit(t2, &k.address, &answer)))
            .collect(),
    );

    // task 1 finalizes: its auction is paid and closed
    let end1 = cn.net.task(t1).current_round().commit_end;
    cn.net.run_to(end1);
    cn.net.block_ok(vec![
        (wk.clone(), reveal(t1, &seller.address, &answer)),
        (b.clone(), reveal(t1, &b.address, &answer)),
        (c.clone(), reveal(t1, &c.address, &answer)),
    ]);
    assert_eq!(cn.net.task(t1).status, TaskStatus::Finalized);
    let closed1 = cn
        .auction(a1)
        .closed_height
        .expect("closed at the slot's close");
    assert_eq!(closed1, cn.net.chain.height);
    assert_eq!(cn.auction(a1).status, AuctionStatus::Paid);
    assert_eq!(
        keys_of(&cn, a1),
        6,
        "record, by_task, by_member, by_coprocessor, 2 bids"
    );

    // the expired auction outlives closed + retention while task 2 still runs commit–reveal
    cn.net.run_to(closed2 + RETENTION);
    assert_eq!(cn.net.task(t2).status, TaskStatus::Assigned);
    assert_eq!(
        cn.auction(a2).status,
        AuctionStatus::Expired,
        "kept while its task runs"
    );
    let reveal_end = cn.net.task(t2).current_round().reveal_end;
    assert!(cn.net.chain.height < reveal_end);
    cn.net.block_ok(
        m2.iter()
            .map(|k| (k.clone(), reveal(t2, &k.address, &answer)))
            .collect(),
    );
    assert_eq!(cn.net.task(t2).status, TaskStatus::Finalized);
    let finished2 = cn.net.chain.height;

    // the paid auction goes at the end of exactly closed + retention
    assert!(cn.net.chain.height < closed1 + RETENTION);
    let pruned1 = run_until_gone(&mut cn, a1, t1, &seller.address);
    assert_eq!(pruned1, closed1 + RETENTION);
    assert!(cn
        .net
        .chain
        .raw_under(&keys::by_coprocessor(&winner, a1))
        .is_empty());
    let root = cn.net.chain.app_hash();
    let q = cn
        .net
        .chain
        .query(&Record::Auction(a1).path(), &[], 0, true);
    assert_eq!(q.code, 0, "{}", q.log);
    assert!(q.value.is_empty(), "a pruned auction is proved absent");
    verify_proof(&q.proof_ops[0], &root, &keys::auction(a1), None).unwrap();
    // the coprocessor record and its collateral are untouched
    let cp = cn.coprocessor(&winner);
    assert_eq!((cp.locked_collateral, cp.reserved_units), (0, 0));
    assert_eq!(cp.free_collateral, 100 * NOP);

    // the expired one goes after its task finished, within one more retention
    let pruned2 = run_until_gone(&mut cn, a2, t2, &seller2.address);
    assert!(
        pruned2 > finished2 && pruned2 <= finished2 + RETENTION,
        "{pruned2}"
    );
}

/// Runs blocks until auction `id`'s keys are gone; returns that height (at most 50 blocks).
fn run_until_gone(
    cn: &mut CoproNet,
    id: u64,
    task: u64,
    member: &nodeop_app::crypto::Address,
) -> u64 {
    for _ in 0..50 {
        if gone(cn, id, task, member) {
            return cn.net.chain.height;
        }
        cn.net.chain.block(Vec::new());
    }
    panic!("auction {id} was never pruned");
}
