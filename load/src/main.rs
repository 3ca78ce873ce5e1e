//! `nodeop-load`: a load generator for a nodeop node (or any CometBFT node running a kvstore),
//! measured from the chain.
//!
//! - `genesis`: N account keys derived from a seed ([`accounts`]), funded in a genesis.json, or
//!   listed in a file.
//! - `run`: pre-signed 210-byte transfers between those accounts (mode `nodeop`), or unique
//!   `key=value` txs padded to the same size (mode `kv`), sent with `broadcast_tx_sync` by
//!   concurrent senders at a fixed offered rate or flat out; then the blocks are read back to
//!   count committed txs per second in the steady window, send-to-commit latency, txs accepted
//!   but never executed, and accounts whose nonce stopped short of their accepted txs.

// Rates, durations and percentiles of a measurement tool; the state machine never sees them.
#![allow(clippy::float_arithmetic)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use nodeop_app::crypto::Address;
use nodeop_client::KeyPair;
use sha2::{Digest, Sha256};

mod run;

#[derive(Parser)]
#[command(
    name = "nodeop-load",
    version,
    about = "Load generator for nodeop (and kvstore) nodes, measured from the chain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Derive N account keys from a seed and fund them in a genesis.json (and/or list them).
    Genesis(GenesisArgs),
    /// Send load to a node and measure what the chain committed.
    Run(run::RunArgs),
}

#[derive(clap::Args)]
struct GenesisArgs {
    /// How many accounts.
    #[arg(long, default_value_t = 2_000)]
    accounts: usize,
    /// The seed the keys are derived from (the same seed must be given to `run`).
    #[arg(long, default_value = "nodeop-load")]
    seed: String,
    /// A genesis.json to fund the accounts in (edited in place; e.g.
    /// HOME/cometbft/config/genesis.json after `nodeopd init`).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// Each account's genesis balance, unop (or NOP with a suffix); all of them must stay
    /// within the chain's max_supply.
    #[arg(long, default_value = "100000nop")]
    balance: String,
    /// Write the accounts' addresses here, one JSON array.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The kind of txs `run` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Signed `bank.send` transfers between the seed's accounts (a nodeop node).
    Nodeop,
    /// `key=value` txs with unique keys (CometBFT's kvstore example app).
    Kv,
}

/// Account `index` of `seed`: the secret is SHA-256("nodeop-load key: SEED: INDEX"), hashed
/// again in the (vanishingly rare) case it is not a valid secp256k1 scalar. Public and
/// insecure: for load tests only.
pub fn account_key(seed: &str, index: usize) -> KeyPair {
    let mut secret: [u8; 32] = Sha256::digest(format!("nodeop-load key: {seed}: {index}")).into();
    loop {
        if let Ok(key) = KeyPair::from_secret_bytes(&secret) {
            return key;
        }
        secret = Sha256::digest(secret).into();
    }
}

/// The first `n` accounts of `seed`.
pub fn accounts(seed: &str, n: usize) -> Vec<KeyPair> {
    (0..n).map(|i| account_key(seed, i)).collect()
}

fn genesis(args: GenesisArgs) -> Result<()> {
    if args.accounts == 0 {
        bail!("--accounts must be at least 1");
    }
    if args.genesis.is_none() && args.out.is_none() {
        bail!("nothing to do: pass --genesis FILE to fund the accounts and/or --out FILE to list them");
    }
    let keys = accounts(&args.seed, args.accounts);
    let addresses: Vec<Address> = keys.iter().map(KeyPair::address).collect();
    if let Some(path) = &args.genesis {
        let balance = nodeop_genesis::parse_amount(&args.balance).map_err(anyhow::Error::msg)?;
        if balance == 0 {
            bail!("--balance must be more than 0");
        }
        let mut doc = nodeop_genesis::GenesisDoc::load(path)?;
        // One edit of the app state for all accounts (add_account would re-encode it per account).
        let mut state = doc.app_state()?;
        for a in &addresses {
            if state.bank.accounts.iter().any(|g| g.address == *a) {
                bail!("{a} already has a genesis account in {}", path.display());
            }
        }
        state.bank.accounts.extend(addresses.iter().map(|a| {
            nodeop_app::modules::bank::genesis::GenesisAccount {
                address: *a,
                balance,
                nonce: 0,
            }
        }));
        doc.set_app_state(&state)?;
        doc.save(path)?;
        println!(
            "funded {} accounts of seed {:?} with {} each in {}",
            addresses.len(),
            args.seed,
            nodeop_genesis::format_amount(balance),
            path.display()
        );
    }
    if let Some(out) = &args.out {
        let list: Vec<String> = addresses.iter().map(Address::to_bech32).collect();
        std::fs::write(out, serde_json::to_string_pretty(&list)? + "\n")
            .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {} addresses to {}", list.len(), out.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Genesis(args) => genesis(args),
        Command::Run(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")
            .and_then(|rt| rt.block_on(run::run(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nodeop-load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_distinct() {
        let a = accounts("s", 3);
        let b = accounts("s", 3);
        assert_eq!(
            a.iter().map(KeyPair::address).collect::<Vec<_>>(),
            b.iter().map(KeyPair::address).collect::<Vec<_>>()
        );
        assert_ne!(a[0].address(), a[1].address());
        assert_ne!(account_key("t", 0).address(), a[0].address());
    }
}
