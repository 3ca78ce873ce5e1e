//! `nodeopd start`: serve ABCI to CometBFT until SIGTERM or SIGINT.
//!
//! The ABCI server (tendermint-abci: one thread per CometBFT connection) runs on its own thread;
//! the main thread waits for a signal. On SIGTERM or SIGINT it takes the App's lock (so a Commit
//! in progress finishes and no new request starts), closes the store and exits 0. A block that
//! was executed but not committed is simply executed again by CometBFT after the restart.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use nodeop_app::App;

use super::{open_store_with, show, HomeArg};
use crate::abci::{halt, AbciApp};
use crate::home::{parse_laddr, AppConfig};
use crate::logging::{self, LogFormat};

#[derive(Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// ABCI listen address, `tcp://host:port` or `host:port` (default: app.toml [abci] laddr).
    #[arg(long, visible_alias = "abci-laddr")]
    pub abci: Option<String>,
}

pub fn run(
    args: StartArgs,
    log_level: Option<String>,
    log_format: Option<LogFormat>,
) -> Result<ExitCode> {
    crate::install_panic_hook();
    let home = args.home.home();
    // every refusal below is one line naming the file and the fix, before the store is opened
    // for writing (crate::startup)
    crate::startup::check_home_version(&home)?;
    let config = AppConfig::load(&home.app_toml())
        .map_err(|e| anyhow::anyhow!(crate::startup::one_line_toml_error(&home.app_toml(), &e)))?;
    let format = match log_format {
        Some(f) => f,
        None => config.log.format.parse().context("app.toml [log] format")?,
    };
    logging::init(log_level.as_deref().unwrap_or(&config.log.level), format)?;

    let laddr = args
        .abci
        .clone()
        .unwrap_or_else(|| config.abci.laddr.clone());
    let addr = parse_laddr(&laddr).context("ABCI listen address")?;
    std::fs::create_dir_all(home.app_data())
        .with_context(|| format!("cannot create {}", show(&home.app_data())))?;
    let probe = crate::startup::check_store_file(&home)?;
    crate::startup::check_heights(
        &home,
        probe.last_block_height(),
        crate::startup::initial_height(&home),
    )?;
    if probe.state == nodeop_app::state::store::FileState::NeedsRepair {
        tracing::warn!(
            store = %show(&home.store()),
            "the store was not closed cleanly (a crash or kill -9); its repair was checked on a \
             copy in memory and now runs on the file"
        );
    }
    let storage = open_store_with(&home.store(), config.store_options())?;
    let app = App::new(storage, config.options());
    let info = app.info();
    tracing::info!(
        home = %show(&home.root),
        store = %show(&home.store()),
        chain_id = info.chain_id.as_deref().unwrap_or("(no genesis yet)"),
        last_block_height = info.last_block_height,
        last_block_app_hash = %hex::encode_upper(&info.last_block_app_hash),
        version = env!("CARGO_PKG_VERSION"),
        "nodeopd starting"
    );

    let limits = app.mempool_limits();
    tracing::info!(
        max_txs = limits.max_txs,
        max_txs_bytes = limits.max_txs_bytes,
        "CheckTx refuses new txs with mempool_full beyond these (app.toml [mempool])"
    );
    if let Some(problem) = config.mempool_problem(&home.config_toml()) {
        tracing::warn!("{problem}");
    }

    let snapshot_settings = config.snapshot_settings();
    if snapshot_settings.interval > 0 {
        tracing::info!(
            interval = snapshot_settings.interval,
            keep_recent = snapshot_settings.keep_recent,
            chunk_bytes = snapshot_settings.chunk_bytes,
            dir = %show(&home.snapshots()),
            "taking state sync snapshots (app.toml [state_sync])"
        );
    }
    let snapshots = crate::snapshots::Snapshots::new(home.snapshots(), snapshot_settings);
    let abci = AbciApp::with_snapshots(app, snapshots).with_event_index(config.event_index());
    let shared = abci.shared();
    let server = crate::socket::Server::bind(addr.as_str(), abci)
        .map_err(|e| anyhow::anyhow!("cannot listen for ABCI on {laddr}: {e}"))?;
    let bound = server
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| laddr.clone());
    tracing::info!(abci = %bound, "serving ABCI; start CometBFT with proxy_app = this address");
    std::thread::Builder::new()
        .name("abci-listener".into())
        .spawn(move || {
            if let Err(e) = server.listen() {
                halt(&format!("the ABCI listener failed: {e}"));
            }
        })
        .context("cannot start the ABCI listener thread")?;

    let signal = wait_for_signal()?;
    let mut guard = shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let height = guard
        .as_ref()
        .and_then(|n| n.app.storage().committed().map(|c| c.height));
    // Dropping the App closes the store cleanly; the lock stays held until the process ends.
    drop(guard.take());
    tracing::info!(
        signal,
        height,
        "nodeopd stopped; the store is closed at the last commit"
    );
    std::process::exit(0)
}

fn wait_for_signal() -> Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal runtime")?;
    rt.block_on(async {
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        Ok(tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        })
    })
}
