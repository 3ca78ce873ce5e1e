//! A property test: random registrations, delegations, undelegations, unjails, transfers,
//! offline validators, double-sign evidence and time jumps over many blocks. The driver checks
//! every invariant after every block (bonded_pool == Σ pool tokens, unbonding_pool == Σ
//! entries, shares add up, the set reported to CometBFT == the top operators, supply); here we
//! also check that no value is created or lost: total supply only falls, by exactly what the
//! slashes burned.

use nodeop_app::crypto::Address;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{
    add_genesis_operator, consensus_key, genesis, genesis_operator, msgs, Key, TestChain,
};
use nodeop_driver::tasks::NOP;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Register {
        who: usize,
        bond: u128,
    },
    Delegate {
        who: usize,
        to: usize,
        amount: u128,
    },
    Undelegate {
        who: usize,
        from: usize,
        amount: u128,
    },
    Unjail {
        who: usize,
    },
    Send {
        who: usize,
        to: usize,
        amount: u128,
    },
    Offline {
        who: usize,
        blocks: u8,
    },
    DoubleSign {
        who: usize,
        back: u8,
    },
    Jump {
        seconds: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..6usize, 500u128..5_000).prop_map(|(who, b)| Op::Register { who, bond: b * NOP }),
        (0..6usize, 0..7usize, 1u128..3_000).prop_map(|(who, to, a)| Op::Delegate {
            who,
            to,
            amount: a * NOP
        }),
        (0..6usize, 0..7usize, 1u128..3_000).prop_map(|(who, from, a)| Op::Undelegate {
            who,
            from,
            amount: a * NOP
        }),
        (0..7usize).prop_map(|who| Op::Unjail { who }),
        (0..6usize, 0..6usize, 1u128..1_000).prop_map(|(who, to, a)| Op::Send {
            who,
            to,
            amount: a * NOP
        }),
        (0..7usize, 1u8..120).prop_map(|(who, blocks)| Op::Offline { who, blocks }),
        (0..7usize, 0u8..5).prop_map(|(who, back)| Op::DoubleSign { who, back }),
        (1u16..400).prop_map(|seconds| Op::Jump { seconds }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0005_7a4e),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_staking_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..40)) {
        let users: Vec<Key> = (0..6).map(|i| Key::from_seed(&format!("user-{i}"))).collect();
        let funded: Vec<(Address, u128)> = users.iter().map(|k| (k.address, 20_000 * NOP)).collect();
        let big = Key::from_seed("big");
        let mut g = genesis(&funded);
        add_genesis_operator(&mut g, &big.address, consensus_key("big"), "big", 50_000 * NOP);
        g.bank.accounts.push(nodeop_app::modules::bank::genesis::GenesisAccount { address: big.address, balance: 1_000 * NOP, nonce: 0 });
        let mut chain = TestChain::start(&g);
        let (op0, _) = genesis_operator();
        // operator index 6 is the genesis operator; 0..6 are users who may register
        let operator_address = |i: usize| if i == 6 { op0.address } else { users[i].address };
        let cons = |i: usize| if i == 6 { genesis_operator().1 } else { consensus_key(&format!("user-{i}")) };
        let mut burned_by_slashes: u128 = 0;
        let start_supply = chain.supply().total_supply;
        for op in ops {
            match op {
                Op::Register { who, bond } => { chain.run(&users[who], msgs::register(cons(who), &format!("u{who}"), bond)); }
                Op::Delegate { who, to, amount } => { chain.run(&users[who], Msg::delegate(&operator_address(to), amount)); }
                Op::Undelegate { who, from, amount } => { chain.run(&users[who], Msg::undelegate(&operator_address(from), amount)); }
                Op::Unjail { who } => {
                    let key = if who == 6 { op0.clone() } else { users[who].clone() };
                    chain.run(&key, Msg::unjail());
                }
                Op::Send { who, to, amount } => {
                    let tx = chain.send(&users[who], &users[to].address, amount);
                    chain.block(vec![tx]);
                }
                Op::Offline { who, blocks } => {
                    // never take the big validator offline, so blocks keep 2/3 of the power
                    chain.offline.insert(cons(who));
                    for _ in 0..blocks { chain.block(Vec::new()); }
                    chain.offline.clear();
                }
                Op::DoubleSign { who, back } => {
                    let height = chain.height.saturating_sub(u64::from(back)).max(1);
                    if let Some(power) = chain.power_of(&cons(who), height) {
                        chain.report_double_sign(&cons(who), height, power);
                        let resp = chain.block(Vec::new());
                        for e in resp.events.iter().filter(|e| e.kind == nodeop_app::modules::staking::events::SLASHED) {
                            burned_by_slashes += e.get("burned").unwrap().parse::<u128>().unwrap();
                        }
                    }
                }
                Op::Jump { seconds } => {
                    chain.block_seconds = i64::from(seconds);
                    chain.block(Vec::new());
                    chain.block_seconds = 1;
                }
            }
            prop_assert_eq!(chain.supply().total_supply + burned_by_slashes, start_supply);
            // the set CometBFT runs is never empty
            prop_assert!(!chain.cometbft_set_at(chain.height + 2).is_empty());
        }
    }
}
