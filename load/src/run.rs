//! `nodeop-load run`: prepare every tx first, send them, then read the chain back.
//!
//! Sending: lane `i` is account `i` (mode `nodeop`: its transfers carry nonces `n, n+1, …` from
//! its pending nonce at the start) or a stream of unique `key=value` txs (mode `kv`). Sender `s`
//! of `S` owns the lanes `i ≡ s (mod S)` and sends from them in turn, one `broadcast_tx_sync` at a
//! time, so a lane's txs reach CheckTx in nonce order. With `--rate R` the k-th new tx (over all
//! senders) is sent no earlier than `k / R` seconds after the start (an open loop: a sender that
//! fell behind sends at once); `--flat-out` sends as fast as CheckTx answers. A tx refused as
//! "retry later" (`tx/16` `mempool_full` from nodeopd, or CometBFT's own "mempool is full") is
//! sent again, the same bytes, once a new block was observed; its lane's other txs wait, the
//! other lanes go on. Any other refusal, or a broadcast with no answer, stops that lane.
//!
//! Measuring, from the chain: a watcher polls `/status` and records when each height was first
//! seen. After the load, the mempool drains (until a block with no tx, at most `--drain` s), then
//! every block since the start is read (`/block`, `/block_results`). Committed tx/s is the txs of
//! the blocks whose header time falls in the steady window (`--warmup` s after the start to the
//! end of sending) over the window's length; the latency of a tx is from its first send to when
//! the block that holds it was first seen.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use nodeop_app::crypto::Address;
use nodeop_app::params::TxParams;
use nodeop_client::node::{self, rpc_message, DEFAULT_NODE};
use nodeop_client::KeyPair;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tendermint_rpc::{Client, HttpClient};

use crate::Mode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The node's CometBFT RPC address.
    #[arg(long, default_value = DEFAULT_NODE)]
    rpc: String,
    /// nodeop: signed transfers between the seed's accounts; kv: key=value txs (kvstore).
    #[arg(long, value_enum, default_value_t = Mode::Nodeop)]
    mode: Mode,
    /// Offered load, new txs per second over all senders.
    #[arg(
        long,
        conflicts_with = "flat_out",
        required_unless_present = "flat_out"
    )]
    rate: Option<f64>,
    /// Send as fast as CheckTx answers.
    #[arg(long)]
    flat_out: bool,
    /// Concurrent senders (each one HTTP connection, one request at a time).
    #[arg(long, default_value_t = 8)]
    senders: usize,
    /// How long to send, seconds (the warmup included).
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// The first seconds of sending, left out of the steady window.
    #[arg(long, default_value_t = 5.0)]
    warmup: f64,
    /// Accounts (mode nodeop: funded in genesis by `nodeop-load genesis` with the same seed) or
    /// lanes (mode kv).
    #[arg(long, default_value_t = 2_000)]
    accounts: usize,
    /// The seed of the accounts' keys (and of the kv keys).
    #[arg(long, default_value = "nodeop-load")]
    seed: String,
    /// Size of every tx, bytes (transfers are padded with their memo, kv txs with the value).
    #[arg(long, default_value_t = 210)]
    tx_bytes: usize,
    /// Txs to prepare before sending (default: 1.1 × rate × duration, or 6000/s × duration
    /// flat out). A run that uses them all says so (`exhausted`).
    #[arg(long)]
    presign: Option<usize>,
    /// After sending, wait at most this long (seconds) for the mempool to drain.
    #[arg(long, default_value_t = 60.0)]
    drain: f64,
    /// A name for this run in the summary and the JSON.
    #[arg(long, default_value = "")]
    label: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Flat out, the default number of txs prepared per second of `--duration`.
const FLAT_OUT_PRESIGN_RATE: f64 = 6_000.0;
/// How often the watcher asks for the latest height.
const WATCH_INTERVAL: Duration = Duration::from_millis(25);

struct Prepared {
    bytes: Vec<u8>,
    hash: [u8; 32],
}

struct Lane {
    index: usize,
    txs: VecDeque<Prepared>,
    /// A "retry later" refusal: the head tx goes again once this height is seen.
    retry_at_height: Option<u64>,
    /// When the head tx was first sent.
    first_attempt: Option<Instant>,
    accepted: u64,
    stopped: bool,
    /// A broadcast got no answer: its tx may be in the mempool.
    uncertain: bool,
}

struct AcceptedTx {
    hash: [u8; 32],
    first_attempt: Instant,
}

#[derive(Default)]
struct SenderResult {
    accepted: Vec<AcceptedTx>,
    refused: BTreeMap<String, u64>,
    refused_sample: BTreeMap<String, String>,
    attempts: u64,
    new_txs: u64,
    new_txs_in_window: u64,
    rpc_errors: Vec<String>,
    exhausted: bool,
    lanes: Vec<(usize, u64, bool, bool)>,
}

/// Percentiles of send-to-commit latency, milliseconds.
#[derive(Serialize, Default)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Serialize)]
pub struct Report {
    pub label: String,
    pub mode: Mode,
    pub rpc: String,
    pub chain_id: String,
    /// `null` flat out.
    pub offered_rate: Option<f64>,
    pub flat_out: bool,
    pub senders: usize,
    pub accounts: usize,
    pub tx_bytes: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub window_s: f64,
    pub prepared_txs: usize,
    pub prepare_s: f64,
    /// Some sender used all its prepared txs before the end.
    pub exhausted: bool,
    /// Broadcasts, retries included.
    pub attempts: u64,
    /// New txs sent (first attempts).
    pub sent: u64,
    /// New txs sent per second in the steady window: the offered load actually achieved.
    pub sent_rate_in_window: f64,
    /// Txs CheckTx accepted (code 0).
    pub accepted: u64,
    /// Refusals by `codespace/code` (`cometbft/mempool_is_full` for CometBFT's own).
    pub refused: BTreeMap<String, u64>,
    /// One log line of each refusal.
    pub refused_sample: BTreeMap<String, String>,
    /// Refusals that mean "retry later"; their txs were sent again.
    pub retried: u64,
    pub rpc_errors: u64,
    pub rpc_error_sample: Vec<String>,
    pub start_height: u64,
    pub end_height: u64,
    pub drained: bool,
    pub window_blocks: u64,
    /// Txs in the blocks whose time falls in the steady window.
    pub committed_in_window: u64,
    /// `committed_in_window / window_s`.
    pub committed_tps: f64,
    /// Largest block (txs) in the window.
    pub max_block_txs: u64,
    /// Accepted txs found in a block.
    pub committed_accepted: u64,
    /// Latency of the accepted txs first sent in the steady window.
    pub latency: Latency,
    /// Accepted by CheckTx, in no block after the drain.
    pub accepted_not_executed: u64,
    /// Accepted, in a block, with a non-zero result code.
    pub executed_with_error: u64,
    /// Mode nodeop: accounts whose committed nonce is below their start nonce + accepted txs.
    pub stalled_accounts: u64,
    /// Mode nodeop: accounts whose nonce is beyond what was accepted (an unanswered broadcast
    /// excepted).
    pub nonce_mismatches: u64,
    /// Lanes stopped by a refusal that is not "retry later", or an unanswered broadcast.
    pub stopped_lanes: u64,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn unix_nanos(t: SystemTime) -> i128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

async fn latest_height(client: &HttpClient) -> Result<u64> {
    node::latest_height(client).await
}

/// Which nonce of an account to read.
#[derive(Clone, Copy)]
enum NonceKind {
    /// The one the next tx must carry at this node (`/pending/account`).
    Pending,
    /// The committed one (`/account`).
    Committed,
}

/// The nonce of every account, eight queries at a time, in `addresses` order.
async fn read_nonces(
    client: &HttpClient,
    addresses: &[Address],
    kind: NonceKind,
) -> Result<Vec<u64>> {
    let chunk = addresses.len().div_ceil(8).max(1);
    let mut tasks = Vec::new();
    for part in addresses.chunks(chunk) {
        let client = client.clone();
        let part = part.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(part.len());
            for a in &part {
                out.push(match kind {
                    NonceKind::Pending => node::next_nonce(&client, a).await?,
                    NonceKind::Committed => node::query_account(&client, a, None).await?.0.nonce,
                });
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::with_capacity(addresses.len());
    for t in tasks {
        all.extend(t.await.context("an account query task failed")??);
    }
    Ok(all)
}

fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Signs `per_lane` transfers for every account, on every core.
fn prepare_transfers(
    keys: &[KeyPair],
    nonces: &[u64],
    per_lane: usize,
    chain_id: &str,
    params: &TxParams,
    tx_bytes: usize,
) -> Result<Vec<VecDeque<Prepared>>> {
    let n = keys.len();
    let addresses: Vec<Address> = keys.iter().map(KeyPair::address).collect();
    // The memo pads the tx to tx_bytes (the fee is a fixed-width u128, so it does not move).
    let probe = nodeop_client::build_send(chain_id, 0, &addresses[0], 1, None, "", params)?;
    let base = nodeop_client::tx::signed_len(&probe)?;
    if base > tx_bytes {
        bail!("a transfer on chain {chain_id:?} is {base} bytes, more than --tx-bytes {tx_bytes}");
    }
    let memo = "x".repeat(tx_bytes - base);
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunk = n.div_ceil(threads).max(1);
    let lanes: Vec<usize> = (0..n).collect();
    let results: Vec<Result<Vec<VecDeque<Prepared>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .chunks(chunk)
            .map(|part| {
                let (addresses, memo) = (&addresses, &memo);
                scope.spawn(move || {
                    part.iter()
                        .map(|&i| {
                            let to = &addresses[(i + 1) % n];
                            (0..per_lane)
                                .map(|k| {
                                    let body = nodeop_client::build_send(
                                        chain_id,
                                        nonces[i] + k as u64,
                                        to,
                                        1,
                                        None,
                                        memo,
                                        params,
                                    )?;
                                    let tx = nodeop_client::sign_tx(body, &keys[i])?;
                                    let bytes = nodeop_client::tx::encode_tx(&tx)?;
                                    Ok(Prepared {
                                        hash: hash(&bytes),
                                        bytes,
                                    })
                                })
                                .collect::<Result<VecDeque<_>>>()
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a signing thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(n);
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// `per_lane` unique `key=value` txs of exactly `tx_bytes` for each of `n` lanes.
fn prepare_kv(
    n: usize,
    per_lane: usize,
    seed: &str,
    tx_bytes: usize,
) -> Result<Vec<VecDeque<Prepared>>> {
    // Unique across runs against one chain: a repeated tx would hit CometBFT's cache.
    let run = unix_nanos(SystemTime::now());
    (0..n)
        .map(|i| {
            (0..per_lane)
                .map(|k| {
                    let mut tx = format!("{seed}-{run}-{i}-{k}=").into_bytes();
                    if tx.len() >= tx_bytes {
                        bail!(
                            "the key {:?} leaves no room for a value in --tx-bytes {tx_bytes}",
                            String::from_utf8_lossy(&tx)
                        );
                    }
                    tx.resize(tx_bytes, b'v');
                    Ok(Prepared {
                        hash: hash(&tx),
                        bytes: tx,
                    })
                })
                .collect()
        })
        .collect()
}

/// Whether a refusal means "send the same tx again later".
fn retry_later(codespace: &str, code: u32) -> bool {
    codespace == nodeop_app::error::CODESPACE_TX && code == 16
}

struct Shared {
    start: Instant,
    window_start: Instant,
    end: Instant,
    rate: Option<f64>,
    slots: AtomicU64,
    height: AtomicU64,
}

async fn sender(client: HttpClient, mut lanes: Vec<Lane>, shared: Arc<Shared>) -> SenderResult {
    let mut out = SenderResult::default();
    let mut cursor = 0usize;
    'send: loop {
        if Instant::now() >= shared.end || lanes.is_empty() {
            break;
        }
        let seen = shared.height.load(Ordering::Relaxed);
        let mut chosen = None;
        let mut pending = false;
        for k in 0..lanes.len() {
            let j = (cursor + k) % lanes.len();
            let l = &lanes[j];
            if l.stopped || l.txs.is_empty() {
                continue;
            }
            pending = true;
            if l.retry_at_height.is_some_and(|h| seen < h) {
                continue;
            }
            chosen = Some(j);
            break;
        }
        let Some(j) = chosen else {
            if !pending {
                out.exhausted = lanes.iter().any(|l| !l.stopped && l.txs.is_empty());
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        cursor = j + 1;
        let lane = &mut lanes[j];
        if lane.retry_at_height.is_none() {
            if let Some(rate) = shared.rate {
                let slot = shared.slots.fetch_add(1, Ordering::Relaxed);
                let due = shared.start + Duration::from_secs_f64(slot as f64 / rate);
                if due >= shared.end {
                    break 'send;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            let now = Instant::now();
            lane.first_attempt = Some(now);
            out.new_txs += 1;
            if now >= shared.window_start && now < shared.end {
                out.new_txs_in_window += 1;
            }
        }
        let Some(tx) = lane.txs.front() else {
            continue;
        };
        let first_attempt = lane.first_attempt.unwrap_or_else(Instant::now);
        out.attempts += 1;
        let seen = shared.height.load(Ordering::Relaxed);
        match client.broadcast_tx_sync(tx.bytes.clone()).await {
            Ok(r) if r.code.is_ok() => {
                out.accepted.push(AcceptedTx {
                    hash: tx.hash,
                    first_attempt,
                });
                lane.txs.pop_front();
                lane.retry_at_height = None;
                lane.accepted += 1;
            }
            Ok(r) => {
                let code = r.code.value();
                let key = format!(
                    "{}/{code}",
                    if r.codespace.is_empty() {
                        "-"
                    } else {
                        &r.codespace
                    }
                );
                *out.refused.entry(key.clone()).or_default() += 1;
                out.refused_sample.entry(key).or_insert(r.log);
                if retry_later(&r.codespace, code) {
                    lane.retry_at_height = Some(seen + 1);
                } else {
                    lane.stopped = true;
                }
            }
            Err(e) => {
                let message = rpc_message(&e);
                if message.contains("mempool is full") {
                    let key = "cometbft/mempool_is_full".to_string();
                    *out.refused.entry(key.clone()).or_default() += 1;
                    out.refused_sample.entry(key).or_insert(message);
                    lane.retry_at_height = Some(seen + 1);
                } else {
                    if out.rpc_errors.len() < 5 {
                        out.rpc_errors.push(message);
                    } else {
                        out.rpc_errors.push(String::new());
                    }
                    lane.stopped = true;
                    lane.uncertain = true;
                }
            }
        }
    }
    out.lanes = lanes
        .iter()
        .map(|l| (l.index, l.accepted, l.uncertain, l.stopped))
        .collect();
    out
}

/// Records when each height was first seen, until `stop`.
async fn watch(
    client: HttpClient,
    shared: Arc<Shared>,
    seen: Arc<Mutex<BTreeMap<u64, Instant>>>,
    stop: Arc<AtomicBool>,
) {
    let mut last = shared.height.load(Ordering::Relaxed);
    while !stop.load(Ordering::Relaxed) {
        if let Ok(h) = latest_height(&client).await {
            if h > last {
                let now = Instant::now();
                let mut map = seen.lock().unwrap_or_else(|e| e.into_inner());
                for missed in last + 1..=h {
                    map.insert(missed, now);
                }
                last = h;
                shared.height.store(h, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

struct BlockInfo {
    height: u64,
    time_nanos: i128,
    txs: u64,
}

pub async fn run(args: RunArgs) -> Result<()> {
    if args.senders == 0 || args.accounts == 0 {
        bail!("--senders and --accounts must be at least 1");
    }
    if !(args.duration > 0.0 && args.warmup >= 0.0 && args.warmup < args.duration) {
        bail!("need --duration > --warmup >= 0");
    }
    if let Some(r) = args.rate {
        if !(r > 0.0 && r.is_finite()) {
            bail!("--rate must be a positive number");
        }
    }
    let client = node::connect(&args.rpc)?;
    let chain_id = node::node_chain_id(&client).await?;
    let budget = args.presign.unwrap_or_else(|| {
        let rate = args.rate.unwrap_or(FLAT_OUT_PRESIGN_RATE);
        (rate * args.duration * 1.1).ceil() as usize + args.accounts
    });
    let per_lane = budget.div_ceil(args.accounts).max(1);

    let t_prepare = Instant::now();
    let mut addresses = Vec::new();
    let mut nonces = Vec::new();
    let queues = match args.mode {
        Mode::Nodeop => {
            let params = node::query_tx_params(&client).await?;
            let keys = crate::accounts(&args.seed, args.accounts);
            addresses = keys.iter().map(KeyPair::address).collect();
            for probe in [&addresses[0], &addresses[addresses.len() - 1]] {
                let (view, _) = node::query_account(&client, probe, None)
                    .await
                    .with_context(|| {
                        format!(
                            "account {probe} of seed {:?} (fund the accounts with `nodeop-load \
                             genesis --accounts {} --seed {:?} --genesis …`)",
                            args.seed, args.accounts, args.seed
                        )
                    })?;
                if view.balance == 0 {
                    bail!("account {probe} of seed {:?} has no funds", args.seed);
                }
            }
            nonces = read_nonces(&client, &addresses, NonceKind::Pending).await?;
            eprintln!(
                "preparing {} signed transfers ({per_lane} per account, {} accounts)…",
                per_lane * args.accounts,
                args.accounts
            );
            prepare_transfers(&keys, &nonces, per_lane, &chain_id, &params, args.tx_bytes)?
        }
        Mode::Kv => prepare_kv(args.accounts, per_lane, &args.seed, args.tx_bytes)?,
    };
    let prepared: usize = queues.iter().map(VecDeque::len).sum();
    let prepare_s = t_prepare.elapsed().as_secs_f64();
    let actual_bytes = queues
        .first()
        .and_then(|q| q.front())
        .map_or(0, |p| p.bytes.len());
    eprintln!("prepared {prepared} txs of {actual_bytes} bytes in {prepare_s:.1} s");

    let start_height = latest_height(&client).await?;
    let start = Instant::now();
    let wall0 = SystemTime::now();
    let shared = Arc::new(Shared {
        start,
        window_start: start + Duration::from_secs_f64(args.warmup),
        end: start + Duration::from_secs_f64(args.duration),
        rate: if args.flat_out { None } else { args.rate },
        slots: AtomicU64::new(0),
        height: AtomicU64::new(start_height),
    });
    let to_nanos = |i: Instant| {
        unix_nanos(wall0) + i.saturating_duration_since(start).as_nanos() as i128
            - start.saturating_duration_since(i).as_nanos() as i128
    };
    let seen_at = Arc::new(Mutex::new(BTreeMap::<u64, Instant>::new()));
    let stop_watch = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch(
        node::connect(&args.rpc)?,
        shared.clone(),
        seen_at.clone(),
        stop_watch.clone(),
    ));

    let mut by_sender: Vec<Vec<Lane>> = (0..args.senders).map(|_| Vec::new()).collect();
    for (i, txs) in queues.into_iter().enumerate() {
        by_sender[i % args.senders].push(Lane {
            index: i,
            txs,
            retry_at_height: None,
            first_attempt: None,
            accepted: 0,
            stopped: false,
            uncertain: false,
        });
    }
    eprintln!(
        "sending for {:.0} s ({} senders, {}) to {} (chain {chain_id}, height {start_height})…",
        args.duration,
        args.senders,
        match args.rate {
            Some(r) if !args.flat_out => format!("{r:.0} tx/s offered"),
            _ => "flat out".into(),
        },
        args.rpc
    );
    let mut handles = Vec::new();
    for lanes in by_sender {
        let c = node::connect(&args.rpc)?;
        handles.push(tokio::spawn(sender(c, lanes, shared.clone())));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.context("a sender task failed")?);
    }
    let load_end = Instant::now();
    let end_wall = to_nanos(shared.end.min(load_end));

    // Drain: until a block after the load holds no tx.
    let drain_deadline = Instant::now() + Duration::from_secs_f64(args.drain);
    let mut cursor = latest_height(&client).await? + 1;
    let mut drained = false;
    while !drained && Instant::now() < drain_deadline {
        let latest = shared.height.load(Ordering::Relaxed);
        while cursor <= latest {
            let r = client
                .blockchain(
                    tendermint::block::Height::try_from(cursor)?,
                    tendermint::block::Height::try_from(cursor)?,
                )
                .await
                .map_err(|e| anyhow!("/blockchain {cursor}: {}", rpc_message(&e)))?;
            if r.block_metas.first().is_some_and(|m| m.num_txs == 0) {
                drained = true;
                break;
            }
            cursor += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // one more block: the last one's results are stored and its time seen
    let target = shared.height.load(Ordering::Relaxed) + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    while shared.height.load(Ordering::Relaxed) < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_watch.store(true, Ordering::Relaxed);
    let _ = watcher.await;
    let end_height = latest_height(&client).await?;
    eprintln!("reading blocks {}..={end_height}…", start_height + 1);

    // Every block since the start.
    let mut found: HashMap<[u8; 32], (u64, u32)> = HashMap::new();
    let mut blocks = Vec::new();
    for h in start_height + 1..=end_height {
        let height = tendermint::block::Height::try_from(h)?;
        let b = client
            .block(height)
            .await
            .map_err(|e| anyhow!("/block {h}: {}", rpc_message(&e)))?;
        let results = client
            .block_results(height)
            .await
            .map_err(|e| anyhow!("/block_results {h}: {}", rpc_message(&e)))?;
        let codes: Vec<u32> = results
            .txs_results
            .unwrap_or_default()
            .iter()
            .map(|r| r.code.value())
            .collect();
        let txs = b.block.data();
        for (k, tx) in txs.iter().enumerate() {
            found.insert(hash(tx), (h, codes.get(k).copied().unwrap_or(0)));
        }
        blocks.push(BlockInfo {
            height: h,
            time_nanos: b.block.header.time.unix_timestamp_nanos(),
            txs: txs.len() as u64,
        });
    }
    let window_start_wall = to_nanos(shared.window_start);
    let in_window: Vec<&BlockInfo> = blocks
        .iter()
        .filter(|b| b.time_nanos >= window_start_wall && b.time_nanos < end_wall)
        .collect();
    let committed_in_window: u64 = in_window.iter().map(|b| b.txs).sum();
    let window_s = (end_wall - window_start_wall) as f64 / 1e9;

    // Latency, losses.
    let seen_at = seen_at.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut latencies = Vec::new();
    let mut lost = 0u64;
    let mut failed = 0u64;
    let mut committed_accepted = 0u64;
    for a in results.iter().flat_map(|r| &r.accepted) {
        match found.get(&a.hash) {
            None => lost += 1,
            Some((h, code)) => {
                committed_accepted += 1;
                if *code != 0 {
                    failed += 1;
                }
                if a.first_attempt >= shared.window_start && a.first_attempt < shared.end {
                    if let Some((_, t)) = seen_at.range(*h..).next() {
                        latencies
                            .push(t.saturating_duration_since(a.first_attempt).as_secs_f64() * 1e3);
                    }
                }
            }
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let latency = Latency {
        count: latencies.len(),
        p50_ms: percentile(&latencies, 0.50),
        p95_ms: percentile(&latencies, 0.95),
        p99_ms: percentile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or(0.0),
    };

    // Accounts.
    let lanes: Vec<(usize, u64, bool, bool)> = results
        .iter()
        .flat_map(|r| r.lanes.iter().copied())
        .collect();
    let stopped_lanes = lanes.iter().filter(|l| l.3).count() as u64;
    let (mut stalled, mut mismatched) = (0u64, 0u64);
    if args.mode == Mode::Nodeop {
        let now = read_nonces(&client, &addresses, NonceKind::Committed).await?;
        for &(i, accepted, uncertain, _) in &lanes {
            let expected = nonces[i] + accepted;
            if now[i] < expected {
                stalled += 1;
                if stalled <= 5 {
                    eprintln!(
                        "stalled: account {} nonce {} after {accepted} accepted from nonce {}",
                        addresses[i], now[i], nonces[i]
                    );
                }
            } else if now[i] > expected + u64::from(uncertain) {
                mismatched += 1;
            }
        }
    }

    let sum = |f: fn(&SenderResult) -> u64| results.iter().map(f).sum::<u64>();
    let mut refused = BTreeMap::new();
    let mut refused_sample = BTreeMap::new();
    for r in &results {
        for (k, v) in &r.refused {
            *refused.entry(k.clone()).or_insert(0u64) += v;
        }
        for (k, v) in &r.refused_sample {
            refused_sample.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let retried = refused
        .iter()
        .filter(|(k, _)| *k == "tx/16" || *k == "cometbft/mempool_is_full")
        .map(|(_, v)| *v)
        .sum();
    let report = Report {
        label: args.label.clone(),
        mode: args.mode,
        rpc: args.rpc.clone(),
        chain_id,
        offered_rate: if args.flat_out { None } else { args.rate },
        flat_out: args.flat_out,
        senders: args.senders,
        accounts: args.accounts,
        tx_bytes: actual_bytes,
        duration_s: args.duration,
        warmup_s: args.warmup,
        window_s,
        prepared_txs: prepared,
        prepare_s,
        exhausted: results.iter().any(|r| r.exhausted),
        attempts: sum(|r| r.attempts),
        sent: sum(|r| r.new_txs),
        sent_rate_in_window: sum(|r| r.new_txs_in_window) as f64 / window_s,
        accepted: results.iter().map(|r| r.accepted.len() as u64).sum(),
        refused,
        refused_sample,
        retried,
        rpc_errors: results.iter().map(|r| r.rpc_errors.len() as u64).sum(),
        rpc_error_sample: results
            .iter()
            .flat_map(|r| r.rpc_errors.iter().filter(|e| !e.is_empty()).cloned())
            .take(5)
            .collect(),
        start_height,
        end_height,
        drained,
        window_blocks: in_window.len() as u64,
        committed_in_window,
        committed_tps: committed_in_window as f64 / window_s,
        max_block_txs: in_window.iter().map(|b| b.txs).max().unwrap_or(0),
        committed_accepted,
        latency,
        accepted_not_executed: lost,
        executed_with_error: failed,
        stalled_accounts: stalled,
        nonce_mismatches: mismatched,
        stopped_lanes,
    };
    print_summary(&report, &blocks);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn print_summary(r: &Report, blocks: &[BlockInfo]) {
    let title = if r.label.is_empty() {
        String::new()
    } else {
        format!(" [{}]", r.label)
    };
    println!("nodeop-load{title}: mode {:?}, {}", r.mode, r.rpc);
    println!(
        "  offered        {} ({} senders, {} accounts, {}-byte txs, {:.0} s with {:.0} s warmup)",
        r.offered_rate
            .map_or_else(|| "flat out".to_string(), |x| format!("{x:.0} tx/s")),
        r.senders,
        r.accounts,
        r.tx_bytes,
        r.duration_s,
        r.warmup_s
    );
    println!(
        "  sent           {} new txs ({:.0} tx/s in the window), {} broadcasts, {} accepted{}",
        r.sent,
        r.sent_rate_in_window,
        r.attempts,
        r.accepted,
        if r.exhausted {
            " — ran out of prepared txs (raise --presign)"
        } else {
            ""
        }
    );
    for (k, v) in &r.refused {
        println!(
            "  refused        {v} × {k}: {}",
            r.refused_sample.get(k).map_or("", String::as_str)
        );
    }
    if r.rpc_errors > 0 {
        println!(
            "  rpc errors     {} (e.g. {:?})",
            r.rpc_errors, r.rpc_error_sample
        );
    }
    println!(
        "  committed      {:.1} tx/s: {} txs in {} blocks of the {:.1} s window (largest {} txs); \
         blocks {}..={}{}",
        r.committed_tps,
        r.committed_in_window,
        r.window_blocks,
        r.window_s,
        r.max_block_txs,
        r.start_height + 1,
        r.end_height,
        if r.drained {
            ""
        } else {
            " (the mempool had not drained)"
        }
    );
    println!(
        "  latency        p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms (send to block seen, {} txs)",
        r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms, r.latency.max_ms, r.latency.count
    );
    println!(
        "  lost           {} accepted but never executed; {} executed with an error",
        r.accepted_not_executed, r.executed_with_error
    );
    if r.mode == Mode::Nodeop {
        println!(
            "  accounts       {} stalled, {} nonce mismatches, {} lanes stopped",
            r.stalled_accounts, r.nonce_mismatches, r.stopped_lanes
        );
    } else {
        println!("  lanes          {} stopped", r.stopped_lanes);
    }
    let per_block: Vec<String> = blocks
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|b| format!("{}:{}", b.height, b.txs))
        .collect();
    println!("  last blocks    {}", per_block.join(" "));
}
