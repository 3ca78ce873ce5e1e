//! End to end, with real processes: nodeopd is killed with SIGKILL three times while transfers
//! stream in; it is restarted (and cometbft with it, which stops when its app vanishes),
//! CometBFT's handshake replays what the app missed, and the chain goes on. Afterwards every
//! transfer that was committed — found in `/tx` with code 0, and in the blocks — is reflected
//! exactly once in the final balances and nonces, and none is lost.

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_tests::net::{Node, TxStream};

const CHAIN_ID: &str = "nodeop-e2e";
const GENESIS_BALANCE: u128 = 1_000_000_000_000;

/// Where in a block's life a crash lands.
#[derive(Clone, Copy, Debug)]
enum CrashPoint {
    /// Whenever the test gets there.
    Anytime,
    /// As CometBFT starts to finalize a block with txs: during FinalizeBlock, or just before.
    Finalizing,
    /// Right after FinalizeBlock of a block with txs returned, before Commit: the app loses the
    /// executed block, and CometBFT's handshake must replay it on the real app.
    Finalized,
}

#[derive(Debug)]
struct Crash {
    point: CrashPoint,
    /// The chain's height when nodeopd died.
    height: u64,
    /// The height when the restarted chain had made 3 more blocks.
    resumed: u64,
    /// CometBFT's handshake line: the app's and the block store's heights at restart.
    handshake: String,
    /// `Some(exit status)` when cometbft did not exit by itself and had to be stopped.
    stuck: Option<Option<std::process::ExitStatus>>,
}

/// Kills nodeopd with SIGKILL at `point`, lets cometbft notice (it exits when its app connection
/// breaks; if it does not within 10 s it is stopped), and starts both again.
fn crash_and_restart(node: &mut Node, point: CrashPoint) -> Crash {
    let mut log = node.watch_log("cometbft.log");
    // A log line about `what` whose `count=N` field is positive.
    let with_txs = |line: &str, what: &str, count: &str| {
        line.contains(what)
            && line.split_whitespace().any(|w| {
                w.strip_prefix(count)
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            })
    };
    // The height to report: read before an untargeted kill; for a targeted one, the height of the
    // block in the trigger line (cometbft stops its RPC as soon as its app is gone).
    let height_now = node.height();
    let trigger = match point {
        CrashPoint::Anytime => None,
        CrashPoint::Finalizing => log.wait_for(Duration::from_secs(60), |l| {
            with_txs(l, "finalizing commit of block", "num_txs=")
        }),
        CrashPoint::Finalized => log.wait_for(Duration::from_secs(60), |l| {
            with_txs(l, "finalized block", "num_txs_res=")
        }),
    };
    node.kill_app_hard();
    assert!(
        trigger.is_some() || matches!(point, CrashPoint::Anytime),
        "no block with txs to crash at ({point:?}) within 60 s{}",
        node.log_tails()
    );
    let height = trigger
        .as_deref()
        .and_then(|line| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix("height=")?.parse().ok())
        })
        .unwrap_or(height_now);
    // CometBFT 0.38 exits when its app connection breaks, except when the app dies between
    // FinalizeBlock and Commit: then it waits for the Commit answer forever (and ignores
    // SIGTERM, its consensus state being locked), so it is stopped after a while.
    let mut stuck = None;
    if !node.wait_cometbft_exit(Duration::from_secs(10)) {
        stuck = Some(node.stop_cometbft_within(Duration::from_secs(5)));
    }
    let mut log = node.watch_log("cometbft.log");
    node.start_app();
    node.start_cometbft();
    let handshake = log
        .wait_for(Duration::from_secs(60), |l| {
            l.contains("ABCI Replay Blocks")
        })
        .unwrap_or_default();
    let resumed = node.wait_for_height(height + 3, Duration::from_secs(120));
    Crash {
        point,
        height,
        resumed,
        stuck,
        handshake: handshake
            .split_whitespace()
            .filter(|w| w.contains("Height="))
            .collect::<Vec<_>>()
            .join(" "),
    }
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
    let stream = TxStream::start(
        CHAIN_ID,
        vec![node.rpc_port],
        senders.clone(),
        recipients.clone(),
        params,
    );

    // Three crashes, each after a few blocks of streaming, at different points of a block's life.
    let mut crashes = Vec::new();
    for point in [
        CrashPoint::Anytime,
        CrashPoint::Finalizing,
        CrashPoint::Finalized,
    ] {
        let h = node.height();
        node.wait_for_height(h + 4, Duration::from_secs(60));
        crashes.push(crash_and_restart(&mut node, point));
    }
    let h = node.height();
    node.wait_for_height(h + 5, Duration::from_secs(60));
    let accepted = stream.stop();

    // Let the mempool drain, then read the whole chain.
    let drain_start = Instant::now();
    let mut pending = None;
    while drain_start.elapsed() < Duration::from_secs(60) {
        pending = node
            .rpc("/num_unconfirmed_txs")
            .ok()
            .and_then(|r| r["n_txs"].as_str()?.parse::<u64>().ok());
        if pending == Some(0) {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "mempool: {pending:?} txs pending after {:?}",
        drain_start.elapsed()
    );
    let last = node.wait_for_height(node.height() + 2, Duration::from_secs(30));
    node.assert_running();

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

    // The stream really ran across every crash: transfers committed in the blocks just before
    // it and soon after the restart.
    eprintln!(
        "{} txs accepted by CheckTx, {} committed in {last} blocks",
        accepted.len(),
        committed.len()
    );
    for c in &crashes {
        // Informational: whether the app had lost an executed block (appHeight < storeHeight)
        // and CometBFT replayed it, which the Finalized point aims for.
        eprintln!(
            "crash {:?} at height {}, resumed at {}; handshake: {}; cometbft {}",
            c.point,
            c.height,
            c.resumed,
            c.handshake,
            match c.stuck {
                None => "exited by itself".to_string(),
                Some(status) => format!("had to be stopped ({status:?})"),
            }
        );
        let in_blocks = |from: u64, to: u64| {
            committed
                .iter()
                .filter(|t| t.height >= from && t.height <= to)
                .count()
        };
        // a batch in flight at the crash is lost with the mempool, and its sender waits
        // TxStream::COMMIT_WAIT before it reads its nonce again: allow those blocks (500 ms
        // each) after the restart, plus four
        let wait_blocks = (TxStream::COMMIT_WAIT.as_millis() / 500) as u64;
        assert!(
            in_blocks(c.height.saturating_sub(2), c.height) > 0
                && in_blocks(c.height + 1, c.resumed + wait_blocks + 4) > 0,
            "no committed transfers on both sides of {c:?}"
        );
    }
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
        if let Some((height, _)) = node.tx_result(a) {
            assert!(
                by_hash.contains_key(a.as_str()),
                "/tx reports {a} at height {height}, but no block holds it"
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
