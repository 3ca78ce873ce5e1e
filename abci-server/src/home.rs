//! A node's home directory and `app.toml`.
//!
//! ```text
//! HOME/
//!   cometbft/                     a CometBFT home (`cometbft start --home HOME/cometbft`)
//!     config/config.toml          from nodeop's template (cometbft-config)
//!     config/genesis.json         nodeop's genesis (app_state holds the operators)
//!     config/priv_validator_key.json, config/node_key.json
//!     data/                       CometBFT's blocks, state, WAL
//!   app/                          nodeopd's own
//!     app.toml                    ABCI listen address and App options
//!     VERSION                     the home's format and the nodeopd that wrote it
//!     data/state.redb             the authenticated store (JMT over redb)
//!     data/snapshots/             state sync snapshots (app.toml [state_sync])
//!   keyring/operator.json         the genesis operator's account key, written by `nodeopd init`
//!                                 in the `nodeop` CLI's keyring format (`nodeop --home HOME`)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub const DEFAULT_ABCI_LADDR: &str = "tcp://127.0.0.1:26658";

#[derive(Clone, Debug)]
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn cometbft(&self) -> PathBuf {
        self.root.join("cometbft")
    }

    pub fn cometbft_config_dir(&self) -> PathBuf {
        self.cometbft().join("config")
    }

    pub fn config_toml(&self) -> PathBuf {
        self.cometbft_config_dir().join("config.toml")
    }

    pub fn genesis(&self) -> PathBuf {
        self.cometbft_config_dir().join("genesis.json")
    }

    pub fn priv_validator_key(&self) -> PathBuf {
        self.cometbft_config_dir().join("priv_validator_key.json")
    }

    pub fn node_key(&self) -> PathBuf {
        self.cometbft_config_dir().join("node_key.json")
    }

    pub fn cometbft_data(&self) -> PathBuf {
        self.cometbft().join("data")
    }

    pub fn app(&self) -> PathBuf {
        self.root.join("app")
    }

    pub fn app_toml(&self) -> PathBuf {
        self.app().join("app.toml")
    }

    pub fn app_data(&self) -> PathBuf {
        self.app().join("data")
    }

    pub fn store(&self) -> PathBuf {
        self.app_data().join("state.redb")
    }

    /// The home's format (`crate::startup::HOME_FORMAT`) and the nodeopd that wrote it.
    pub fn version_file(&self) -> PathBuf {
        self.app().join("VERSION")
    }

    /// State sync snapshots this node took (`crate::snapshots`).
    pub fn snapshots(&self) -> PathBuf {
        self.app_data().join("snapshots")
    }
}

/// `HOME/app/app.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    pub abci: AbciConfig,
    pub app: AppSection,
    pub mempool: MempoolSection,
    pub state_sync: StateSyncSection,
    pub events: EventsSection,
    pub log: LogConfig,
}

/// `[events]`: which event attributes CometBFT's tx indexer stores (see
/// [`crate::event_index`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSection {
    /// Attribute keys, `type.key` pairs, or `"*"` for every attribute.
    pub index: Vec<String>,
}

impl Default for EventsSection {
    fn default() -> Self {
        Self {
            index: crate::event_index::DEFAULT_INDEX
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// `[state_sync]`: the snapshots this node takes and serves to nodes joining by state sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateSyncSection {
    /// Take a snapshot at every height divisible by this; 0 takes none.
    pub snapshot_interval: u64,
    /// Keep this many of the newest snapshots (at least 1).
    pub snapshot_keep_recent: u32,
    /// The target size of a snapshot chunk in bytes (1 KiB to 8 MiB).
    pub snapshot_chunk_bytes: usize,
}

impl Default for StateSyncSection {
    fn default() -> Self {
        let d = crate::snapshots::SnapshotSettings::default();
        Self {
            snapshot_interval: d.interval,
            snapshot_keep_recent: d.keep_recent,
            snapshot_chunk_bytes: d.chunk_bytes,
        }
    }
}

/// `[mempool]`: how much CheckTx lets into CometBFT's mempool (see
/// [`nodeop_app::MempoolLimits`]). Both must stay below CometBFT's config.toml `[mempool] size`
/// and `max_txs_bytes`; `nodeopd init` writes them so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolSection {
    pub max_txs: u64,
    pub max_txs_bytes: u64,
}

impl Default for MempoolSection {
    fn default() -> Self {
        Self::from(nodeop_app::MempoolLimits::default())
    }
}

impl From<nodeop_app::MempoolLimits> for MempoolSection {
    fn from(l: nodeop_app::MempoolLimits) -> Self {
        Self {
            max_txs: l.max_txs,
            max_txs_bytes: l.max_txs_bytes,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AbciConfig {
    /// `tcp://host:port` or `host:port`.
    pub laddr: String,
}

impl Default for AbciConfig {
    fn default() -> Self {
        Self {
            laddr: DEFAULT_ABCI_LADDR.into(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppSection {
    /// Check every invariant after every block. Unset: on in debug builds, off in release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_invariants: Option<bool>,
    /// Verified tx signatures remembered between CheckTx and FinalizeBlock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sig_cache_capacity: Option<usize>,
    /// Threads that verify a block's signatures while it executes (the executing thread is one
    /// of them). Unset: every core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_threads: Option<usize>,
    /// Threads that compute (change and hash) and encode a large block's new tree. Unset:
    /// every core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_threads: Option<usize>,
    /// Keep the last `keep_recent` heights of state history (queries and proofs at past
    /// heights); 0 or unset keeps every height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_recent: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter (`info,nodeop=debug`).
    /// RUST_LOG, when set, wins.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl AppConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read {} (run `nodeopd init` first)", path.display())
        })?;
        let config: Self =
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        parse_laddr(&config.abci.laddr)
            .with_context(|| format!("{}: [abci] laddr", path.display()))?;
        let ss = &config.state_sync;
        if ss.snapshot_keep_recent == 0 {
            bail!(
                "{}: [state_sync] snapshot_keep_recent = 0; it must be at least 1 (set \
                 snapshot_interval = 0 to take no snapshots)",
                path.display()
            );
        }
        crate::event_index::EventIndex::parse(&config.events.index)
            .with_context(|| format!("{}: [events] index", path.display()))?;
        let max = nodeop_app::state::snapshot::MAX_CHUNK_BYTES;
        if !(1024..=max).contains(&ss.snapshot_chunk_bytes) {
            bail!(
                "{}: [state_sync] snapshot_chunk_bytes = {} is outside 1024..={max}; set a \
                 value in that range or remove the line (default {})",
                path.display(),
                ss.snapshot_chunk_bytes,
                nodeop_app::state::snapshot::DEFAULT_CHUNK_BYTES
            );
        }
        Ok(config)
    }

    /// Which event attributes CometBFT indexes (`[events] index`, checked by [`AppConfig::load`];
    /// a list that does not parse indexes every attribute).
    pub fn event_index(&self) -> crate::event_index::EventIndex {
        crate::event_index::EventIndex::parse(&self.events.index)
            .unwrap_or_else(|_| crate::event_index::EventIndex::all())
    }

    /// How this node takes and keeps snapshots (`[state_sync]`).
    pub fn snapshot_settings(&self) -> crate::snapshots::SnapshotSettings {
        crate::snapshots::SnapshotSettings {
            interval: self.state_sync.snapshot_interval,
            keep_recent: self.state_sync.snapshot_keep_recent,
            chunk_bytes: self.state_sync.snapshot_chunk_bytes,
        }
    }

    pub fn options(&self) -> nodeop_app::AppOptions {
        let mut o = nodeop_app::AppOptions::default();
        if let Some(v) = self.app.check_invariants {
            o.check_invariants = v;
        }
        if let Some(v) = self.app.sig_cache_capacity {
            o.sig_cache_capacity = v;
        }
        if let Some(v) = self.app.verify_threads {
            o.verify_threads = v.max(1);
        }
        if let Some(v) = self.app.hash_threads {
            o.hash_threads = v.max(1);
        }
        o.mempool = nodeop_app::MempoolLimits {
            max_txs: self.mempool.max_txs,
            max_txs_bytes: self.mempool.max_txs_bytes,
        };
        o
    }

    /// Why these `[mempool]` limits do not stay below CometBFT's `[mempool] size` and
    /// `max_txs_bytes` in `config_toml`, if they do not; `None` when they do or when the file
    /// cannot be read.
    pub fn mempool_problem(&self, config_toml: &Path) -> Option<String> {
        let text = std::fs::read_to_string(config_toml).ok()?;
        let table: toml::Table = toml::from_str(&text).ok()?;
        let mempool = table.get("mempool")?;
        let size = mempool.get("size")?.as_integer()?;
        let bytes = mempool.get("max_txs_bytes")?.as_integer()?;
        let (size, bytes) = (u64::try_from(size).ok()?, u64::try_from(bytes).ok()?);
        (self.mempool.max_txs >= size || self.mempool.max_txs_bytes >= bytes).then(|| {
            format!(
                "app.toml [mempool] max_txs = {} / max_txs_bytes = {} do not stay below \
                 CometBFT's [mempool] size = {size} / max_txs_bytes = {bytes} in {}: CometBFT \
                 may then drop txs CheckTx accepted; lower them",
                self.mempool.max_txs,
                self.mempool.max_txs_bytes,
                config_toml.display()
            )
        })
    }

    /// How the store keeps history (`[app] keep_recent`).
    pub fn store_options(&self) -> nodeop_app::state::StoreOptions {
        nodeop_app::state::StoreOptions {
            keep_recent: self.app.keep_recent.unwrap_or(0),
        }
    }

    /// The file `nodeopd init` writes, with comments.
    pub fn render(&self) -> String {
        format!(
            r#"# nodeopd settings for this node (HOME/app/app.toml).

[abci]
# Where nodeopd serves ABCI (the socket protocol) to CometBFT. CometBFT's config.toml
# `proxy_app` must name the same address. `tcp://host:port` or `host:port`; keep it on
# 127.0.0.1: whoever reaches this port drives the state machine.
laddr = {laddr}

[app]
# Check every invariant (e.g. the sum of balances equals the supply) after every block and halt
# with a message if one breaks. Unset: on in debug builds, off in release builds.
# check_invariants = true
# Verified tx signatures remembered between CheckTx and FinalizeBlock (a tx seen in the mempool
# is not verified again when its block executes).
# sig_cache_capacity = 200000
# Threads that decode and verify a block's tx signatures while the block executes them in order
# (those not already verified by CheckTx; the executing thread is one of them). Unset: every
# core. Changes speed only, never a result.
# verify_threads = 2
# Threads that compute (change and hash) and encode a block's new tree (blocks of 64 changed
# keys or more). Unset: every core. Changes speed only, never a result.
# hash_threads = 2
# State history: keep the last `keep_recent` heights readable and provable (queries with a
# `height`) and delete older tree versions, so the store stays near the size of the live state.
# 0 (the default) keeps every height. Queries below the kept window answer code 3
# `height_unavailable` ("height H is pruned"). Heights written while this was 0 are refused once
# the window passes them but their space is not reclaimed. Changing it does not change app hashes.
# keep_recent = 0

[mempool]
# How much CheckTx lets into CometBFT's mempool until the next block: a new tx beyond
# `max_txs` txs or `max_txs_bytes` bytes (the sum of the txs' lengths) is refused with code 16
# `mempool_full` ("retry later"); the wallet waits a block and sends the same tx again. Both must
# stay below CometBFT's config.toml `[mempool] size` and `max_txs_bytes` (`nodeopd init` writes
# them 5 % below): CometBFT v0.38 checks its own limits again after CheckTx accepted a tx and
# then drops the tx without telling its sender. The count restarts at every Commit and is
# rebuilt by CometBFT's recheck of the txs left in the mempool. It never changes what a block
# executes or its app hash.
max_txs = {max_txs}
max_txs_bytes = {max_txs_bytes}

[state_sync]
# Snapshots of the state for nodes that join by state sync (CometBFT config.toml [statesync]) instead
# of replaying every block from genesis. Every `snapshot_interval` heights this node writes the
# committed state to HOME/app/data/snapshots in chunks of about `snapshot_chunk_bytes`, on a
# background thread (blocks go on meanwhile), keeps the newest `snapshot_keep_recent` and serves
# them to peers. 0 takes none. A joining node checks every chunk's SHA-256 and keeps the restored
# state only if its root equals the app hash CometBFT's light client verified. docs/operations.md.
snapshot_interval = {snapshot_interval}
snapshot_keep_recent = {snapshot_keep_recent}
snapshot_chunk_bytes = {snapshot_chunk_bytes}

[events]
# Which event attributes CometBFT's tx indexer (config.toml [tx_index] indexer = "kv") stores, so
# that `tx_search` and `block_search` can find them: an attribute key (in every event type, e.g.
# "recipient"), "type.key" (e.g. "transfer.amount"), or "*" for every attribute. Each indexed
# attribute costs CometBFT a database write per tx (docs/performance.md). The default indexes who
# and which record (signer, sender, recipient, operator, …; task, proposal, auction ids), not
# amounts, fees, nonces or hashes; CometBFT indexes tx.hash and tx.height itself. Subscriptions
# (/websocket), block_results and tx results carry every attribute whatever this says, and it
# never changes a result or an app hash.
index = {events_index}

[log]
# error | warn | info | debug | trace, or a filter such as "info,nodeop=debug".
# RUST_LOG wins when set; `nodeopd start --log-level` wins over this file.
level = {level}
# text | json (`--log-format`).
format = {format}
"#,
            laddr = toml_string(&self.abci.laddr),
            max_txs = self.mempool.max_txs,
            max_txs_bytes = self.mempool.max_txs_bytes,
            snapshot_interval = self.state_sync.snapshot_interval,
            snapshot_keep_recent = self.state_sync.snapshot_keep_recent,
            snapshot_chunk_bytes = self.state_sync.snapshot_chunk_bytes,
            events_index = toml_list(&self.events.index),
            level = toml_string(&self.log.level),
            format = toml_string(&self.log.format),
        )
    }
}

/// A TOML list of quoted, escaped strings.
fn toml_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A quoted, escaped TOML string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `tcp://host:port` or `host:port` → `host:port`.
pub fn parse_laddr(laddr: &str) -> Result<String> {
    let s = laddr.trim();
    let addr = if let Some(rest) = s.strip_prefix("tcp://") {
        rest
    } else if s.contains("://") {
        bail!("{s:?}: only tcp:// addresses are supported (e.g. tcp://127.0.0.1:26658)");
    } else {
        s
    };
    let Some((host, port)) = addr.rsplit_once(':') else {
        bail!("{s:?} has no port (e.g. tcp://127.0.0.1:26658)");
    };
    if host.is_empty() {
        bail!("{s:?} has no host (e.g. tcp://127.0.0.1:26658)");
    }
    port.parse::<u16>()
        .with_context(|| format!("{s:?}: port {port:?} is not a number 0-65535"))?;
    Ok(addr.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mempool_limits_must_stay_below_cometbfts() {
        let dir = tempfile::tempdir().unwrap();
        let config_toml = dir.path().join("config.toml");
        std::fs::write(
            &config_toml,
            "[mempool]\nsize = 200\nmax_txs_bytes = 100000\n",
        )
        .unwrap();
        let mut config = AppConfig {
            mempool: nodeop_app::MempoolLimits::below_cometbft(200, 100_000).into(),
            ..AppConfig::default()
        };
        assert_eq!(config.mempool.max_txs, 190);
        assert_eq!(config.mempool.max_txs_bytes, 95_000);
        assert_eq!(config.mempool_problem(&config_toml), None);
        config.mempool.max_txs = 200;
        assert!(config.mempool_problem(&config_toml).is_some());
        config.mempool.max_txs = 10;
        config.mempool.max_txs_bytes = 100_000;
        assert!(config.mempool_problem(&config_toml).is_some());
    }

    #[test]
    fn laddrs_parse() {
        assert_eq!(
            parse_laddr("tcp://127.0.0.1:26658").unwrap(),
            "127.0.0.1:26658"
        );
        assert_eq!(parse_laddr("0.0.0.0:1").unwrap(), "0.0.0.0:1");
        assert_eq!(parse_laddr("localhost:26658").unwrap(), "localhost:26658");
        for bad in [
            "unix:///tmp/s",
            "127.0.0.1",
            ":26658",
            "tcp://h:99999",
            "tcp://h:x",
        ] {
            assert!(parse_laddr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rendered_app_toml_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.toml");
        let mut config = AppConfig::default();
        config.abci.laddr = "tcp://127.0.0.1:36658".into();
        config.mempool = MempoolSection {
            max_txs: 190,
            max_txs_bytes: 99_000,
        };
        std::fs::write(&path, config.render()).unwrap();
        let loaded = AppConfig::load(&path).unwrap();
        assert_eq!(loaded, config);
        assert_eq!(loaded.options().sig_cache_capacity, 200_000);
        assert_eq!(
            loaded.options().mempool,
            nodeop_app::MempoolLimits {
                max_txs: 190,
                max_txs_bytes: 99_000
            }
        );

        std::fs::write(&path, "[abci]\nladdr = \"unix:///x\"\n").unwrap();
        assert!(AppConfig::load(&path).is_err());
        std::fs::write(&path, "[abci]\nlisten = \"x\"\n").unwrap();
        assert!(AppConfig::load(&path).is_err());
        std::fs::write(&path, "[app]\ncheck_invariants = true\n").unwrap();
        assert!(AppConfig::load(&path).unwrap().options().check_invariants);
        assert_eq!(
            AppConfig::load(&path).unwrap().store_options().keep_recent,
            0
        );
        // an app.toml without [mempool] gets limits below CometBFT's defaults
        assert_eq!(
            AppConfig::load(&path).unwrap().options().mempool,
            nodeop_app::MempoolLimits::default()
        );
        // [events]: the default when absent, a list when given, a malformed entry refused
        assert_eq!(
            AppConfig::load(&path).unwrap().event_index(),
            crate::event_index::EventIndex::default()
        );
        std::fs::write(&path, "[events]\nindex = [\"*\"]\n").unwrap();
        assert_eq!(
            AppConfig::load(&path).unwrap().event_index(),
            crate::event_index::EventIndex::all()
        );
        std::fs::write(&path, "[events]\nindex = [\"transfer.Amount\"]\n").unwrap();
        let e = format!("{:#}", AppConfig::load(&path).unwrap_err());
        assert!(
            e.contains("[events] index") && e.contains("transfer.Amount"),
            "{e}"
        );
        std::fs::write(&path, "[app]\nkeep_recent = 100\n").unwrap();
        assert_eq!(
            AppConfig::load(&path).unwrap().store_options().keep_recent,
            100
        );
    }
}
