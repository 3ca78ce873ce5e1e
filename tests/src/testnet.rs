//! End-to-end support for a real multi-validator network: N validators on loopback, each a
//! [`Node`] (its own `nodeopd` and `cometbft` process), one shared genesis.
//!
//! [`Testnet::new`] runs `nodeopd init --devnet` for every validator in one temporary directory
//! (free ports for P2P, RPC and ABCI each), builds one genesis from validator 0's (adding every
//! other validator's consensus key and operator with `nodeopd genesis add-validator`, funding
//! their operator accounts and the test's accounts), copies it to every node and makes every node
//! a persistent peer of every other. [`Testnet::start`] starts the processes; each validator is a
//! [`Node`] that can then be stopped cleanly, killed with SIGKILL (both processes or its nodeopd
//! only), paused and started again. Every wait polls with a deadline and panics instead of
//! hanging; a process that dies while it should run fails the wait that notices it.
//!
//! Dropping the [`Testnet`] stops every child (cometbft first, SIGKILL after a grace period), also
//! when the test panics; each node then prints the tail of its logs and the directory is kept.
//! Set `NODEOP_E2E_KEEP=1` to keep it after a successful run too. The binaries are found as in
//! [`crate::net`]; a missing one fails the test.
//!
//! The helpers share ideas with `scripts/testnet.sh` but not its state: a test never depends on a
//! testnet the script started.

use std::fs;
use std::path::{Path, PathBuf};

use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use nodeop_driver::chain::Key;
use nodeop_driver::tasks::NOP;

use crate::net::{
    b64, free_ports, http_request, num, Binaries, Node, NodeOptions, Output, RpcEvent,
};

/// What [`Testnet::new`] builds.
#[derive(Clone, Debug)]
pub struct TestnetOptions {
    pub chain_id: String,
    /// How many genesis validators.
    pub validators: usize,
    /// CometBFT's `timeout_commit`, in practice the block interval (a Go duration).
    pub timeout_commit: &'static str,
    /// Every genesis validator's self-bond, NOP (its voting power).
    pub self_bond_nop: u128,
    /// Every operator account's genesis balance, NOP (pays the fees of its txs).
    pub operator_balance_nop: u128,
    /// Further funded genesis accounts: `(bech32 address, unop)`.
    pub accounts: Vec<(String, u128)>,
    /// Values to set in genesis.json after `nodeopd init --devnet`, by JSON pointer (the key must
    /// exist already), before `nodeopd genesis validate`.
    pub genesis_edits: Vec<(String, Value)>,
}

impl TestnetOptions {
    /// Four validators of 10 000 NOP each, blocks every 500 ms, the devnet params, except that
    /// the downtime SLA's period is moved out of sight.
    ///
    /// Why: on devnet the SLA period is 3 epochs of 10 s, and a validator below 95 % uptime in
    /// one loses 2 % of its stake per point (100 % when it was down all along) once the 30 s
    /// dispute window passes. A validator these tests stop for a while would lose its stake that
    /// way (and leave the set as `inactive`) long before liveness jails it after 100 blocks, and
    /// crash tests would see powers change under them. Like the scenario tests' genesis, these
    /// tests keep the SLA out of the way; `slashing` tests cover it.
    pub fn new(chain_id: &str) -> Self {
        Self {
            chain_id: chain_id.to_string(),
            validators: 4,
            timeout_commit: "500ms",
            self_bond_nop: 10_000,
            operator_balance_nop: 10_000,
            accounts: Vec::new(),
            genesis_edits: vec![(
                "/app_state/slashing/params/downtime_period_epochs".to_string(),
                json!(1_000_000),
            )],
        }
    }

    pub fn fund(mut self, address: &str, unop: u128) -> Self {
        self.accounts.push((address.to_string(), unop));
        self
    }

    /// Sets `value` at `pointer` (e.g. `/app_state/staking/params/max_validators`) in genesis.
    pub fn genesis_edit(mut self, pointer: &str, value: Value) -> Self {
        self.genesis_edits.retain(|(p, _)| p != pointer);
        self.genesis_edits.push((pointer.to_string(), value));
        self
    }
}

/// A network of validators sharing one genesis, in one temporary directory.
pub struct Testnet {
    pub chain_id: String,
    pub bins: Binaries,
    /// The directory holding every node (`nodeI/`) and anything a test adds.
    pub dir: PathBuf,
    pub validators: Vec<Node>,
    root: Option<tempfile::TempDir>,
}

impl Testnet {
    /// Initialises every validator and the shared genesis; starts nothing.
    pub fn new(name: &str, options: &TestnetOptions) -> Self {
        let bins = Binaries::locate();
        let root = tempfile::Builder::new()
            .prefix(&format!("nodeop-testnet-{name}-"))
            .tempdir()
            .expect("creating a temporary directory");
        let dir = root.path().to_path_buf();
        let n = options.validators;
        assert!(n >= 1, "a testnet needs a validator");
        let ports = free_ports(3 * n);
        let validators: Vec<Node> = (0..n)
            .map(|i| {
                let node_options = NodeOptions {
                    timeout_commit: options.timeout_commit,
                    persistent_peers: Vec::new(),
                    devnet: true,
                    self_bond_nop: Some(options.self_bond_nop),
                    operator_balance_nop: Some(options.operator_balance_nop),
                    ports: Some([ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]]),
                    mempool_size: None,
                };
                let name = format!("node{i}");
                Node::init_in(&dir.join(&name), &name, &options.chain_id, &node_options)
            })
            .collect();

        // Validator 0's genesis (with itself as the only operator) becomes everyone's.
        let v0 = &validators[0];
        for v in &validators[1..] {
            v0.nodeopd_ok(&[
                "genesis",
                "add-validator",
                "--key-file",
                &v.priv_validator_key().to_string_lossy(),
                "--operator",
                &v.operator,
                "--self-bond",
                &format!("{}nop", options.self_bond_nop),
                "--moniker",
                &v.name,
            ]);
            v0.add_genesis_account(&v.operator, options.operator_balance_nop * NOP);
        }
        for (address, unop) in &options.accounts {
            v0.add_genesis_account(address, *unop);
        }
        if !options.genesis_edits.is_empty() {
            let genesis = v0.genesis_path();
            let mut doc: Value =
                serde_json::from_str(&fs::read_to_string(&genesis).expect("reading genesis.json"))
                    .expect("genesis.json is JSON");
            for (pointer, value) in &options.genesis_edits {
                *doc.pointer_mut(pointer)
                    .unwrap_or_else(|| panic!("genesis.json has no {pointer}")) = value.clone();
            }
            let text = serde_json::to_string_pretty(&doc).expect("genesis.json");
            fs::write(&genesis, text).expect("writing genesis.json");
        }
        v0.validate_genesis();
        let peers: Vec<String> = validators.iter().map(Node::p2p_address).collect();
        for (i, v) in validators.iter().enumerate() {
            if i != 0 {
                v.copy_genesis_from(&validators[0]);
            }
            let others: Vec<&str> = peers
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| p.as_str())
                .collect();
            v.set_persistent_peers(&others.join(","));
        }

        let mut root = Some(root);
        if std::env::var_os("NODEOP_E2E_KEEP").is_some() {
            if let Some(r) = root.take() {
                eprintln!("[testnet {name}] keeping {}", r.keep().display());
            }
        }
        Self {
            chain_id: options.chain_id.clone(),
            bins,
            dir,
            validators,
            root,
        }
    }

    /// Starts every nodeopd, then every cometbft, and waits until the chain reaches height 2.
    pub fn start(&mut self) {
        for v in &mut self.validators {
            v.start_app();
        }
        for v in &mut self.validators {
            v.start_cometbft();
        }
        self.wait_for_height(0, 2, Duration::from_secs(120));
    }

    pub fn v(&mut self, i: usize) -> &mut Node {
        &mut self.validators[i]
    }

    /// Panics (with the logs) if any started process has exited.
    pub fn assert_running(&mut self) {
        for v in &mut self.validators {
            v.assert_running();
        }
    }

    /// Polls `f` every 250 ms until it returns `Some`, checking that no started process died;
    /// panics with `what` after `timeout`.
    pub fn wait<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&mut Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until validator `observer` reports `height` or more; returns its height.
    pub fn wait_for_height(&mut self, observer: usize, height: u64, timeout: Duration) -> u64 {
        let what = format!("node{observer} to reach height {height}");
        self.wait(&what, timeout, |net| {
            let h = net.validators[observer].height();
            (h >= height).then_some(h)
        })
    }

    /// Waits until validator `i` is at least at the height `observer` had when the wait began,
    /// and no longer catching up.
    pub fn wait_caught_up(&mut self, i: usize, observer: usize, timeout: Duration) -> u64 {
        let target = self.validators[observer].height();
        let what = format!("node{i} to catch up with node{observer} at height {target}");
        self.wait(&what, timeout, |net| {
            let s = net.validators[i].status().ok()?;
            let h: u64 = s["sync_info"]["latest_block_height"]
                .as_str()?
                .parse()
                .ok()?;
            let syncing = s["sync_info"]["catching_up"].as_bool().unwrap_or(true);
            (h >= target && !syncing).then_some(h)
        })
    }

    /// The app hash validator `i`'s app computed for block `height`, waiting (up to `timeout`)
    /// for the block's results: `/status` may already report a height whose results CometBFT
    /// has not saved yet ("could not find results for height").
    pub fn app_hash_at(&mut self, i: usize, height: u64, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let error = match self.validators[i].computed_app_hash(height) {
                Ok(hash) => return hash,
                Err(e) => e,
            };
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for node{i}'s results of block {height}: \
                 {error}"
            );
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// `/staking/operator/{address}` from validator `observer` at `height` (0: latest).
    pub fn operator_record(&self, observer: usize, address: &str, height: u64) -> Value {
        self.wait_app_height(observer, height);
        self.validators[observer]
            .abci_query(&format!("/staking/operator/{address}"), height)
            .unwrap_or_else(|e| panic!("[node{observer}] {e}"))
    }

    /// The operator's status from the `/staking/operators` listing: bonded, inactive, jailed or
    /// tombstoned.
    pub fn operator_status(&self, observer: usize, address: &str) -> Result<String, String> {
        let page = self.validators[observer].abci_query("/staking/operators?limit=1000", 0)?;
        page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|o| o["address"] == address))
            .and_then(|o| o["status"].as_str().map(str::to_string))
            .ok_or_else(|| format!("operator {address} not in /staking/operators: {page}"))
    }

    /// Builds CometBFT duplicate-vote evidence against validator `culprit` for `height` (two
    /// prevotes for different blocks, signed with its consensus key), and submits it through
    /// validator `observer`'s `broadcast_evidence` RPC. Returns the RPC's result (the evidence
    /// hash) or its error.
    ///
    /// CometBFT checks the evidence against what it stored for `height`: the culprit's power and
    /// the total power of `/validators?height=H`, and the time of block H's header, so those are
    /// read from the observer first. The JSON is written here in the exact shape CometBFT's
    /// `libs/json` decoder expects (the Go field names `TotalVotingPower`, `ValidatorPower` and
    /// `Timestamp`, 64-bit integers as strings), rather than through `tendermint-rpc`, whose
    /// serde names those three fields in snake_case; the decoder matches names exactly and would
    /// read zeros.
    pub fn broadcast_duplicate_vote(
        &self,
        observer: usize,
        culprit: usize,
        height: u64,
    ) -> Result<Value, String> {
        let obs = &self.validators[observer];
        let bad = &self.validators[culprit];
        let set = obs.rpc(&format!("/validators?height={height}&per_page=100"))?;
        let list = set["validators"].as_array().ok_or("no validators")?;
        let total_power: u128 = list.iter().map(|v| num(&v["voting_power"])).sum();
        let (index, entry) = list
            .iter()
            .enumerate()
            .find(|(_, v)| v["address"].as_str() == Some(bad.consensus_address.as_str()))
            .ok_or_else(|| format!("{} is not in the set of height {height}", bad.name))?;
        let power = num(&entry["voting_power"]);
        let block_time = obs.rpc(&format!("/block?height={height}"))?["block"]["header"]["time"]
            .as_str()
            .ok_or("no header time")?
            .to_string();

        let key: Value = serde_json::from_str(
            &fs::read_to_string(bad.priv_validator_key()).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        let secret = b64(key["priv_key"]["value"].as_str().ok_or("no priv_key")?);
        let seed: [u8; 32] = secret[..32].try_into().map_err(|_| "short priv_key")?;
        let signing = ed25519_consensus::SigningKey::from(seed);

        let chain_id =
            tendermint::chain::Id::try_from(self.chain_id.clone()).map_err(|e| e.to_string())?;
        let time = tendermint::Time::parse_from_rfc3339(&block_time).map_err(|e| e.to_string())?;
        let address_bytes = hex::decode(&bad.consensus_address).map_err(|e| e.to_string())?;
        let parts_hash: [u8; 32] = sha2_digest(b"nodeop e2e conflicting parts");
        // Two made-up block hashes; CometBFT wants vote A's block id to sort first.
        let mut hashes = [
            sha2_digest(b"nodeop e2e conflicting block A"),
            sha2_digest(b"nodeop e2e conflicting block B"),
        ];
        hashes.sort();
        let votes: Vec<Value> = hashes
            .iter()
            .map(|block_hash| {
                let vote = tendermint::vote::Vote {
                    vote_type: tendermint::vote::Type::Prevote,
                    height: tendermint::block::Height::try_from(height)
                        .map_err(|e| e.to_string())?,
                    round: tendermint::block::Round::default(),
                    block_id: Some(tendermint::block::Id {
                        hash: tendermint::Hash::Sha256(*block_hash),
                        part_set_header: tendermint::block::parts::Header::new(
                            1,
                            tendermint::Hash::Sha256(parts_hash),
                        )
                        .map_err(|e| e.to_string())?,
                    }),
                    timestamp: Some(time),
                    validator_address: tendermint::account::Id::try_from(address_bytes.clone())
                        .map_err(|e| e.to_string())?,
                    validator_index: tendermint::vote::ValidatorIndex::try_from(index as u32)
                        .map_err(|e| e.to_string())?,
                    signature: None,
                    extension: Vec::new(),
                    extension_signature: None,
                };
                let sign_bytes = vote.into_signable_vec(chain_id.clone());
                let signature = signing.sign(&sign_bytes);
                Ok(json!({
                    "type": 1,
                    "height": height.to_string(),
                    "round": 0,
                    "block_id": {
                        "hash": hex::encode_upper(block_hash),
                        "parts": {"total": 1, "hash": hex::encode_upper(parts_hash)},
                    },
                    "timestamp": block_time,
                    "validator_address": bad.consensus_address,
                    "validator_index": index,
                    "signature": base64::engine::general_purpose::STANDARD
                        .encode(signature.to_bytes()),
                    "extension": null,
                    "extension_signature": null,
                }))
            })
            .collect::<Result<_, String>>()?;
        let body = json!({
            "jsonrpc": "2.0",
            "id": 1,
            "method": "broadcast_evidence",
            "params": {
                "evidence": {
                    "type": "tendermint/DuplicateVoteEvidence",
                    "value": {
                        "vote_a": votes[0],
                        "vote_b": votes[1],
                        "TotalVotingPower": total_power.to_string(),
                        "ValidatorPower": power.to_string(),
                        "Timestamp": block_time,
                    },
                },
            },
        });
        let answer = http_post_json(obs.rpc_port, &body, Duration::from_secs(10))?;
        if let Some(err) = answer.get("error") {
            return Err(err.to_string());
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| format!("no result in {answer}"))
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        // cometbft first everywhere, so no cometbft sees its app vanish mid-block. Each node
        // prints its log tails when it is dropped during a panic.
        for v in &mut self.validators {
            v.stop_cometbft();
        }
        for v in &mut self.validators {
            v.stop_app();
        }
        if thread::panicking() {
            if let Some(root) = self.root.take() {
                eprintln!("[testnet] kept {} for inspection", root.keep().display());
            }
        }
    }
}

fn sha2_digest(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

/// A JSON-RPC POST (HTTP/1.0, so the server closes the connection and never chunks).
pub fn http_post_json(port: u16, body: &Value, timeout: Duration) -> Result<Value, String> {
    let payload = body.to_string();
    let request = format!(
        "POST / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    let (_, answer) = http_request(port, &request, timeout)?;
    serde_json::from_str(&answer).map_err(|e| format!("not JSON ({e}): {answer:.300}"))
}

/// The height of the block that included a tx the `nodeop --output json tx …` command sent, or
/// a panic showing the command's output unless the tx passed CheckTx and succeeded in its block.
pub fn included_ok(what: &str, out: &Output) -> u64 {
    let described = || format!("{what}:\n{}", out.describe());
    assert!(out.success(), "{} failed", described());
    let v: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{} printed no JSON: {e}", described()));
    let included = &v["outcome"]["included"];
    assert_eq!(
        included["code"].as_u64(),
        Some(0),
        "{} failed in its block",
        described()
    );
    included["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("{} has no inclusion height", described()))
}

/// `(codespace, code)` of a tx that CheckTx refused (`nodeop --output json tx …`), or a panic
/// if it was not refused.
pub fn check_tx_refusal(what: &str, out: &Output) -> (String, u64) {
    let v: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\n{}", out.describe()));
    let check = &v["outcome"]["check_tx"];
    let code = check["code"].as_u64().unwrap_or(0);
    assert!(
        !out.success() && code != 0,
        "{what} was expected to be refused:\n{}",
        out.describe()
    );
    (
        check["codespace"].as_str().unwrap_or_default().to_string(),
        code,
    )
}

// ------------------------------------------------------------------ tasks on a testnet

impl TestnetOptions {
    /// Task windows of `commit_blocks`, `reveal_blocks` and `submission_window` blocks, and
    /// slashing's `max_task_lifetime_seconds` raised to match at one block per second
    /// (`tasks.params.max_block_seconds` = 1), and coprocessors' `withdrawal_delay_blocks`
    /// (default 100) kept above the longest task, as `nodeopd genesis validate` requires.
    ///
    /// Why: the protocol's windows (10, 10, 5 blocks) are 5, 5 and 2.5 s at 500 ms blocks; a
    /// member's `nodeop` command (key, task and nonce reads, broadcast, inclusion) can take
    /// seconds on a busy machine, so the tests give each window enough blocks that a slow
    /// command still lands in it. The rules do not depend on the lengths.
    pub fn task_windows(
        self,
        commit_blocks: u64,
        reveal_blocks: u64,
        submission_window: u64,
    ) -> Self {
        self.genesis_edit(
            "/app_state/tasks/params/commit_blocks",
            json!(commit_blocks),
        )
        .genesis_edit(
            "/app_state/tasks/params/reveal_blocks",
            json!(reveal_blocks),
        )
        .genesis_edit(
            "/app_state/tasks/params/submission_window",
            json!(submission_window),
        )
        .genesis_edit("/app_state/tasks/params/max_block_seconds", json!(1))
        .genesis_edit(
            "/app_state/slashing/params/max_task_lifetime_seconds",
            json!(3 * (commit_blocks + reveal_blocks)),
        )
        .genesis_edit(
            "/app_state/coprocessors/params/withdrawal_delay_blocks",
            json!((3 * (commit_blocks + reveal_blocks) + 1).max(100)),
        )
    }

    /// No epoch ends during the test (`staking.params.epoch_seconds` = 10⁶): no fee payouts
    /// into pools, no issuance, so every pool and module account moves only by what a test
    /// does and can be compared exactly.
    pub fn without_epochs(self) -> Self {
        self.genesis_edit("/app_state/staking/params/epoch_seconds", json!(1_000_000))
    }
}

/// A task read through the app's `/tasks/task/{id}` (JSON of `tasks::Task`).
pub fn task_members(task: &Value) -> Vec<String> {
    task["rounds"]
        .as_array()
        .and_then(|r| r.last())
        .and_then(|r| r["members"].as_array())
        .map(|ms| {
            ms.iter()
                .map(|m| m["operator"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl Testnet {
    /// A `nodeop` client home under the testnet directory holding `key` as `name`.
    pub fn client_home_with(&self, name: &str, key: &Key) -> PathBuf {
        let home = self.dir.join(format!("client-{name}"));
        let out = self.validators[0].cli_as(
            &home,
            &[
                "keys",
                "import",
                name,
                "--secret-hex",
                &hex::encode(key.secret_bytes()),
            ],
        );
        assert!(out.success(), "keys import {name}:\n{}", out.describe());
        home
    }

    /// The index of the validator whose operator account is `operator` (bech32).
    pub fn validator_of(&self, operator: &str) -> usize {
        self.validators
            .iter()
            .position(|v| v.operator == operator)
            .unwrap_or_else(|| panic!("{operator} is no validator's operator"))
    }

    /// Waits (up to 30 s) until validator `observer`'s app has committed `height`, so that a
    /// read at `height` answers. A tx's inclusion height comes from the node that sent it; the
    /// observer can be a block behind, and its app can trail its own `/status` by one commit.
    pub fn wait_app_height(&self, observer: usize, height: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.validators[observer].abci_query("/supply", height) {
                Err(e) if e.contains("height_unavailable") && Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(100))
                }
                _ => return,
            }
        }
    }

    /// An account's balance (module accounts too) at `height` (0: latest), from `observer`.
    pub fn balance(&self, observer: usize, address: &str, height: u64) -> u128 {
        self.wait_app_height(observer, height);
        let a = self.validators[observer]
            .abci_query(&format!("/account/{address}"), height)
            .unwrap_or_else(|e| panic!("[node{observer}] {e}"));
        num(&a["balance"])
    }

    /// `/supply` at `height` (0: latest), from `observer`.
    pub fn supply(&self, observer: usize, height: u64) -> Value {
        self.wait_app_height(observer, height);
        self.validators[observer]
            .abci_query("/supply", height)
            .unwrap_or_else(|e| panic!("[node{observer}] {e}"))
    }

    /// `/tasks/task/{id}` at `height` (0: latest), from `observer`.
    pub fn task(&self, observer: usize, id: u64, height: u64) -> Value {
        self.wait_app_height(observer, height);
        self.validators[observer]
            .abci_query(&format!("/tasks/task/{id}"), height)
            .unwrap_or_else(|e| panic!("[node{observer}] {e}"))
    }

    /// Waits until task `id` has `status` on `observer`; returns the record.
    pub fn wait_task_status(
        &mut self,
        observer: usize,
        id: u64,
        status: &str,
        timeout: Duration,
    ) -> Value {
        let what = format!("task {id} to be {status}");
        self.wait(&what, timeout, |net| {
            let t = net.validators[observer]
                .abci_query(&format!("/tasks/task/{id}"), 0)
                .ok()?;
            (t["status"] == status).then_some(t)
        })
    }

    /// The events of block `height` (its txs' and FinalizeBlock's own) from `observer`,
    /// waiting (up to `timeout`) for the block's results to be saved.
    pub fn block_events(
        &mut self,
        observer: usize,
        height: u64,
        timeout: Duration,
    ) -> Vec<RpcEvent> {
        self.wait(
            &format!("node{observer}'s results of block {height}"),
            timeout,
            |net| net.validators[observer].block_events(height).ok(),
        )
    }

    /// Posts a Session Exact task with `nodeop tx task post` from the key `from` in
    /// `client_home` (difficulty 1, an inline payload, `fee` unop), through validator 0.
    /// Returns `(task id, height of the posting block)`.
    pub fn post_task_cli(
        &mut self,
        client_home: &Path,
        from: &str,
        client_address: &str,
        payload: &str,
        fee: u128,
    ) -> (u64, u64) {
        let out = self.validators[0].cli_as(
            client_home,
            &[
                "tx",
                "task",
                "post",
                from,
                "--kind",
                "exact",
                "--consistency",
                "session",
                "--payload",
                payload,
                "--difficulty",
                "1",
                "--fee",
                &format!("{fee}unop"),
            ],
        );
        let height = included_ok("tx task post", &out);
        self.wait_app_height(0, height);
        let page = self.validators[0]
            .abci_query(&format!("/tasks/list?client={client_address}"), height)
            .unwrap_or_else(|e| panic!("[node0] {e}"));
        let item = page["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|t| num(&t["posted_height"]) as u64 == height)
            })
            .unwrap_or_else(|| panic!("no task posted at {height} in {page}"));
        (num(&item["id"]) as u64, height)
    }

    /// Every validator in `members` runs `nodeop tx task <args…>` with its operator key at the
    /// same time (one thread each); returns each inclusion height, in `members` order.
    pub fn members_cli(&self, members: &[usize], what: &str, args: &[&str]) -> Vec<u64> {
        thread::scope(|s| {
            let handles: Vec<_> = members
                .iter()
                .map(|&i| {
                    let v = &self.validators[i];
                    s.spawn(move || {
                        let out = v.cli(args);
                        included_ok(&format!("node{i}'s {what}"), &out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a member's command panicked"))
                .collect()
        })
    }
}

// ------------------------------------------------------------------ agents

/// A `nodeop-operator` agent run as a process beside the testnet: its config (written by
/// `nodeop-operator init`), its store and its log live in `dir`.
pub struct AgentProcess {
    pub name: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    /// `/metrics` and `/status` on 127.0.0.1.
    pub metrics_port: u16,
    child: Option<std::process::Child>,
}

impl AgentProcess {
    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// `GET /metrics` (Prometheus text).
    pub fn metrics(&self) -> Result<String, String> {
        crate::net::http_get(self.metrics_port, "/metrics", Duration::from_secs(5))
    }

    /// `GET /status` (the agent's status report, JSON).
    pub fn status(&self) -> Result<Value, String> {
        let text = crate::net::http_get(self.metrics_port, "/status", Duration::from_secs(5))?;
        serde_json::from_str(&text).map_err(|e| format!("/status is not JSON ({e}): {text:.300}"))
    }

    /// The value of an unlabelled metric (or the sum over its labels), if present.
    pub fn metric(&self, name: &str) -> Option<f64> {
        metric_sum(&self.metrics().ok()?, name)
    }
}

/// The sum of every sample of metric `name` (any labels) in a Prometheus text exposition.
#[allow(clippy::float_arithmetic)]
pub fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (key, value) = line.rsplit_once(' ')?;
        let bare = key.split('{').next().unwrap_or(key);
        if bare == name {
            let v: f64 = value.parse().ok()?;
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}

/// A process's CPU time (user + system, seconds) and resident memory (current and peak, KiB),
/// from `/proc/<pid>/stat` and `/proc/<pid>/status`.
#[allow(clippy::float_arithmetic)]
pub fn process_usage(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after the command (which may hold spaces) closed by ')'
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ')'
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((ticks as f64 / hz, kib("VmRSS:")?, kib("VmHWM:")?))
}

impl Testnet {
    /// The `nodeop-operator` binary beside `nodeop` (built by `cargo build --workspace --bins`).
    pub fn operator_binary(&self) -> PathBuf {
        let bin = self.bins.nodeop.with_file_name("nodeop-operator");
        assert!(
            bin.is_file(),
            "{} is missing — build it with: cargo build --workspace --bins (or scripts/setup.sh)",
            bin.display()
        );
        bin
    }

    /// Writes an agent's config with `nodeop-operator init` into `dir/name/operator.toml`: the
    /// key `key_name` of `key_home`, validator `node`'s RPC, this chain, a store and metrics
    /// port of its own, and `extra` init options. Starts nothing.
    pub fn add_agent(
        &mut self,
        name: &str,
        node: usize,
        key_home: &Path,
        key_name: &str,
        extra: &[&str],
    ) -> AgentProcess {
        let dir = self.dir.join("agents").join(name);
        fs::create_dir_all(&dir).expect("creating the agent's directory");
        let config = dir.join("operator.toml");
        let metrics_port = crate::net::free_port();
        let store = dir.join("operator.redb");
        let out = crate::net::run(
            std::process::Command::new(self.operator_binary())
                .arg("init")
                .arg("--config")
                .arg(&config)
                .args(["--rpc", &self.validators[node].rpc_url()])
                .args(["--chain-id", &self.chain_id])
                .arg("--key-home")
                .arg(key_home)
                .args(["--key-name", key_name])
                .arg("--store")
                .arg(&store)
                .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
                .args(extra),
            crate::net::COMMAND_TIMEOUT,
        );
        assert!(
            out.success(),
            "nodeop-operator init {name}:\n{}",
            out.describe()
        );
        AgentProcess {
            name: name.to_string(),
            log: dir.join("agent.log"),
            dir,
            config,
            metrics_port,
            child: None,
        }
    }

    /// Starts the agent and waits until its `/status` answers.
    pub fn start_agent(&self, agent: &mut AgentProcess) {
        assert!(agent.child.is_none(), "[{}] already runs", agent.name);
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&agent.log)
            .expect("opening the agent's log");
        use std::io::Write as _;
        writeln!(log, "---- nodeop-operator start ----").ok();
        let child = std::process::Command::new(self.operator_binary())
            .arg("start")
            .arg("--config")
            .arg(&agent.config)
            .env("RUST_LOG", "info")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("[{}] cannot start nodeop-operator: {e}", agent.name));
        agent.child = Some(child);
        let what = format!("[{}] /status to answer", agent.name);
        crate::net::wait_for(&what, Duration::from_secs(60), || {
            assert_agent_running(agent);
            agent.status().ok()
        });
    }

    /// SIGKILL (a crash: nothing of the agent's shutdown runs).
    pub fn kill_agent(&self, agent: &mut AgentProcess) {
        if let Some(mut c) = agent.child.take() {
            crate::net::signal(c.id(), "KILL");
            let _ = c.wait();
        }
    }

    /// SIGTERM, then SIGKILL after the grace period.
    pub fn stop_agent(&self, agent: &mut AgentProcess) {
        if let Some(mut c) = agent.child.take() {
            crate::net::stop_child(&mut c, crate::net::STOP_GRACE);
        }
    }
}

/// Panics with the tail of its log if a started agent has exited.
pub fn assert_agent_running(agent: &mut AgentProcess) {
    if let Some(Ok(Some(status))) = agent.child.as_mut().map(|c| c.try_wait()) {
        panic!(
            "[{}] nodeop-operator exited ({status}):\n{}",
            agent.name,
            crate::net::tail(&agent.log, 40)
        );
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            crate::net::stop_child(&mut c, Duration::from_secs(5));
            if thread::panicking() {
                eprintln!(
                    "---- [{}] last lines of {} ----\n{}",
                    self.name,
                    self.log.display(),
                    crate::net::tail(&self.log, 25)
                );
            }
        }
    }
}
