//! End-to-end support: real `nodeopd` and `cometbft` processes on loopback ports.
//!
//! A [`Node`] is one nodeopd home (its CometBFT home inside) and one `nodeop` CLI home (holding
//! the operator key `nodeopd init` generated), created with `nodeopd init`, with RPC, P2P and
//! ABCI ports picked free on 127.0.0.1 and written into the generated configs. It starts both
//! processes as children with their output in log files, stops them cleanly, kills them hard
//! (nodeopd alone, or both), pauses and resumes them, waits for heights through the RPC
//! `/status`, queries the app, and runs the CLI against itself. Single-node tests use a `Node`
//! alone; [`crate::testnet`] builds a network from several. A `Node` stops its children when
//! dropped — also when a test panics, in which case it first prints the tail of every log so
//! the failure explains itself.
//!
//! The binaries are the ones `scripts/test.sh` builds: `nodeopd` and `nodeop` beside this test
//! executable's target directory (so `CARGO_TARGET_DIR` is respected) and `bin/cometbft`
//! (override with `NODEOP_COMETBFT`). A missing binary fails the test with a message saying how
//! to build it; nothing is skipped silently. Set `NODEOP_E2E_KEEP=1` to keep the directories.
//!
//! Every wait has a deadline, so a test fails instead of hanging.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use nodeop_driver::chain::Key;
use serde_json::Value;

/// Upper bound for any single CLI call or init step.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a cleanly stopped process may take before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// The three executables an end-to-end test runs.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub nodeopd: PathBuf,
    pub nodeop: PathBuf,
    pub cometbft: PathBuf,
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The directory holding this profile's binaries (`target/debug`), found from the running test
/// executable (`target/debug/deps/e2e_…`), so that `CARGO_TARGET_DIR` is honoured.
fn profile_dir() -> PathBuf {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf));
    let from_env = std::env::var_os("CARGO_TARGET_DIR").map(|t| {
        let t = PathBuf::from(t);
        let t = if t.is_relative() {
            workspace_root().join(t)
        } else {
            t
        };
        t.join("debug")
    });
    let default = workspace_root().join("target").join("debug");
    [from_exe, from_env, Some(default.clone())]
        .into_iter()
        .flatten()
        .find(|d| d.join("nodeopd").is_file())
        .unwrap_or(default)
}

impl Binaries {
    /// Finds the binaries, or panics with a message saying how to build the missing one.
    pub fn locate() -> Self {
        let dir = profile_dir();
        let cometbft = std::env::var_os("NODEOP_COMETBFT")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("bin").join("cometbft"));
        let bins = Self {
            nodeopd: dir.join("nodeopd"),
            nodeop: dir.join("nodeop"),
            cometbft,
        };
        let mut missing = Vec::new();
        for (path, how) in [
            (
                &bins.nodeopd,
                "cargo build --workspace --bins (or scripts/setup.sh)",
            ),
            (
                &bins.nodeop,
                "cargo build --workspace --bins (or scripts/setup.sh)",
            ),
            (
                &bins.cometbft,
                "scripts/setup.sh (builds CometBFT v0.38.25 into bin/)",
            ),
        ] {
            if !path.is_file() {
                missing.push(format!("  {} — build it with: {how}", path.display()));
            }
        }
        let newest_source = newest_mtime(&[
            "app/src",
            "abci-server/src",
            "client/src",
            "genesis/src",
            "cometbft-config/src",
            "cometbft-config/templates",
        ]);
        for bin in [&bins.nodeopd, &bins.nodeop] {
            let built = fs::metadata(bin).and_then(|m| m.modified()).ok();
            if let (Some(built), Some(source)) = (built, newest_source) {
                if built < source {
                    eprintln!(
                        "warning: {} is older than the newest source file; run \
                         `cargo build --workspace --bins` (scripts/test.sh does) to test the \
                         current code",
                        bin.display()
                    );
                }
            }
        }
        assert!(
            missing.is_empty(),
            "end-to-end test cannot run, binaries are missing:\n{}\n\
             scripts/test.sh builds everything before running the tests.",
            missing.join("\n")
        );
        bins
    }
}

/// The newest modification time of any file under these workspace directories.
fn newest_mtime(dirs: &[&str]) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(t));
            }
        }
    }
    let mut newest = None;
    for d in dirs {
        walk(&workspace_root().join(d), &mut newest);
    }
    newest
}

/// A port that was free on 127.0.0.1 a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Distinct free ports.
pub fn free_ports(n: usize) -> Vec<u16> {
    // Hold every listener until all are chosen, so that the ports differ.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// Whether something listens on TCP `port` (from /proc/net/tcp{,6}; opening a connection to
/// probe would look like a client to nodeopd's ABCI server).
pub fn port_listening(port: u16) -> bool {
    let needle = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                cols.len() > 3 && cols[1].ends_with(&needle) && cols[3] == "0A"
            })
    })
}

/// An event as CometBFT's RPC shows it: `(type, [(key, value)])`.
pub type RpcEvent = (String, Vec<(String, String)>);

/// An event of a `/block_results` answer.
fn rpc_event(e: &Value) -> RpcEvent {
    let attributes = e["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["key"].as_str().unwrap_or_default().to_string(),
                a["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (
        e["type"].as_str().unwrap_or_default().to_string(),
        attributes,
    )
}

/// The result of a finished command.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout parsed as JSON, or a panic that shows the whole output.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!("expected JSON on stdout ({e}):\n{}", self.describe());
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "status: {}\nstdout:\n{}\nstderr:\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion, killing it after `timeout`. Output is captured through files, so a
/// chatty child can never block on a full pipe.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    let dir = tempfile::tempdir().expect("tempdir for command output");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let described = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {described}: {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for a command") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{described} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                fs::read_to_string(&out_path).unwrap_or_default(),
                fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// Like [`run`], but panics unless the command succeeds.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Output {
    let described = format!("{cmd:?}");
    let out = run(cmd, timeout);
    assert!(out.success(), "{described} failed:\n{}", out.describe());
    out
}

/// Sets `key = value` (value already in TOML syntax) in `[section]` of a TOML file (`""` for
/// the top level). Panics if the key is not there: the generated configs list every key.
pub fn toml_set(path: &Path, section: &str, key: &str, value: &str) {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut current = String::new();
    let mut done = false;
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') && !trimmed.starts_with("[[") {
            current = trimmed[1..trimmed.len() - 1].trim().to_string();
        }
        let is_key = trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if !done && current == section && is_key {
            out.push(format!("{key} = {value}"));
            done = true;
        } else {
            out.push(line.to_string());
        }
    }
    assert!(
        done,
        "{}: no key `{key}` in section [{section}]",
        path.display()
    );
    fs::write(path, out.join("\n") + "\n").expect("writing the TOML file");
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends a signal by name (`TERM`, `KILL`, …) with the `kill` command (no `unsafe` here).
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops a child: SIGTERM, then SIGKILL after `grace`. Returns its exit status.
pub fn stop_child(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    signal(child.id(), "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait().ok()
}

/// Sends one HTTP/1.0 `request` (the server closes the connection after its answer and never
/// chunks it) to 127.0.0.1:`port`; returns the answer's status line and body.
pub fn http_request(
    port: u16,
    request: &str,
    timeout: Duration,
) -> Result<(String, String), String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {text:.200}"))?;
    let status_line = head.lines().next().unwrap_or_default().to_string();
    Ok((status_line, body.to_string()))
}

/// A minimal HTTP/1.0 GET.
pub fn http_get(port: u16, path_and_query: &str, timeout: Duration) -> Result<String, String> {
    let request = format!("GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let (status_line, body) = http_request(port, &request, timeout)?;
    if !status_line.contains(" 200 ") && !body.trim_start().starts_with('{') {
        return Err(format!("HTTP {status_line}: {body:.300}"));
    }
    Ok(body)
}

/// A CometBFT JSON-RPC call over GET: the `result`, or the `error` rendered as a string.
///
/// A read that times out or a refused connection is retried (twice, after a pause) for
/// everything but broadcasts: on a loaded machine CometBFT's RPC can stall for seconds while
/// the node is busy, and a query is safe to repeat. A broadcast is never repeated here.
pub fn rpc(port: u16, path_and_query: &str) -> Result<Value, String> {
    let repeatable = !path_and_query.starts_with("/broadcast");
    let mut attempt = 0;
    let body = loop {
        match http_get(port, path_and_query, Duration::from_secs(10)) {
            Ok(b) => break b,
            Err(e)
                if repeatable
                    && attempt < 2
                    && (e.starts_with("read:") || e.starts_with("connect")) =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(e),
        }
    };
    let v: Value =
        serde_json::from_str(&body).map_err(|e| format!("not JSON ({e}): {body:.300}"))?;
    if let Some(err) = v.get("error") {
        return Err(err.to_string());
    }
    v.get("result")
        .cloned()
        .ok_or_else(|| format!("no result in {body:.300}"))
}

/// Base64 (standard alphabet), as CometBFT's RPC encodes bytes.
pub fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("bad base64 {s:?}: {e}"))
}

/// A JSON number or numeric string (CometBFT renders 64-bit integers as strings, nodeop renders
/// u128 amounts as strings) as u128.
pub fn num(v: &Value) -> u128 {
    match v {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {v}")),
        Value::Number(n) => n
            .as_u64()
            .map(u128::from)
            .unwrap_or_else(|| panic!("not a u64: {v}")),
        _ => panic!("not a number: {v}"),
    }
}

/// The app's JSON answer to an ABCI query `path` at `height` (0 = latest), without proof, through
/// the RPC on `port`.
pub fn abci_query(port: u16, path: &str, height: u64) -> Result<Value, String> {
    let r = rpc(
        port,
        &format!("/abci_query?path=%22{path}%22&height={height}&prove=false"),
    )?;
    let resp = &r["response"];
    let code = resp["code"].as_u64().unwrap_or(0);
    if code != 0 {
        return Err(format!("query {path} failed: {resp}"));
    }
    let value = b64(resp["value"].as_str().unwrap_or_default());
    serde_json::from_slice(&value).map_err(|e| format!("query {path}: not JSON: {e}"))
}

/// An account's `(balance, nonce)` at `height` (0 = latest), through the RPC on `port`.
pub fn account(port: u16, address: &str, height: u64) -> Result<(u128, u64), String> {
    let v = abci_query(port, &format!("/account/{address}"), height)?;
    Ok((num(&v["balance"]), num(&v["nonce"]) as u64))
}

/// Transfers streaming into one node or a network from background threads, one per sender,
/// until stopped: each sender reads its committed nonce from the first node that answers,
/// broadcasts a batch of transfers (to the recipients in turn) with the next nonces to one node
/// (the next batch to the next node; a node that does not answer is skipped, a CheckTx refusal
/// ends the batch), waits for them to commit (at most 5 s, or until no node answers), and
/// starts over from whatever nonce the chain then has. While every node is down it retries
/// every 100 ms, so the stream resumes as soon as one is back.
pub struct TxStream {
    stop: Arc<AtomicBool>,
    /// The hashes (upper-case hex) of the txs CheckTx accepted.
    accepted: Arc<Mutex<Vec<String>>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl TxStream {
    /// Txs a sender puts in flight before waiting for them to commit.
    const BATCH: u64 = 4;
    /// How long a sender waits for its batch to commit before it reads its nonce again (a batch
    /// lost with a crashed node's mempool holds the sender this long).
    pub const COMMIT_WAIT: Duration = Duration::from_secs(5);

    pub fn start(
        chain_id: &str,
        rpc_ports: Vec<u16>,
        senders: Vec<Key>,
        recipients: Vec<Key>,
        params: nodeop_app::params::TxParams,
    ) -> Self {
        assert!(!rpc_ports.is_empty() && !recipients.is_empty());
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let counter = Arc::new(AtomicU64::new(0));
        let threads = senders
            .into_iter()
            .enumerate()
            .map(|(s, from)| {
                let (stop, accepted, counter) = (stop.clone(), accepted.clone(), counter.clone());
                let (ports, recipients) = (rpc_ports.clone(), recipients.clone());
                let (params, chain_id) = (params.clone(), chain_id.to_string());
                thread::spawn(move || {
                    let address = from.address.to_bech32();
                    let committed_nonce = || {
                        ports
                            .iter()
                            .find_map(|port| account(*port, &address, 0).ok().map(|(_, n)| n))
                    };
                    // Each sender starts at a different node.
                    let mut turn = s;
                    while !stop.load(Ordering::Relaxed) {
                        let Some(nonce) = committed_nonce() else {
                            thread::sleep(Duration::from_millis(100));
                            continue;
                        };
                        let mut sent = 0;
                        for i in 0..Self::BATCH {
                            let n = counter.fetch_add(1, Ordering::Relaxed);
                            let to = &recipients[n as usize % recipients.len()];
                            // Distinct amounts: a nonce sent again never repeats a tx's bytes.
                            let amount = 1_000 + u128::from(n);
                            let tx = from.send(&chain_id, &params, nonce + i, &to.address, amount);
                            let path = format!("/broadcast_tx_sync?tx=0x{}", hex::encode(&tx));
                            let answer = (0..ports.len()).find_map(|tried| {
                                if tried > 0 {
                                    turn += 1;
                                }
                                rpc(ports[turn % ports.len()], &path).ok()
                            });
                            match answer {
                                Some(r) if r["code"].as_u64() == Some(0) => {
                                    let hash = r["hash"].as_str().unwrap_or_default();
                                    accepted
                                        .lock()
                                        .expect("accepted hashes")
                                        .push(hash.to_uppercase());
                                    sent += 1;
                                }
                                _ => break,
                            }
                        }
                        turn += 1;
                        let deadline = Instant::now() + Self::COMMIT_WAIT;
                        while sent > 0 && Instant::now() < deadline && !stop.load(Ordering::Relaxed)
                        {
                            match committed_nonce() {
                                Some(n) if n >= nonce + sent => break,
                                Some(_) => thread::sleep(Duration::from_millis(50)),
                                None => break,
                            }
                        }
                        if sent == 0 {
                            thread::sleep(Duration::from_millis(100));
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            accepted,
            threads,
        }
    }

    /// How many txs CheckTx accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.lock().expect("accepted hashes").len()
    }

    /// Stops the senders and returns the hashes of the txs CheckTx accepted.
    pub fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().expect("a streaming thread panicked");
        }
        std::mem::take(&mut *self.accepted.lock().expect("accepted hashes"))
    }
}

impl Drop for TxStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Polls `f` every 200 ms until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// What [`Node::init_with`] passes to `nodeopd init`.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// The block interval, as a Go duration.
    pub timeout_commit: &'static str,
    /// Other nodes' `id@host:port`.
    pub persistent_peers: Vec<String>,
    /// `--devnet`: the devnet's short staking windows, epochs and issuance periods.
    pub devnet: bool,
    /// The operator's self-bond, NOP (`None`: nodeopd's default).
    pub self_bond_nop: Option<u128>,
    /// The operator account's genesis balance, NOP (`None`: nodeopd's default).
    pub operator_balance_nop: Option<u128>,
    /// `(rpc, p2p, abci)` ports (`None`: three picked free). A testnet picks every node's at
    /// once, so that no two nodes get the same.
    pub ports: Option<[u16; 3]>,
    /// `--mempool-size`: CometBFT's mempool size in txs (`None`: nodeopd's default); app.toml's
    /// `[mempool] max_txs` follows it.
    pub mempool_size: Option<u64>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            timeout_commit: "500ms",
            persistent_peers: Vec::new(),
            devnet: false,
            self_bond_nop: None,
            operator_balance_nop: None,
            ports: None,
            mempool_size: None,
        }
    }
}

/// Follows a log file from the point it was created at, line by line.
pub struct LogWatch {
    path: PathBuf,
    offset: u64,
}

impl LogWatch {
    /// Starts at the current end of `path`.
    pub fn new(path: &Path) -> Self {
        let offset = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Self {
            path: path.to_path_buf(),
            offset,
        }
    }

    /// Waits (polling every 2 ms) for a new line for which `matches` holds, and returns it;
    /// `None` after `timeout`.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        use std::io::{Seek, SeekFrom};
        let deadline = Instant::now() + timeout;
        loop {
            let mut new = String::new();
            if let Ok(mut f) = fs::File::open(&self.path) {
                if f.seek(SeekFrom::Start(self.offset)).is_ok() {
                    let _ = f.read_to_string(&mut new);
                }
            }
            // Only complete lines; a partial last line is read again next time.
            for line in new.split_inclusive('\n').take_while(|l| l.ends_with('\n')) {
                self.offset += line.len() as u64;
                if matches(line.trim_end()) {
                    return Some(line.trim_end().to_string());
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
}

/// A tx found in a block, decoded.
#[derive(Clone, Debug)]
pub struct CommittedTx {
    /// SHA-256 of the tx bytes, upper-case hex (CometBFT's tx hash).
    pub hash: String,
    pub height: u64,
    /// The result code from `/block_results` (0 = success).
    pub code: u32,
    pub signer: String,
    pub nonce: u64,
    pub fee: u128,
    /// `(recipient, amount)` of each `Send` message.
    pub sends: Vec<(String, u128)>,
}

impl CommittedTx {
    pub fn decode(bytes: &[u8], height: u64, code: u32) -> Result<Self, String> {
        use nodeop_app::tx::{Msg, Tx};
        let tx: Tx =
            borsh::from_slice(bytes).map_err(|e| format!("block {height}: undecodable tx: {e}"))?;
        let sends = tx
            .body
            .msgs
            .iter()
            .filter_map(|m| match m {
                Msg::Send(s) => Some((s.to.clone(), s.amount)),
                _ => None,
            })
            .collect();
        Ok(Self {
            hash: hex::encode_upper(nodeop_app::tx::tx_hash(bytes)),
            height,
            code,
            signer: tx.signer().to_bech32(),
            nonce: tx.body.nonce,
            fee: tx.body.fee,
            sends,
        })
    }
}

/// One validator or full node: a nodeopd home (with its CometBFT home inside), a `nodeop` CLI
/// home holding its operator key `operator`, and the two processes that run it. Single-node
/// tests use one; a [`crate::testnet::Testnet`] is several.
pub struct Node {
    pub name: String,
    pub bins: Binaries,
    pub chain_id: String,
    /// `nodeopd --home`.
    pub home: PathBuf,
    /// The CometBFT home (`home/cometbft`).
    pub cmt_home: PathBuf,
    /// The `nodeop` CLI's home: `nodeopd init` stores the operator key `operator` in its
    /// keyring; tests import their own keys beside it.
    pub client_home: PathBuf,
    pub logs: PathBuf,
    pub rpc_port: u16,
    pub p2p_port: u16,
    pub abci_port: u16,
    /// The operator's account (bech32) whose key `nodeopd init` generated.
    pub operator: String,
    /// CometBFT's address of the consensus key (upper-case hex), as `/validators` shows it.
    pub consensus_address: String,
    app: Option<Child>,
    cometbft: Option<Child>,
    /// The temporary directory of a node made by [`Node::init_with`] (a testnet's nodes live in
    /// the testnet's).
    root: Option<tempfile::TempDir>,
}

impl Node {
    /// `nodeopd init` in a fresh temporary directory, with free loopback ports and the default
    /// [`NodeOptions`]: this node is the only validator of a new chain.
    pub fn init(name: &str, chain_id: &str) -> Self {
        Self::init_with(name, chain_id, &NodeOptions::default())
    }

    /// `nodeopd init` in a fresh temporary directory, removed when the node is dropped (kept
    /// after a panic, or with `NODEOP_E2E_KEEP=1`).
    pub fn init_with(name: &str, chain_id: &str, options: &NodeOptions) -> Self {
        let root = tempfile::Builder::new()
            .prefix(&format!("nodeop-e2e-{name}-"))
            .tempdir()
            .expect("creating a temporary directory");
        let mut node = Self::init_in(root.path(), name, chain_id, options);
        if std::env::var_os("NODEOP_E2E_KEEP").is_some() {
            eprintln!("[{name}] keeping {}", root.keep().display());
        } else {
            node.root = Some(root);
        }
        node
    }

    /// `nodeopd init` in `dir` (`dir/home`, `dir/client`, `dir/logs`), which the caller owns.
    pub fn init_in(dir: &Path, name: &str, chain_id: &str, options: &NodeOptions) -> Self {
        let bins = Binaries::locate();
        let home = dir.join("home");
        let client_home = dir.join("client");
        let logs = dir.join("logs");
        fs::create_dir_all(&logs).expect("creating the log directory");
        let [rpc_port, p2p_port, abci_port] = options.ports.unwrap_or_else(|| {
            let p = free_ports(3);
            [p[0], p[1], p[2]]
        });
        let laddr = |port: u16| format!("tcp://127.0.0.1:{port}");
        let mut init = Command::new(&bins.nodeopd);
        init.arg("init")
            .arg("--home")
            .arg(&home)
            .arg("--client-home")
            .arg(&client_home)
            .args(["--chain-id", chain_id, "--moniker", name])
            .arg("--cometbft")
            .arg(&bins.cometbft)
            .args(["--abci-laddr", &laddr(abci_port)])
            .args(["--rpc-laddr", &laddr(rpc_port)])
            .args(["--p2p-laddr", &laddr(p2p_port)])
            .args(["--timeout-commit", options.timeout_commit])
            .args(["--persistent-peers", &options.persistent_peers.join(",")]);
        if options.devnet {
            init.arg("--devnet");
        }
        if let Some(nop) = options.self_bond_nop {
            init.args(["--self-bond", &format!("{nop}nop")]);
        }
        if let Some(nop) = options.operator_balance_nop {
            init.args(["--operator-balance", &format!("{nop}nop")]);
        }
        if let Some(size) = options.mempool_size {
            init.args(["--mempool-size", &size.to_string()]);
        }
        let out = run_ok(&mut init, COMMAND_TIMEOUT);
        fs::write(logs.join("init.log"), out.stdout + &out.stderr).ok();
        let operator = run_ok(
            Command::new(&bins.nodeop)
                .arg("--home")
                .arg(&client_home)
                .args(["keys", "show", "operator", "--address"]),
            COMMAND_TIMEOUT,
        )
        .stdout
        .trim()
        .to_string();
        let cmt_home = home.join("cometbft");
        let key_file = cmt_home.join("config").join("priv_validator_key.json");
        let key: Value = serde_json::from_str(
            &fs::read_to_string(&key_file).expect("reading priv_validator_key.json"),
        )
        .expect("priv_validator_key.json is JSON");
        let consensus_address = key["address"]
            .as_str()
            .expect("address in priv_validator_key.json")
            .to_uppercase();
        Node {
            name: name.to_string(),
            chain_id: chain_id.to_string(),
            bins,
            home,
            cmt_home,
            client_home,
            logs,
            rpc_port,
            p2p_port,
            abci_port,
            operator,
            consensus_address,
            app: None,
            cometbft: None,
            root: None,
        }
    }

    /// The directory holding this node's homes and logs.
    pub fn dir(&self) -> PathBuf {
        self.home
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    pub fn genesis_path(&self) -> PathBuf {
        self.cmt_home.join("config").join("genesis.json")
    }

    pub fn priv_validator_key(&self) -> PathBuf {
        self.cmt_home.join("config").join("priv_validator_key.json")
    }

    /// Runs `nodeopd <args…> --home <home>` and panics unless it succeeds.
    pub fn nodeopd_ok(&self, args: &[&str]) -> Output {
        run_ok(
            Command::new(&self.bins.nodeopd)
                .args(args)
                .arg("--home")
                .arg(&self.home),
            COMMAND_TIMEOUT,
        )
    }

    /// Funds `address` with `amount` unop in genesis (`nodeopd genesis add-account`).
    pub fn add_genesis_account(&self, address: &str, amount: u128) {
        self.nodeopd_ok(&["genesis", "add-account", address, &amount.to_string()]);
    }

    pub fn validate_genesis(&self) {
        self.nodeopd_ok(&["genesis", "validate"]);
    }

    /// Replaces this node's genesis with another node's (to join its chain).
    pub fn copy_genesis_from(&self, other: &Node) {
        fs::copy(other.genesis_path(), self.genesis_path()).expect("copying genesis.json");
    }

    pub fn set_persistent_peers(&self, peers: &str) {
        let config = self.cmt_home.join("config").join("config.toml");
        toml_set(&config, "p2p", "persistent_peers", &format!("\"{peers}\""));
    }

    /// This node's P2P address for other nodes' `persistent_peers`: `id@127.0.0.1:port`.
    pub fn p2p_address(&self) -> String {
        let out = run_ok(
            Command::new(&self.bins.cometbft)
                .args(["show-node-id", "--home"])
                .arg(&self.cmt_home),
            COMMAND_TIMEOUT,
        );
        format!("{}@127.0.0.1:{}", out.stdout.trim(), self.p2p_port)
    }

    fn log_file(&self, name: &str) -> fs::File {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(name))
            .expect("opening a log file")
    }

    /// `program start --home home`, its output appended to `logs/log_name`.
    fn spawn(&self, program: &Path, home: &Path, log_name: &str) -> Child {
        let mut log = self.log_file(log_name);
        writeln!(log, "---- {} start ----", program.display()).ok();
        Command::new(program)
            .arg("start")
            .arg("--home")
            .arg(home)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("[{}] cannot start {}: {e}", self.name, program.display()))
    }

    /// Starts nodeopd and waits until its ABCI port listens.
    pub fn start_app(&mut self) {
        assert!(self.app.is_none(), "[{}] nodeopd already runs", self.name);
        self.app = Some(self.spawn(&self.bins.nodeopd, &self.home, "nodeopd.log"));
        let (port, what) = (
            self.abci_port,
            format!("[{}] nodeopd's ABCI port", self.name),
        );
        wait_for(&what, Duration::from_secs(60), || {
            self.assert_running();
            port_listening(port).then_some(())
        });
    }

    /// Starts cometbft (nodeopd must listen already).
    pub fn start_cometbft(&mut self) {
        assert!(
            self.cometbft.is_none(),
            "[{}] cometbft already runs",
            self.name
        );
        self.cometbft = Some(self.spawn(&self.bins.cometbft, &self.cmt_home, "cometbft.log"));
    }

    /// Starts nodeopd, then cometbft, then waits for the RPC to answer.
    pub fn start(&mut self) {
        self.start_app();
        self.start_cometbft();
        let what = format!("[{}] the RPC to answer /status", self.name);
        wait_for(&what, Duration::from_secs(60), || {
            self.assert_running();
            self.status().ok()
        });
    }

    /// Panics, with the logs, if a process that was started (and not stopped) has exited.
    pub fn assert_running(&mut self) {
        let mut dead = Vec::new();
        for (name, child) in [("nodeopd", &mut self.app), ("cometbft", &mut self.cometbft)] {
            if let Some(Ok(Some(status))) = child.as_mut().map(|c| c.try_wait()) {
                dead.push(format!("{name} exited ({status})"));
            }
        }
        assert!(
            dead.is_empty(),
            "[{}] {}\n{}",
            self.name,
            dead.join(", "),
            self.log_tails()
        );
    }

    /// Follows one of this node's logs (`nodeopd.log`, `cometbft.log`) from now on.
    pub fn watch_log(&self, name: &str) -> LogWatch {
        LogWatch::new(&self.logs.join(name))
    }

    /// SIGKILL to nodeopd only (a crash: no shutdown code runs). cometbft notices that its app
    /// is gone and exits on its own; [`Node::wait_cometbft_exit`] waits for that.
    pub fn kill_app_hard(&mut self) {
        if let Some(mut child) = self.app.take() {
            signal(child.id(), "KILL");
            let _ = child.wait();
        }
    }

    /// SIGKILL to cometbft only; nodeopd keeps running and serves the cometbft started next
    /// ([`Node::start_cometbft`]), which replays what its app has not committed.
    pub fn kill_cometbft_hard(&mut self) {
        if let Some(mut child) = self.cometbft.take() {
            signal(child.id(), "KILL");
            let _ = child.wait();
        }
    }

    /// Whether nodeopd runs (it was started and has not been stopped or killed).
    pub fn app_running(&self) -> bool {
        self.app.is_some()
    }

    /// SIGKILL to both processes (a machine crash: no shutdown code runs in either).
    pub fn kill_hard(&mut self) {
        let children: Vec<Child> = [self.cometbft.take(), self.app.take()]
            .into_iter()
            .flatten()
            .collect();
        // Both signals first, then the waits: the two die together.
        for c in &children {
            signal(c.id(), "KILL");
        }
        for mut c in children {
            let _ = c.wait();
        }
    }

    /// SIGSTOP to both processes: the node hangs (it neither answers nor votes) but keeps its
    /// sockets and state, as a machine that stalls does. [`Node::resume`] continues it.
    pub fn pause(&mut self) {
        for c in [&self.cometbft, &self.app].into_iter().flatten() {
            signal(c.id(), "STOP");
        }
    }

    /// SIGCONT to both processes, after [`Node::pause`].
    pub fn resume(&mut self) {
        for c in [&self.app, &self.cometbft].into_iter().flatten() {
            signal(c.id(), "CONT");
        }
    }

    /// Waits up to `timeout` for cometbft to exit on its own; returns whether it did.
    pub fn wait_cometbft_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.cometbft.as_mut().map(|c| c.try_wait()) {
                Some(Ok(None)) => thread::sleep(Duration::from_millis(100)),
                _ => {
                    self.cometbft = None;
                    return true;
                }
            }
        }
        false
    }

    /// Stops cometbft (SIGTERM, then SIGKILL after 15 s).
    pub fn stop_cometbft(&mut self) {
        self.stop_cometbft_within(STOP_GRACE);
    }

    /// Stops cometbft: SIGTERM, then SIGKILL after `grace`. Returns its exit status.
    pub fn stop_cometbft_within(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.cometbft.take()?;
        stop_child(&mut child, grace)
    }

    /// Stops nodeopd (SIGTERM, then SIGKILL after 15 s); returns its exit status.
    pub fn stop_app(&mut self) -> Option<ExitStatus> {
        let mut child = self.app.take()?;
        stop_child(&mut child, STOP_GRACE)
    }

    /// Stops both, cometbft first.
    pub fn stop(&mut self) {
        self.stop_cometbft();
        self.stop_app();
    }

    pub fn rpc(&self, path_and_query: &str) -> Result<Value, String> {
        rpc(self.rpc_port, path_and_query)
    }

    pub fn status(&self) -> Result<Value, String> {
        self.rpc("/status")
    }

    /// The latest block height, or 0 while the RPC does not answer.
    pub fn height(&self) -> u64 {
        self.status()
            .ok()
            .and_then(|s| s["sync_info"]["latest_block_height"].as_str()?.parse().ok())
            .unwrap_or(0)
    }

    /// Waits until the chain is at `height` or above; panics after `timeout` or if a process
    /// dies.
    pub fn wait_for_height(&mut self, height: u64, timeout: Duration) -> u64 {
        let what = format!("[{}] height {height}", self.name);
        let deadline = Instant::now() + timeout;
        loop {
            let h = self.height();
            if h >= height {
                return h;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what} (at {h})\n{}",
                self.log_tails()
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// The latest block's BFT time, unix seconds.
    pub fn latest_block_time(&self) -> Result<i64, String> {
        let s = self.status()?;
        let t = s["sync_info"]["latest_block_time"]
            .as_str()
            .ok_or("no latest_block_time")?;
        tendermint::Time::parse_from_rfc3339(t)
            .map(|t| t.unix_timestamp())
            .map_err(|e| format!("latest_block_time {t:?}: {e}"))
    }

    /// CometBFT's validator set at `height` (None: the latest): `(address hex, power)`.
    pub fn cometbft_validators(&self, height: Option<u64>) -> Result<Vec<(String, u64)>, String> {
        let at = height.map(|h| format!("height={h}&")).unwrap_or_default();
        let r = self.rpc(&format!("/validators?{at}per_page=100"))?;
        let list = r["validators"].as_array().ok_or("no validators array")?;
        Ok(list
            .iter()
            .map(|v| {
                (
                    v["address"].as_str().unwrap_or_default().to_uppercase(),
                    num(&v["voting_power"]) as u64,
                )
            })
            .collect())
    }

    /// The app's JSON answer to an ABCI query path (`/account/…`, `/supply`, …) at `height`
    /// (0 = latest), without proof.
    pub fn abci_query(&self, path: &str, height: u64) -> Result<Value, String> {
        abci_query(self.rpc_port, path, height)
    }

    /// The chain's tx params (fees, limits), from the app's `/params`.
    pub fn tx_params(&self) -> nodeop_app::params::TxParams {
        let v = self
            .abci_query("/params", 0)
            .unwrap_or_else(|e| panic!("[{}] {e}", self.name));
        serde_json::from_value(v["tx"].clone())
            .unwrap_or_else(|e| panic!("[{}] /params: {e}: {v}", self.name))
    }

    /// An account's `(balance, nonce)` from the app at `height` (0 = latest).
    pub fn account(&self, address: &str, height: u64) -> Result<(u128, u64), String> {
        account(self.rpc_port, address, height)
    }

    /// `broadcast_tx_sync`: CheckTx's `(code, log, hash)`.
    pub fn broadcast(&self, tx: &[u8]) -> Result<(u32, String, String), String> {
        let r = self.rpc(&format!("/broadcast_tx_sync?tx=0x{}", hex::encode(tx)))?;
        Ok((
            r["code"].as_u64().unwrap_or(u64::MAX) as u32,
            format!(
                "{}: {}",
                r["codespace"].as_str().unwrap_or(""),
                r["log"].as_str().unwrap_or("")
            ),
            r["hash"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// `/tx`: `Some((height, code))` when the tx (hex hash) is indexed.
    pub fn tx_result(&self, hash_hex: &str) -> Option<(u64, u32)> {
        let r = self.rpc(&format!("/tx?hash=0x{hash_hex}")).ok()?;
        let height = r["height"].as_str()?.parse().ok()?;
        let code = r["tx_result"]["code"].as_u64().unwrap_or(0) as u32;
        Some((height, code))
    }

    /// The header app hash of block `height` (the state after block `height - 1`).
    pub fn header_app_hash(&self, height: u64) -> Result<String, String> {
        let r = self.rpc(&format!("/block?height={height}"))?;
        r["block"]["header"]["app_hash"]
            .as_str()
            .map(str::to_uppercase)
            .ok_or_else(|| format!("no app_hash in block {height}"))
    }

    /// The app hash this node's app returned for block `height` (`/block_results`, base64 there),
    /// as upper-case hex: what the node computed itself, not the header it agreed to.
    pub fn computed_app_hash(&self, height: u64) -> Result<String, String> {
        let r = self.rpc(&format!("/block_results?height={height}"))?;
        r["app_hash"]
            .as_str()
            .map(|h| hex::encode_upper(b64(h)))
            .ok_or_else(|| format!("no app_hash in block_results {height}"))
    }

    /// The events of block `height` from `/block_results`: its txs' events, then FinalizeBlock's
    /// own.
    pub fn block_events(&self, height: u64) -> Result<Vec<RpcEvent>, String> {
        let r = self.rpc(&format!("/block_results?height={height}"))?;
        let tx_events = r["txs_results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["events"].as_array().into_iter().flatten());
        let block_events = r["finalize_block_events"].as_array().into_iter().flatten();
        Ok(tx_events.chain(block_events).map(rpc_event).collect())
    }

    /// `/abci_info`: the app's `(last_block_height, last_block_app_hash as upper hex)`.
    pub fn app_info(&self) -> Result<(u64, String), String> {
        let r = self.rpc("/abci_info")?;
        let resp = &r["response"];
        let height = resp["last_block_height"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| resp["last_block_height"].as_u64())
            .unwrap_or(0);
        let hash = hex::encode_upper(b64(resp["last_block_app_hash"]
            .as_str()
            .unwrap_or_default()));
        Ok((height, hash))
    }

    /// The raw txs of block `height` and their result codes (`/block` + `/block_results`).
    /// CometBFT stores a block before the results of executing it, so the latest block's results
    /// may not exist yet: they are waited for (10 s at most).
    pub fn block_txs(&self, height: u64) -> Result<Vec<(Vec<u8>, u32)>, String> {
        let block = self.rpc(&format!("/block?height={height}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let results = loop {
            match self.rpc(&format!("/block_results?height={height}")) {
                Err(e) if e.contains("could not find results") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => break other?,
            }
        };
        let txs: Vec<Vec<u8>> = block["block"]["data"]["txs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| b64(t.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let codes: Vec<u32> = results["txs_results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r["code"].as_u64().unwrap_or(0) as u32)
                    .collect()
            })
            .unwrap_or_default();
        if codes.len() != txs.len() {
            return Err(format!(
                "block {height}: {} txs but {} results",
                txs.len(),
                codes.len()
            ));
        }
        Ok(txs.into_iter().zip(codes).collect())
    }

    /// Every tx in blocks `from..=to`, decoded, with its result code.
    pub fn committed_txs(&self, from: u64, to: u64) -> Vec<CommittedTx> {
        let mut out = Vec::new();
        for h in from..=to {
            let txs = self
                .block_txs(h)
                .unwrap_or_else(|e| panic!("[{}] block {h}: {e}", self.name));
            for (bytes, code) in txs {
                out.push(CommittedTx::decode(&bytes, h, code).unwrap_or_else(|e| panic!("{e}")));
            }
        }
        out
    }

    /// Runs the `nodeop` CLI with `--home client_home --node <this node> --output json`, with a
    /// timeout.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as(&self.client_home, args)
    }

    /// Runs the `nodeop` CLI against this node with another client home.
    pub fn cli_as(&self, client_home: &Path, args: &[&str]) -> Output {
        run(
            Command::new(&self.bins.nodeop)
                .arg("--home")
                .arg(client_home)
                .arg("--node")
                .arg(self.rpc_url())
                .args(["--output", "json"])
                .args(args),
            COMMAND_TIMEOUT,
        )
    }

    /// Runs the CLI and panics unless it succeeds.
    pub fn cli_ok(&self, args: &[&str]) -> Output {
        let out = self.cli(args);
        assert!(
            out.success(),
            "[{}] nodeop {} failed:\n{}",
            self.name,
            args.join(" "),
            out.describe()
        );
        out
    }

    /// CometBFT's tx-indexing errors from its log, if any, as an explanation to append to a
    /// failed `/tx` assertion.
    pub fn index_errors(&self) -> String {
        let log = fs::read_to_string(self.logs.join("cometbft.log")).unwrap_or_default();
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("failed to index"))
            .take(3)
            .collect();
        if errors.is_empty() {
            String::new()
        } else {
            format!("\ncometbft.log says:\n{}", errors.join("\n"))
        }
    }

    /// The last lines of each log of this node.
    pub fn log_tails(&self) -> String {
        let mut s = String::new();
        for name in ["init.log", "nodeopd.log", "cometbft.log"] {
            let path = self.logs.join(name);
            if path.exists() {
                s += &format!(
                    "\n===== [{}] {} (last 60 lines) =====\n{}\n",
                    self.name,
                    path.display(),
                    tail(&path, 60)
                );
            }
        }
        s
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!("{}", self.log_tails());
            // Keep the homes and full logs of a failed run for a closer look.
            if let Some(root) = self.root.take() {
                eprintln!(
                    "[{}] kept {} for inspection",
                    self.name,
                    root.keep().display()
                );
            }
        }
    }
}
