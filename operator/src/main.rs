//! The `nodeop-operator` binary: `init`, `start`, `status`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use nodeop_client::Keyring;
use nodeop_operator::agent::Agent;
use nodeop_operator::chain::rpc::RpcChain;
use nodeop_operator::chain::Chain;
use nodeop_operator::config::{self, Config};
use nodeop_operator::metrics::{self, Metrics};
use nodeop_operator::store::{StatusReport, Store};
use tracing::info;

/// The agent that serves a nodeop operator's task duties: it watches the chain, executes
/// assigned tasks, commits and reveals their results, delivers aggregates, and auctions slots
/// it cannot serve (docs/operator.md).
#[derive(Parser)]
#[command(name = "nodeop-operator", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a commented operator.toml (the options fill in its values; every other key keeps
    /// the template's value).
    Init {
        /// Where to write it.
        #[arg(long, default_value = "operator.toml")]
        config: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        values: Box<InitValues>,
    },
    /// Runs the agent until stopped.
    Start {
        #[arg(long, default_value = "operator.toml", env = "NODEOP_OPERATOR_CONFIG")]
        config: PathBuf,
        /// Log as JSON lines.
        #[arg(long)]
        json_logs: bool,
    },
    /// Prints duties pending, done and missed, the last height processed and the connection
    /// state: from the running agent's endpoint, else from its store.
    Status {
        #[arg(long, default_value = "operator.toml", env = "NODEOP_OPERATOR_CONFIG")]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct InitValues {
    /// node.rpc: the CometBFT RPC URL of the node to watch.
    #[arg(long)]
    rpc: Option<String>,
    /// node.chain_id: the chain the node must serve.
    #[arg(long)]
    chain_id: Option<String>,
    /// key.home: the client home whose keyring holds the key.
    #[arg(long)]
    key_home: Option<PathBuf>,
    /// key.name: the key's name in that keyring.
    #[arg(long)]
    key_name: Option<String>,
    /// store.path: the agent's redb file.
    #[arg(long)]
    store: Option<PathBuf>,
    /// metrics.listen: host:port of /metrics and /status ("" = off).
    #[arg(long)]
    metrics_listen: Option<String>,
    /// resources.max_difficulty_units: the largest difficulty executed here.
    #[arg(long)]
    max_difficulty_units: Option<u64>,
    /// [executors.exact] runs `sh -c COMMAND` (default: sha256 of the payload).
    #[arg(long, value_name = "COMMAND")]
    exact_command: Option<String>,
    /// [executors.numeric] runs `sh -c COMMAND` (default: the payload is the number).
    #[arg(long, value_name = "COMMAND")]
    numeric_command: Option<String>,
    /// [deliver] runs `sh -c COMMAND` (the aggregate on stdin, the reference on stdout).
    #[arg(long, value_name = "COMMAND")]
    deliver_command: Option<String>,
    /// [auction] start_price and floor_price (unop): auction slots above the difficulty limit.
    #[arg(long, num_args = 2, value_names = ["START", "FLOOR"])]
    auction: Option<Vec<u64>>,
    /// [coprocessor] min_price (unop) and capacity_units: serve the coprocessor role.
    #[arg(long, num_args = 2, value_names = ["MIN_PRICE", "CAPACITY_UNITS"])]
    coprocessor: Option<Vec<u64>>,
}

impl InitValues {
    fn options(self) -> config::InitOptions {
        let pair = |v: Option<Vec<u64>>| v.map(|v| (v[0], v[1]));
        // a path typed on the command line is relative to the working directory; the file
        // gets it absolute (a relative path in the file is relative to the file's folder)
        let absolute = |p: Option<PathBuf>| {
            p.map(|p| {
                let p = config::expand(&p);
                std::path::absolute(&p).unwrap_or(p)
            })
        };
        config::InitOptions {
            rpc: self.rpc,
            chain_id: self.chain_id,
            key_home: absolute(self.key_home),
            key_name: self.key_name,
            store: absolute(self.store),
            metrics_listen: self.metrics_listen,
            max_difficulty_units: self.max_difficulty_units,
            exact_command: self.exact_command,
            numeric_command: self.numeric_command,
            deliver_command: self.deliver_command,
            auction: pair(self.auction),
            coprocessor: pair(self.coprocessor),
        }
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            config,
            force,
            values,
        } => {
            if config.exists() && !force {
                bail!("{} exists (use --force to overwrite)", config.display());
            }
            let text = config::render(&values.options())?;
            std::fs::write(&config, text)
                .with_context(|| format!("writing {}", config.display()))?;
            println!(
                "wrote {}; edit [key] and [executors], then `nodeop-operator start`",
                config.display()
            );
            Ok(())
        }
        Command::Start { config, json_logs } => start(&config, json_logs).await,
        Command::Status { config, json } => {
            let c = Config::load(&config)?;
            let report = match status_from_endpoint(&c.metrics.listen).await {
                Some(r) => r,
                None => StatusReport::from_file(&c.store.path.clone())?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(())
        }
    }
}

async fn status_from_endpoint(listen: &str) -> Option<StatusReport> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if listen.is_empty() {
        return None;
    }
    let mut sock = tokio::net::TcpStream::connect(listen).await.ok()?;
    sock.write_all(b"GET /status HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf);
    let body = text.split("\r\n\r\n").nth(1)?;
    serde_json::from_str(body).ok()
}

async fn start(path: &std::path::Path, json_logs: bool) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let c = Config::load(path)?;
    let passphrase = match &c.key.passphrase_file {
        Some(f) => Some(nodeop_client::keyring::read_passphrase_file(
            &config::expand(f),
        )?),
        None => None,
    };
    let key = Keyring::open(&c.key.home.clone())?
        .load_key(&c.key.name, passphrase.as_deref().map(|s| s.as_str()))
        .with_context(|| format!("loading key {:?}", c.key.name))?;
    let chain = if c.node.websocket {
        RpcChain::connect_with_websocket(&c.node.rpc)?
    } else {
        RpcChain::connect(&c.node.rpc)?
    };
    let chain_id = chain
        .chain_id()
        .await
        .with_context(|| format!("asking {} for its chain id", c.node.rpc))?;
    if let Some(want) = &c.node.chain_id {
        if *want != chain_id {
            bail!(
                "the node at {} serves chain {chain_id:?}, the config names {want:?}",
                c.node.rpc
            );
        }
    }
    let address = key.address();
    let store = Store::open(&c.store.path.clone(), &chain_id, &address.to_string())?;
    let metrics = Metrics::default();
    metrics.watch_subscription(chain.subscription_flag());
    info!(
        key = %address,
        node = %c.node.rpc,
        chain_id = %chain_id,
        store = %c.store.path.display(),
        metrics = %c.metrics.listen,
        "nodeop-operator serving {address} on chain {chain_id} through {}",
        c.node.rpc
    );
    if !c.metrics.listen.is_empty() {
        let m = metrics.clone();
        let listen = c.metrics.listen.clone();
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(listen, m).await {
                tracing::error!("metrics endpoint: {e:#}");
            }
        });
    }
    let mut agent = Agent::new(
        chain,
        store,
        key,
        chain_id,
        c.policy(),
        c.executors()?,
        metrics,
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = agent.run() => r,
        _ = tokio::signal::ctrl_c() => {
            info!("stopping (SIGINT); every duty is in the store");
            Ok(())
        }
        _ = term.recv() => {
            info!("stopping (SIGTERM); every duty is in the store");
            Ok(())
        }
    }
}
