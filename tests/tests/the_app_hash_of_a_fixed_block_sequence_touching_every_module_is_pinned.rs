//! A pinned app hash: one fixed, seeded block sequence through the in-process driver that
//! touches every module — seeded transfers (bank), delegate, undelegate, edit and the unbonding
//! queue (staking), block signatures and task outcomes (reputation), a vesting claim, epochs and
//! issuance periods with payouts (issuance), a slash proposal disputed and voted on and another
//! left to execute (slashing), Session tasks committed, revealed and finalized (tasks), a
//! coprocessor registered, an auction opened, won and settled (coprocessors), plus garbage,
//! replayed and unfunded txs — must end at the app hash written below.
//!
//! Any change of encoding, key layout, rounding, hook or module order, event-independent
//! state, or of this sequence changes that hash and fails the test. That is the point: nothing
//! may change consensus by accident.
//!
//! To change consensus deliberately (a new field, a fixed rounding), make the change, run
//!   cargo test -p nodeop-tests --test the_app_hash_of_a_fixed_block_sequence_touching_every_module_is_pinned
//! read the new hash from the failure message, check that the change explains it (the
//! intermediate assertions below still pass), paste it into `PINNED_APP_HASH`, and say in the
//! commit message which consensus change moved it. A chain already running needs an upgrade
//! height for such a change.

use nodeop_app::crypto::Address;
use nodeop_app::modules::coprocessors::AuctionStatus;
use nodeop_app::modules::slashing::{Offence, ProposalStatus};
use nodeop_app::modules::staking::{MsgDelegate, MsgEditOperator, MsgUndelegate};
use nodeop_app::modules::tasks::{Consistency, TaskStatus};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{slash_msgs, Key};
use nodeop_driver::coprocessors::{bid, CoproGenesis};
use nodeop_driver::issuance::{
    enter_period, open_period, records, schedule, task_genesis, GENESIS_TIME,
};
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{commit, exact_task, reveal, NOP};

/// The app hash after the last block of [`run`]. See the module doc before changing it.
const PINNED_APP_HASH: &str = "272D2481EEB462C719181C086FC4C3E3734BC811CC1D6846B0DA63B0DB063425";

const SEED: u64 = 0x6e6f_6465_6f70_0016;

struct Outcome {
    height: u64,
    app_hash: [u8; 32],
    /// Keys whose value differs between the genesis state and the last one.
    changed: Vec<Vec<u8>>,
}

fn run() -> Outcome {
    let mut rng = Rng::new(SEED);
    let team = Key::from_seed("pinned team");
    let mut g = task_genesis(4, 2, 4);
    g.state.issuance.vesting.push(schedule(
        &team.address,
        1_000 * NOP + 7,
        GENESIS_TIME + 5,
        10,
        100,
    ));
    g.state
        .bank
        .accounts
        .push(nodeop_app::modules::bank::genesis::GenesisAccount {
            address: team.address,
            balance: 10 * NOP,
            nonce: 0,
        });
    let mut cn = CoproGenesis::with_tasks(g, 1).start();
    let ops = cn.net.operators.clone();
    let client = cn.net.client.clone();
    let copro = cn.coprocessors[0].clone();
    let genesis_state: std::collections::BTreeMap<_, _> = cn.net.chain.dump().into_iter().collect();
    let others: Vec<Address> = (0..8).map(|_| Address(rng.bytes::<20>())).collect();

    // bank: seeded transfers from the client and the operators, with garbage and a replay
    for _ in 0..6 {
        let mut txs = Vec::new();
        for k in std::iter::once(&client).chain(ops.iter()) {
            let to = others[rng.below(others.len() as u64) as usize];
            txs.push(
                cn.net
                    .chain
                    .send(k, &to, 1 + u128::from(rng.below(1_000_000))),
            );
        }
        txs.push(rng.bytes::<48>().to_vec());
        let replay = txs[0].clone();
        txs.push(replay);
        // garbage fails ProcessProposal; a block that holds it anyway must still execute
        cn.net.chain.finalize_and_commit(txs);
    }

    // staking: delegate, edit, undelegate (an unbonding entry that matures later)
    let op1 = ops[1].address.to_bech32();
    cn.net.block_ok(vec![(
        client.clone(),
        MsgDelegate {
            operator: op1.clone(),
            amount: 2_000 * NOP + u128::from(rng.below(1_000)),
        }
        .into(),
    )]);
    cn.net.block_ok(vec![
        (
            ops[2].clone(),
            MsgEditOperator {
                moniker: Some("pinned-op-2".into()),
                capacity_units: None,
                region: Some("us".into()),
                commission_ppm: Some(50_000),
            }
            .into(),
        ),
        (
            client.clone(),
            MsgUndelegate {
                operator: op1,
                amount: 500 * NOP,
            }
            .into(),
        ),
    ]);

    // coprocessors + tasks: a registered coprocessor buys a member's slot of a Session task,
    // answers for it with the other members, and is paid at finalization
    cn.register(0, 4, 100 * NOP);
    let id = cn.net.post(exact_task(Consistency::Session, 100 * NOP));
    let m = cn.net.members(id);
    let auction = cn.open(&m[0], id, 10 * NOP, 2 * NOP);
    let out = cn.net.run(&copro, bid(auction));
    assert!(out.is_ok(), "{}", out.log);
    let answer = b"pinned result".to_vec();
    cn.net.block_ok(vec![
        (copro.clone(), commit(id, &m[0].address, &answer)),
        (m[1].clone(), commit(id, &m[1].address, &answer)),
        (m[2].clone(), commit(id, &m[2].address, &answer)),
    ]);
    let round = cn.net.task(id).current_round().clone();
    cn.net.run_to(round.commit_end);
    cn.net.block_ok(vec![
        (copro.clone(), reveal(id, &m[0].address, &answer)),
        (m[1].clone(), reveal(id, &m[1].address, &answer)),
        (m[2].clone(), reveal(id, &m[2].address, &answer)),
    ]);
    assert_eq!(cn.net.task(id).status, TaskStatus::Finalized);
    assert_eq!(cn.auction(auction).status, AuctionStatus::Paid);
    // a second Session task, finalized honestly; and an Eventual one left to its deadline
    let id2 = cn.net.post(exact_task(Consistency::Session, 50 * NOP));
    cn.net.finalize_honestly(id2, b"second");
    let id3 = cn.net.post(exact_task(Consistency::Eventual, 30 * NOP));

    // issuance: the vesting claim, then two period boundaries (revenue, payouts, metrics)
    let claim = cn.net.run(&team, Msg::claim_vested());
    assert!(claim.is_ok(), "{}", claim.log);
    let period = open_period(&cn.net.chain).period;
    enter_period(&mut cn.net.chain, period + 1);
    enter_period(&mut cn.net.chain, period + 2);
    assert!(records(&cn.net.chain).len() >= 2, "period records");

    // slashing: one proposal disputed and voted down by the validators, one left to execute
    let r = cn.net.run(
        &client,
        slash_msgs::statement(&ops[3].address, Offence::FalseSubmission, id, 3),
    );
    assert!(r.is_ok(), "{}", r.log);
    let r = cn.net.run(
        &ops[3],
        Msg::dispute_slash(1, "the submission was delivered"),
    );
    assert!(r.is_ok(), "{}", r.log);
    cn.net.block(
        ops.iter()
            .take(3)
            .map(|k| (k.clone(), Msg::vote_dispute(1, false)))
            .collect(),
    );
    let r = cn.net.run(
        &client,
        slash_msgs::statement(&ops[2].address, Offence::FalseSubmission, id2, 4),
    );
    assert!(r.is_ok(), "{}", r.log);
    let deadline = cn.net.chain.proposal(2).deadline;
    cn.net.chain.run_until(deadline + 2);
    assert_eq!(cn.net.chain.proposal(2).status, ProposalStatus::Executed);
    assert_ne!(cn.net.chain.proposal(1).status, ProposalStatus::Pending);

    // a few more seeded transfers and empty blocks: the Eventual task expires, the unbonding
    // entry and the epochs move on
    for _ in 0..4 {
        let k = &ops[rng.below(ops.len() as u64) as usize];
        let to = others[rng.below(others.len() as u64) as usize];
        let tx = cn.net.chain.send(k, &to, 1 + u128::from(rng.below(1_000)));
        cn.net.chain.block(vec![tx]);
    }
    let period = open_period(&cn.net.chain).period;
    enter_period(&mut cn.net.chain, period + 1);
    let _ = cn.net.try_task(id3);
    let last: std::collections::BTreeMap<_, _> = cn.net.chain.dump().into_iter().collect();
    let changed = genesis_state
        .keys()
        .chain(last.keys())
        .filter(|k| genesis_state.get(*k) != last.get(*k))
        .cloned()
        .collect();
    Outcome {
        height: cn.net.chain.height,
        app_hash: cn.net.chain.app_hash(),
        changed,
    }
}

#[test]
fn the_app_hash_of_a_fixed_block_sequence_touching_every_module_is_pinned() {
    let a = run();
    // the sequence is deterministic within a process too
    let b = run();
    assert_eq!((a.height, a.app_hash), (b.height, b.app_hash));
    // every module's state moved
    for module in nodeop_app::modules::LAYERS.iter().flat_map(|l| l.iter()) {
        let prefix = format!("{module}/");
        let n = a
            .changed
            .iter()
            .filter(|k| k.starts_with(prefix.as_bytes()))
            .count();
        assert!(n > 0, "the sequence changes nothing under {prefix}");
    }
    assert_eq!(
        hex::encode_upper(a.app_hash),
        PINNED_APP_HASH,
        "the app hash after height {} changed: this build computes another state (or the \
         sequence changed). If the change is meant to alter consensus, update PINNED_APP_HASH \
         as the module doc says; otherwise find what changed the encoding, key layout or \
         rounding",
        a.height
    );
}
