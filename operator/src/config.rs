//! `operator.toml`: what `nodeop-operator init` writes (with a comment on every key) and what
//! `start` reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::agent::{AuctionPolicy, CoprocessorPolicy, Executors, Policy};
use crate::executor::{self, ExecutorConfig};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub node: NodeConfig,
    pub key: KeyConfig,
    pub store: StoreConfig,
    pub metrics: MetricsConfig,
    pub resources: ResourcesConfig,
    pub executors: ExecutorsConfig,
    #[serde(default)]
    pub deliver: Option<ExecutorConfig>,
    #[serde(default)]
    pub auction: Option<AuctionConfig>,
    #[serde(default)]
    pub coprocessor: Option<CoprocessorConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub rpc: String,
    #[serde(default)]
    pub chain_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The client home whose `keyring/` holds the key.
    pub home: PathBuf,
    pub name: String,
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub path: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port`; empty to serve nothing.
    pub listen: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesConfig {
    pub max_difficulty_units: u64,
    #[serde(default = "default_payload")]
    pub max_payload_bytes: usize,
    #[serde(default = "default_resend")]
    pub resend_after_blocks: u64,
}

fn default_payload() -> usize {
    1 << 20
}
fn default_resend() -> u64 {
    2
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorsConfig {
    pub exact: ExecutorConfig,
    pub numeric: ExecutorConfig,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuctionConfig {
    pub start_price: u128,
    pub floor_price: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoprocessorConfig {
    pub min_price: u128,
    pub capacity_units: u64,
}

/// The file `init` writes.
pub const TEMPLATE: &str = r#"# nodeop-operator configuration. Every key is explained in docs/operator.md.

[node]
# CometBFT RPC of the node this agent watches and sends txs to (the validator's own node).
rpc = "http://127.0.0.1:26657"
# The chain id the agent must find at that node (refuses to start on another). Optional.
# chain_id = "nodeop-devnet"

[key]
# The client home (`nodeop --home`) whose keyring holds the operator's account key.
home = "~/.nodeop"
# The key's name in that keyring.
name = "operator"
# For an encrypted key: a file holding its passphrase (one line). Optional.
# passphrase_file = "/etc/nodeop/passphrase"

[store]
# The agent's redb store: duties, results and salts, stored txs, the last height processed.
# Keep it on durable storage and never share it between two agents.
path = "operator.redb"

[metrics]
# Prometheus /metrics and the JSON /status that `nodeop-operator status` reads. "" = off.
listen = "127.0.0.1:9464"

[resources]
# The largest task difficulty (units) this machine executes itself. Above it the slot is
# auctioned to coprocessors if [auction] is set, else executed anyway.
max_difficulty_units = 100
# The largest reference payload fetched (bytes).
max_payload_bytes = 1048576
# Blocks to wait for a sent tx's effect before looking it up by hash and sending it again.
resend_after_blocks = 2

# The executor per task kind. type = "exec" | "http" | "sha256" | "echo".
#   exec: command = ["prog", "arg"], timeout_ms = 5000, max_output_bytes = 1024, trim_newline = true
#         (payload on stdin, result on stdout, NODEOP_TASK_ID in the environment)
#   http: url = "http://127.0.0.1:8080/run", timeout_ms = 5000, max_output_bytes = 1024
#         (payload POSTed as the body, result = the 2xx response body)
#   sha256 / echo: demos and tests (the payload's SHA-256 / the payload itself)
[executors.exact]
type = "sha256"

[executors.numeric]
# A Numeric result is a decimal number in text ("12.34"), encoded with the task's scale.
type = "exec"
command = ["sh", "-c", "cat"]
timeout_ms = 5000

# Delivery of an aggregate this operator is scheduled to submit: an exec or http executor
# that gets the aggregate's bytes and prints the reference that goes into ConfirmSubmission
# (1–128 bytes). Without it the agent never confirms a delivery (the window is missed).
# [deliver]
# type = "exec"
# command = ["/usr/local/bin/deliver-result"]

# Dutch auction of slots above max_difficulty_units. Prices in unop; the start is capped at
# the member's expected pay, the floor at the start.
# [auction]
# start_price = 200000
# floor_price = 50000

# The coprocessor role (the key must be a registered coprocessor): bid on open auctions
# whose next-block price is at least min_price while fewer than capacity_units are busy.
# [coprocessor]
# min_price = 10000
# capacity_units = 10
"#;

/// Expands a leading `~/` with `$HOME`.
pub fn expand(path: &Path) -> PathBuf {
    match path.to_str().and_then(|s| s.strip_prefix("~/")) {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| path.to_path_buf()),
        None => path.to_path_buf(),
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "reading {} (`nodeop-operator init` writes one)",
                path.display()
            )
        })?;
        let c: Config =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if c.resources.resend_after_blocks == 0 {
            bail!("resources.resend_after_blocks must be at least 1");
        }
        Ok(c)
    }

    pub fn policy(&self) -> Policy {
        Policy {
            max_difficulty_units: self.resources.max_difficulty_units,
            auction: self.auction.as_ref().map(|a| AuctionPolicy {
                start_price: a.start_price,
                floor_price: a.floor_price,
            }),
            coprocessor: self.coprocessor.as_ref().map(|c| CoprocessorPolicy {
                min_price: c.min_price,
                capacity_units: c.capacity_units,
            }),
            resend_after_blocks: self.resources.resend_after_blocks,
            max_payload_bytes: self.resources.max_payload_bytes,
            ..Policy::default()
        }
    }

    pub fn executors(&self) -> Result<Executors> {
        Ok(Executors {
            exact: executor::build(&self.executors.exact).context("[executors.exact]")?,
            numeric: executor::build(&self.executors.numeric).context("[executors.numeric]")?,
            deliver: match &self.deliver {
                Some(d) => Some(executor::build(d).context("[deliver]")?),
                None => None,
            },
        })
    }
}

/// Unused executors are fine; a config with a wrong shape is not.
pub fn check_template() -> Result<Config> {
    let c: Config = toml::from_str(TEMPLATE).context("the init template")?;
    let _: Arc<dyn executor::Executor> = executor::build(&c.executors.exact)?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_builds() {
        let c = check_template().unwrap();
        assert_eq!(c.node.rpc, "http://127.0.0.1:26657");
        assert_eq!(c.executors.exact, ExecutorConfig::Sha256);
        assert!(c.executors().is_ok());
        assert!(c.auction.is_none() && c.coprocessor.is_none() && c.deliver.is_none());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let bad = TEMPLATE.replace("max_difficulty_units = 100", "max_difficulty = 100");
        assert!(toml::from_str::<Config>(&bad).is_err());
    }
}
