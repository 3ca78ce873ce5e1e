//! End to end, with real processes: `nodeop-load genesis` funds 40 accounts in a one-validator
//! chain's genesis, then `nodeop-load run` sends signed transfers from them for 5 s at 100 tx/s
//! and reads the blocks back. Its JSON report must show committed txs, every accepted tx
//! executed with code 0, and no account whose nonce stopped short of its accepted txs.
//!
//! `nodeop-load` is the binary beside `nodeopd` (built by `cargo build --workspace --bins`, which
//! scripts/test.sh and scripts/setup.sh run).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nodeop_tests::net::{run, run_ok, Node};

const ACCOUNTS: &str = "40";
const SEED: &str = "e2e-load";

fn load_binary(node: &Node) -> PathBuf {
    let bin = node.bins.nodeopd.with_file_name("nodeop-load");
    assert!(
        bin.is_file(),
        "{} is missing — build it with: cargo build --workspace --bins (or scripts/setup.sh)",
        bin.display()
    );
    bin
}

#[test]
fn e2e_nodeop_load_commits_every_accepted_transfer() {
    let mut node = Node::init("load", "load-e2e");
    let load = load_binary(&node);
    run_ok(
        Command::new(&load)
            .args([
                "genesis",
                "--accounts",
                ACCOUNTS,
                "--seed",
                SEED,
                "--genesis",
            ])
            .arg(node.genesis_path()),
        Duration::from_secs(60),
    );
    node.validate_genesis();
    node.start();
    node.wait_for_height(2, Duration::from_secs(60));

    let json = node.dir().join("load.json");
    let out = run(
        Command::new(&load)
            .args(["run", "--rpc", &node.rpc_url(), "--mode", "nodeop"])
            .args([
                "--rate",
                "100",
                "--duration",
                "5",
                "--warmup",
                "1",
                "--drain",
                "30",
            ])
            .args(["--accounts", ACCOUNTS, "--seed", SEED, "--json"])
            .arg(&json),
        Duration::from_secs(180),
    );
    println!("{}", out.stdout);
    assert!(out.success(), "nodeop-load run failed:\n{}", out.describe());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("the JSON report parses");
    let n = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {report:#}"))
    };
    assert_eq!(n("tx_bytes"), 210, "{report:#}");
    assert!(n("accepted") > 0, "{report:#}");
    assert!(n("committed_in_window") > 0, "{report:#}");
    assert_eq!(n("accepted_not_executed"), 0, "{report:#}");
    assert_eq!(n("executed_with_error"), 0, "{report:#}");
    assert_eq!(n("stalled_accounts"), 0, "{report:#}");
    assert_eq!(n("nonce_mismatches"), 0, "{report:#}");
    assert_eq!(n("rpc_errors"), 0, "{report:#}");
    assert_eq!(n("committed_accepted"), n("accepted"), "{report:#}");
}
