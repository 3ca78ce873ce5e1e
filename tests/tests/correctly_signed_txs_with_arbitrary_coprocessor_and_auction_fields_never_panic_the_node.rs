//! Correctly signed coprocessor and auction messages with arbitrary fields (capacities,
//! collateral and prices from 0 to u128::MAX, monikers of any size, task and auction ids that
//! exist and that do not) from members, strangers, the client and coprocessors, mixed with
//! plausible tasks and auctions, winning coprocessors that answer rightly, wrongly or not at
//! all, and runs of empty blocks that cross every window. Never a panic; every refusal carries
//! a documented (codespace, code) and a log; every module's invariants (collateral, slots,
//! escrow, supply) hold after every block (the driver checks them); the chain keeps committing.

use nodeop_app::modules::coprocessors::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use nodeop_app::modules::tasks::{state as task_state, Consistency};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::coprocessors::{CoproGenesis, CoproNet};
use nodeop_driver::tasks::{commit, exact_task, reveal, NOP};
use nodeop_tests::codes::DocumentedCodes;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Signer {
    Client,
    Operator(usize),
    Coprocessor(usize),
    Stranger,
}

#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // test inputs, built once each
enum Step {
    Send(Signer, Msg),
    /// A plausible Session task.
    Post,
    /// Task `id`'s members (or their slots' buyers) commit and reveal; a buyer answers
    /// `wrong` instead when asked, or stays silent.
    Round {
        id: u64,
        wrong: bool,
        silent: bool,
    },
    /// Member `member` of task `id` auctions its slot and coprocessor `buyer` bids next block;
    /// then, with `play`, the round is played at once (the buyer right or wrong).
    Sell {
        id: u64,
        member: usize,
        buyer: usize,
        play: Option<bool>,
    },
    Wait(u64),
}

fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![
        0u128..10,
        (1u128..200).prop_map(|n| n * NOP),
        Just(u128::MAX),
        any::<u128>(),
    ]
}

fn small_id() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..6, 1 => any::<u64>()]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        1 => (prop_oneof![0u64..8, any::<u64>()], amount(), text(80)).prop_map(|(capacity_units, collateral, moniker)| {
            MsgRegisterCoprocessor { capacity_units, collateral, moniker }.into()
        }),
        1 => (proptest::option::of(prop_oneof![0u64..8, any::<u64>()]), proptest::option::of(text(80)))
            .prop_map(|(capacity_units, moniker)| MsgEditCoprocessor { capacity_units, moniker }.into()),
        1 => amount().prop_map(|amount| MsgAddCollateral { amount }.into()),
        1 => amount().prop_map(|amount| MsgWithdrawCollateral { amount }.into()),
        3 => (small_id(), amount(), amount()).prop_map(|(task_id, start_price, floor_price)| {
            MsgOpenAuction { task_id, start_price, floor_price }.into()
        }),
        3 => (1u64..6, 1u128..15).prop_map(|(task_id, start)| {
            MsgOpenAuction { task_id, start_price: start * NOP, floor_price: NOP }.into()
        }),
        4 => small_id().prop_map(|auction_id| MsgBid { auction_id }.into()),
    ]
}

fn signer() -> impl Strategy<Value = Signer> {
    prop_oneof![
        1 => Just(Signer::Client),
        4 => (0usize..5).prop_map(Signer::Operator),
        4 => (0usize..3).prop_map(Signer::Coprocessor),
        1 => Just(Signer::Stranger),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (signer(), msg()).prop_map(|(s, m)| Step::Send(s, m)),
        2 => Just(Step::Post),
        2 => (1u64..6, any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(id, wrong, silent)| Step::Round { id, wrong, silent }),
        3 => (1u64..6, 0usize..3, 0usize..3, proptest::option::of(any::<bool>()))
            .prop_map(|(id, member, buyer, play)| Step::Sell { id, member, buyer, play }),
        2 => (1u64..12).prop_map(Step::Wait),
    ]
}

fn key(cn: &CoproNet, s: &Signer, stranger: &Key) -> Key {
    match s {
        Signer::Client => cn.net.client.clone(),
        Signer::Operator(i) => cn.net.operators[*i % cn.net.operators.len()].clone(),
        Signer::Coprocessor(i) => cn.coprocessors[*i % cn.coprocessors.len()].clone(),
        Signer::Stranger => stranger.clone(),
    }
}

fn check_outcome(
    documented: &DocumentedCodes,
    r: &nodeop_app::app::TxOutcome,
) -> Result<(), TestCaseError> {
    documented.check(r).map_err(TestCaseError::fail)
}

/// Task `id`'s members (or their slots' buyers) commit in the next block and reveal when the
/// reveal window opens; buyers answer wrongly with `wrong`, or stay silent.
fn play_round(
    cn: &mut CoproNet,
    documented: &DocumentedCodes,
    id: u64,
    wrong: bool,
    silent: bool,
) -> Result<(), TestCaseError> {
    let Some(task) = cn.net.try_task(id) else {
        return Ok(());
    };
    let round = task.current_round().clone();
    // who acts for each slot: the buyer of a sold slot, else the member
    let acting: Vec<(Key, nodeop_app::crypto::Address, bool)> = round
        .members
        .iter()
        .filter_map(|m| {
            let sale = task_state::slot(cn.net.chain.app.storage(), id, &m.operator);
            match sale.and_then(|s| s.coprocessor) {
                Some(c) => {
                    let k = cn.coprocessors.iter().find(|k| k.address == c)?.clone();
                    (!silent).then_some((k, m.operator, wrong))
                }
                None => Some((cn.net.key(&m.operator).clone(), m.operator, false)),
            }
        })
        .collect();
    let answer = |w: bool| {
        if w {
            b"wrong".to_vec()
        } else {
            b"right".to_vec()
        }
    };
    let commits = acting
        .iter()
        .map(|(k, m, w)| (k.clone(), commit(id, m, &answer(*w))))
        .collect();
    for r in &cn.net.block(commits).tx_results {
        check_outcome(documented, r)?;
    }
    cn.net.run_to(round.commit_end);
    let reveals = acting
        .iter()
        .map(|(k, m, w)| (k.clone(), reveal(id, m, &answer(*w))))
        .collect();
    for r in &cn.net.block(reveals).tx_results {
        check_outcome(documented, r)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 40,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xc0_9a0c),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_coprocessor_fields_get_documented_codes_and_never_panic(steps in proptest::collection::vec(step(), 10..50)) {
        let documented = DocumentedCodes::default();
        let mut cn = CoproGenesis::new(5, 6, 3)
            .registered_at_genesis(0, 3, 100 * NOP, 0)
            .registered_at_genesis(1, 2, 50 * NOP, 900_000)
            .start();
        let stranger = Key::from_seed("stranger");
        let mut handled = 0usize;
        for s in &steps {
            match s {
                Step::Send(who, m) => {
                    let signer = key(&cn, who, &stranger);
                    let tx = cn.net.chain.tx(&signer, vec![m.clone()]);
                    let checked = cn.net.chain.check(&tx);
                    check_outcome(&documented, &checked)?;
                    let accepted = cn.net.chain.app.process_proposal(std::slice::from_ref(&tx));
                    if checked.is_ok() {
                        prop_assert!(accepted);
                    }
                    let resp = cn.net.chain.finalize_and_commit(vec![tx]);
                    check_outcome(&documented, &resp.tx_results[0])?;
                    if resp.tx_results[0].is_ok() || ["coprocessors", "tasks"].contains(&resp.tx_results[0].codespace.as_str()) {
                        handled += 1;
                    }
                }
                Step::Post => {
                    let client = cn.net.client.clone();
                    let tx = cn.net.chain.tx(&client, vec![exact_task(Consistency::Session, 100 * NOP).into()]);
                    check_outcome(&documented, &cn.net.chain.block(vec![tx]).tx_results[0])?;
                }
                Step::Round { id, wrong, silent } => play_round(&mut cn, &documented, *id, *wrong, *silent)?,
                Step::Sell { id, member, buyer, play } => {
                    let Some(task) = cn.net.try_task(*id) else { continue };
                    let members = &task.current_round().members;
                    let seller = cn.net.key(&members[*member % members.len()].operator).clone();
                    let start = cn.expected_pay(*id) / 2;
                    let tx = cn.net.chain.tx(&seller, vec![MsgOpenAuction { task_id: *id, start_price: start, floor_price: 0 }.into()]);
                    let resp = cn.net.chain.block(vec![tx]);
                    check_outcome(&documented, &resp.tx_results[0])?;
                    if let Some(auction_id) = nodeop_driver::coprocessors::opened_id(&resp.tx_results[0]) {
                        let b = cn.coprocessors[*buyer].clone();
                        let tx = cn.net.chain.tx(&b, vec![MsgBid { auction_id }.into()]);
                        check_outcome(&documented, &cn.net.chain.block(vec![tx]).tx_results[0])?;
                    }
                    if let Some(wrong) = play {
                        play_round(&mut cn, &documented, *id, *wrong, false)?;
                    }
                }
                Step::Wait(n) => cn.net.chain.empty_blocks(*n),
            }
        }
        let client = cn.net.client.clone();
        let to = cn.net.operators[0].address;
        let tx = cn.net.chain.send(&client, &to, 1);
        prop_assert!(cn.net.chain.block(vec![tx]).tx_results[0].is_ok());
        prop_assert!(handled > 0);
    }
}
