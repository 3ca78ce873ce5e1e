//! Chaos, end to end, reproducible from a seed: a 4-validator testnet with transfers streaming
//! in, while a schedule drawn from the seed hits one validator at a time with `kill -9` of both
//! processes, `kill -9` of nodeopd alone, `SIGSTOP` … `SIGCONT` (a paused node is a
//! partitioned one), or a restart with its CometBFT data and its store wiped (its
//! `priv_validator_state.json` kept, as an operator must): nodes 0..2 then block-sync back from
//! genesis, node 3 rejoins by state sync from another validator's snapshot or by block sync, as
//! the seed says (so three nodes always hold the whole history). Never more than one validator
//! is down, so the chain must keep going.
//!
//! Afterwards: every tx a node reports committed executed (code 0); every sender's and
//! recipient's balance equals a model computed from the committed blocks; every node has the
//! same app hash at every height; the chain never stalled longer than [`STALL_BOUND`]; and the
//! final state, exported, passes `nodeopd genesis validate` (every module invariant, in a dry
//! run). On failure the test prints its seed and schedule.
//!
//! CI runs 4 faults; `NODEOP_CHAOS_FAULTS=40 NODEOP_CHAOS_SEED=7` runs a longer one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nodeop_driver::chain::Key;
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::NOP;
use nodeop_tests::net::{account, toml_set, TxStream};
use nodeop_tests::testnet::{Testnet, TestnetOptions};

const CHAIN_ID: &str = "nodeop-e2e-chaos";
const GENESIS_BALANCE: u128 = 1_000_000 * NOP;
/// The longest time without a new block while at least three validators run.
const STALL_BOUND: Duration = Duration::from_secs(30);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    KillBoth,
    KillApp,
    Pause,
    Wipe,
}

#[derive(Clone, Debug)]
struct Step {
    node: usize,
    fault: Fault,
    down: Duration,
    /// A wiped node 3 rejoins by state sync (when a snapshot exists), else by block sync.
    state_sync: bool,
}

/// The faults in a seeded order: every kind once in the first four steps (a seeded
/// permutation), then any kind.
fn schedule(seed: u64, faults: u64) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    let mut kinds = [Fault::KillBoth, Fault::KillApp, Fault::Pause, Fault::Wipe];
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i as u64 + 1) as usize);
    }
    (0..faults)
        .map(|n| Step {
            node: rng.below(4) as usize,
            fault: match kinds.get(n as usize) {
                Some(k) => *k,
                None => kinds[rng.below(4) as usize],
            },
            down: Duration::from_millis(2_000 + rng.below(4_000)),
            state_sync: rng.below(2) == 0,
        })
        .collect()
}

/// Prints the seed and the schedule if the test fails.
struct Report {
    seed: u64,
    steps: Vec<Step>,
    done: usize,
}

impl Drop for Report {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "chaos FAILED — seed {} (NODEOP_CHAOS_SEED={} NODEOP_CHAOS_FAULTS={} reproduces \
                 the schedule), after {} of its steps:",
                self.seed,
                self.seed,
                self.steps.len(),
                self.done
            );
            for (i, s) in self.steps.iter().enumerate() {
                eprintln!(
                    "  {i}: node{} {:?} for {:?}{}",
                    s.node,
                    s.fault,
                    s.down,
                    if matches!(s.fault, Fault::Wipe) && s.state_sync && s.node == 3 {
                        " (state sync if a snapshot exists)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
}

/// Watches the highest height any node reports; records the longest time it did not move.
struct StallWatch {
    stop: Arc<AtomicBool>,
    longest_ms: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StallWatch {
    fn start(ports: Vec<u16>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let longest_ms = Arc::new(AtomicU64::new(0));
        let (s, l) = (stop.clone(), longest_ms.clone());
        let thread = std::thread::spawn(move || {
            let mut best = 0u64;
            let mut since = Instant::now();
            while !s.load(Ordering::Relaxed) {
                let h = ports
                    .iter()
                    .filter_map(|p| {
                        let st = nodeop_tests::net::rpc(*p, "/status").ok()?;
                        st["sync_info"]["latest_block_height"]
                            .as_str()?
                            .parse::<u64>()
                            .ok()
                    })
                    .max()
                    .unwrap_or(0);
                if h > best {
                    best = h;
                    since = Instant::now();
                }
                l.fetch_max(since.elapsed().as_millis() as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Self {
            stop,
            longest_ms,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Duration::from_millis(self.longest_ms.load(Ordering::Relaxed))
    }
}

/// The snapshot heights on disk in node `i`'s home.
fn snapshot_heights(net: &Testnet, i: usize) -> Vec<u64> {
    let dir = net.validators[i]
        .home
        .join("app")
        .join("data")
        .join("snapshots");
    let mut hs: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    hs.sort_unstable();
    hs
}

/// Points node `i`'s CometBFT at state sync from `observer`'s newest snapshot (trusting
/// `observer`'s header at that height); returns the snapshot height, or `None` (and turns state
/// sync off) when `observer` has none yet.
fn configure_state_sync(net: &Testnet, i: usize, observer: usize) -> Option<u64> {
    let config = net.validators[i]
        .cmt_home
        .join("config")
        .join("config.toml");
    let Some(&height) = snapshot_heights(net, observer).last() else {
        toml_set(&config, "statesync", "enable", "false");
        return None;
    };
    let hash = net.validators[observer]
        .rpc(&format!("/block?height={height}"))
        .ok()?["block_id"]["hash"]
        .as_str()?
        .to_string();
    let other = (observer + 1) % 4;
    let other = if other == i { (other + 1) % 4 } else { other };
    let rpcs = format!(
        "\"127.0.0.1:{},127.0.0.1:{}\"",
        net.validators[observer].rpc_port, net.validators[other].rpc_port
    );
    toml_set(&config, "statesync", "enable", "true");
    toml_set(&config, "statesync", "rpc_servers", &rpcs);
    toml_set(&config, "statesync", "trust_height", &height.to_string());
    toml_set(&config, "statesync", "trust_hash", &format!("\"{hash}\""));
    toml_set(&config, "statesync", "discovery_time", "\"5s\"");
    Some(height)
}

/// Deletes node `i`'s CometBFT data (but its `priv_validator_state.json`) and its store.
fn wipe(net: &mut Testnet, i: usize) {
    let v = net.v(i);
    let data = v.cmt_home.join("data");
    let keep = data.join("priv_validator_state.json");
    let state = std::fs::read(&keep).expect("priv_validator_state.json");
    std::fs::remove_dir_all(&data).expect("removing CometBFT's data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(&keep, state).unwrap();
    let app_data = v.home.join("app").join("data");
    std::fs::remove_dir_all(&app_data).expect("removing the store");
    std::fs::create_dir_all(&app_data).unwrap();
}

#[test]
fn seeded_faults_on_one_validator_at_a_time_keep_one_chain_and_every_committed_tx() {
    let started = Instant::now();
    let seed = env_u64("NODEOP_CHAOS_SEED", 12);
    let steps = schedule(seed, env_u64("NODEOP_CHAOS_FAULTS", 4));
    let mut report = Report {
        seed,
        steps: steps.clone(),
        done: 0,
    };
    let senders: Vec<Key> = (0..3)
        .map(|i| Key::from_seed(&format!("e2e chaos sender {i}")))
        .collect();
    let recipients: Vec<Key> = (0..2)
        .map(|i| Key::from_seed(&format!("e2e chaos recipient {i}")))
        .collect();
    let mut options = TestnetOptions::new(CHAIN_ID);
    for k in &senders {
        options = options.fund(&k.address.to_bech32(), GENESIS_BALANCE);
    }
    let mut net = Testnet::new("chaos", &options);
    // every validator serves snapshots, so that a wiped one can rejoin by state sync
    for v in &net.validators {
        let app_toml = v.home.join("app").join("app.toml");
        toml_set(&app_toml, "state_sync", "snapshot_interval", "10");
        toml_set(&app_toml, "state_sync", "snapshot_chunk_bytes", "4096");
    }
    net.start();
    let first = net.v(0).height();
    let params = net.v(0).tx_params();
    let ports: Vec<u16> = (0..4).map(|i| net.validators[i].rpc_port).collect();
    let stream = TxStream::start(
        CHAIN_ID,
        ports.clone(),
        senders.clone(),
        recipients.clone(),
        params,
    );
    let watch = StallWatch::start(ports.clone());
    let h = net.v(0).height();
    net.wait_for_height(0, h + 3, Duration::from_secs(60));

    for (n, step) in steps.iter().enumerate() {
        let i = step.node;
        let observer = (i + 1) % 4;
        let before = net.v(observer).height();
        eprintln!(
            "chaos step {n}: node{i} {:?} for {:?} at height {before}",
            step.fault, step.down
        );
        match step.fault {
            Fault::KillBoth => net.v(i).kill_hard(),
            Fault::KillApp => {
                net.v(i).kill_app_hard();
                if !net.v(i).wait_cometbft_exit(Duration::from_secs(20)) {
                    net.v(i).stop_cometbft();
                }
            }
            Fault::Pause => net.v(i).pause(),
            Fault::Wipe => {
                net.v(i).stop();
                wipe(&mut net, i);
                let config = net.validators[i]
                    .cmt_home
                    .join("config")
                    .join("config.toml");
                toml_set(&config, "statesync", "enable", "false");
                // only node 3 state-syncs (and then keeps no blocks below its snapshot): nodes
                // 0..2 keep the whole history, to block-sync from and to check against
                if step.state_sync && i == 3 {
                    match configure_state_sync(&net, i, observer) {
                        Some(h) => eprintln!("  node{i} rejoins by state sync (snapshot {h})"),
                        None => eprintln!("  node{i} rejoins by block sync (no snapshot yet)"),
                    }
                } else {
                    eprintln!("  node{i} rejoins by block sync from genesis");
                }
            }
        }
        std::thread::sleep(step.down);
        // three validators went on while one was out
        net.wait_for_height(observer, before + 2, STALL_BOUND);
        match step.fault {
            Fault::Pause => net.v(i).resume(),
            _ => net.v(i).start(),
        }
        net.wait_caught_up(i, observer, Duration::from_secs(180));
        report.done = n + 1;
    }

    let h = net.v(0).height();
    net.wait_for_height(0, h + 3, Duration::from_secs(60));
    let accepted = stream.stop();
    // let the last accepted txs commit (or be dropped with a crashed mempool)
    std::thread::sleep(TxStream::COMMIT_WAIT);
    let top = net.v(0).height();
    for i in 1..4 {
        net.wait_for_height(i, top, Duration::from_secs(60));
    }
    let longest_stall = watch.stop();

    // every node computed the same app hash at every height of the run it holds (a node that
    // state-synced holds no blocks below its snapshot)
    let earliest: Vec<u64> = (0..4)
        .map(|i| {
            net.v(i).status().unwrap()["sync_info"]["earliest_block_height"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
        })
        .collect();
    assert_eq!(earliest[0], 1, "node0 holds the whole chain");
    for height in first..=top {
        let expected = net.app_hash_at(0, height, Duration::from_secs(30));
        for i in (1..4).filter(|&i| earliest[i] <= height) {
            let got = net.app_hash_at(i, height, Duration::from_secs(30));
            assert_eq!(got, expected, "node{i}'s app hash for block {height}");
        }
    }

    // every committed tx executed, and balances follow the committed blocks
    let committed = net.v(0).committed_txs(1, top);
    let mut executed = 0u64;
    let mut model: std::collections::BTreeMap<String, i128> = senders
        .iter()
        .map(|k| (k.address.to_bech32(), GENESIS_BALANCE as i128))
        .chain(recipients.iter().map(|k| (k.address.to_bech32(), 0)))
        .collect();
    for tx in &committed {
        if !model.contains_key(&tx.signer) {
            continue;
        }
        assert_eq!(
            tx.code, 0,
            "committed transfer {} at {} failed",
            tx.hash, tx.height
        );
        executed += 1;
        *model.get_mut(&tx.signer).unwrap() -= tx.fee as i128;
        for (to, amount) in &tx.sends {
            *model.get_mut(&tx.signer).unwrap() -= *amount as i128;
            *model.entry(to.clone()).or_insert(0) += *amount as i128;
        }
    }
    let committed_hashes: std::collections::BTreeSet<&str> =
        committed.iter().map(|t| t.hash.as_str()).collect();
    let mut lost = 0;
    for hash in &accepted {
        match net.v(0).tx_result(hash) {
            Some((_, code)) => {
                assert_eq!(code, 0, "tx {hash} reported committed but failed");
                assert!(
                    committed_hashes.contains(hash.as_str()),
                    "tx {hash} not in a block"
                );
            }
            None => lost += 1,
        }
    }
    for (address, want) in &model {
        let (balance, _) = account(ports[0], address, top).unwrap();
        assert_eq!(
            balance as i128, *want,
            "balance of {address} at height {top}"
        );
    }
    assert!(executed > 20, "only {executed} transfers committed");
    assert!(
        longest_stall <= STALL_BOUND,
        "the chain stalled for {longest_stall:?}"
    );

    // the final state passes every module invariant
    net.v(0).stop();
    let exported = net.dir.join("exported.json");
    net.v(0)
        .nodeopd_ok(&["export", "--output", &exported.to_string_lossy()]);
    nodeop_tests::net::run_ok(
        std::process::Command::new(&net.bins.nodeopd)
            .args(["genesis", "validate", "--file"])
            .arg(&exported),
        Duration::from_secs(60),
    );
    eprintln!(
        "chaos seed {seed}: {} faults over {:.0} s, heights {first}..={top} agree on every node holding them, \
         {executed} transfers committed ({} accepted by CheckTx, {lost} lost with a mempool), \
         longest stall {longest_stall:.1?}",
        steps.len(),
        started.elapsed().as_secs_f64(),
        accepted.len()
    );
    drop(report);
}
