//! End to end, with real processes: a validator that takes a snapshot every 50 heights runs a
//! chain with transfers to height ≥ 200 (`NODEOP_E2E_STATESYNC_HEIGHT`, e.g. 500 for the long
//! run); a new node joins it by state sync (CometBFT's light client verifies the snapshot's app
//! hash, nodeopd checks every chunk and the rebuilt root). It must start from a snapshot, never
//! from genesis, reach the validator's app hash, follow the chain, answer proved queries at
//! heights after its snapshot and refuse heights below it. A third node then replays the same
//! chain from genesis, and the test prints both times to join.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_tests::net::{toml_set, wait_for, Node, NodeOptions};

const CHAIN_ID: &str = "nodeop-e2e-statesync";
const GENESIS_BALANCE: u128 = 1_000_000_000_000;
const SNAPSHOT_INTERVAL: u64 = 50;

fn target_height() -> u64 {
    std::env::var("NODEOP_E2E_STATESYNC_HEIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Broadcasts `count` transfers from each sender without waiting for them.
fn send_some(node: &Node, senders: &[Key], to: &Key, count: u64) {
    let params = node.tx_params();
    for (i, k) in senders.iter().enumerate() {
        let (_, nonce) = node
            .account(&k.address.to_bech32(), 0)
            .unwrap_or_else(|e| panic!("{e}"));
        for j in 0..count {
            let tx = k.send(
                CHAIN_ID,
                &params,
                nonce + j,
                &to.address,
                1 + i as u128 + u128::from(j),
            );
            let (code, log, _) = node.broadcast(&tx).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(code, 0, "CheckTx refused a valid transfer: {log}");
        }
    }
}

/// The snapshot heights on disk in `node`'s home.
fn snapshot_heights(node: &Node) -> Vec<u64> {
    let dir = node.home.join("app").join("data").join("snapshots");
    let mut hs: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    hs.sort_unstable();
    hs
}

/// A log without its ANSI colour codes.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

fn joining_node(name: &str, validator: &Node) -> Node {
    let options = NodeOptions {
        persistent_peers: vec![validator.p2p_address()],
        timeout_commit: "100ms",
        ..NodeOptions::default()
    };
    let node = Node::init_with(name, CHAIN_ID, &options);
    node.copy_genesis_from(validator);
    node
}

#[test]
fn a_node_joins_a_running_chain_by_state_sync_and_serves_proved_queries_after_its_snapshot() {
    let target = target_height();
    let senders: Vec<Key> = (0..2)
        .map(|i| Key::from_seed(&format!("e2e statesync sender {i}")))
        .collect();
    let recipient = Key::from_seed("e2e statesync recipient");

    let options = NodeOptions {
        timeout_commit: "100ms",
        ..NodeOptions::default()
    };
    let mut validator = Node::init_with("validator", CHAIN_ID, &options);
    for k in &senders {
        validator.add_genesis_account(&k.address.to_bech32(), GENESIS_BALANCE);
    }
    validator.validate_genesis();
    let app_toml = validator.home.join("app").join("app.toml");
    toml_set(
        &app_toml,
        "state_sync",
        "snapshot_interval",
        &SNAPSHOT_INTERVAL.to_string(),
    );
    // small chunks, so that a snapshot is many chunks
    toml_set(&app_toml, "state_sync", "snapshot_chunk_bytes", "4096");
    validator.start();
    validator.wait_for_height(2, Duration::from_secs(90));

    // a history with transfers spread over the chain
    while validator.height() < target {
        send_some(&validator, &senders, &recipient, 10);
        let h = validator.height();
        validator.wait_for_height(h + 5, Duration::from_secs(60));
    }
    let snapshot = wait_for(
        "a snapshot at or above the target height minus one interval",
        Duration::from_secs(120),
        || {
            snapshot_heights(&validator)
                .last()
                .copied()
                .filter(|&h| h + SNAPSHOT_INTERVAL >= target && h >= SNAPSHOT_INTERVAL)
        },
    );
    let kept = snapshot_heights(&validator);
    assert!(
        kept.len() <= 2,
        "snapshot_keep_recent = 2 keeps two: {kept:?}"
    );

    // The joining node trusts a recent header of the validator (as an operator would take it
    // from a block explorer or a friend) and fetches a snapshot from it.
    let mut joining = joining_node("statesync", &validator);
    let trust_height = snapshot - 5;
    let trust_hash = validator
        .rpc(&format!("/block?height={trust_height}"))
        .unwrap()["block_id"]["hash"]
        .as_str()
        .expect("block_id.hash")
        .to_string();
    let config = joining.cmt_home.join("config").join("config.toml");
    let rpc = format!("\"127.0.0.1:{0},127.0.0.1:{0}\"", validator.rpc_port);
    toml_set(&config, "statesync", "enable", "true");
    toml_set(&config, "statesync", "rpc_servers", &rpc);
    toml_set(
        &config,
        "statesync",
        "trust_height",
        &trust_height.to_string(),
    );
    toml_set(
        &config,
        "statesync",
        "trust_hash",
        &format!("\"{trust_hash}\""),
    );
    toml_set(&config, "statesync", "discovery_time", "\"5s\"");
    let sync_target = validator.height();
    let started = Instant::now();
    joining.start();
    joining.wait_for_height(sync_target, Duration::from_secs(180));
    let state_sync_time = started.elapsed();

    // it started from a snapshot: its block store begins after genesis, its app restored
    let status = joining.status().unwrap();
    let earliest: u64 = status["sync_info"]["earliest_block_height"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("earliest_block_height");
    assert!(
        earliest > SNAPSHOT_INTERVAL,
        "the joining node has blocks from {earliest}: it replayed instead of state syncing"
    );
    // blocks start right after the snapshot, which the app restored
    let restored = earliest - 1;
    assert!(
        restored >= SNAPSHOT_INTERVAL && restored.is_multiple_of(SNAPSHOT_INTERVAL),
        "restored height {restored}"
    );
    let log = without_colours(&std::fs::read_to_string(joining.logs.join("nodeopd.log")).unwrap());
    assert!(
        log.lines().any(|l| l.contains("state sync: state restored")
            && l.contains(&format!("height={restored} "))),
        "no restore of height {restored} in the joining node's log:\n{log}"
    );

    // the chain goes on; the joining node executes the new blocks to the validator's hashes
    send_some(&validator, &senders, &recipient, 5);
    let next = validator.height() + 5;
    validator.wait_for_height(next, Duration::from_secs(60));
    joining.wait_for_height(next, Duration::from_secs(60));
    for h in [restored + 1, restored + 2, next - 1] {
        assert_eq!(
            joining.computed_app_hash(h).unwrap(),
            validator.computed_app_hash(h).unwrap(),
            "app hash after block {h}"
        );
    }
    // the joining app's own latest answer is the hash in the validator's next header
    let (h, hash) = joining.app_info().unwrap();
    assert!(h >= next, "the joining app is at {h}");
    let validator_hash = wait_for(
        "the validator's next header",
        Duration::from_secs(30),
        || validator.header_app_hash(h + 1).ok(),
    );
    assert_eq!(hash, validator_hash, "app hash after block {h}");

    // proved queries at a height after the snapshot, verified by the CLI against header H+1
    let address = recipient.address.to_bech32();
    let height = (next - 2).to_string();
    let out = joining.cli(&["query", "account", &address, "--prove", "--height", &height]);
    assert!(
        out.success(),
        "proved query on the joining node: {}",
        out.describe()
    );
    let v = out.json()["verified"].clone();
    assert_eq!(v["exists"], true, "{v}");
    assert_eq!(v["height"].as_u64(), Some(next - 2), "{v}");
    assert_eq!(
        joining.account(&address, next - 2).unwrap(),
        validator.account(&address, next - 2).unwrap()
    );
    // below the snapshot there is no state: refused, never answered wrongly
    let below = joining.cli(&[
        "query",
        "account",
        &address,
        "--height",
        &(restored - 1).to_string(),
    ]);
    assert!(
        !below.success(),
        "a height below the snapshot answered: {}",
        below.describe()
    );

    // For comparison: a node that replays the same chain from genesis.
    let mut replaying = joining_node("replay", &validator);
    let replay_target = validator.height();
    let started = Instant::now();
    replaying.start();
    replaying.wait_for_height(replay_target, Duration::from_secs(300));
    let replay_time = started.elapsed();
    eprintln!(
        "time to join: state sync to height {sync_target} (snapshot {restored}) \
         {state_sync_time:.1?}, CometBFT's discovery_time of 5 s included; replay from genesis \
         to height {replay_target} {replay_time:.1?}"
    );

    joining.stop();
    replaying.stop();
    validator.stop();
}
