//! Chaos, end to end, on a real 4-validator network with its four operator agents: while
//! transfers stream in from four senders and a client posts a task every few seconds, a
//! schedule drawn from a seed hits one validator at a time with
//!
//! - `kill -9` of both processes (a machine losing power), restarted after a pause;
//! - `kill -9` of nodeopd alone (cometbft then exits on its own), both restarted;
//! - `kill -9` of cometbft alone, restarted against the nodeopd that kept running;
//! - `SIGSTOP` of both processes (a paused or partitioned machine), `SIGCONT` later;
//! - a wipe: both killed, cometbft's data (all but `priv_validator_state.json`, which keeps the
//!   validator from signing twice) and nodeopd's store deleted, and the node started again: it
//!   block-syncs the whole chain and re-executes it, or (node 3: always at the run's first wipe,
//!   then on a seeded coin) joins by state sync from another validator's newest snapshot (every
//!   validator takes one every 10 heights);
//!
//! never more than one validator down at a time: the next fault waits until the last victim has
//! caught up and, if it was down long enough to be jailed for downtime, until its agent has
//! unjailed it and it is back in CometBFT's validator set. The first five faults are the five kinds in a seeded order, so every run has each
//! at least once. Afterwards:
//!
//! - every node computed the same app hash at every height of the run it holds
//!   (`/block_results`; a node that state-synced holds none below its snapshot);
//! - every accepted transfer that `/tx` reports committed is in that block with that code;
//!   every transfer in the blocks is either executed (code 0) or refused for its nonce (a tx
//!   sent again after its first copy was lost with a killed node's mempool); balances and
//!   nonces of every sender and recipient equal a model built from the blocks alone, on every
//!   node;
//! - the chain never stalled for longer than [`MAX_STALL`] (three validators are always up);
//! - every task the client posted reached a final status (delivered, undelivered or failed);
//! - every module invariant holds on each node's final store, and `nodeopd export` works.
//!
//! `NODEOP_CHAOS_SEED` (default 1) picks the schedule and `NODEOP_CHAOS_SECS` (default 75) how
//! long faults are injected; a failure prints the seed and the schedule so far. The long run:
//! `NODEOP_CHAOS_SECS=900 NODEOP_CHAOS_SEED=7 scripts/test.sh -- -p nodeop-tests --test
//! e2e_testnet_chaos_kills_pauses_and_wipes_validators_and_loses_nothing`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nodeop_app::modules::tasks::Consistency;
use nodeop_app::state::Storage;
use nodeop_app::tx::Msg;
use nodeop_driver::chain::Key;
use nodeop_driver::rng::Rng;
use nodeop_driver::tasks::{exact_task, NOP};
use nodeop_tests::net::{abci_query, account, http_get, num, rpc, toml_set, TxStream};
use nodeop_tests::testnet::{Testnet, TestnetOptions};
use serde_json::Value;

const CHAIN_ID: &str = "nodeop-e2e-chaos";
/// The longest time the chain may go without a new block while three validators are up: a
/// downed or paused proposer costs a round or two of timeouts.
const MAX_STALL: Duration = Duration::from_secs(30);
const SENDER_FUNDS: u128 = 1_000_000 * NOP;

#[derive(Clone, Copy, Debug)]
enum Fault {
    KillBoth,
    KillApp,
    KillCometbft,
    Pause,
    Wipe,
}

const FAULTS: [Fault; 5] = [
    Fault::KillBoth,
    Fault::KillApp,
    Fault::KillCometbft,
    Fault::Pause,
    Fault::Wipe,
];

/// The schedule as it happened; printed with the seed if the test fails.
struct Schedule {
    seed: u64,
    lines: Vec<String>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "chaos run failed — seed {} (rerun with NODEOP_CHAOS_SEED={}); schedule:\n  {}",
                self.seed,
                self.seed,
                self.lines.join("\n  ")
            );
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A node's latest height from `/status`, answered within half a second (a paused node never
/// answers).
fn quick_height(port: u16) -> Option<u64> {
    let body = http_get(port, "/status", Duration::from_millis(500)).ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    v["result"]["sync_info"]["latest_block_height"]
        .as_str()?
        .parse()
        .ok()
}

/// Deletes a stopped node's chain data: cometbft's `data/` but its signing state, and
/// nodeopd's `app/data/` (store and snapshots).
fn wipe(net: &Testnet, i: usize) {
    let v = &net.validators[i];
    let data = v.cmt_home.join("data");
    let keep = data.join("priv_validator_state.json");
    let signing_state = std::fs::read(&keep).expect("priv_validator_state.json");
    std::fs::remove_dir_all(&data).expect("removing cometbft's data");
    std::fs::create_dir_all(&data).expect("cometbft's data dir");
    std::fs::write(&keep, signing_state).expect("priv_validator_state.json");
    let app_data = v.home.join("app").join("data");
    std::fs::remove_dir_all(&app_data).expect("removing nodeopd's store");
    std::fs::create_dir_all(&app_data).expect("nodeopd's data dir");
}

/// The snapshot heights on disk in node `i`'s home.
fn snapshot_heights(net: &Testnet, i: usize) -> Vec<u64> {
    let dir = net.validators[i].home.join("app/data/snapshots");
    let mut hs: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    hs.sort_unstable();
    hs
}

/// Points node `i`'s cometbft at state sync from `observer`'s newest snapshot (trusting
/// `observer`'s block at that height), or turns state sync off (`use_it` false, or no snapshot
/// yet). Returns the snapshot height it will restore.
fn configure_state_sync(net: &Testnet, i: usize, observer: usize, use_it: bool) -> Option<u64> {
    let config = net.validators[i].cmt_home.join("config/config.toml");
    toml_set(&config, "statesync", "enable", "false");
    let height = *snapshot_heights(net, observer).last().filter(|_| use_it)?;
    let hash = net.validators[observer]
        .rpc(&format!("/block?height={height}"))
        .ok()?["block_id"]["hash"]
        .as_str()?
        .to_string();
    let other = (1..4)
        .map(|d| (observer + d) % 4)
        .find(|&j| j != i)
        .expect("a third node");
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

#[test]
fn chaos_on_a_live_testnet_loses_no_committed_tx_and_every_node_agrees() {
    let started = Instant::now();
    let seed = env_u64("NODEOP_CHAOS_SEED", 1);
    let run_for = Duration::from_secs(env_u64("NODEOP_CHAOS_SECS", 75));
    let mut rng = Rng::new(seed);
    let mut schedule = Schedule {
        seed,
        lines: Vec::new(),
    };

    let senders: Vec<Key> = (0..4)
        .map(|i| Key::from_seed(&format!("e2e chaos sender {i}")))
        .collect();
    let recipients: Vec<Key> = (0..3)
        .map(|i| Key::from_seed(&format!("e2e chaos recipient {i}")))
        .collect();
    let client = Key::from_seed("e2e chaos client");
    let mut options = TestnetOptions::new(CHAIN_ID)
        .task_windows(20, 20, 10)
        .without_epochs();
    for k in senders.iter().chain([&client]) {
        options = options.fund(&k.address.to_bech32(), SENDER_FUNDS);
    }
    let mut net = Testnet::new("chaos", &options);
    // every validator serves snapshots, so that a wiped one can rejoin by state sync
    for v in &net.validators {
        let app_toml = v.home.join("app/app.toml");
        toml_set(&app_toml, "state_sync", "snapshot_interval", "10");
        toml_set(&app_toml, "state_sync", "snapshot_chunk_bytes", "4096");
    }
    net.start();
    let first = net.v(0).height();
    let params = net.v(0).tx_params();
    let ports: Vec<u16> = net.validators.iter().map(|v| v.rpc_port).collect();

    // One operator agent per validator, each watching its own node; the deliver hook writes
    // the aggregate to a file and answers with a reference.
    let deliveries = net.dir.join("deliveries");
    std::fs::create_dir_all(&deliveries).expect("deliveries dir");
    let deliver = format!(
        "cat >'{}'/\"$NODEOP_TASK_ID\" && echo \"chaos-delivery#$NODEOP_TASK_ID\"",
        deliveries.display()
    );
    let mut agents = Vec::new();
    for i in 0..net.validators.len() {
        let home = net.validators[i].client_home.clone();
        let extra = ["--deliver-command", deliver.as_str()];
        agents.push(net.add_agent(&format!("node{i}"), i, &home, "operator", &extra));
    }
    for a in &mut agents {
        net.start_agent(a);
    }

    let stream = TxStream::start(
        CHAIN_ID,
        ports.clone(),
        senders.clone(),
        recipients.clone(),
        params.clone(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    // The longest time without a new block on any node, in ms.
    let longest_stall = Arc::new(AtomicU64::new(0));
    let monitor = {
        let (stop, longest, ports) = (stop.clone(), longest_stall.clone(), ports.clone());
        thread::spawn(move || {
            let (mut top, mut since) = (0u64, Instant::now());
            while !stop.load(Ordering::Relaxed) {
                let h = ports.iter().filter_map(|p| quick_height(*p)).max();
                if let Some(h) = h.filter(|h| *h > top) {
                    top = h;
                    since = Instant::now();
                }
                let ms = since.elapsed().as_millis() as u64;
                longest.fetch_max(ms, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(250));
            }
        })
    };
    // The client posts a Session task about every 3 s, through whichever node answers.
    let posted = Arc::new(AtomicU64::new(0));
    let poster = {
        let (stop, posted, ports) = (stop.clone(), posted.clone(), ports.clone());
        let (client, params) = (client.clone(), params.clone());
        thread::spawn(move || {
            let address = client.address.to_bech32();
            let mut turn = 0usize;
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_secs(3));
                turn += 1;
                let port = ports[turn % ports.len()];
                let (Ok((_, nonce)), Ok(price)) = (
                    account(port, &address, 0),
                    abci_query(port, "/tasks/price", 0),
                ) else {
                    continue;
                };
                // a margin: the price can rise by 1/8 per block before inclusion
                let fee = num(&price["unit_price"]) * 2;
                let msg = Msg::PostTask(exact_task(Consistency::Session, fee));
                let tx = client.tx(CHAIN_ID, &params, nonce, vec![msg]);
                let path = format!("/broadcast_tx_sync?tx=0x{}", hex::encode(&tx));
                if let Ok(r) = rpc(port, &path) {
                    if r["code"].as_u64() == Some(0) {
                        posted.fetch_add(1, Ordering::Relaxed);
                        // wait for it to commit before the next nonce
                        let deadline = Instant::now() + Duration::from_secs(10);
                        while Instant::now() < deadline {
                            match account(port, &address, 0) {
                                Ok((_, n)) if n > nonce => break,
                                _ => thread::sleep(Duration::from_millis(200)),
                            }
                        }
                    }
                }
            }
        })
    };

    // The faults, one validator at a time.
    // The first five faults are every kind once, in a seeded order; then any kind.
    let n = net.validators.len();
    let mut first_round = FAULTS.to_vec();
    for k in (1..first_round.len()).rev() {
        first_round.swap(k, rng.below(k as u64 + 1) as usize);
    }
    let deadline = Instant::now() + run_for;
    let mut faults = 0;
    let mut wiped = false;
    while Instant::now() < deadline || faults < FAULTS.len() {
        thread::sleep(Duration::from_millis(2_000 + rng.below(3_000)));
        let mut i = rng.below(n as u64) as usize;
        let fault = match first_round.get(faults) {
            Some(f) => *f,
            None => FAULTS[rng.below(FAULTS.len() as u64) as usize],
        };
        // the first wipe is node 3's, by state sync: every run has one
        let first_wipe = matches!(fault, Fault::Wipe) && !wiped;
        if first_wipe {
            i = 3;
            wiped = true;
        }
        let down = Duration::from_millis(2_000 + rng.below(6_000));
        let observer = (i + 1) % n;
        let at = net.validators[observer].height();
        schedule.lines.push(format!(
            "t={:>4}s h={at}: {fault:?} node{i} for {} ms",
            started.elapsed().as_secs(),
            down.as_millis()
        ));
        eprintln!("chaos: {}", schedule.lines.last().unwrap());
        match fault {
            Fault::KillBoth => {
                net.v(i).kill_hard();
                thread::sleep(down);
                net.v(i).start();
            }
            Fault::KillApp => {
                net.v(i).kill_app_hard();
                if !net.v(i).wait_cometbft_exit(Duration::from_secs(30)) {
                    // cometbft only notices a dead app at its next call; stop it ourselves
                    net.v(i).stop_cometbft();
                }
                thread::sleep(down);
                net.v(i).start();
            }
            Fault::KillCometbft => {
                net.v(i).kill_cometbft_hard();
                thread::sleep(down);
                assert!(net.v(i).app_running(), "node{i}'s nodeopd stays up");
                net.v(i).start_cometbft();
            }
            Fault::Pause => {
                net.v(i).pause();
                thread::sleep(down);
                net.v(i).resume();
            }
            Fault::Wipe => {
                net.v(i).kill_hard();
                wipe(&net, i);
                // only node 3 state-syncs (it then holds no block below its snapshot): nodes
                // 0..2 keep the whole history, to block-sync from and to check against
                let coin = rng.below(2) == 0;
                let state_sync = i == 3 && (first_wipe || coin);
                if state_sync {
                    // the first snapshot comes at height 10
                    nodeop_tests::net::wait_for(
                        "a snapshot to state-sync from",
                        Duration::from_secs(90),
                        || (!snapshot_heights(&net, observer).is_empty()).then_some(()),
                    );
                }
                let how = match configure_state_sync(&net, i, observer, state_sync) {
                    Some(h) => format!("state sync from snapshot {h}"),
                    None => "block sync from genesis".to_string(),
                };
                schedule.lines.push(format!("    node{i} rejoins by {how}"));
                thread::sleep(down);
                net.v(i).start();
            }
        }
        let caught_up = net.wait_caught_up(i, observer, Duration::from_secs(240));
        schedule.lines.push(format!(
            "    node{i} back and caught up at height {caught_up}"
        ));
        // a validator down long enough is jailed for downtime and leaves the set; its agent
        // unjails it when the jail ends. Until all four are in the set again, another fault
        // would take down a second validator.
        let in_set = |net: &Testnet| {
            net.validators[observer]
                .cometbft_validators(None)
                .map_or(0, |set| set.len())
        };
        if in_set(&net) < n {
            let back = net.wait(
                &format!("node{i}'s validator back in the set"),
                Duration::from_secs(180),
                |net| (in_set(net) == n).then(|| net.validators[observer].height()),
            );
            schedule.lines.push(format!(
                "    node{i} was jailed; unjailed by its agent, in the set at height {back}"
            ));
        }
        faults += 1;
    }

    let accepted = stream.stop();
    stop.store(true, Ordering::Relaxed);
    poster.join().expect("the task poster");
    monitor.join().expect("the stall monitor");
    let stall = Duration::from_millis(longest_stall.load(Ordering::Relaxed));
    assert!(
        stall <= MAX_STALL,
        "the chain stalled for {stall:?} with three validators up"
    );

    // Every task the client posted reaches a final status.
    let client_address = client.address.to_bech32();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let tasks_done = Instant::now();
    loop {
        let page = net.validators[0]
            .abci_query(
                &format!("/tasks/list?client={client_address}%26limit=1000"),
                0,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let items = page["items"].as_array().cloned().unwrap_or_default();
        statuses.clear();
        for t in &items {
            let s = t["status"].as_str().unwrap_or("?").to_string();
            *statuses.entry(s).or_default() += 1;
        }
        let open = statuses.get("assigned").copied().unwrap_or(0)
            + statuses.get("finalized").copied().unwrap_or(0);
        if open == 0 {
            break;
        }
        assert!(
            tasks_done.elapsed() < Duration::from_secs(180),
            "tasks still open 180 s after the faults stopped: {statuses:?}"
        );
        thread::sleep(Duration::from_secs(1));
    }
    let tasks: u64 = statuses.values().sum();
    assert!(tasks > 0, "the client posted no task");
    assert!(
        statuses.get("delivered").copied().unwrap_or(0) > 0,
        "no task was delivered: {statuses:?}"
    );

    // Every node at the same height; the same app hash at every height of the run.
    let top = net.v(0).height();
    for i in 1..n {
        net.wait_for_height(i, top, Duration::from_secs(120));
    }
    let earliest: Vec<u64> = (0..n)
        .map(|i| {
            net.v(i).status().expect("status")["sync_info"]["earliest_block_height"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
        })
        .collect();
    assert_eq!(earliest[..3], [1, 1, 1], "nodes 0..2 hold the whole chain");
    for height in first..=top {
        let expected = net.app_hash_at(0, height, Duration::from_secs(30));
        for i in (1..n).filter(|&i| earliest[i] <= height) {
            let got = net.app_hash_at(i, height, Duration::from_secs(30));
            assert_eq!(got, expected, "node{i}'s app hash for block {height}");
        }
    }

    // The blocks alone: every transfer of the senders executed or refused for its nonce.
    let blocks = net.validators[0].committed_txs(first, top);
    let ours: BTreeMap<String, usize> = senders
        .iter()
        .enumerate()
        .map(|(i, k)| (k.address.to_bech32(), i))
        .collect();
    let mut balances: BTreeMap<String, u128> = ours
        .keys()
        .map(|a| (a.clone(), SENDER_FUNDS))
        .chain(recipients.iter().map(|k| (k.address.to_bech32(), 0)))
        .collect();
    let mut nonces: BTreeMap<String, u64> = ours.keys().map(|a| (a.clone(), 0)).collect();
    let (mut executed, mut refused) = (0u64, 0u64);
    let mut in_blocks: BTreeMap<String, (u64, u32)> = BTreeMap::new();
    for tx in &blocks {
        in_blocks.insert(tx.hash.clone(), (tx.height, tx.code));
        if !ours.contains_key(&tx.signer) {
            continue;
        }
        if tx.code != 0 {
            // tx/7 nonce_replayed: a second copy of a nonce whose first copy executed
            assert_eq!(tx.code, 7, "block {}: {}'s tx failed", tx.height, tx.hash);
            refused += 1;
            continue;
        }
        let nonce = nonces.get_mut(&tx.signer).expect("a sender");
        assert_eq!(tx.nonce, *nonce, "block {}: nonce order", tx.height);
        *nonce += 1;
        let mut spent = tx.fee;
        for (to, amount) in &tx.sends {
            spent += amount;
            *balances.get_mut(to).expect("a recipient") += amount;
        }
        let b = balances.get_mut(&tx.signer).expect("a sender");
        *b = b.checked_sub(spent).expect("a sender overspent");
        executed += 1;
    }
    assert!(executed > 0, "no transfer was executed");
    for i in 0..n {
        for (address, balance) in &balances {
            let (got_balance, got_nonce) = net.validators[i]
                .account(address, top)
                .unwrap_or_else(|e| panic!("node{i}: {e}"));
            assert_eq!(
                got_balance, *balance,
                "node{i}: balance of {address} at {top}"
            );
            if let Some(nonce) = nonces.get(address) {
                assert_eq!(got_nonce, *nonce, "node{i}: nonce of {address} at {top}");
            }
        }
    }
    // What `/tx` reports committed is in the blocks, at that height, with that code.
    let mut reported = 0;
    for hash in &accepted {
        if let Some((height, code)) = net.validators[0].tx_result(hash) {
            assert_eq!(
                in_blocks.get(hash),
                Some(&(height, code)),
                "tx {hash}: /tx says height {height} code {code}"
            );
            reported += 1;
        }
    }

    // Invariants on every node's final store, and an export.
    for i in 0..n {
        net.v(i).stop();
        let path = net.validators[i].home.join("app/data/state.redb");
        let store = Storage::open(&path).unwrap_or_else(|e| panic!("node{i}'s store: {e}"));
        nodeop_app::app::check_invariants(&store)
            .unwrap_or_else(|e| panic!("node{i}'s final state breaks an invariant: {e}"));
    }
    let exported = net.dir.join("exported-genesis.json");
    net.validators[0].nodeopd_ok(&["export", "--output", &exported.to_string_lossy()]);
    drop(agents);

    eprintln!(
        "e2e chaos (seed {seed}): {:.0} s, {faults} faults, heights {first}..={top} agree on every \
         node holding them (earliest {earliest:?}); {executed} transfers executed ({refused} refused copies), {reported} of {} \
         accepted reported committed; {tasks} tasks {statuses:?}; longest stall {:.1} s",
        started.elapsed().as_secs_f64(),
        accepted.len(),
        stall.as_secs_f64()
    );
    eprintln!("schedule:\n  {}", schedule.lines.join("\n  "));
    drop(schedule);
}
