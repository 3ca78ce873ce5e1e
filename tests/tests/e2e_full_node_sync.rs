//! End to end, with real processes: a validator runs for a while with transfers; then a second,
//! non-validator node (its own cometbft and nodeopd, the validator's genesis.json, the validator
//! as persistent peer) starts from genesis, block-syncs, and its app computes the same app hash
//! as the validator's at every height compared, and answers queries with the same state.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_tests::net::{wait_for, Node, NodeOptions};

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000;

/// Sends `count` transfers from each sender (nonces taken from the chain) and waits until all
/// are committed.
fn send_batch(node: &Node, senders: &[Key], to: &Key, count: u64, amount_base: u128) {
    let params = node.tx_params();
    let mut targets = Vec::new();
    for (i, k) in senders.iter().enumerate() {
        let address = k.address.to_bech32();
        let (_, nonce) = node.account(&address, 0).unwrap_or_else(|e| panic!("{e}"));
        for j in 0..count {
            let amount = amount_base + (i as u128) * 100 + u128::from(j);
            let tx = k.send(CHAIN_ID, &params, nonce + j, &to.address, amount);
            let (code, log, _) = node.broadcast(&tx).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(code, 0, "CheckTx refused a valid transfer: {log}");
        }
        targets.push((address, nonce + count));
    }
    for (address, nonce) in targets {
        wait_for(
            &format!("{address}'s nonce {nonce}"),
            Duration::from_secs(60),
            || node.account(&address, 0).ok().filter(|(_, n)| *n >= nonce),
        );
    }
}

#[test]
fn a_full_node_block_syncs_from_genesis_to_the_validators_app_hash() {
    let senders: Vec<Key> = (0..2)
        .map(|i| Key::from_seed(&format!("e2e sync sender {i}")))
        .collect();
    let recipient = Key::from_seed("e2e sync recipient");

    let mut validator = Node::init("validator", CHAIN_ID);
    for k in &senders {
        validator.add_genesis_account(&k.address.to_bech32(), GENESIS_BALANCE);
    }
    validator.validate_genesis();
    validator.start();
    validator.wait_for_height(2, Duration::from_secs(90));

    // A history with transfers in many blocks.
    for round in 0..8u128 {
        send_batch(&validator, &senders, &recipient, 5, 10_000 * (round + 1));
        let h = validator.height();
        validator.wait_for_height(h + 1, Duration::from_secs(60));
    }
    let history = validator.height();
    assert!(
        validator.committed_txs(1, history).len() >= 50,
        "the history holds too few txs"
    );

    // The full node: same genesis, the validator as its only peer.
    let options = NodeOptions {
        persistent_peers: vec![validator.p2p_address()],
        ..NodeOptions::default()
    };
    let mut full = Node::init_with("full-node", CHAIN_ID, &options);
    full.copy_genesis_from(&validator);
    full.start();
    let started = Instant::now();
    full.wait_for_height(history, Duration::from_secs(120));
    eprintln!(
        "full node synced {history} blocks in {:?}",
        started.elapsed()
    );

    // Keep the chain busy while the full node follows it live.
    send_batch(&validator, &senders, &recipient, 5, 1);
    let target = validator.height() + 3;
    validator.wait_for_height(target, Duration::from_secs(60));
    full.wait_for_height(target, Duration::from_secs(60));

    let status = full.status().unwrap();
    assert_eq!(status["sync_info"]["catching_up"], false, "{status}");
    assert_eq!(
        status["validator_info"]["voting_power"], "0",
        "the full node is not a validator"
    );

    // The full node's app computed each app hash itself: compare the app's own answer
    // (abci_info) with the validator's header at the next height, several times.
    for _ in 0..5 {
        let (h, hash) = full.app_info().unwrap();
        assert!(h >= history, "the full node's app is at height {h}");
        let validator_hash = wait_for(
            "the validator's next header",
            Duration::from_secs(30),
            || validator.header_app_hash(h + 1).ok(),
        );
        assert_eq!(
            hash, validator_hash,
            "app hash after block {h}: full node vs validator"
        );
        let (vh, vhash) = validator.app_info().unwrap();
        let full_hash = wait_for(
            "the full node's next header",
            Duration::from_secs(30),
            || full.header_app_hash(vh + 1).ok(),
        );
        assert_eq!(
            vhash, full_hash,
            "app hash after block {vh}: validator vs full node"
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    // And once with both apps at the same height.
    let (h, a, b) = wait_for("both apps at one height", Duration::from_secs(60), || {
        let (vh, va) = validator.app_info().ok()?;
        let (fh, fa) = full.app_info().ok()?;
        (vh == fh).then_some((vh, va, fa))
    });
    assert_eq!(a, b, "app hashes differ at height {h}");

    // The same state, as queries see it, at one height on both nodes.
    let h = validator.height().min(full.height());
    for k in senders.iter().chain([&recipient]) {
        let address = k.address.to_bech32();
        assert_eq!(
            validator.account(&address, h).unwrap(),
            full.account(&address, h).unwrap(),
            "account {address} at height {h}"
        );
    }
    let (balance, _) = full.account(&recipient.address.to_bech32(), h).unwrap();
    assert!(balance > 0, "the recipient got nothing");

    full.stop();
    validator.stop();
}
