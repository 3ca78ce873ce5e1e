//! `nodeopd`: nodeop's node daemon.
//!
//! It serves the state machine ([`nodeop_app::App`]) to CometBFT over the ABCI socket protocol
//! and prepares, checks and exports the files a node runs from:
//!
//! ```text
//! nodeopd init --home H --chain-id ID --moniker M [--devnet] [--operator-address A | --client-home C]
//!              [--self-bond X] [--operator-balance X] [--cometbft PATH] [--overwrite] [ports, timeouts]
//! nodeopd genesis add-account --home H ADDRESS AMOUNT
//! nodeopd genesis add-validator --home H (--key-file F | --pub-key BASE64) --operator ADDRESS
//!              --self-bond AMOUNT --moniker M [--commission-ppm N]
//! nodeopd genesis set-staking-params --home H (--devnet | --defaults)
//! nodeopd genesis add-vesting --home H BENEFICIARY AMOUNT --duration S [--cliff S] [--start T]
//! nodeopd genesis validate (--home H | --file F)
//! nodeopd start --home H [--abci ADDR]
//! nodeopd export --home H [--output F]
//! nodeopd version
//! ```
//!
//! [`home`] describes the home directory; [`abci`] is the ABCI translation layer.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod abci;
mod commands;
mod event_index;
mod home;
mod logging;
mod snapshots;
mod socket;
mod startup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use logging::LogFormat;

#[derive(Parser, Debug)]
#[command(
    name = "nodeopd",
    version,
    about = "nodeop node daemon: the ABCI application for CometBFT"
)]
struct Cli {
    /// Log format (stderr).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// Log level or tracing filter, e.g. info or "info,nodeop=debug". RUST_LOG wins when set.
    #[arg(long, global = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a node home: CometBFT keys and config, an operator account key in HOME/keyring,
    /// genesis.json with this node as the only operator (validator), and app.toml.
    Init(commands::init::InitArgs),
    /// Edit and check genesis.json.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// Serve ABCI to CometBFT from HOME/app/data/state.redb until SIGTERM or SIGINT.
    Start(commands::start::StartArgs),
    /// Write a genesis.json that restarts the chain from the latest committed state (the node
    /// must be stopped).
    Export(commands::export::ExportArgs),
    /// Print the version.
    Version,
}

#[derive(Subcommand, Debug)]
enum GenesisCommand {
    /// Fund a new account in genesis.
    AddAccount(commands::genesis::AddAccountArgs),
    /// Add a genesis operator (validator): its account, ed25519 consensus key and self-bond.
    AddValidator(commands::genesis::AddValidatorArgs),
    /// Put the devnet (or default) staking params into genesis.
    SetStakingParams(commands::genesis::SetStakingParamsArgs),
    /// Add a vesting schedule (it mints on claim, under max_supply).
    AddVesting(commands::genesis::AddVestingArgs),
    /// List every problem with a genesis file, then dry-run InitChain in memory.
    Validate(commands::genesis::ValidateArgs),
}

/// `~` at the start of a path is the user's home directory.
pub fn expand_home(path: &std::path::Path) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    path.to_path_buf()
}

/// While serving: any panic ends the process with its message (release builds abort on panic
/// anyway; this makes debug builds do the same instead of losing one connection thread, which
/// would leave CometBFT waiting on a dead connection).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        tracing::error!(target: "nodeop::halt", %location, "{message}");
        eprintln!("nodeopd: {message} (at {location})");
        std::process::exit(abci::EXIT_HALT);
    }));
}

/// `nodeopd genesis validate | head`: a closed stdout ends the command quietly (as SIGPIPE does
/// for C tools) instead of with a panic report.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") {
            std::process::exit(141);
        }
        default(info)
    }));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quiet_broken_pipe();
    let result = match cli.command {
        Command::Init(args) => {
            with_logs(&cli.log_level, cli.log_format, || commands::init::run(args))
        }
        Command::Genesis(g) => with_logs(&cli.log_level, cli.log_format, || match g {
            GenesisCommand::AddAccount(a) => commands::genesis::add_account(a),
            GenesisCommand::AddValidator(a) => commands::genesis::add_validator(a),
            GenesisCommand::SetStakingParams(a) => commands::genesis::set_staking_params(a),
            GenesisCommand::AddVesting(a) => commands::genesis::add_vesting(a),
            GenesisCommand::Validate(a) => commands::genesis::validate(a),
        }),
        Command::Export(args) => with_logs(&cli.log_level, cli.log_format, || {
            commands::export::run(args)
        }),
        Command::Start(args) => commands::start::run(args, cli.log_level, cli.log_format),
        Command::Version => {
            println!(
                "nodeopd {} (app version {}, ABCI 2.0 for CometBFT v0.38, config template from \
                 CometBFT {})",
                env!("CARGO_PKG_VERSION"),
                nodeop_genesis::APP_VERSION,
                nodeop_cometbft_config::COMETBFT_VERSION
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nodeopd: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a one-shot command with logs at `warn` unless asked otherwise (its output is on stdout).
fn with_logs(
    level: &Option<String>,
    format: Option<LogFormat>,
    f: impl FnOnce() -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    logging::init(
        level.as_deref().unwrap_or("warn"),
        format.unwrap_or(LogFormat::Text),
    )?;
    f()
}
