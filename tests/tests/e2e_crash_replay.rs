//! End to end, with real processes: nodeopd is killed with SIGKILL three times while transfers
//! stream in; it is restarted (and cometbft with it, which stops when its app vanishes),
//! CometBFT's handshake replays what the app missed, and the chain goes on. Afterwards every
//! transfer that was committed — found in `/tx` with code 0, and in the blocks — is reflected
//! exactly once in the final balances and nonces, and none is lost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nodeop_app::params::TxParams;
use nodeop_tests::harness::Key;
use nodeop_tests::net::{rpc, Node};

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000;
/// Txs each sender puts in flight before waiting for them to commit.
const BATCH: u64 = 4;

/// A transfer CheckTx accepted.
#[derive(Clone, Debug)]
struct Accepted {
    hash: String,
}

/// The committed nonce of `address`, read from the app through the RPC.
fn nonce_of(rpc_port: u16, address: &str) -> Option<u64> {
    let r = rpc(
        rpc_port,
        &format!("/abci_query?path=%22/account/{address}%22"),
    )
    .ok()?;
    let value = nodeop_tests::net::b64(r["response"]["value"].as_str()?);
    let v: serde_json::Value = serde_json::from_slice(&value).ok()?;
    Some(nodeop_tests::net::num(&v["nonce"]) as u64)
}

/// Streams batches of transfers from `from` (to the recipients in turn) until `stop`: reads the
/// committed nonce, broadcasts `BATCH` txs with the next nonces, waits for them to commit (or
/// for 5 s, e.g. across a crash), and starts over from whatever nonce the chain then has.
fn stream(
    rpc_port: u16,
    from: Key,
    recipients: Vec<Key>,
    params: TxParams,
    stop: Arc<AtomicBool>,
    counter: Arc<AtomicU64>,
) -> Vec<Accepted> {
    let mut accepted = Vec::new();
    let from_addr = from.address.to_bech32();
    while !stop.load(Ordering::Relaxed) {
        let Some(nonce) = nonce_of(rpc_port, &from_addr) else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        for i in 0..BATCH {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let to = &recipients[(n as usize) % recipients.len()];
            // Distinct amounts, so a re-sent nonce never repeats an earlier tx's bytes.
            let amount = 1_000 + u128::from(n);
            let tx = from.send(CHAIN_ID, &params, nonce + i, &to.address, amount);
            let Ok(r) = rpc(
                rpc_port,
                &format!("/broadcast_tx_sync?tx=0x{}", hex::encode(&tx)),
            ) else {
                break;
            };
            if r["code"].as_u64() != Some(0) {
                break;
            }
            accepted.push(Accepted {
                hash: r["hash"].as_str().unwrap_or_default().to_uppercase(),
            });
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            if nonce_of(rpc_port, &from_addr).is_some_and(|n| n >= nonce + BATCH) {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
    accepted
}

/// Kills nodeopd with SIGKILL, lets cometbft notice (it exits when its app connection breaks;
/// if it does not within 30 s it is stopped), and starts both again.
fn crash_and_restart(node: &mut Node) -> (u64, u64) {
    let before = node.height();
    node.kill_app_hard();
    if !node.wait_cometbft_exit(Duration::from_secs(30)) {
        eprintln!("cometbft still runs 30 s after its app died; stopping it");
        node.stop_cometbft();
    }
    node.start_app();
    node.start_cometbft();
    let after = node.wait_for_height(before + 3, Duration::from_secs(120));
    (before, after)
}

#[test]
fn every_committed_transfer_survives_sigkill_of_the_app_mid_stream() {
    let senders: Vec<Key> = (0..3)
        .map(|i| Key::from_seed(&format!("e2e crash sender {i}")))
        .collect();
    let recipients: Vec<Key> = (0..2)
        .map(|i| Key::from_seed(&format!("e2e crash recipient {i}")))
        .collect();

    let mut node = Node::init("validator", CHAIN_ID);
    for k in &senders {
        node.add_genesis_account(&k.address.to_bech32(), GENESIS_BALANCE);
    }
    node.validate_genesis();
    node.start();
    node.wait_for_height(2, Duration::from_secs(90));

    let params = node.tx_params();
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let streams: Vec<_> = senders
        .iter()
        .map(|k| {
            let (port, k, r, p) = (node.rpc_port, k.clone(), recipients.clone(), params.clone());
            let (stop, counter) = (stop.clone(), counter.clone());
            thread::spawn(move || stream(port, k, r, p, stop, counter))
        })
        .collect();

    // Three crashes, each after a few blocks of streaming, at different points of a block
    // interval (the kill can land between FinalizeBlock and Commit: then CometBFT replays it).
    let mut crashes = Vec::new();
    for offset_ms in [0, 180, 360] {
        let h = node.height();
        node.wait_for_height(h + 5, Duration::from_secs(60));
        thread::sleep(Duration::from_millis(offset_ms));
        crashes.push(crash_and_restart(&mut node));
    }
    let h = node.height();
    node.wait_for_height(h + 5, Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    let accepted: Vec<Accepted> = streams
        .into_iter()
        .flat_map(|t| t.join().expect("a streaming thread panicked"))
        .collect();

    // Let the mempool drain, then read the whole chain.
    let drained = Instant::now() + Duration::from_secs(60);
    while Instant::now() < drained {
        let pending = node
            .rpc("/num_unconfirmed_txs")
            .ok()
            .and_then(|r| r["n_txs"].as_str()?.parse::<u64>().ok());
        if pending == Some(0) {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    let last = node.wait_for_height(node.height() + 2, Duration::from_secs(30));
    node.assert_running(true, true);

    let committed = node.committed_txs(1, last);
    let by_hash: BTreeMap<&str, _> = committed.iter().map(|t| (t.hash.as_str(), t)).collect();
    assert_eq!(by_hash.len(), committed.len(), "a tx was committed twice");
    for t in &committed {
        assert_eq!(
            t.code, 0,
            "tx {} at height {} failed in its block",
            t.hash, t.height
        );
    }

    // The stream really ran across every crash.
    for (before, after) in &crashes {
        assert!(
            committed.iter().any(|t| t.height <= *before)
                && committed.iter().any(|t| t.height > *after),
            "no committed transfers on both sides of the crash at height {before}"
        );
    }
    eprintln!(
        "{} txs accepted by CheckTx, {} committed in {last} blocks; crashes at heights {crashes:?}",
        accepted.len(),
        committed.len()
    );
    assert!(
        committed.len() >= 20,
        "only {} transfers committed",
        committed.len()
    );

    // Final balances and nonces = genesis − Σ(amount + fee) for senders, + Σ amount for recipients.
    let mut expected: BTreeMap<String, (u128, u64)> = BTreeMap::new();
    for k in &senders {
        expected.insert(k.address.to_bech32(), (GENESIS_BALANCE, 0));
    }
    for k in &recipients {
        expected.insert(k.address.to_bech32(), (0, 0));
    }
    for t in &committed {
        let e = expected.get_mut(&t.signer).expect("a known sender");
        e.0 -= t.fee;
        e.1 += 1;
        for (to, amount) in &t.sends {
            expected.get_mut(&t.signer).expect("sender").0 -= amount;
            expected.get_mut(to).expect("a known recipient").0 += amount;
        }
    }
    for (address, (balance, nonce)) in &expected {
        let got = node
            .account(address, last)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got,
            (*balance, *nonce),
            "account {address} at height {last}: (balance, nonce)"
        );
    }

    // /tx agrees with the blocks: every committed tx is found there with code 0 at its height,
    // and every tx CheckTx accepted that /tx finds is in a block.
    for t in &committed {
        assert_eq!(
            node.tx_result(&t.hash),
            Some((t.height, 0)),
            "tx {} committed at height {} but /tx disagrees{}",
            t.hash,
            t.height,
            node.index_errors()
        );
    }
    let mut accepted_and_committed = 0;
    for a in &accepted {
        if let Some((height, _)) = node.tx_result(&a.hash) {
            assert!(
                by_hash.contains_key(a.hash.as_str()),
                "/tx reports {} at height {height}, but no block holds it",
                a.hash
            );
            accepted_and_committed += 1;
        }
    }
    assert!(
        accepted_and_committed > 0,
        "none of {} accepted txs was committed",
        accepted.len()
    );

    node.stop();
}
