//! CometBFT `config.toml` for nodeop nodes, rendered from a template.
//!
//! `templates/config.toml` is what `cometbft init` (v0.38.25) writes, with nodeop's values in
//! `{{placeholders}}` and a `# nodeop:` comment above every value nodeop changes or relies on,
//! saying why. [`render`] fills the placeholders from [`ConfigParams`]; `nodeopd init` writes the
//! result over the file `cometbft init` generated.
//!
//! Durations use Go's notation (`"500ms"`, `"1s"`, `"1m30s"`), as CometBFT parses them; see
//! [`GoDuration`].

use std::fmt;
use std::str::FromStr;

/// The template, embedded at build time.
pub const TEMPLATE: &str = include_str!("../templates/config.toml");

/// The CometBFT version the template was taken from.
pub const COMETBFT_VERSION: &str = "0.38.25";

/// Everything a node's config.toml varies by. [`Default`] gives a single devnet node on the
/// standard ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigParams {
    /// This node's human-readable name.
    pub moniker: String,
    /// Where `nodeopd start` serves ABCI, e.g. `tcp://127.0.0.1:26658`.
    pub proxy_app: String,
    /// CometBFT's RPC listen address, e.g. `tcp://127.0.0.1:26657`.
    pub rpc_laddr: String,
    /// CometBFT's P2P listen address, e.g. `tcp://0.0.0.0:26656`.
    pub p2p_laddr: String,
    /// Address advertised to peers (`host:port`); empty to let CometBFT introspect.
    pub external_address: String,
    /// Peers to keep connections to, each `node_id@host:port`.
    pub persistent_peers: Vec<String>,
    /// Keep only routable peer addresses (false for loopback and private testnets).
    pub addr_book_strict: bool,
    /// Allow several peers from one IP (true for testnets on one host).
    pub allow_duplicate_ip: bool,
    pub timeouts: ConsensusTimeouts,
    /// With `create_empty_blocks = true` (always, for nodeop): 0 makes a block every
    /// `timeout_commit`; a positive interval makes an idle chain produce one empty block per
    /// interval.
    pub create_empty_blocks_interval: GoDuration,
    /// CometBFT's log level, e.g. `info`, `error`, `consensus:debug,*:error`.
    pub log_level: String,
    /// `[mempool] size`: the most txs CometBFT's mempool holds.
    pub mempool_size: u64,
    /// `[mempool] max_txs_bytes`: the most tx bytes CometBFT's mempool holds.
    pub mempool_max_txs_bytes: u64,
}

/// CometBFT's default `[mempool] size`.
pub const DEFAULT_MEMPOOL_SIZE: u64 = 5_000;
/// CometBFT's default `[mempool] max_txs_bytes` (1 GiB).
pub const DEFAULT_MEMPOOL_MAX_TXS_BYTES: u64 = 1 << 30;

/// The consensus timeouts nodeop sets (the `*_delta` values keep CometBFT's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusTimeouts {
    pub propose: GoDuration,
    pub prevote: GoDuration,
    pub precommit: GoDuration,
    /// The pause after a commit: in practice the block interval.
    pub commit: GoDuration,
}

impl ConsensusTimeouts {
    /// Short timeouts for devnets and loopback testnets.
    pub fn devnet() -> Self {
        Self {
            propose: GoDuration::from_millis(1_000),
            prevote: GoDuration::from_millis(500),
            precommit: GoDuration::from_millis(500),
            commit: GoDuration::from_millis(1_000),
        }
    }

    /// CometBFT's own defaults (networks spanning continents).
    pub fn cometbft_defaults() -> Self {
        Self {
            propose: GoDuration::from_millis(3_000),
            prevote: GoDuration::from_millis(1_000),
            precommit: GoDuration::from_millis(1_000),
            commit: GoDuration::from_millis(1_000),
        }
    }
}

impl Default for ConfigParams {
    fn default() -> Self {
        Self {
            moniker: "node0".into(),
            proxy_app: "tcp://127.0.0.1:26658".into(),
            rpc_laddr: "tcp://127.0.0.1:26657".into(),
            p2p_laddr: "tcp://0.0.0.0:26656".into(),
            external_address: String::new(),
            persistent_peers: Vec::new(),
            addr_book_strict: false,
            allow_duplicate_ip: true,
            timeouts: ConsensusTimeouts::devnet(),
            create_empty_blocks_interval: GoDuration::ZERO,
            log_level: "info".into(),
            mempool_size: DEFAULT_MEMPOOL_SIZE,
            mempool_max_txs_bytes: DEFAULT_MEMPOOL_MAX_TXS_BYTES,
        }
    }
}

/// A duration in Go's `time.Duration` text form, at millisecond precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoDuration {
    millis: u64,
}

impl GoDuration {
    pub const ZERO: GoDuration = GoDuration { millis: 0 };

    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }

    pub const fn from_secs(secs: u64) -> Self {
        Self {
            millis: secs.saturating_mul(1000),
        }
    }

    pub const fn as_millis(&self) -> u64 {
        self.millis
    }
}

impl fmt::Display for GoDuration {
    /// `0s`, `500ms`, `1s`, `90s`, `1500ms`: always a form Go's `time.ParseDuration` accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis.is_multiple_of(1000) {
            write!(f, "{}s", self.millis / 1000)
        } else {
            write!(f, "{}ms", self.millis)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError(String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

impl FromStr for GoDuration {
    type Err = DurationError;

    /// Parses whole-number Go durations: `0`, `250ms`, `1s`, `1m30s`, `2h`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            DurationError(format!(
                "duration {s:?}: {why} (expected e.g. \"500ms\", \"1s\", \"1m30s\")"
            ))
        };
        let text = s.trim();
        if text == "0" {
            return Ok(Self::ZERO);
        }
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad("a number must come before each unit"));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| bad("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let scale: u64 = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(bad("missing unit")),
                _ => return Err(bad(&format!("unknown unit {unit:?} (use ms, s, m or h)"))),
            };
            total = number
                .checked_mul(scale)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| bad("too large"))?;
        }
        Ok(Self { millis: total })
    }
}

/// A TOML basic string's contents (without the quotes).
fn toml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The config.toml for `params`.
pub fn render(params: &ConfigParams) -> String {
    let values: [(&str, String); 16] = [
        ("proxy_app", toml_escape(&params.proxy_app)),
        ("moniker", toml_escape(&params.moniker)),
        ("log_level", toml_escape(&params.log_level)),
        ("rpc_laddr", toml_escape(&params.rpc_laddr)),
        ("p2p_laddr", toml_escape(&params.p2p_laddr)),
        ("external_address", toml_escape(&params.external_address)),
        (
            "persistent_peers",
            toml_escape(&params.persistent_peers.join(",")),
        ),
        ("addr_book_strict", params.addr_book_strict.to_string()),
        ("allow_duplicate_ip", params.allow_duplicate_ip.to_string()),
        ("timeout_propose", params.timeouts.propose.to_string()),
        ("timeout_prevote", params.timeouts.prevote.to_string()),
        ("timeout_precommit", params.timeouts.precommit.to_string()),
        ("timeout_commit", params.timeouts.commit.to_string()),
        (
            "create_empty_blocks_interval",
            params.create_empty_blocks_interval.to_string(),
        ),
        ("mempool_size", params.mempool_size.to_string()),
        (
            "mempool_max_txs_bytes",
            params.mempool_max_txs_bytes.to_string(),
        ),
    ];
    let mut out = TEMPLATE.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), &value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> toml::Table {
        text.parse::<toml::Table>()
            .expect("rendered config.toml is valid TOML")
    }

    fn get<'a>(table: &'a toml::Table, path: &str) -> &'a toml::Value {
        let mut parts = path.split('.');
        let first = parts.next().unwrap();
        let mut v = table.get(first).unwrap_or_else(|| panic!("{path} missing"));
        for p in parts {
            v = v.get(p).unwrap_or_else(|| panic!("{path} missing"));
        }
        v
    }

    fn str_at<'a>(table: &'a toml::Table, path: &str) -> &'a str {
        get(table, path)
            .as_str()
            .unwrap_or_else(|| panic!("{path} is not a string"))
    }

    #[test]
    fn default_render_is_valid_toml_with_no_placeholder_left() {
        let text = render(&ConfigParams::default());
        assert!(!text.contains("{{"), "a placeholder was not filled");
        let t = parse(&text);
        assert_eq!(str_at(&t, "proxy_app"), "tcp://127.0.0.1:26658");
        assert_eq!(str_at(&t, "abci"), "socket");
        assert_eq!(str_at(&t, "version"), COMETBFT_VERSION);
        assert_eq!(str_at(&t, "tx_index.indexer"), "kv");
        assert_eq!(get(&t, "mempool.recheck").as_bool(), Some(true));
        assert_eq!(get(&t, "mempool.size").as_integer(), Some(5_000));
        assert_eq!(
            get(&t, "mempool.max_txs_bytes").as_integer(),
            Some(1_073_741_824)
        );
        assert_eq!(
            get(&t, "consensus.create_empty_blocks").as_bool(),
            Some(true)
        );
        assert_eq!(get(&t, "instrumentation.prometheus").as_bool(), Some(false));
        assert_eq!(get(&t, "p2p.allow_duplicate_ip").as_bool(), Some(true));
        assert_eq!(get(&t, "p2p.addr_book_strict").as_bool(), Some(false));
        assert_eq!(str_at(&t, "consensus.timeout_commit"), "1s");
        assert_eq!(str_at(&t, "consensus.timeout_prevote"), "500ms");
        assert_eq!(str_at(&t, "consensus.create_empty_blocks_interval"), "0s");
    }

    #[test]
    fn render_carries_every_parameter() {
        let params = ConfigParams {
            moniker: "val \"one\" \\ ü".into(),
            proxy_app: "tcp://127.0.0.1:36658".into(),
            rpc_laddr: "tcp://127.0.0.1:36657".into(),
            p2p_laddr: "tcp://127.0.0.1:36656".into(),
            external_address: "10.0.0.1:36656".into(),
            persistent_peers: vec!["aa@127.0.0.1:1".into(), "bb@127.0.0.1:2".into()],
            addr_book_strict: true,
            allow_duplicate_ip: false,
            timeouts: ConsensusTimeouts {
                propose: GoDuration::from_millis(2_000),
                prevote: GoDuration::from_millis(300),
                precommit: GoDuration::from_millis(400),
                commit: GoDuration::from_millis(250),
            },
            create_empty_blocks_interval: GoDuration::from_secs(5),
            log_level: "*:error".into(),
            mempool_size: 300,
            mempool_max_txs_bytes: 65_536,
        };
        let t = parse(&render(&params));
        assert_eq!(str_at(&t, "moniker"), params.moniker);
        assert_eq!(str_at(&t, "proxy_app"), "tcp://127.0.0.1:36658");
        assert_eq!(str_at(&t, "rpc.laddr"), "tcp://127.0.0.1:36657");
        assert_eq!(str_at(&t, "p2p.laddr"), "tcp://127.0.0.1:36656");
        assert_eq!(str_at(&t, "p2p.external_address"), "10.0.0.1:36656");
        assert_eq!(
            str_at(&t, "p2p.persistent_peers"),
            "aa@127.0.0.1:1,bb@127.0.0.1:2"
        );
        assert_eq!(get(&t, "p2p.addr_book_strict").as_bool(), Some(true));
        assert_eq!(get(&t, "p2p.allow_duplicate_ip").as_bool(), Some(false));
        assert_eq!(str_at(&t, "consensus.timeout_propose"), "2s");
        assert_eq!(str_at(&t, "consensus.timeout_prevote"), "300ms");
        assert_eq!(str_at(&t, "consensus.timeout_precommit"), "400ms");
        assert_eq!(str_at(&t, "consensus.timeout_commit"), "250ms");
        assert_eq!(str_at(&t, "consensus.create_empty_blocks_interval"), "5s");
        assert_eq!(str_at(&t, "log_level"), "*:error");
        assert_eq!(get(&t, "mempool.size").as_integer(), Some(300));
        assert_eq!(get(&t, "mempool.max_txs_bytes").as_integer(), Some(65_536));
    }

    #[test]
    fn every_changed_value_is_explained() {
        // Each placeholder has a `# nodeop:` comment in its paragraph (the lines since the last blank
        // line).
        let lines: Vec<&str> = TEMPLATE.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("{{") {
                continue;
            }
            let explained = lines[..i]
                .iter()
                .rev()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with('['))
                .any(|l| l.starts_with("# nodeop:"));
            assert!(
                explained,
                "line {} ({line}) has no `# nodeop:` comment above it",
                i + 1
            );
        }
    }

    #[test]
    fn go_durations_parse_and_print() {
        for (text, ms) in [
            ("0", 0),
            ("0s", 0),
            ("250ms", 250),
            ("1s", 1_000),
            ("1m30s", 90_000),
            ("2h", 7_200_000),
            ("1s500ms", 1_500),
        ] {
            assert_eq!(
                text.parse::<GoDuration>().unwrap().as_millis(),
                ms,
                "{text}"
            );
        }
        for bad in ["", "1", "s", "1x", "1.5s", "-1s", "99999999999999999999s"] {
            assert!(
                bad.parse::<GoDuration>().is_err(),
                "{bad:?} should not parse"
            );
        }
        assert_eq!(GoDuration::from_millis(1_500).to_string(), "1500ms");
        assert_eq!(GoDuration::from_secs(90).to_string(), "90s");
        assert_eq!(GoDuration::ZERO.to_string(), "0s");
    }

    /// The template keeps every key `cometbft init` writes and adds none, so that a typo or a
    /// key dropped in an edit is caught. Runs when the pinned binary is at `bin/cometbft`.
    #[test]
    fn template_has_exactly_the_keys_cometbft_init_writes() {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bin/cometbft");
        if !bin.exists() {
            eprintln!("skipped: {} not found", bin.display());
            return;
        }
        let home = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(&bin)
            .args(["init", "--home"])
            .arg(home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "cometbft init failed: {out:?}");
        let generated = std::fs::read_to_string(home.path().join("config/config.toml")).unwrap();
        fn keys(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    toml::Value::Table(sub) => keys(&path, sub, out),
                    _ => out.push(path),
                }
            }
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keys("", &parse(&generated), &mut a);
        keys("", &parse(&render(&ConfigParams::default())), &mut b);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
}
