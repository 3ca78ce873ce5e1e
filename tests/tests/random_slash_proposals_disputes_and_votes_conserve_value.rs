//! A property test: random reports, disputes, votes, undelegations and time over many blocks.
//! The driver checks every invariant after every block (Σ balances == supply; bonded_pool,
//! unbonding_pool and dispute_escrow match their records); here we also check that supply never
//! rises, that every proposal ends within dispute_window + vote_period, and that nothing takes
//! more than an operator had.

use nodeop_app::modules::slashing::Offence;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis_operator, slash_msgs, three_validators, Key, TestChain};
use nodeop_driver::tasks::NOP;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Report {
        reporter: usize,
        accused: usize,
        offence: u8,
        id: u8,
    },
    Dispute {
        accused: usize,
    },
    Vote {
        voter: usize,
        uphold: bool,
    },
    Undelegate {
        who: usize,
        amount: u128,
    },
    Delegate {
        who: usize,
        to: usize,
        amount: u128,
    },
    Wait {
        seconds: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..3usize, 0u8..4, 0u8..4).prop_map(|(reporter, accused, offence, id)| {
            Op::Report {
                reporter,
                accused,
                offence,
                id,
            }
        }),
        (0..3usize).prop_map(|accused| Op::Dispute { accused }),
        (0..3usize, any::<bool>()).prop_map(|(voter, uphold)| Op::Vote { voter, uphold }),
        (0..2usize, 1u128..4_000).prop_map(|(who, a)| Op::Undelegate {
            who,
            amount: a * NOP
        }),
        (0..2usize, 0..3usize, 1u128..2_000).prop_map(|(who, to, a)| Op::Delegate {
            who,
            to,
            amount: a * NOP
        }),
        (1u8..40).prop_map(|seconds| Op::Wait { seconds }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0005_1a54),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_slash_proposals_disputes_and_votes_conserve_value(ops in proptest::collection::vec(op(), 1..40)) {
        let users = [Key::from_seed("rita"), Key::from_seed("sam")];
        let (g, big, mid) = three_validators(&[(users[0].address, 10_000 * NOP), (users[1].address, 10_000 * NOP)]);
        let mut chain = TestChain::start(&g);
        let (op0, _) = genesis_operator();
        let validators = [op0, big, mid];
        let offences = [Offence::FalseSubmission, Offence::Performance, Offence::Byzantine, Offence::FalseSubmission];
        let mut supply = chain.supply().total_supply;
        for op in ops {
            match op {
                Op::Report { reporter, accused, offence, id } => {
                    let h = chain.height;
                    chain.run(&users[reporter], slash_msgs::statement(&validators[accused].address, offences[offence as usize], u64::from(id), h));
                }
                Op::Dispute { accused } => {
                    // the accused disputes its newest proposal (or a missing one: refused)
                    let id = (1..20)
                        .rev()
                        .find(|i| {
                            nodeop_app::modules::slashing::state::proposal(chain.app.storage(), *i)
                                .is_some_and(|p| p.operator == validators[accused].address)
                        })
                        .unwrap_or(1);
                    chain.run(&validators[accused], Msg::dispute_slash(id, "not me"));
                }
                Op::Vote { voter, uphold } => {
                    for id in 1..20 {
                        if let Some(p) = nodeop_app::modules::slashing::state::proposal(chain.app.storage(), id) {
                            if p.dispute.is_some() && p.status.is_open() {
                                chain.run(&validators[voter], Msg::vote_dispute(id, uphold));
                                break;
                            }
                        }
                    }
                }
                Op::Undelegate { who, amount } => { chain.run(&users[who], Msg::undelegate(&validators[0].address, amount)); }
                Op::Delegate { who, to, amount } => { chain.run(&users[who], Msg::delegate(&validators[to].address, amount)); }
                Op::Wait { seconds } => {
                    chain.block_seconds = i64::from(seconds);
                    chain.block(Vec::new());
                    chain.block_seconds = 1;
                }
            }
            let now = chain.supply().total_supply;
            prop_assert!(now <= supply, "supply rose from {supply} to {now}");
            supply = now;
        }
        // let every open proposal run out: dispute window + vote period (60 s on the devnet)
        chain.block_seconds = 61;
        chain.block(Vec::new());
        chain.block(Vec::new());
        for id in 1..40 {
            if let Some(p) = nodeop_app::modules::slashing::state::proposal(chain.app.storage(), id) {
                prop_assert!(!p.status.is_open(), "proposal {id} still {:?}", p.status);
                if let Some(out) = p.outcome {
                    prop_assert!(out.from_pool + out.from_unbonding <= p.amount);
                }
            }
        }
    }
}
