//! End to end, on a real 4-validator network: an account registers as an operator with
//! `nodeop tx staking register-operator`, bonding a fresh CometBFT consensus key (`cometbft
//! init`); CometBFT's own `/validators` lists that key from two blocks after the tx's block, with
//! the self-bond as its power. The new node never runs: its 4 000 NOP are 9 % of the power, so
//! the four running validators keep more than 2/3 and the chain goes on.

use std::process::Command;
use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::{run_ok, COMMAND_TIMEOUT};
use nodeop_tests::testnet::{included_ok, Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-register";
const SELF_BOND_NOP: u64 = 4_000;

#[test]
fn a_registered_operator_joins_cometbfts_validator_set_two_blocks_after_its_block() {
    let started = Instant::now();
    let newcomer = Key::from_seed("e2e testnet newcomer operator");
    let newcomer_address = newcomer.address.to_bech32();
    let options = TestnetOptions::new(CHAIN_ID).fund(&newcomer_address, 10_000 * NOP);
    let mut net = Testnet::new("register", &options);
    net.start();

    // The newcomer's consensus key, made as an operator would for a new node.
    let newcomer_dir = net.dir.join("newcomer");
    let newcomer_cmt = newcomer_dir.join("cometbft");
    run_ok(
        Command::new(&net.bins.cometbft)
            .args(["init", "--home"])
            .arg(&newcomer_cmt),
        COMMAND_TIMEOUT,
    );
    let key_file = newcomer_cmt.join("config").join("priv_validator_key.json");
    let key: Value = serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap())
        .expect("priv_validator_key.json is JSON");
    let consensus_address = key["address"].as_str().unwrap().to_uppercase();
    let client = newcomer_dir.join("client");
    let out = net.v(0).cli_as(
        &client,
        &[
            "keys",
            "import",
            "newcomer",
            "--secret-hex",
            &hex::encode(newcomer.secret_bytes()),
        ],
    );
    assert!(out.success(), "keys import:\n{}", out.describe());

    let out = net.v(0).cli_as(
        &client,
        &[
            "tx",
            "staking",
            "register-operator",
            "newcomer",
            "--consensus-key-file",
            &key_file.to_string_lossy(),
            "--moniker",
            "newcomer",
            "--self-bond",
            &format!("{SELF_BOND_NOP}nop"),
        ],
    );
    let h = included_ok("register-operator", &out);
    eprintln!("register-operator included in block {h}");

    net.wait_for_height(0, h + 2, Duration::from_secs(60));
    let has_newcomer = |set: &[(String, u64)]| {
        set.iter()
            .find(|(a, _)| *a == consensus_address)
            .map(|(_, p)| *p)
    };
    let set_before = net.v(0).cometbft_validators(Some(h + 1)).unwrap();
    assert_eq!(
        has_newcomer(&set_before),
        None,
        "CometBFT applies a validator update two blocks after its block, not one: {set_before:?}"
    );
    assert_eq!(set_before.len(), 4, "{set_before:?}");
    let set_after = net.v(0).cometbft_validators(Some(h + 2)).unwrap();
    assert_eq!(
        has_newcomer(&set_after),
        Some(SELF_BOND_NOP),
        "the newcomer with its self-bond as power in /validators?height={}: {set_after:?}",
        h + 2
    );
    assert_eq!(set_after.len(), 5, "{set_after:?}");
    assert_eq!(net.operator_status(0, &newcomer_address).unwrap(), "bonded");

    // The chain goes on without the newcomer's node, and every node sees the same set.
    let top = net.wait_for_height(0, h + 5, Duration::from_secs(60));
    for i in 0..4 {
        net.wait_for_height(i, top, Duration::from_secs(60));
        let set = net.v(i).cometbft_validators(Some(top)).unwrap();
        assert_eq!(set, set_after, "node{i}'s /validators?height={top}");
    }
    eprintln!(
        "e2e_testnet register-operator: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
