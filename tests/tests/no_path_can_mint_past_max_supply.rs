//! No path can mint past `max_supply`. Statically: the only calls of `bank::mint` in the state
//! machine are issuance's period mint and its vesting claim. Dynamically (a property test with a
//! recorded seed): on a chain whose cap leaves little room, random task revenue, vesting claims by
//! two beneficiaries, tokens sent to the reward pool, double-sign slashes (which burn, making
//! room again) and time jumps over many periods never take the supply past the cap; every period
//! record keeps `minted + clipped = due` and reaches the cap exactly when it clips; a vesting
//! claim is refused (`vesting_past_max_supply`) exactly when it would pass the cap, and then
//! changes nothing.

use std::path::Path;

use nodeop_app::modules::bank::genesis::GenesisAccount;
use nodeop_app::modules::tasks::Consistency;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::{consensus_key, Key};
use nodeop_driver::issuance::{records, schedule, task_genesis, vesting, GENESIS_TIME};
use nodeop_driver::tasks::{exact_task, NOP};
use proptest::prelude::*;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_issuance_calls_bank_mint() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut callers = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("mint(") && !code.contains("fn mint(") {
                let rel = f.strip_prefix(&src).unwrap().display().to_string();
                callers.push(format!("{rel}:{}", i + 1));
            }
        }
    }
    assert!(!callers.is_empty());
    for c in &callers {
        assert!(
            c.starts_with("modules/issuance/component.rs:")
                || c.starts_with("modules/issuance/handler.rs:"),
            "a mint outside issuance: {c} (all: {callers:?})"
        );
    }
    let text = std::fs::read_to_string(src.join("modules/bank/handler.rs")).unwrap();
    assert!(
        text.contains("if total > s.max_supply"),
        "bank::mint checks the cap"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Task { fee: u128 },
    Claim { who: usize },
    Feed { amount: u128 },
    DoubleSign { who: usize },
    Jump { seconds: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u128..40).prop_map(|f| Op::Task { fee: f * NOP }),
        3 => (0..2usize).prop_map(|who| Op::Claim { who }),
        1 => (1u128..5).prop_map(|a| Op::Feed { amount: a * NOP }),
        1 => (1..4usize).prop_map(|who| Op::DoubleSign { who }),
        2 => (1i64..200).prop_map(|seconds| Op::Jump { seconds }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00ca_9ed5),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_path_can_mint_past_max_supply(
        room in 0u128..60,
        vest in (0u128..30, 0u128..30, 0i64..60, 0i64..60, 0i64..200),
        ops in proptest::collection::vec(op(), 1..12),
    ) {
        let (a, b, start, cliff, extra) = vest;
        let (a, b) = ((a * NOP).min(room * NOP) + 1, (b * NOP).min(room * NOP) / 2 + 1);
        let beneficiaries = [Key::from_seed("vest-a"), Key::from_seed("vest-b")];
        let mut g = task_genesis(4, 3, 24);
        for k in &beneficiaries {
            g.state.bank.accounts.push(GenesisAccount { address: k.address, balance: 5 * NOP, nonce: 0 });
        }
        let balances: u128 = g.state.bank.accounts.iter().map(|x| x.balance).sum::<u128>()
            + g.state.bank.module_accounts.iter().map(|m| m.balance).sum::<u128>();
        g.state.bank.max_supply = balances + room * NOP + a + b;
        g.state.issuance.vesting.push(schedule(&beneficiaries[0].address, a, GENESIS_TIME + start, cliff, cliff + extra));
        g.state.issuance.vesting.push(schedule(&beneficiaries[1].address, b, GENESIS_TIME, 0, extra));
        let mut net = g.start();
        let max = net.chain.supply().max_supply;
        for op in ops {
            match op {
                Op::Task { fee } => {
                    let id = net.post(exact_task(Consistency::Eventual, fee));
                    net.finalize_honestly(id, b"42");
                }
                Op::Claim { who } => {
                    let k = beneficiaries[who].clone();
                    let before = vesting(&net.chain, &k.address);
                    let supply = net.chain.supply().total_supply;
                    let out = net.run(&k, Msg::claim_vested());
                    let after = vesting(&net.chain, &k.address);
                    if out.is_ok() {
                        prop_assert!(after.claimed > before.claimed);
                        prop_assert!(net.chain.supply().total_supply <= max);
                    } else {
                        prop_assert_eq!(&after, &before, "a refused claim changes nothing");
                        if out.log.starts_with("vesting_past_max_supply") {
                            // refused only when the claimable amount did not fit
                            let claimable = after.claimable_at(net.chain.time.seconds);
                            prop_assert!(supply + claimable > max, "{}", out.log);
                        }
                    }
                }
                Op::Feed { amount } => {
                    let client = net.client.clone();
                    let out = net.run(&client, Msg::send(&nodeop_app::modules::bank::REWARD_POOL.address(), amount));
                    prop_assert!(out.is_ok(), "{}", out.log);
                }
                Op::DoubleSign { who } => {
                    let cons = consensus_key(&format!("task-op-{who}"));
                    if let Some(power) = net.chain.power_of(&cons, net.chain.height) {
                        let h = net.chain.height;
                        net.chain.report_double_sign(&cons, h, power);
                        net.chain.block(Vec::new());
                    }
                }
                Op::Jump { seconds } => {
                    net.chain.block_seconds = seconds;
                    net.chain.block(Vec::new());
                    net.chain.block_seconds = 1;
                }
            }
            let s = net.chain.supply();
            prop_assert!(s.total_supply <= s.max_supply);
            for r in records(&net.chain) {
                prop_assert_eq!(r.minted + r.clipped, r.due);
                prop_assert!(r.total_supply <= max);
                if r.clipped > 0 {
                    prop_assert_eq!(r.total_supply, max, "a clipped mint stops at the cap");
                }
            }
        }
    }
}
