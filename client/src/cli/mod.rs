//! The `nodeop` command line, one file per command group; `main.rs` parses and dispatches.
//!
//! - [`keys`] — `nodeop keys …`
//! - [`bank`] — `nodeop tx send`
//! - [`staking`] — `nodeop tx staking …`, `nodeop query staking …`
//! - [`slashing`] — `nodeop attest`, `nodeop slashing …`, `nodeop tx slashing …`,
//!   `nodeop query slashing …`
//! - [`tasks`] — `nodeop tx task …`, `nodeop query task …`, `nodeop query tasks`
//! - [`reputation`] — `nodeop query reputation`
//! - [`coprocessors`] — `nodeop tx coprocessor …`, `nodeop tx auction …`,
//!   `nodeop query coprocessor(s)`, `nodeop query auction(s)`, `nodeop query auction-bid`
//! - [`issuance`] — `nodeop tx vesting …`, `nodeop query issuance …`
//! - [`query`] — `nodeop query account|supply|params|store|tx`
//! - [`submit`] — the path every tx takes; [`proof`] — proven and unproven reads.
//!
//! Exit codes ([`exit`]): 0 success; 1 error (bad input, unknown key, unreachable node, …);
//! 2 usage error (clap); 3 the tx was refused by CheckTx or failed in its block
//! ([`ClientError::TxFailed`]); 4 a proof or header did not verify
//! ([`ClientError::Verification`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use nodeop_app::crypto::Address;
use nodeop_client::keyring::{read_passphrase_file, KeyInfo, Keyring};
use nodeop_client::keys::KeyPair;
use nodeop_client::node::{self, node_chain_id};
use nodeop_client::ClientError;
use serde_json::json;
use zeroize::Zeroizing;

pub(crate) mod bank;
pub(crate) mod coprocessors;
pub(crate) mod issuance;
pub(crate) mod keys;
pub(crate) mod proof;
pub(crate) mod query;
pub(crate) mod reputation;
pub(crate) mod slashing;
pub(crate) mod staking;
pub(crate) mod submit;
pub(crate) mod tasks;

pub(crate) const PASSPHRASE_ENV: &str = "NODEOP_KEYRING_PASSPHRASE";

pub(crate) struct Ctx {
    pub(crate) cli_node: String,
    pub(crate) chain_id: Option<String>,
    pub(crate) json: bool,
    pub(crate) home: Option<PathBuf>,
    pub(crate) passphrase_file: Option<PathBuf>,
}

impl Ctx {
    pub(crate) fn home(&self) -> Result<PathBuf> {
        if let Some(h) = &self.home {
            return Ok(h.clone());
        }
        let base = std::env::var_os("HOME")
            .ok_or_else(|| anyhow!("HOME is not set; pass --home or set NODEOP_HOME"))?;
        Ok(Path::new(&base).join(".nodeop"))
    }

    pub(crate) fn keyring(&self) -> Result<Keyring> {
        Keyring::open(&self.home()?)
    }

    pub(crate) fn passphrase(&self) -> Result<Option<Zeroizing<String>>> {
        if let Some(file) = &self.passphrase_file {
            return read_passphrase_file(file).map(Some);
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(p) if !p.is_empty() => Ok(Some(Zeroizing::new(p))),
            _ => Ok(None),
        }
    }

    pub(crate) fn client(&self) -> Result<tendermint_rpc::HttpClient> {
        node::connect(&self.cli_node)
    }

    pub(crate) async fn chain_id(&self, client: &tendermint_rpc::HttpClient) -> Result<String> {
        match &self.chain_id {
            Some(c) => Ok(c.clone()),
            None => node_chain_id(client).await,
        }
    }

    /// Prints `value` as JSON, or `text`.
    pub(crate) fn emit(&self, value: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            print_stdout(
                &serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()),
            );
        } else {
            print_stdout(&text());
        }
    }
}

/// Prints a line on stdout. A reader that went away (`nodeop … | head -1`) is not an error:
/// the command carries on (a tx is still waited for) and its exit code is unchanged.
pub(crate) fn print_stdout(line: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing to stdout: {e}");
        }
    }
}

/// An address, or the address of a key in the keyring.
pub(crate) fn resolve_address(ctx: &Ctx, s: &str) -> Result<Address> {
    match Address::parse(s) {
        Ok(a) => Ok(a),
        Err(parse_err) => {
            if nodeop_client::keyring::validate_name(s).is_err() {
                bail!("{s:?} is not a nodeop address ({parse_err}) nor a key name");
            }
            let ring = ctx.keyring()?;
            ring.get(s).map(|k| k.address).map_err(|e| {
                anyhow!("{s:?} is not a nodeop address ({parse_err}) nor a key name ({e})")
            })
        }
    }
}

/// A key of the keyring by name or address, decrypted with the passphrase if it is encrypted.
pub(crate) fn load_key(ctx: &Ctx, name_or_address: &str) -> Result<(KeyInfo, KeyPair)> {
    let ring = ctx.keyring()?;
    let info = ring.find(name_or_address)?;
    let passphrase = if info.encrypted {
        ctx.passphrase()?
    } else {
        None
    };
    let key = ring.load_key(&info.name, passphrase.as_deref().map(|s| s.as_str()))?;
    Ok((info, key))
}

/// A page cursor given on the command line.
pub(crate) fn parse_cursor(s: Option<&str>, flag: &str) -> Result<Option<Address>> {
    s.map(|a| Address::parse(a).map_err(|e| anyhow!("{flag} {a:?} is not an address: {e}")))
        .transpose()
}

/// The exit code of a command's result, after printing its error: on stderr, and with
/// `--output json` also as `{"error", "exit_code"}` on stdout (not for a failed tx, whose
/// outcome is already there).
pub(crate) fn exit(ctx: &Ctx, result: Result<()>) -> ExitCode {
    let Err(e) = result else {
        return ExitCode::SUCCESS;
    };
    let tx_failed = ClientError::any(&e, |c| matches!(c, ClientError::TxFailed(_)));
    let unverified = ClientError::any(&e, |c| matches!(c, ClientError::Verification(_)));
    let code = if tx_failed {
        3
    } else if unverified {
        4
    } else {
        1
    };
    // a failed tx's outcome is already on stdout
    if ctx.json && !tx_failed {
        print_stdout(&json!({ "error": format!("{e:#}"), "exit_code": code }).to_string());
    }
    eprintln!("error: {e:#}");
    ExitCode::from(code)
}
