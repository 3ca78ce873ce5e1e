//! `nodeopd genesis add-account | add-validator | validate`.
//!
//! `add-validator` adds a genesis operator: an account (`--operator`, whose key signs the
//! operator's txs), a CometBFT consensus key, and a self-bond that sits in `bonded_pool`. Its
//! power at genesis is the self-bond / `power_reduction` (1 NOP).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use nodeop_app::crypto::Address;
use nodeop_app::modules::staking::StakingParams;
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
    /// The operator's account (bech32 nodeop1…): its key signs the operator's txs (unjail,
    /// edit) and it receives the commission. Fund it with add-account to pay fees.
    #[arg(long)]
    pub operator: String,
    /// Bonded at genesis, credited to the bonded_pool module account (at least staking's
    /// min_self_bond); the voting power is the bond in NOP. unop, or NOP with a suffix.
    #[arg(long)]
    pub self_bond: String,
    /// Public name, 1 to 70 bytes.
    #[arg(long)]
    pub moniker: String,
    /// Commission on delegators' rewards, in ppm (100000 = 10%).
    #[arg(long, default_value_t = 100_000)]
    pub commission_ppm: u32,
    /// The work capacity the operator declares, in task units.
    #[arg(long, default_value_t = 100)]
    pub capacity_units: u64,
    /// Region label, 0 to 32 bytes.
    #[arg(long, default_value = "")]
    pub region: String,
}

#[derive(Args, Debug)]
pub struct SetStakingParamsArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Edit this file instead of HOME/cometbft/config/genesis.json.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The devnet values: unbonding 300 s, liveness window 100 blocks, downtime jail 20 s,
    /// epochs of 10 s, issuance periods of 3 epochs.
    #[arg(
        long,
        conflicts_with = "defaults",
        required_unless_present = "defaults"
    )]
    pub devnet: bool,
    /// The production defaults (unbonding 7 days, window 10000 blocks, jail 600 s, epoch 1 day).
    #[arg(long)]
    pub defaults: bool,
}

#[derive(Args, Debug)]
pub struct AddVestingArgs {
    #[command(flatten)]
    pub home: HomeArg,
    /// Edit this file instead of HOME/cometbft/config/genesis.json.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The beneficiary's bech32 address (nodeop1…): its key signs `nodeop tx vesting claim`.
    pub beneficiary: String,
    /// What vests in total: unop (e.g. 2500000), or NOP with a suffix (e.g. 1000000nop). It
    /// counts against max_supply from genesis on.
    pub amount: String,
    /// When vesting starts: RFC 3339 or unix seconds (default: the genesis time).
    #[arg(long)]
    pub start: Option<String>,
    /// Seconds after the start before anything vests (at most --duration).
    #[arg(long, default_value_t = 0)]
    pub cliff: i64,
    /// Seconds after the start when everything has vested (linear in between).
    #[arg(long)]
    pub duration: i64,
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
    let operator = Address::parse(args.operator.trim())
        .map_err(|e| anyhow::anyhow!("--operator {:?}: {e}", args.operator))?;
    let self_bond =
        parse_amount(&args.self_bond).map_err(|e| anyhow::anyhow!("--self-bond: {e}"))?;
    let mut doc = GenesisDoc::load(&path)?;
    doc.add_operator(
        operator,
        pub_key,
        &args.moniker,
        self_bond,
        args.commission_ppm,
        args.capacity_units,
        &args.region,
    )?;
    doc.save(&path)?;
    let power_reduction = doc.app_state()?.staking.params.power_reduction.max(1);
    println!(
        "added validator {:?} to {}: operator {operator}, consensus address {}, self-bond {}, \
         power {}",
        args.moniker,
        show(&path),
        hex::encode_upper(nodeop_genesis::validator_address(&pub_key)),
        format_amount(self_bond),
        self_bond / power_reduction
    );
    Ok(ExitCode::SUCCESS)
}

pub fn add_vesting(args: AddVestingArgs) -> Result<ExitCode> {
    let path = genesis_path(&args.home, &args.file);
    let beneficiary = Address::parse(args.beneficiary.trim())
        .map_err(|e| anyhow::anyhow!("beneficiary {:?}: {e}", args.beneficiary))?;
    let total = parse_amount(&args.amount).map_err(anyhow::Error::msg)?;
    let mut doc = GenesisDoc::load(&path)?;
    let start_text = args
        .start
        .clone()
        .unwrap_or_else(|| doc.genesis_time.clone());
    let start = match start_text.trim().parse::<i64>() {
        Ok(s) => s,
        Err(_) => {
            nodeop_genesis::parse_rfc3339(&start_text)
                .map_err(|e| anyhow::anyhow!("--start {start_text:?}: {e}"))?
                .seconds
        }
    };
    doc.add_vesting(nodeop_app::modules::issuance::VestingSchedule {
        beneficiary,
        total,
        start,
        cliff: args.cliff,
        duration: args.duration,
        claimed: 0,
    })?;
    doc.save(&path)?;
    println!(
        "added a vesting schedule for {beneficiary} to {}: {} from {start} (unix s), cliff {} s, \
         fully vested after {} s; claim with: nodeop tx vesting claim KEY",
        show(&path),
        format_amount(total),
        args.cliff,
        args.duration
    );
    Ok(ExitCode::SUCCESS)
}

pub fn set_staking_params(args: SetStakingParamsArgs) -> Result<ExitCode> {
    let path = genesis_path(&args.home, &args.file);
    let (name, params) = if args.devnet {
        ("devnet", StakingParams::devnet())
    } else {
        ("default", StakingParams::default())
    };
    let mut doc = GenesisDoc::load(&path)?;
    // the slashing windows go with the staking ones (unbonding must outlast them)
    doc.set_slashing_params(if args.devnet {
        nodeop_app::modules::slashing::SlashingParams::devnet()
    } else {
        nodeop_app::modules::slashing::SlashingParams::default()
    })?;
    doc.set_staking_params(params.clone())?;
    doc.set_issuance_params(if args.devnet {
        nodeop_app::modules::issuance::IssuanceParams::devnet()
    } else {
        nodeop_app::modules::issuance::IssuanceParams::default()
    })?;
    doc.set_tasks_params(if args.devnet {
        nodeop_app::modules::tasks::TasksParams::devnet()
    } else {
        nodeop_app::modules::tasks::TasksParams::default()
    })?;
    doc.save(&path)?;
    println!(
        "set the {name} staking params in {}: unbonding {} s, liveness window {} blocks, \
         downtime jail {} s, epoch {} s",
        show(&path),
        params.unbonding_time,
        params.signed_blocks_window,
        params.downtime_jail_duration,
        params.epoch_seconds
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
                "    {:<20}  operator {}  power {:>8}  {}  {}",
                val.moniker,
                val.operator
                    .map(|a| a.to_bech32())
                    .unwrap_or_else(|| "(none)".into()),
                val.power,
                hex::encode_upper(val.address),
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
            let (bonded, _) = state.staking.pooled();
            let p = &state.staking.params;
            println!(
                "  operators       {}, bonded {}",
                state.staking.operators.len(),
                format_amount(bonded)
            );
            println!(
                "  staking params  max_validators {}, min_self_bond {}, unbonding {} s, liveness \
                 window {} blocks, downtime jail {} s, epoch {} s",
                p.max_validators,
                format_amount(p.min_self_bond),
                p.unbonding_time,
                p.signed_blocks_window,
                p.downtime_jail_duration,
                p.epoch_seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
