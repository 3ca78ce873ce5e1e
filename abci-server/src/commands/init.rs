//! `nodeopd init`: a new node home with this node as the only genesis validator.
//!
//! 1. `cometbft init --home HOME/cometbft` generates the node key and the validator key.
//! 2. config.toml is replaced by nodeop's template (cometbft-config).
//! 3. genesis.json gets nodeop's consensus params and `app_state` defaults (the treasury's
//!    100M NOP, …) with this node's validator (its key, `--power`, `--moniker`); the document's
//!    own `validators` list stays empty, as InitChain returns the validators.
//! 4. HOME/app/app.toml is written and HOME/app/data created.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use nodeop_cometbft_config::{ConfigParams, ConsensusTimeouts, GoDuration};
use nodeop_genesis::{
    dry_run, format_amount, now_rfc3339, parse_rfc3339, validator_address, GenesisDoc, PubKey,
    MAX_CHAIN_ID_LEN,
};

use super::{show, HomeArg};
use crate::home::{parse_laddr, AppConfig, Home, DEFAULT_ABCI_LADDR};

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// The chain id (1 to 50 bytes), e.g. nodeop-devnet.
    #[arg(long)]
    pub chain_id: String,
    /// This node's name (1 to 70 bytes); also its validator's moniker in genesis.
    #[arg(long)]
    pub moniker: String,
    /// The cometbft binary. Else $NODEOP_COMETBFT, else ./bin/cometbft, else cometbft on PATH.
    #[arg(long)]
    pub cometbft: Option<PathBuf>,
    /// Re-initialise an existing home: its chain data, configs and genesis are deleted; the
    /// node and validator keys are kept.
    #[arg(long)]
    pub overwrite: bool,
    /// Where nodeopd serves ABCI (app.toml) and CometBFT connects (proxy_app).
    #[arg(long, visible_alias = "abci", default_value = DEFAULT_ABCI_LADDR)]
    pub abci_laddr: String,
    /// CometBFT's RPC listen address.
    #[arg(long, default_value = "tcp://127.0.0.1:26657")]
    pub rpc_laddr: String,
    /// CometBFT's P2P listen address.
    #[arg(long, default_value = "tcp://0.0.0.0:26656")]
    pub p2p_laddr: String,
    /// Peers to stay connected to: node_id@host:port,...
    #[arg(long, default_value = "")]
    pub persistent_peers: String,
    /// The pause after each commit, in practice the block interval (Go duration).
    #[arg(long, default_value = "1s")]
    pub timeout_commit: GoDuration,
    /// How long to wait for a proposal (Go duration).
    #[arg(long, default_value = "1s")]
    pub timeout_propose: GoDuration,
    /// 0s: a block every timeout_commit; e.g. 5s: an idle chain makes an empty block every 5s.
    #[arg(long, default_value = "0s")]
    pub empty_blocks_interval: GoDuration,
    /// This validator's voting power.
    #[arg(long, default_value_t = 10)]
    pub power: u64,
    /// Genesis time (RFC 3339); default now. Nodes of one chain must share genesis.json anyway.
    #[arg(long)]
    pub genesis_time: Option<String>,
}

pub fn run(args: InitArgs) -> Result<ExitCode> {
    let home = args.home.home();
    check_inputs(&args)?;
    prepare_home(&home, args.overwrite)?;

    let cometbft = locate_cometbft(args.cometbft.as_deref())?;
    check_cometbft_version(&cometbft);
    let out = Command::new(&cometbft)
        .arg("init")
        .arg("--home")
        .arg(home.cometbft())
        .output()
        .with_context(|| format!("cannot run {}", show(&cometbft)))?;
    if !out.status.success() {
        bail!(
            "`{} init --home {}` failed ({}):\n{}{}",
            show(&cometbft),
            show(&home.cometbft()),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let validator_key = read_pub_key(&home.priv_validator_key())?;
    let node_id = read_node_id(&home.node_key())?;

    // config.toml from the template
    let params = ConfigParams {
        moniker: args.moniker.clone(),
        proxy_app: args.abci_laddr.clone(),
        rpc_laddr: args.rpc_laddr.clone(),
        p2p_laddr: args.p2p_laddr.clone(),
        persistent_peers: args
            .persistent_peers
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect(),
        timeouts: ConsensusTimeouts {
            propose: args.timeout_propose,
            commit: args.timeout_commit,
            ..ConsensusTimeouts::devnet()
        },
        create_empty_blocks_interval: args.empty_blocks_interval,
        ..ConfigParams::default()
    };
    write(
        &home.config_toml(),
        &nodeop_cometbft_config::render(&params),
    )?;

    // genesis.json
    let genesis_time = args.genesis_time.clone().unwrap_or_else(now_rfc3339);
    let mut genesis = GenesisDoc::new(
        &args.chain_id,
        &genesis_time,
        &nodeop_app::genesis::AppState::default(),
    )?;
    genesis.add_validator(validator_key, args.power, &args.moniker)?;
    let run = dry_run(&genesis).map_err(|problems| {
        anyhow::anyhow!(
            "the new genesis does not pass InitChain:\n  - {}",
            problems.join("\n  - ")
        )
    })?;
    genesis.save(&home.genesis())?;

    // app.toml
    let mut app_config = AppConfig::default();
    app_config.abci.laddr = args.abci_laddr.clone();
    std::fs::create_dir_all(home.app_data())
        .with_context(|| format!("cannot create {}", show(&home.app_data())))?;
    write(&home.app_toml(), &app_config.render())?;

    let treasury = genesis.app_state()?.bank.module_accounts;
    println!(
        "initialised node {:?} of chain {:?} in {}",
        args.moniker,
        args.chain_id,
        show(&home.root)
    );
    println!("  cometbft home   {}", show(&home.cometbft()));
    println!("  config.toml     {}", show(&home.config_toml()));
    println!("  genesis.json    {}", show(&home.genesis()));
    println!("  app.toml        {}", show(&home.app_toml()));
    println!("  store           {}", show(&home.store()));
    println!("  node id         {node_id}");
    println!(
        "  validator       {} (pub_key {}, power {})",
        hex::encode_upper(validator_address(&validator_key)),
        nodeop_app::serde_base64_32::encode(&validator_key),
        args.power
    );
    for m in treasury {
        println!("  genesis {:<14} {}", m.name, format_amount(m.balance));
    }
    println!("  genesis app hash {}", hex::encode_upper(run.app_hash));
    println!("  ABCI            {} (CometBFT proxy_app)", args.abci_laddr);
    println!("  RPC             {}", args.rpc_laddr);
    println!(
        "next: nodeopd genesis add-account --home {} ADDRESS AMOUNT (optional), then",
        show(&args.home.home)
    );
    println!(
        "      nodeopd start --home {}   and   {} start --home {}",
        show(&args.home.home),
        show(&cometbft),
        show(&home.cometbft())
    );
    Ok(ExitCode::SUCCESS)
}

fn check_inputs(args: &InitArgs) -> Result<()> {
    ensure!(
        !args.chain_id.is_empty() && args.chain_id.len() <= MAX_CHAIN_ID_LEN,
        "--chain-id {:?} must be 1 to {MAX_CHAIN_ID_LEN} bytes",
        args.chain_id
    );
    ensure!(
        !args.moniker.is_empty() && args.moniker.len() <= 70,
        "--moniker {:?} must be 1 to 70 bytes",
        args.moniker
    );
    ensure!(args.power > 0, "--power must be at least 1");
    parse_laddr(&args.abci_laddr).context("--abci-laddr")?;
    // CometBFT listens on tcp:// (or, for RPC, unix://) addresses; catch the common
    // http://… slip here rather than in CometBFT's start-up log.
    for (flag, value, schemes) in [
        ("--rpc-laddr", &args.rpc_laddr, &["tcp://", "unix://"][..]),
        ("--p2p-laddr", &args.p2p_laddr, &["tcp://"][..]),
    ] {
        ensure!(
            schemes.iter().any(|s| value.starts_with(s)),
            "{flag} {value:?} must start with {} (e.g. tcp://127.0.0.1:26657)",
            schemes.join(" or ")
        );
        if let Some(addr) = value.strip_prefix("tcp://") {
            parse_laddr(addr).with_context(|| flag.to_string())?;
        }
    }
    if let Some(t) = &args.genesis_time {
        parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--genesis-time: {e}"))?;
    }
    Ok(())
}

/// Refuses to touch an initialised home unless `overwrite`; with it, removes everything but the
/// keys.
fn prepare_home(home: &Home, overwrite: bool) -> Result<()> {
    let existing: Vec<PathBuf> = [
        home.genesis(),
        home.config_toml(),
        home.cometbft_data(),
        home.app(),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .collect();
    if existing.is_empty() {
        return Ok(());
    }
    if !overwrite {
        bail!(
            "{} already holds a node ({}); pass --overwrite to re-initialise it (its chain data, \
             configs and genesis are deleted, its keys kept)",
            show(&home.root),
            existing
                .iter()
                .map(|p| show(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for p in [home.app(), home.cometbft_data()] {
        if p.exists() {
            std::fs::remove_dir_all(&p).with_context(|| format!("cannot remove {}", show(&p)))?;
        }
    }
    for p in [
        home.genesis(),
        home.config_toml(),
        home.cometbft_config_dir().join("addrbook.json"),
    ] {
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", show(&p)))?;
        }
    }
    // `cometbft init` loads an existing validator key together with its sign state; a fresh
    // state (nothing signed) is right for a new chain.
    if home.priv_validator_key().exists() {
        std::fs::create_dir_all(home.cometbft_data())?;
        write(
            &home.cometbft_data().join("priv_validator_state.json"),
            "{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}",
        )?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", show(path)))
}

/// `--cometbft`, else $NODEOP_COMETBFT, else ./bin/cometbft, else `cometbft` on PATH.
fn locate_cometbft(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        ensure!(p.is_file(), "--cometbft {}: no such file", show(p));
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("NODEOP_COMETBFT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        ensure!(p.is_file(), "NODEOP_COMETBFT={}: no such file", show(&p));
        return Ok(p);
    }
    let local = Path::new("bin").join("cometbft");
    if local.is_file() {
        return Ok(std::env::current_dir()
            .map(|d| d.join(&local))
            .unwrap_or(local));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("cometbft");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "cannot find the cometbft binary: pass --cometbft PATH, set NODEOP_COMETBFT, or install \
         CometBFT v0.38 (scripts/setup.sh puts it in ./bin/cometbft)"
    )
}

/// Warns when the binary is not CometBFT v0.38 (nodeopd speaks ABCI 2.0 as of v0.38 only).
fn check_cometbft_version(cometbft: &Path) {
    match Command::new(cometbft).arg("version").output() {
        Ok(out) if out.status.success() => {
            let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !v.starts_with("0.38.") {
                tracing::warn!(version = %v, "cometbft is not v0.38.x; nodeopd speaks ABCI for v0.38");
                eprintln!(
                    "warning: {} is CometBFT {v}; nodeopd needs v0.38.x",
                    show(cometbft)
                );
            }
        }
        _ => eprintln!("warning: `{} version` failed", show(cometbft)),
    }
}

/// The ed25519 public key in a priv_validator_key.json (or any file with a `pub_key`).
pub fn read_pub_key(path: &Path) -> Result<[u8; 32]> {
    #[derive(serde::Deserialize)]
    struct KeyFile {
        pub_key: PubKey,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", show(path)))?;
    let file: KeyFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: no pub_key {{type, value}} in it", show(path)))?;
    file.pub_key
        .ed25519_bytes()
        .map_err(|e| anyhow::anyhow!("{}: {e}", show(path)))
}

/// The P2P node id (hex of the first 20 bytes of SHA-256 of the node key's public half).
fn read_node_id(path: &Path) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct NodeKey {
        priv_key: PubKey,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", show(path)))?;
    let key: NodeKey =
        serde_json::from_str(&text).with_context(|| format!("{} is not a node key", show(path)))?;
    let bytes = nodeop_app::serde_base64_32::decode(&key.priv_key.value)
        .map_err(|e| anyhow::anyhow!("{}: {e}", show(path)))?;
    ensure!(
        bytes.len() == 64,
        "{}: the ed25519 private key is not 64 bytes",
        show(path)
    );
    let public: [u8; 32] = bytes[32..].try_into().context("node key")?;
    Ok(hex::encode(validator_address(&public)))
}
