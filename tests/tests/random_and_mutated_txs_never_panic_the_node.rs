//! Random bytes and mutations of valid txs (both envelopes) thrown at CheckTx, ProcessProposal and FinalizeBlock:
//! never a panic, every rejection carries a documented (codespace, code), and the supply
//! invariant holds after every block (the driver checks it).

use nodeop_app::tx::Msg;
use nodeop_driver::chain::{genesis, Key, TestChain};
use nodeop_tests::codes::DocumentedCodes;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate { at: usize },
    Insert { at: usize, byte: u8 },
    Overwrite { at: usize, bytes: Vec<u8> },
    Random(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..24)
        )
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(Mutation::Random),
    ]
}

fn apply(mut tx: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = tx.len().max(1);
    match m {
        Mutation::Flip { at, bit } => {
            let i = at % n;
            if let Some(b) = tx.get_mut(i) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Truncate { at } => tx.truncate(at % n),
        Mutation::Insert { at, byte } => tx.insert(at % (tx.len() + 1), *byte),
        Mutation::Overwrite { at, bytes } => {
            let i = at % n;
            for (j, b) in bytes.iter().enumerate() {
                if let Some(slot) = tx.get_mut(i + j) {
                    *slot = *b;
                }
            }
        }
        Mutation::Random(bytes) => return bytes.clone(),
    }
    tx
}

/// CheckTx of every tx, then ProcessProposal and one block of them all: every refusal, in
/// CheckTx or in the block, has a documented code and a log that says why.
fn check_then_execute(chain: &mut TestChain, block: Vec<Vec<u8>>) -> Result<(), TestCaseError> {
    let documented = DocumentedCodes::default();
    for tx in &block {
        documented
            .check(&chain.check(tx))
            .map_err(TestCaseError::fail)?;
    }
    let _ = chain.app.process_proposal(&block);
    let resp = chain.finalize_and_commit(block);
    for r in &resp.tx_results {
        documented.check(r).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

proptest! {
    // A recorded seed: the same inputs on every run and machine (PROPTEST_RNG_SEED overrides it
    // for exploration).
    #![proptest_config(ProptestConfig {
        cases: 96,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6e6f_6465_6f70),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_txs_get_documented_codes_and_never_panic(mutations in proptest::collection::vec(mutation(), 1..24)) {
        let alice = Key::from_seed("alice");
        let bob = Key::from_seed("bob");
        let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000_000), (bob.address, 1_000_000)]));
        let mut block = Vec::new();
        for (i, m) in mutations.iter().enumerate() {
            let valid = chain.send_with_nonce(&alice, i as u64, &bob.address, 1 + i as u128);
            let tx = apply(valid, m);
            block.push(tx);
        }
        check_then_execute(&mut chain, block)?;
        // the chain goes on
        let next = chain.send(&bob, &alice.address, 1);
        prop_assert!(chain.block(vec![next]).tx_results[0].is_ok());
    }

    /// The same for the Cosmos envelope: mutations of valid `TxRaw`s (a Cosmos MsgSend and a
    /// nodeop message), and random bytes that start like one (`0x0a`, `0x12` or `0x1a`, then
    /// a non-zero byte), so that the protobuf decoder gets every kind of damage.
    #[test]
    fn mutated_cosmos_txs_get_documented_codes_and_never_panic(mutations in proptest::collection::vec(mutation(), 1..24), lead in prop_oneof![Just(0x0au8), Just(0x12u8), Just(0x1au8)]) {
        let alice = Key::from_seed("alice");
        let bob = Key::from_seed("bob");
        let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000_000_000), (bob.address, 1_000_000)]));
        let params = chain.params();
        let mut block = Vec::new();
        for (i, m) in mutations.iter().enumerate() {
            let nonce = i as u64;
            let valid = if i % 2 == 0 {
                alice.cosmos_tx(&chain.chain_id, &params, nonce, &[Msg::send(&bob.address, 1 + i as u128)])
            } else {
                let send = nodeop_app::cosmos::cosmos_send(&alice.address, &bob.address, 1 + i as u128);
                alice.cosmos_tx_of(&chain.chain_id, &params, nonce, vec![send])
            };
            let mut tx = apply(valid, m);
            if let Mutation::Random(_) = m {
                tx.splice(0..tx.len().min(2), [lead, 0x40]);
            }
            block.push(tx);
        }
        check_then_execute(&mut chain, block)?;
        let next = chain.cosmos_tx(&bob, &[Msg::send(&alice.address, 1)]);
        prop_assert!(chain.block(vec![next]).tx_results[0].is_ok());
    }

    #[test]
    fn arbitrary_query_paths_data_and_heights_never_panic(path in "[ -~]{0,60}|[0-9a-z=&/?_]{0,40}", data in proptest::collection::vec(any::<u8>(), 0..64), height in any::<u64>(), prove in any::<bool>()) {
        let alice = Key::from_seed("alice");
        let mut chain = TestChain::start(&genesis(&[(alice.address, 1_000)]));
        chain.empty_blocks(2);
        let routes = [
            path.clone(),
            format!("/account/{path}"),
            "/store".to_string(),
            "/supply".to_string(),
            format!("/staking/{path}"),
            format!("/slashing/{path}"),
            format!("/tasks/{path}"),
            format!("/tasks/task/{path}"),
            format!("/tasks/list?{path}"),
            format!("/tasks/result/{path}"),
            format!("/reputation/operator/{path}"),
            format!("/issuance/{path}"),
            format!("/issuance/period/{path}"),
            format!("/issuance/periods?{path}"),
            format!("/cosmos.{path}"),
            "/cosmos.auth.v1beta1.Query/Account".to_string(),
            "/cosmos.bank.v1beta1.Query/Balance".to_string(),
            "/cosmos.bank.v1beta1.Query/AllBalances".to_string(),
            "/cosmos.tx.v1beta1.Service/Simulate".to_string(),
        ];
        for p in routes {
            let r = chain.query(&p, &data, height % 5, prove);
            if r.code != 0 {
                prop_assert_eq!(r.codespace.as_str(), "query");
                prop_assert!(!r.log.is_empty());
            }
            let _ = chain.query(&p, &data, height, prove);
        }
    }
}

/// The `nodeop-fuzz` binary on a short budget (the long run is in the README): no panic, no
/// undocumented code, invariants after every block, many distinct codes reached; and with one
/// code treated as undocumented it fails and writes a reproducer, so the checker is live.
#[test]
fn the_fuzzer_on_a_short_budget_finds_no_panic_and_no_undocumented_code() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nodeop-fuzz"))
            .args(["--cases", "4000", "--seed", "16", "--out"])
            .arg(dir.path())
            .args(extra)
            .output()
            .expect("nodeop-fuzz runs")
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("cases 4000 "), "{stdout}");
    assert!(stdout.contains("panics 0"), "{stdout}");
    let distinct: usize = stdout
        .split("distinct refusal codes ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count of distinct codes");
    assert!(
        distinct >= 40,
        "only {distinct} distinct codes reached: {stdout}"
    );
    for codespace in [
        "tx/",
        "bank/",
        "staking/",
        "slashing/",
        "tasks/",
        "issuance/",
        "coprocessors/",
        "query/",
    ] {
        assert!(
            stdout.contains(&format!(" {codespace}")),
            "no {codespace} code reached: {stdout}"
        );
    }

    let out = run(&["--forget", "tx/8"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("undocumented"), "{stderr}");
    let reproducer = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("nodeop-fuzz-failure-seed16-")
        })
        .expect("a reproducer file");
    let text = std::fs::read_to_string(reproducer.path()).unwrap();
    assert!(
        text.contains("(\"tx\", 8)") && text.contains("nodeop-fuzz --seed 16"),
        "{text}"
    );
}
