//! `nodeopd genesis add-account | add-validator | validate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use nodeop_app::crypto::Address;
use nodeop_genesis::{format_amount, parse_amount, validate_json, GenesisDoc};

use super::{show, HomeArg};

#[derive(Args, Debug)]
pub struct AddAccountArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Edit this file instead of HOME/cometbft/config/genesis.json.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The account's bech32 address (nodeop1…).
    pub address: String,
    /// unop (e.g. 2500000), or NOP with a suffix (e.g. 2.5nop, 1000nop).
    pub amount: String,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["key_file", "pub_key"])))]
pub struct AddValidatorArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Edit this file instead of HOME/cometbft/config/genesis.json.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// A priv_validator_key.json (only its pub_key is read).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The ed25519 consensus public key, base64.
    #[arg(long)]
    pub pub_key: Option<String>,
    /// Voting power.
    #[arg(long)]
    pub power: u64,
    #[arg(long)]
    pub moniker: String,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Check this file instead of HOME/cometbft/config/genesis.json.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

fn genesis_path(home: &HomeArg, file: &Option<PathBuf>) -> PathBuf {
    match file {
        Some(f) => f.clone(),
        None => home.home().genesis(),
    }
}

pub fn add_account(args: AddAccountArgs) -> Result<ExitCode> {
    let path = genesis_path(&args.home, &args.file);
    let address = Address::parse(args.address.trim())
        .map_err(|e| anyhow::anyhow!("address {:?}: {e}", args.address))?;
    let amount = parse_amount(&args.amount).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(amount > 0, "amount must be more than 0");
    let mut doc = GenesisDoc::load(&path)?;
    doc.add_account(address, amount)?;
    doc.save(&path)?;
    println!(
        "added {address} with {} to {}",
        format_amount(amount),
        show(&path)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn add_validator(args: AddValidatorArgs) -> Result<ExitCode> {
    let path = genesis_path(&args.home, &args.file);
    let pub_key = match (&args.key_file, &args.pub_key) {
        (Some(f), _) => super::init::read_pub_key(f)?,
        (None, Some(b64)) => {
            nodeop_genesis::decode_ed25519(b64).map_err(|e| anyhow::anyhow!("--pub-key: {e}"))?
        }
        (None, None) => anyhow::bail!("pass --key-file or --pub-key"),
    };
    let mut doc = GenesisDoc::load(&path)?;
    doc.add_validator(pub_key, args.power, &args.moniker)?;
    doc.save(&path)?;
    println!(
        "added validator {:?} ({}, power {}) to {}",
        args.moniker,
        hex::encode_upper(nodeop_genesis::validator_address(&pub_key)),
        args.power,
        show(&path)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let path = genesis_path(&args.home, &args.file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", show(&path)))?;
    let v = validate_json(&bytes);
    if !v.is_ok() {
        println!("{}: {} problem(s)", show(&path), v.problems.len());
        for p in &v.problems {
            println!("  - {p}");
        }
        if v.dry_run.is_none() {
            println!("InitChain dry run: not run (fix the problems above first)");
        }
        return Ok(ExitCode::FAILURE);
    }
    println!("{}: valid", show(&path));
    if let Some(run) = &v.dry_run {
        println!("InitChain dry run:");
        println!("  chain_id        {}", run.chain_id);
        println!("  initial_height  {}", run.initial_height);
        println!("  app_hash        {}", hex::encode_upper(run.app_hash));
        println!("  validators      {}", run.validators.len());
        for val in &run.validators {
            println!(
                "    {}  power {:>6}  {:<20}  {}",
                hex::encode_upper(val.address),
                val.power,
                val.moniker,
                nodeop_app::serde_base64_32::encode(&val.pub_key)
            );
        }
    }
    if let Some(doc) = &v.doc {
        if let Ok(state) = doc.app_state() {
            let total: u128 = state
                .bank
                .accounts
                .iter()
                .map(|a| a.balance)
                .chain(state.bank.module_accounts.iter().map(|m| m.balance))
                .fold(0u128, |a, b| a.saturating_add(b));
            println!(
                "  accounts        {} (+{} module accounts), supply {}",
                state.bank.accounts.len(),
                state.bank.module_accounts.len(),
                format_amount(total)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
