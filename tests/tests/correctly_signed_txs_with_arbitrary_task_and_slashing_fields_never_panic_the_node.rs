//! Correctly signed txs whose task, vesting and slashing messages carry arbitrary field values
//! (ids that exist and ids that do not, any numbers, payloads, results, salts and references of
//! any size, fees up to u128::MAX) from the client, committee members and outsiders, mixed with
//! honest commits and reveals and with runs of empty blocks that cross every window. Mutated
//! bytes stop at the signature; these reach the message handlers. Never a panic; every refusal
//! in CheckTx and in a block carries a documented (codespace, code) and a log; the invariants of
//! every module hold after every block (the driver checks them); the chain keeps committing.

use nodeop_app::modules::issuance::MsgClaimVested;
use nodeop_app::modules::slashing::{
    Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute, Offence,
};
use nodeop_app::modules::tasks::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::tasks::{commit, reveal, TaskGenesis, TaskNet, NOP};
use nodeop_tests::codes::DocumentedCodes;
use proptest::prelude::*;

/// Who signs a step: the client, operator `i`, or an account nobody funded.
#[derive(Clone, Debug)]
enum Signer {
    Client,
    Operator(usize),
    Stranger,
}

#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // test inputs, built once each
enum Step {
    /// A tx with one message of arbitrary fields.
    Send(Signer, Msg),
    /// Every member of task `id` commits (and later reveals) `result` honestly.
    Honest { id: u64, result: Vec<u8> },
    /// Empty blocks.
    Wait(u64),
}

fn fee() -> impl Strategy<Value = u128> {
    prop_oneof![
        0u128..10,
        (1u128..100_000).prop_map(|f| f * 1_000),
        Just(1_000_000 * NOP),
        Just(u128::MAX),
        any::<u128>(),
    ]
}

fn small_id() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..6, 1 => any::<u64>()]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => proptest::collection::vec(any::<u8>(), 0..max),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}

fn post() -> impl Strategy<Value = Msg> {
    (
        prop_oneof![
            Just(TaskKind::Exact),
            (any::<u8>(), any::<u32>()).prop_map(|(scale, tolerance_ppm)| TaskKind::Numeric {
                scale,
                tolerance_ppm
            }),
        ],
        prop_oneof![
            Just(Consistency::Eventual),
            Just(Consistency::Session),
            Just(Consistency::Strong)
        ],
        prop_oneof![
            bytes(5_000).prop_map(TaskPayload::Inline),
            (any::<[u8; 32]>(), text(600))
                .prop_map(|(sha256, uri)| TaskPayload::Reference { sha256, uri }),
        ],
        prop_oneof![0u64..4, any::<u64>()],
        prop_oneof![0u32..600_000, any::<u32>()],
        fee(),
    )
        .prop_map(
            |(kind, consistency, payload, difficulty_units, min_reputation_ppm, fee)| {
                Msg::PostTask(MsgPostTask {
                    kind,
                    consistency,
                    payload,
                    difficulty_units,
                    min_reputation_ppm,
                    fee,
                })
            },
        )
}

/// A post a real client would send (so that tasks exist for the other messages to hit).
fn plausible_post() -> impl Strategy<Value = Msg> {
    (
        prop_oneof![
            Just(TaskKind::Exact),
            (0u8..6, 0u32..200_000).prop_map(|(scale, tolerance_ppm)| TaskKind::Numeric {
                scale,
                tolerance_ppm
            }),
        ],
        prop_oneof![
            3 => Just(Consistency::Eventual),
            3 => Just(Consistency::Session),
            1 => Just(Consistency::Strong)
        ],
        proptest::collection::vec(any::<u8>(), 1..64),
        1u64..3,
        (1u128..20).prop_map(|f| f * NOP),
    )
        .prop_map(|(kind, consistency, payload, difficulty_units, fee)| {
            Msg::PostTask(MsgPostTask {
                kind,
                consistency,
                payload: TaskPayload::Inline(payload),
                difficulty_units,
                min_reputation_ppm: 0,
                fee,
            })
        })
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        3 => plausible_post(),
        2 => post(),
        2 => (small_id(), any::<[u8; 32]>())
            .prop_map(|(task_id, commitment)| Msg::CommitResult(MsgCommitResult { task_id, commitment })),
        2 => (small_id(), bytes(3_000), any::<[u8; 32]>())
            .prop_map(|(task_id, result, salt)| Msg::RevealResult(MsgRevealResult { task_id, result, salt })),
        2 => (small_id(), text(200))
            .prop_map(|(task_id, target_ref)| Msg::ConfirmSubmission(MsgConfirmSubmission { task_id, target_ref })),
        1 => Just(Msg::ClaimVested(MsgClaimVested {})),
        1 => (small_id(), text(40))
            .prop_map(|(proposal, reason)| Msg::DisputeSlash(MsgDisputeSlash { proposal, reason })),
        1 => (small_id(), any::<bool>())
            .prop_map(|(proposal, uphold)| Msg::VoteDispute(MsgVoteDispute { proposal, uphold })),
        1 => (0usize..5, small_id(), prop_oneof![0u64..80, any::<u64>()])
            .prop_map(|(op, infraction_id, infraction_height)| (op, infraction_id, infraction_height))
            .prop_map(|(op, infraction_id, infraction_height)| {
                Msg::ProposeSlash(MsgProposeSlash {
                    // the operator's bech32 address is filled in when the step runs
                    operator: format!("#{op}"),
                    offence: Offence::FalseSubmission,
                    evidence: Evidence::Statement {
                        infraction_id,
                        infraction_height,
                        description: String::new(),
                        reference: String::new(),
                    },
                })
            }),
    ]
}

fn signer() -> impl Strategy<Value = Signer> {
    prop_oneof![
        3 => Just(Signer::Client),
        4 => (0usize..5).prop_map(Signer::Operator),
        1 => Just(Signer::Stranger),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (signer(), msg()).prop_map(|(s, m)| Step::Send(s, m)),
        3 => (1u64..8, prop_oneof![Just(vec![0u8; 8]), bytes(16)]).prop_map(|(id, result)| Step::Honest { id, result }),
        2 => (1u64..12).prop_map(Step::Wait),
    ]
}

fn key(net: &TaskNet, s: &Signer, stranger: &Key) -> Key {
    match s {
        Signer::Client => net.client.clone(),
        Signer::Operator(i) => net.operators[*i % net.operators.len()].clone(),
        Signer::Stranger => stranger.clone(),
    }
}

fn check_outcome(
    documented: &DocumentedCodes,
    r: &nodeop_app::app::TxOutcome,
) -> Result<(), TestCaseError> {
    documented.check(r).map_err(TestCaseError::fail)
}

proptest! {
    // A recorded seed: the same inputs on every run and machine.
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5167_7a5c),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_fields_get_documented_codes_and_never_panic(steps in proptest::collection::vec(step(), 10..50)) {
        let documented = DocumentedCodes::default();
        let mut net = TaskGenesis::new(5, 6).start();
        let stranger = Key::from_seed("stranger");
        // outcomes decided by a message handler (accepted, or refused by a module), as opposed to
        // the envelope (signature, nonce, fee): the inputs must reach the handlers
        let mut handled = 0usize;
        let mut sends = 0usize;
        for s in &steps {
            match s {
                Step::Send(who, m) => {
                    let signer = key(&net, who, &stranger);
                    let mut m = m.clone();
                    if let Msg::ProposeSlash(p) = &mut m {
                        let i: usize = p.operator.trim_start_matches('#').parse().unwrap_or(0);
                        p.operator = net.operators[i % net.operators.len()].address.to_bech32();
                    }
                    let tx = net.chain.tx(&signer, vec![m]);
                    let checked = net.chain.check(&tx);
                    check_outcome(&documented, &checked)?;
                    // a tx CheckTx refuses statelessly makes ProcessProposal refuse its block (no
                    // honest proposer includes it); the block is still executed as if a byzantine
                    // proposer's block had been accepted, and must not hurt the node
                    let accepted_block = net.chain.app.process_proposal(std::slice::from_ref(&tx));
                    if checked.is_ok() {
                        prop_assert!(accepted_block, "ProcessProposal refused a block of a tx CheckTx accepted");
                    }
                    let resp = net.chain.finalize_and_commit(vec![tx]);
                    let r = &resp.tx_results[0];
                    check_outcome(&documented, r)?;
                    sends += 1;
                    if r.is_ok() || ["tasks", "slashing", "issuance", "bank"].contains(&r.codespace.as_str()) {
                        handled += 1;
                    }
                }
                Step::Honest { id, result } => {
                    // commits in the next block, reveals once the reveal window opens; whatever
                    // state the task is in, the outcomes must be documented
                    let Some(task) = net.try_task(*id) else { continue };
                    let commit_end = task.current_round().commit_end;
                    let members = net.members(task.id);
                    let commits = members.iter().map(|k| (k.clone(), commit(task.id, &k.address, result))).collect();
                    for r in &net.block(commits).tx_results {
                        check_outcome(&documented, r)?;
                    }
                    net.run_to(commit_end);
                    let reveals = members.iter().map(|k| (k.clone(), reveal(task.id, &k.address, result))).collect();
                    for r in &net.block(reveals).tx_results {
                        check_outcome(&documented, r)?;
                    }
                }
                Step::Wait(n) => net.chain.empty_blocks(*n),
            }
        }
        // the chain goes on: a plain transfer still lands after everything above
        let client = net.client.clone();
        let to = net.operators[0].address;
        let tx = net.chain.send(&client, &to, 1);
        prop_assert!(net.chain.block(vec![tx]).tx_results[0].is_ok());
        prop_assert!(sends == 0 || handled > 0, "none of {} txs reached a message handler", sends);
    }
}
