//! `nodeopd init`: a new node home with this node as the only genesis operator (validator).
//!
//! 1. `cometbft init --home HOME/cometbft` generates the node key and the validator (consensus)
//!    key.
//! 2. config.toml is replaced by nodeop's template (cometbft-config).
//! 3. The operator's account: `--operator-address`, or else a secp256k1 key `operator` from a new
//!    24-word mnemonic in the `nodeop` CLI's keyring, HOME/keyring/ (or `--client-home`'s), so
//!    that `nodeop --home HOME` signs the operator's txs (unjail, edit). An existing `operator`
//!    key there is reused (as `--overwrite` keeps the consensus key).
//! 4. genesis.json gets nodeop's consensus params and `app_state` defaults (the treasury's
//!    100M NOP, …; `--devnet`: the devnet staking params), this node as operator (its consensus
//!    key, `--moniker`, `--self-bond` credited to `bonded_pool`) and `--operator-balance` on the
//!    operator's account to pay its fees. The document's own `validators` list stays empty, as
//!    InitChain returns the validators.
//! 5. HOME/app/app.toml is written and HOME/app/data created; its `[mempool]` limits are set 5 %
//!    below the `[mempool] size` and `max_txs_bytes` written to config.toml.
//!
//! Every flag is checked before anything is written; the key is written only once the genesis
//! passes a dry run of InitChain.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use nodeop_app::crypto::Address;
use nodeop_app::modules::staking::StakingParams;
use nodeop_app::MempoolLimits;
use nodeop_client::keyring::{KeyInfo, KeySecret, Keyring};
use nodeop_client::keys::generate_mnemonic;
use nodeop_cometbft_config::{ConfigParams, ConsensusTimeouts, GoDuration};
use nodeop_genesis::{
    dry_run, format_amount, now_rfc3339, parse_amount, parse_rfc3339, validator_address,
    GenesisDoc, PubKey, MAX_CHAIN_ID_LEN,
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
    /// This node's name (1 to 70 bytes); also its operator's moniker in genesis.
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
    /// CometBFT's mempool size in txs (config.toml `[mempool] size`); app.toml's
    /// `[mempool] max_txs` is written 5 % below it.
    #[arg(long, default_value_t = nodeop_cometbft_config::DEFAULT_MEMPOOL_SIZE)]
    pub mempool_size: u64,
    /// CometBFT's mempool size in bytes (config.toml `[mempool] max_txs_bytes`); app.toml's
    /// `[mempool] max_txs_bytes` is written 5 % below it.
    #[arg(long, default_value_t = nodeop_cometbft_config::DEFAULT_MEMPOOL_MAX_TXS_BYTES)]
    pub mempool_max_txs_bytes: u64,
    /// The operator's account (bech32 nodeop1…), when you hold its key elsewhere; no key is
    /// generated then.
    #[arg(long)]
    pub operator_address: Option<String>,
    /// The `nodeop` CLI home whose keyring/ receives the generated key `operator` (default:
    /// --home, so `nodeop --home HOME` finds it).
    #[arg(long, conflicts_with = "operator_address")]
    pub client_home: Option<PathBuf>,
    /// The operator's self-bond, bonded at genesis (its voting power is the bond in NOP); at
    /// least staking's min_self_bond (1000nop).
    #[arg(long, default_value = "10000nop")]
    pub self_bond: String,
    /// A genesis balance for the operator's account, to pay the fees of its txs (0: none).
    #[arg(long, default_value = "1000nop")]
    pub operator_balance: String,
    /// The operator's commission on its delegators' rewards, in ppm (100000 = 10%).
    #[arg(long, default_value_t = 100_000)]
    pub commission_ppm: u32,
    /// The work capacity the operator declares, in task units.
    #[arg(long, default_value_t = 100)]
    pub capacity_units: u64,
    /// The operator's region, free text (0 to 32 bytes), e.g. eu-west.
    #[arg(long, default_value = "")]
    pub region: String,
    /// Devnet staking params: unbonding 300 s, liveness window 100 blocks, downtime jail 20 s,
    /// epochs of 10 s, issuance periods of 3 epochs (the defaults are 7 days, 10000 blocks,
    /// 600 s, 1 day and 30 epochs).
    #[arg(long)]
    pub devnet: bool,
    /// Genesis time (RFC 3339); default now. Nodes of one chain must share genesis.json anyway.
    #[arg(long)]
    pub genesis_time: Option<String>,
}

/// The name of the key `nodeopd init` generates in the CLI's keyring.
pub const OPERATOR_KEY_NAME: &str = "operator";

/// Where the operator's account comes from.
enum OperatorKey {
    /// `--operator-address`: the caller holds the key.
    External(Address),
    /// The keyring already has a key `operator` (an earlier init of this home): reused.
    Existing(KeyInfo),
    /// A new mnemonic, written to the keyring once the genesis passes its dry run.
    New {
        client_home: PathBuf,
        secret: KeySecret,
        address: Address,
    },
}

impl OperatorKey {
    fn address(&self) -> Address {
        match self {
            OperatorKey::External(a) | OperatorKey::New { address: a, .. } => *a,
            OperatorKey::Existing(info) => info.address,
        }
    }
}

/// The flags, parsed and checked before anything is written.
struct Plan {
    operator: OperatorKey,
    self_bond: u128,
    operator_balance: u128,
    staking_params: StakingParams,
}

pub fn run(args: InitArgs) -> Result<ExitCode> {
    let home = args.home.home();
    let plan = check_inputs(&args, &home)?;
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
        mempool_size: args.mempool_size,
        mempool_max_txs_bytes: args.mempool_max_txs_bytes,
        ..ConfigParams::default()
    };
    write(
        &home.config_toml(),
        &nodeop_cometbft_config::render(&params),
    )?;

    // genesis.json, with this node as its operator
    let operator = plan.operator.address();
    let genesis_time = args.genesis_time.clone().unwrap_or_else(now_rfc3339);
    let mut genesis = GenesisDoc::new(
        &args.chain_id,
        &genesis_time,
        &nodeop_app::genesis::AppState::default(),
    )?;
    // slashing first: the staking edit is refused if unbonding_time were shorter than
    // slashing's dispute_window + vote_period + max_task_lifetime
    genesis.set_slashing_params(if args.devnet {
        nodeop_app::modules::slashing::SlashingParams::devnet()
    } else {
        nodeop_app::modules::slashing::SlashingParams::default()
    })?;
    genesis.set_staking_params(plan.staking_params.clone())?;
    genesis.set_issuance_params(if args.devnet {
        nodeop_app::modules::issuance::IssuanceParams::devnet()
    } else {
        nodeop_app::modules::issuance::IssuanceParams::default()
    })?;
    genesis.set_tasks_params(if args.devnet {
        nodeop_app::modules::tasks::TasksParams::devnet()
    } else {
        nodeop_app::modules::tasks::TasksParams::default()
    })?;
    genesis.add_operator(
        operator,
        validator_key,
        &args.moniker,
        plan.self_bond,
        args.commission_ppm,
        args.capacity_units,
        &args.region,
    )?;
    if plan.operator_balance > 0 {
        genesis.add_account(operator, plan.operator_balance)?;
    }
    let run = dry_run(&genesis).map_err(|problems| {
        anyhow::anyhow!(
            "the new genesis does not pass InitChain:\n  - {}",
            problems.join("\n  - ")
        )
    })?;
    let power = run
        .validators
        .iter()
        .find(|v| v.pub_key == validator_key)
        .map_or(0, |v| v.power);

    // the operator's key, then the genesis that names it
    let cli_home = match (&plan.operator, &args.client_home) {
        (OperatorKey::External(_), _) => None,
        (_, Some(c)) => Some(show(c)),
        (_, None) => Some(show(&args.home.home)),
    };
    let key_note = match plan.operator {
        OperatorKey::External(_) => {
            "none generated (--operator-address: sign its txs with your own key)".to_string()
        }
        OperatorKey::Existing(info) => format!(
            "{} (the existing key {OPERATOR_KEY_NAME:?}, reused)",
            show(&info.file)
        ),
        OperatorKey::New {
            client_home,
            secret,
            ..
        } => {
            let ring = Keyring::open(&client_home)?;
            let info = ring
                .add(OPERATOR_KEY_NAME, &secret, None)
                .with_context(|| {
                    format!("cannot store the operator key in {}", show(ring.dir()))
                })?;
            format!(
                "{} (new key {OPERATOR_KEY_NAME:?}; its 24-word mnemonic is stored there in \
                 plain text, mode 0600: back the file up)",
                show(&info.file)
            )
        }
    };
    genesis.save(&home.genesis())?;

    // app.toml
    let mut app_config = AppConfig::default();
    app_config.abci.laddr = args.abci_laddr.clone();
    app_config.mempool =
        MempoolLimits::below_cometbft(args.mempool_size, args.mempool_max_txs_bytes).into();
    std::fs::create_dir_all(home.app_data())
        .with_context(|| format!("cannot create {}", show(&home.app_data())))?;
    write(&home.app_toml(), &app_config.render())?;
    write(&home.version_file(), &crate::startup::version_file_text())?;

    let module_accounts = genesis.app_state()?.bank.module_accounts;
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
        "  validator       {} (pub_key {}, power {power})",
        hex::encode_upper(validator_address(&validator_key)),
        nodeop_app::serde_base64_32::encode(&validator_key),
    );
    println!("  operator        {operator}");
    println!("  operator key    {key_note}");
    println!(
        "  self-bond       {}, commission {} ppm, capacity {} units",
        format_amount(plan.self_bond),
        args.commission_ppm,
        args.capacity_units
    );
    println!("  operator funds  {}", format_amount(plan.operator_balance));
    println!(
        "  staking params  {} (unbonding {} s, liveness window {} blocks, downtime jail {} s, \
         epoch {} s)",
        if args.devnet { "devnet" } else { "default" },
        plan.staking_params.unbonding_time,
        plan.staking_params.signed_blocks_window,
        plan.staking_params.downtime_jail_duration,
        plan.staking_params.epoch_seconds
    );
    let issuance = genesis.app_state()?.issuance.params;
    println!(
        "  issuance        periods of {} epochs, subsidy over {} periods",
        issuance.issuance_period_epochs, issuance.subsidy_periods
    );
    for m in module_accounts {
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
    if let Some(cli_home) = cli_home {
        println!(
            "      the operator's txs: nodeop --home {cli_home} tx staking unjail \
             {OPERATOR_KEY_NAME} (or edit-operator)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check_inputs(args: &InitArgs, home: &Home) -> Result<Plan> {
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
    // CometBFT parses both as Go ints; app.toml's limits must leave room below them
    ensure!(
        (20..=i64::MAX as u64).contains(&args.mempool_size),
        "--mempool-size {} must be at least 20 (app.toml's max_txs is set 5 % below it)",
        args.mempool_size
    );
    ensure!(
        (65_536..=i64::MAX as u64).contains(&args.mempool_max_txs_bytes),
        "--mempool-max-txs-bytes {} must be at least 65536",
        args.mempool_max_txs_bytes
    );
    if let Some(t) = &args.genesis_time {
        parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--genesis-time: {e}"))?;
    }

    // the operator (GenesisDoc::add_operator checks these again; here nothing is written yet)
    let staking_params = if args.devnet {
        StakingParams::devnet()
    } else {
        StakingParams::default()
    };
    let self_bond =
        parse_amount(&args.self_bond).map_err(|e| anyhow::anyhow!("--self-bond: {e}"))?;
    ensure!(
        self_bond >= staking_params.min_self_bond,
        "--self-bond {} is below staking's min_self_bond {}",
        format_amount(self_bond),
        format_amount(staking_params.min_self_bond)
    );
    let operator_balance = parse_amount(&args.operator_balance)
        .map_err(|e| anyhow::anyhow!("--operator-balance: {e}"))?;
    ensure!(
        args.commission_ppm <= 1_000_000,
        "--commission-ppm {} is above 1000000 (100%)",
        args.commission_ppm
    );
    ensure!(
        args.capacity_units > 0,
        "--capacity-units must be at least 1"
    );
    ensure!(
        args.region.len() <= nodeop_app::modules::staking::msg::MAX_REGION
            && !args.region.chars().any(char::is_control),
        "--region {:?} must be 0 to {} bytes without control characters",
        args.region,
        nodeop_app::modules::staking::msg::MAX_REGION
    );
    let operator = match &args.operator_address {
        Some(a) => OperatorKey::External(
            Address::parse(a.trim())
                .map_err(|e| anyhow::anyhow!("--operator-address {a:?}: {e}"))?,
        ),
        None => {
            let client_home = match &args.client_home {
                Some(c) => crate::expand_home(c),
                None => home.root.clone(),
            };
            let key_file = client_home
                .join(nodeop_client::keyring::KEYRING_DIR)
                .join(format!("{OPERATOR_KEY_NAME}.json"));
            if key_file.exists() {
                let ring = Keyring::open(&client_home)?;
                let info = ring
                    .get(OPERATOR_KEY_NAME)
                    .with_context(|| format!("cannot read {}", show(&key_file)))?;
                OperatorKey::Existing(info)
            } else {
                let mnemonic = generate_mnemonic();
                let secret = KeySecret::mnemonic(mnemonic.phrase());
                let address = secret.key_pair()?.address();
                OperatorKey::New {
                    client_home,
                    secret,
                    address,
                }
            }
        }
    };
    Ok(Plan {
        operator,
        self_bond,
        operator_balance,
        staking_params,
    })
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
