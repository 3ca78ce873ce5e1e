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
    #[serde(default)]
    pub validator: ValidatorConfig,
}

/// `[validator]`: what the agent does for the operator as a validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidatorConfig {
    /// Send `Unjail` once a downtime jail has passed.
    pub unjail: bool,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self { unjail: true }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub rpc: String,
    #[serde(default)]
    pub chain_id: Option<String>,
    /// Wake on new blocks over the node's websocket (else poll only).
    #[serde(default = "yes")]
    pub websocket: bool,
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
    /// unop (TOML integers are 64-bit: up to 18 446 744 073 709 551 615 unop).
    pub start_price: u64,
    pub floor_price: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoprocessorConfig {
    /// unop.
    pub min_price: u64,
    pub capacity_units: u64,
}

/// The file `init` writes.
pub const TEMPLATE: &str = r#"# nodeop-operator configuration. Every key is explained in docs/operator.md.

[node]
# CometBFT RPC of the node this agent watches and sends txs to (the validator's own node).
rpc = "http://127.0.0.1:26657"
# The chain id the agent must find at that node (refuses to start on another). Optional.
# chain_id = "nodeop-devnet"
# New blocks wake the agent through a NewBlock subscription on the node's websocket
# (rpc + /websocket); while it is down, and with false, the agent polls /abci_info.
websocket = true

[key]
# The client home (`nodeop --home`) whose keyring holds the operator's account key.
home = "~/.nodeop"
# The key's name in that keyring.
name = "operator"
# For an encrypted key: a file holding its passphrase (one line). Optional.
# passphrase_file = "/etc/nodeop/passphrase"

[store]
# The agent's redb store: duties, results and salts, stored txs, the last height processed.
# Keep it on durable storage and never share it between two agents. A relative path here (as
# every path in this file) is relative to the folder that holds this file.
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

[validator]
# Send Unjail once this operator's jail for downtime has passed (never when tombstoned), so a
# validator whose machine was down comes back to the set by itself.
unjail = true

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

/// A path of the config file: a leading `~/` is `$HOME`, and a relative path is relative to the
/// folder that holds the config file (so `status` and `start` find the same store from any
/// working directory).
pub fn resolve(path: &Path, config_dir: &Path) -> PathBuf {
    let p = expand(path);
    if p.is_absolute() {
        p
    } else {
        config_dir.join(p)
    }
}

fn yes() -> bool {
    true
}

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
        let mut c: Config =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        c.key.home = resolve(&c.key.home, &dir);
        c.key.passphrase_file = c.key.passphrase_file.map(|p| resolve(&p, &dir));
        c.store.path = resolve(&c.store.path, &dir);
        if c.resources.resend_after_blocks == 0 {
            bail!("resources.resend_after_blocks must be at least 1");
        }
        Ok(c)
    }

    pub fn policy(&self) -> Policy {
        Policy {
            max_difficulty_units: self.resources.max_difficulty_units,
            auction: self.auction.as_ref().map(|a| AuctionPolicy {
                start_price: a.start_price.into(),
                floor_price: a.floor_price.into(),
            }),
            coprocessor: self.coprocessor.as_ref().map(|c| CoprocessorPolicy {
                min_price: c.min_price.into(),
                capacity_units: c.capacity_units,
            }),
            resend_after_blocks: self.resources.resend_after_blocks,
            max_payload_bytes: self.resources.max_payload_bytes,
            unjail: self.validator.unjail,
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

/// What `nodeop-operator init` may set in the file it writes; `None` keeps the template's value
/// (or leaves the optional section commented out).
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    pub rpc: Option<String>,
    pub chain_id: Option<String>,
    pub key_home: Option<PathBuf>,
    pub key_name: Option<String>,
    pub store: Option<PathBuf>,
    pub metrics_listen: Option<String>,
    pub max_difficulty_units: Option<u64>,
    /// `sh -c COMMAND` as the Exact executor (else `sha256`).
    pub exact_command: Option<String>,
    /// `sh -c COMMAND` as the Numeric executor (else `sh -c cat`: the payload is the number).
    pub numeric_command: Option<String>,
    /// `sh -c COMMAND` as the `[deliver]` hook.
    pub deliver_command: Option<String>,
    /// `[auction]`: start and floor price, unop.
    pub auction: Option<(u64, u64)>,
    /// `[coprocessor]`: minimum price (unop) and capacity units.
    pub coprocessor: Option<(u64, u64)>,
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn sh_command(command: &str) -> String {
    format!("command = [\"sh\", \"-c\", {}]", toml_str(command))
}

fn is_header(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// The `[start, end)` line range of `[section]`'s body.
fn section_body(lines: &[String], section: &str) -> Result<(usize, usize)> {
    let header = format!("[{section}]");
    let start = lines
        .iter()
        .position(|l| l.trim() == header)
        .with_context(|| format!("the template has no {header}"))?
        + 1;
    let end = lines[start..]
        .iter()
        .position(|l| is_header(l) || l.trim_start().starts_with("# ["))
        .map_or(lines.len(), |i| start + i);
    Ok((start, end))
}

/// Whether `line` sets `key` (also commented out: `# key = …`).
fn sets_key(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("# ").unwrap_or(t);
    t.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

fn set_key(lines: &mut [String], section: &str, key: &str, value: String) -> Result<()> {
    let (start, end) = section_body(lines, section)?;
    let i = (start..end)
        .find(|&i| sets_key(&lines[i], key))
        .with_context(|| format!("the template has no {key} in [{section}]"))?;
    lines[i] = format!("{key} = {value}");
    Ok(())
}

/// Replaces the key lines of `[section]` with `body`.
fn set_body(lines: &mut Vec<String>, section: &str, body: &[String]) -> Result<()> {
    let (start, end) = section_body(lines, section)?;
    let keys: Vec<usize> = (start..end)
        .filter(|&i| {
            let t = lines[i].trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    let at = keys.first().copied().unwrap_or(start);
    for i in keys.into_iter().rev() {
        lines.remove(i);
    }
    for (j, l) in body.iter().enumerate() {
        lines.insert(at + j, l.clone());
    }
    Ok(())
}

/// Turns the commented-out `# [section]` example into a real section holding `body`.
fn enable_section(lines: &mut Vec<String>, section: &str, body: &[String]) -> Result<()> {
    let header = format!("# [{section}]");
    let at = lines
        .iter()
        .position(|l| l.trim() == header)
        .with_context(|| format!("the template has no {header}"))?;
    lines[at] = format!("[{section}]");
    while at + 1 < lines.len() && {
        let t = lines[at + 1].trim_start();
        t.starts_with("# ") && !t.starts_with("# [") && t.contains(" = ")
    } {
        lines.remove(at + 1);
    }
    for (j, l) in body.iter().enumerate() {
        lines.insert(at + 1 + j, l.clone());
    }
    Ok(())
}

/// The commented template with `options` applied; the result parses and holds every value
/// given.
pub fn render(options: &InitOptions) -> Result<String> {
    let mut lines: Vec<String> = TEMPLATE.lines().map(str::to_string).collect();
    let o = options;
    if let Some(v) = &o.rpc {
        set_key(&mut lines, "node", "rpc", toml_str(v))?;
    }
    if let Some(v) = &o.chain_id {
        set_key(&mut lines, "node", "chain_id", toml_str(v))?;
    }
    if let Some(v) = &o.key_home {
        set_key(&mut lines, "key", "home", toml_str(&v.to_string_lossy()))?;
    }
    if let Some(v) = &o.key_name {
        set_key(&mut lines, "key", "name", toml_str(v))?;
    }
    if let Some(v) = &o.store {
        set_key(&mut lines, "store", "path", toml_str(&v.to_string_lossy()))?;
    }
    if let Some(v) = &o.metrics_listen {
        set_key(&mut lines, "metrics", "listen", toml_str(v))?;
    }
    if let Some(v) = o.max_difficulty_units {
        set_key(
            &mut lines,
            "resources",
            "max_difficulty_units",
            v.to_string(),
        )?;
    }
    let exec = |command: &str| vec!["type = \"exec\"".to_string(), sh_command(command)];
    if let Some(c) = &o.exact_command {
        set_body(&mut lines, "executors.exact", &exec(c))?;
    }
    if let Some(c) = &o.numeric_command {
        let mut body = exec(c);
        body.push("timeout_ms = 5000".into());
        set_body(&mut lines, "executors.numeric", &body)?;
    }
    if let Some(c) = &o.deliver_command {
        enable_section(&mut lines, "deliver", &exec(c))?;
    }
    if let Some((start, floor)) = o.auction {
        let body = [
            format!("start_price = {start}"),
            format!("floor_price = {floor}"),
        ];
        enable_section(&mut lines, "auction", &body)?;
    }
    if let Some((min_price, capacity)) = o.coprocessor {
        let body = [
            format!("min_price = {min_price}"),
            format!("capacity_units = {capacity}"),
        ];
        enable_section(&mut lines, "coprocessor", &body)?;
    }
    let text = lines.join("\n") + "\n";
    let c: Config = toml::from_str(&text).context("the written config does not parse")?;
    let sh = |command: &str| ExecutorConfig::Exec {
        command: vec!["sh".into(), "-c".into(), command.into()],
        timeout_ms: 5_000,
        max_output_bytes: 1_024,
        trim_newline: true,
    };
    let checks = [
        o.rpc.as_ref().is_none_or(|v| *v == c.node.rpc),
        o.chain_id.is_none() || o.chain_id == c.node.chain_id,
        o.key_home.as_ref().is_none_or(|v| *v == c.key.home),
        o.key_name.as_ref().is_none_or(|v| *v == c.key.name),
        o.store.as_ref().is_none_or(|v| *v == c.store.path),
        o.metrics_listen
            .as_ref()
            .is_none_or(|v| *v == c.metrics.listen),
        o.max_difficulty_units
            .is_none_or(|v| v == c.resources.max_difficulty_units),
        o.exact_command
            .as_ref()
            .is_none_or(|v| sh(v) == c.executors.exact),
        o.numeric_command
            .as_ref()
            .is_none_or(|v| sh(v) == c.executors.numeric),
        o.deliver_command
            .as_ref()
            .is_none_or(|v| Some(sh(v)) == c.deliver),
        o.auction.is_none_or(|(s, f)| {
            c.auction.as_ref().map(|a| (a.start_price, a.floor_price)) == Some((s, f))
        }),
        o.coprocessor.is_none_or(|(p, u)| {
            c.coprocessor
                .as_ref()
                .map(|x| (x.min_price, x.capacity_units))
                == Some((p, u))
        }),
    ];
    if checks.contains(&false) {
        bail!("the written config does not hold the values given: {c:?}");
    }
    c.executors()?;
    Ok(text)
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
    fn init_options_are_written_into_the_commented_template() {
        let o = InitOptions {
            rpc: Some("http://127.0.0.1:36601".into()),
            chain_id: Some("nodeop-testnet".into()),
            key_home: Some("/tmp/a b/client".into()),
            key_name: Some("coprocessor1".into()),
            store: Some("agent.redb".into()),
            metrics_listen: Some("127.0.0.1:9500".into()),
            max_difficulty_units: Some(5),
            exact_command: Some(r#"printf 'wrong "answer"\n'"#.into()),
            numeric_command: None,
            deliver_command: Some(
                r#"cat >"$D/$NODEOP_TASK_ID"; echo "log#$NODEOP_TASK_ID""#.into(),
            ),
            auction: Some((1_000_000, 1)),
            coprocessor: Some((1, 40)),
        };
        let text = render(&o).unwrap();
        let c: Config = toml::from_str(&text).unwrap();
        assert_eq!(c.key.name, "coprocessor1");
        assert_eq!(c.resources.max_difficulty_units, 5);
        assert!(
            matches!(&c.executors.exact, ExecutorConfig::Exec { command, .. } if command[2].contains("wrong"))
        );
        assert!(matches!(c.deliver, Some(ExecutorConfig::Exec { .. })));
        assert_eq!(c.coprocessor.map(|x| x.capacity_units), Some(40));
        // every comment of the template is still there
        let comments = |s: &str| {
            s.lines()
                .filter(|l| l.starts_with("# ") && !l.contains(" = ") && !l.starts_with("# ["))
                .count()
        };
        assert_eq!(comments(&text), comments(TEMPLATE));
        // nothing given: the template itself
        assert_eq!(render(&InitOptions::default()).unwrap(), TEMPLATE);
    }

    #[test]
    fn relative_paths_in_the_file_are_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("agent");
        std::fs::create_dir_all(&sub).unwrap();
        let text = TEMPLATE.replace(
            "# passphrase_file = \"/etc/nodeop/passphrase\"",
            "passphrase_file = \"secrets/pass\"",
        );
        let file = sub.join("operator.toml");
        std::fs::write(&file, text).unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.store.path, sub.join("operator.redb"));
        assert_eq!(c.key.passphrase_file, Some(sub.join("secrets/pass")));
        // `~/` is the home folder, an absolute path stays as it is
        assert!(c.key.home.is_absolute() && c.key.home.ends_with(".nodeop"));
        assert!(!c.key.home.starts_with(&sub));
        let abs = TEMPLATE.replace("path = \"operator.redb\"", "path = \"/var/lib/op.redb\"");
        std::fs::write(&file, abs).unwrap();
        assert_eq!(
            Config::load(&file).unwrap().store.path,
            PathBuf::from("/var/lib/op.redb")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let bad = TEMPLATE.replace("max_difficulty_units = 100", "max_difficulty = 100");
        assert!(toml::from_str::<Config>(&bad).is_err());
    }
}
