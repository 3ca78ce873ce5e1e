//! End to end, on a real 4-validator network with transfers streaming in: validator 3 is killed
//! with `kill -9` (cometbft and nodeopd together, like a machine losing power), and later
//! validator 2's nodeopd alone (its cometbft then exits on its own). The other three keep
//! committing each time; each killed node, restarted, replays and syncs what it missed, catches
//! up, and its own app computes the same app hash as every other node's at every height of the
//! run (`/block_results` holds the hash each node's app returned), the crash windows included.

use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::{num, TxStream};
use nodeop_tests::testnet::{Testnet, TestnetOptions};

const CHAIN_ID: &str = "nodeop-e2e-crash";

/// The committed nonces of `keys` summed: how many of their txs the chain has executed.
fn executed(net: &Testnet, observer: usize, keys: &[Key]) -> u64 {
    keys.iter()
        .map(|k| {
            let v = net.validators[observer]
                .abci_query(&format!("/account/{}", k.address.to_bech32()), 0)
                .unwrap();
            num(&v["nonce"]) as u64
        })
        .sum()
}

#[test]
fn a_validator_killed_mid_stream_rejoins_and_computes_the_same_app_hashes() {
    let started = Instant::now();
    let senders: Vec<Key> = (0..3)
        .map(|i| Key::from_seed(&format!("e2e testnet crash sender {i}")))
        .collect();
    let recipient = Key::from_seed("e2e testnet crash recipient");
    let mut options = TestnetOptions::new(CHAIN_ID);
    for k in &senders {
        options = options.fund(&k.address.to_bech32(), 1_000_000 * NOP);
    }
    let mut net = Testnet::new("crash", &options);
    net.start();
    let first = net.v(0).height();
    let params = net.v(0).tx_params();
    // Into nodes 0 and 1, which stay up (a tx sent to a node just before it dies is lost with
    // its mempool, which is allowed but would make the stream stall).
    let ports = vec![net.v(0).rpc_port, net.v(1).rpc_port];
    let stream = TxStream::start(CHAIN_ID, ports, senders.clone(), vec![recipient], params);
    let h = net.v(0).height();
    net.wait_for_height(0, h + 4, Duration::from_secs(60));

    // 1. Both processes of validator 3.
    net.v(3).kill_hard();
    let killed_at = net.v(0).height();
    let executed_at_kill = executed(&net, 0, &senders);
    eprintln!("node3 killed (both processes) at height {killed_at}");
    net.wait_for_height(0, killed_at + 5, Duration::from_secs(90));
    net.v(3).start();
    let h3 = net.wait_caught_up(3, 0, Duration::from_secs(120));
    eprintln!("node3 restarted and caught up at height {h3}");

    // 2. Validator 2's nodeopd only, cut off mid-block at whatever point it is.
    net.v(2).kill_app_hard();
    let killed_at_2 = net.v(0).height();
    eprintln!("node2's nodeopd killed at height {killed_at_2}");
    if !net.v(2).wait_cometbft_exit(Duration::from_secs(30)) {
        eprintln!("node2's cometbft still runs 30 s after its app died; stopping it");
        net.v(2).stop();
    }
    net.wait_for_height(0, killed_at_2 + 5, Duration::from_secs(90));
    net.v(2).start();
    let h2 = net.wait_caught_up(2, 0, Duration::from_secs(120));
    eprintln!("node2 restarted and caught up at height {h2}");

    let h = net.v(0).height();
    net.wait_for_height(0, h + 3, Duration::from_secs(60));
    let accepted = stream.stop().len();
    let executed_total = executed(&net, 0, &senders);
    assert!(
        executed_total > executed_at_kill,
        "txs were committed after the first kill ({executed_at_kill} → {executed_total}, \
         {accepted} accepted by CheckTx)"
    );

    // Every node, at every height of the run, computed the same app hash.
    let top = net.v(0).height();
    for i in 1..4 {
        net.wait_for_height(i, top, Duration::from_secs(60));
    }
    let mut compared = 0;
    for height in first..=top {
        let expected = net.app_hash_at(0, height, Duration::from_secs(30));
        for i in 1..4 {
            let got = net.app_hash_at(i, height, Duration::from_secs(30));
            assert_eq!(got, expected, "node{i}'s app hash for block {height}");
        }
        compared += 1;
    }
    // The restarted apps' own latest state agrees too.
    for i in [2, 3] {
        let info = net.v(i).rpc("/abci_info").unwrap();
        let last: u64 = info["response"]["last_block_height"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap();
        let hash = hex::encode_upper(nodeop_tests::net::b64(
            info["response"]["last_block_app_hash"].as_str().unwrap(),
        ));
        net.wait_for_height(0, last, Duration::from_secs(30));
        let expected = net.app_hash_at(0, last, Duration::from_secs(30));
        assert_eq!(hash, expected, "node{i}'s app at height {last}");
    }
    eprintln!(
        "e2e_testnet crash: {compared} heights ({first}..={top}) agree on 4 nodes, {executed_total} \
         txs executed; passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
