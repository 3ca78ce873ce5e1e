//! `nodeop`: the nodeop command-line client (keys, txs, queries with verified proofs).
//!
//! Exit codes: 0 success; 1 error (bad input, unknown key, unreachable node, …); 2 usage error;
//! 3 the tx was refused by CheckTx or failed in its block; 4 a proof or header did not verify.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use nodeop_app::crypto::Address;
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::keyring::{read_passphrase_file, KeyInfo, KeyKind, KeySecret, Keyring};
use nodeop_client::keys::{generate_mnemonic, KeyPair};
use nodeop_client::node::{
    self, abci_query, broadcast_and_wait, fetch_tx, find_tx_in_block, node_chain_id, parse_tx_hash,
    query_account, query_tx_params, TxIndexDisabled, TxOutcome, TxResult, DEFAULT_NODE,
};
use nodeop_client::tx::{build_send, decode_tx, encode_tx, required_fee, sign_tx, TxView};
use nodeop_client::verify::{
    parse_hash, query_verified, Record, VerificationFailed, VerifiedRecord,
};
use serde_json::json;
use zeroize::Zeroizing;

const PASSPHRASE_ENV: &str = "NODEOP_KEYRING_PASSPHRASE";

#[derive(Parser)]
#[command(
    name = "nodeop",
    version,
    about = "nodeop client: keys, transactions, verified queries"
)]
struct Cli {
    /// CometBFT RPC address of a node.
    #[arg(long, global = true, env = "NODEOP_NODE", default_value = DEFAULT_NODE)]
    node: String,
    /// Chain id for txs and header checks (default: what the node reports in /status).
    #[arg(long, global = true)]
    chain_id: Option<String>,
    /// Output format; json prints one machine-readable document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Client home; keys live in HOME/keyring (default: ~/.nodeop).
    #[arg(long, global = true, env = "NODEOP_HOME")]
    home: Option<PathBuf>,
    /// File whose first line is the keyring passphrase (else the environment variable
    /// NODEOP_KEYRING_PASSPHRASE).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Manage keys in HOME/keyring.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Build, sign and broadcast transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Read chain state, optionally with a verified proof.
    #[command(subcommand)]
    Query(QueryCmd),
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Create a key from a new 24-word mnemonic; prints the address and the mnemonic once.
    Add {
        name: String,
        /// Encrypt the stored mnemonic with a passphrase (scrypt + XChaCha20-Poly1305).
        #[arg(long)]
        encrypt: bool,
    },
    /// Import a key from a 24-word mnemonic (stdin or --mnemonic-file) or a hex secret key.
    Import {
        name: String,
        /// Read the mnemonic from this file instead of stdin.
        #[arg(long, conflicts_with = "secret_hex")]
        mnemonic_file: Option<PathBuf>,
        /// Import a raw 32-byte secret key given as 64 hex digits (dev keys); `-` reads it from stdin.
        #[arg(long, value_name = "HEX")]
        secret_hex: Option<String>,
        /// Encrypt the stored secret with a passphrase.
        #[arg(long)]
        encrypt: bool,
    },
    /// List the keys.
    List,
    /// Show a key's address and public key (by name or address).
    Show {
        name: String,
        /// Print only the address.
        #[arg(long)]
        address: bool,
    },
    /// Delete a key file.
    Delete {
        name: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum TxCmd {
    /// Send tokens: FROM is a key name (or a key's address), TO an address or key name,
    /// AMOUNT in unop (`1500000`, `1500000unop`) or nop (`1.5nop`).
    Send {
        from: String,
        to: String,
        amount: String,
        /// Fee (same units as AMOUNT); default: the chain's minimum for this tx's size.
        #[arg(long)]
        fee: Option<String>,
        #[arg(long, default_value = "")]
        memo: String,
        /// Nonce to use (default: the account's next nonce from the node).
        #[arg(long)]
        nonce: Option<u64>,
        /// Return after CheckTx instead of waiting for the block.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for inclusion.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
}

#[derive(Args, Clone)]
struct ProveArgs {
    /// State height to read (default: latest).
    #[arg(long)]
    height: Option<u64>,
    /// Verify: ICS23 proof to the app hash, light-client check of header height+1.
    #[arg(long)]
    prove: bool,
    /// Pin the validator-set hash (hex) that must have signed header height+1.
    #[arg(long, value_name = "HEX", requires = "prove")]
    trusted_validators_hash: Option<String>,
    /// Seconds to wait for block height+1 when proving at the latest height.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

#[derive(Subcommand)]
enum QueryCmd {
    /// An account's balance and nonce (ADDR or key name).
    Account {
        account: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// The supply record.
    Supply {
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// The chain's params.
    Params,
    /// A tx by hash, decoded, with its result (from the node's tx index, or from block
    /// --height H when given).
    Tx {
        hash: String,
        /// Read the tx from this block instead of the tx index.
        #[arg(long)]
        height: Option<u64>,
    },
    /// A raw store key (hex, e.g. of `bank/supply`); the value is shown as hex.
    Store {
        key_hex: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
}

/// The tx was refused or failed; its outcome was already printed.
#[derive(Debug)]
struct TxFailed(String);

impl std::fmt::Display for TxFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TxFailed {}

struct Ctx {
    cli_node: String,
    chain_id: Option<String>,
    json: bool,
    home: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
}

impl Ctx {
    fn home(&self) -> Result<PathBuf> {
        if let Some(h) = &self.home {
            return Ok(h.clone());
        }
        let base = std::env::var_os("HOME")
            .ok_or_else(|| anyhow!("HOME is not set; pass --home or set NODEOP_HOME"))?;
        Ok(Path::new(&base).join(".nodeop"))
    }

    fn keyring(&self) -> Result<Keyring> {
        Keyring::open(&self.home()?)
    }

    fn passphrase(&self) -> Result<Option<Zeroizing<String>>> {
        if let Some(file) = &self.passphrase_file {
            return read_passphrase_file(file).map(Some);
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(p) if !p.is_empty() => Ok(Some(Zeroizing::new(p))),
            _ => Ok(None),
        }
    }

    fn client(&self) -> Result<tendermint_rpc::HttpClient> {
        node::connect(&self.cli_node)
    }

    async fn chain_id(&self, client: &tendermint_rpc::HttpClient) -> Result<String> {
        match &self.chain_id {
            Some(c) => Ok(c.clone()),
            None => node_chain_id(client).await,
        }
    }

    /// Prints `value` as JSON, or `text`.
    fn emit(&self, value: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
            );
        } else {
            println!("{}", text());
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Ctx {
        cli_node: cli.node.clone(),
        chain_id: cli.chain_id.clone(),
        json: cli.output == Output::Json,
        home: cli.home.clone(),
        passphrase_file: cli.passphrase_file.clone(),
    };
    let result = match cli.command {
        Command::Keys(cmd) => keys(&ctx, cmd),
        Command::Tx(cmd) => tx(&ctx, cmd).await,
        Command::Query(cmd) => query(&ctx, cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let tx_failed = e.chain().any(|c| c.is::<TxFailed>());
            let unverified = e.chain().any(|c| c.is::<VerificationFailed>());
            let code = if tx_failed {
                3
            } else if unverified {
                4
            } else {
                1
            };
            // a failed tx's outcome is already on stdout
            if ctx.json && !tx_failed {
                println!(
                    "{}",
                    json!({ "error": format!("{e:#}"), "exit_code": code })
                );
            }
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}

// ---------------------------------------------------------------- keys

fn key_json(k: &KeyInfo) -> serde_json::Value {
    serde_json::to_value(k).unwrap_or_default()
}

fn key_text(k: &KeyInfo) -> String {
    format!(
        "name:      {}\naddress:   {}\npubkey:    {}\nkind:      {}{}\nencrypted: {}\nfile:      {}",
        k.name,
        k.address,
        hex::encode(k.pubkey),
        match k.kind {
            KeyKind::Mnemonic => "mnemonic",
            KeyKind::SecretKey => "secret key",
        },
        k.hd_path.as_deref().map(|p| format!(" ({p})")).unwrap_or_default(),
        if k.encrypted { "yes" } else { "no" },
        k.file.display()
    )
}

fn storage_note(k: &KeyInfo) -> String {
    let what = match k.kind {
        KeyKind::Mnemonic => "mnemonic",
        KeyKind::SecretKey => "secret key",
    };
    if k.encrypted {
        format!("the {what} is stored in {}, encrypted with your passphrase (scrypt + XChaCha20-Poly1305)", k.file.display())
    } else {
        format!(
            "the {what} is stored in {} in plain text, protected only by the file's mode 0600 (use --encrypt to encrypt it)",
            k.file.display()
        )
    }
}

fn passphrase_for_new_key(ctx: &Ctx, encrypt: bool) -> Result<Option<Zeroizing<String>>> {
    if !encrypt {
        return Ok(None);
    }
    match ctx.passphrase()? {
        Some(p) => Ok(Some(p)),
        None => bail!(
            "--encrypt needs a passphrase: set {PASSPHRASE_ENV} or pass --passphrase-file FILE"
        ),
    }
}

fn read_stdin_secret(what: &str) -> Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("enter the {what} and press Enter (it is shown as you type): ");
        let _ = std::io::stderr().flush();
        let mut line = Zeroizing::new(String::new());
        stdin.read_line(&mut line).context("reading stdin")?;
        return Ok(line);
    }
    let mut s = Zeroizing::new(String::new());
    stdin
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .context("reading stdin")?;
    Ok(s)
}

fn keys(ctx: &Ctx, cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::Add { name, encrypt } => {
            nodeop_client::keyring::validate_name(&name)?;
            let passphrase = passphrase_for_new_key(ctx, encrypt)?;
            let ring = ctx.keyring()?;
            let mnemonic = generate_mnemonic();
            let info = ring.add(
                &name,
                &KeySecret::mnemonic(mnemonic.phrase()),
                passphrase.as_deref().map(|s| s.as_str()),
            )?;
            let note = storage_note(&info);
            let mut value = key_json(&info);
            value["mnemonic"] = json!(mnemonic.phrase());
            value["note"] = json!(format!("{note}; the mnemonic is printed only this once: write it down, it is the only backup"));
            ctx.emit(value, || {
                format!(
                    "created key {name:?}\n{}\n\nmnemonic (24 words; shown only this once: write it down, it is the only backup):\n\n{}\n\nnote: {note}.",
                    key_text(&info),
                    mnemonic.phrase()
                )
            });
            Ok(())
        }
        KeysCmd::Import {
            name,
            mnemonic_file,
            secret_hex,
            encrypt,
        } => {
            nodeop_client::keyring::validate_name(&name)?;
            let passphrase = passphrase_for_new_key(ctx, encrypt)?;
            let secret = match secret_hex {
                Some(h) => {
                    let h = if h == "-" {
                        read_stdin_secret("secret key (hex)")?
                    } else {
                        Zeroizing::new(h)
                    };
                    let pair = KeyPair::from_secret_hex(&h)?;
                    KeySecret::SecretKey(pair.secret_bytes())
                }
                None => {
                    let phrase = match mnemonic_file {
                        Some(f) => Zeroizing::new(
                            std::fs::read_to_string(&f)
                                .with_context(|| format!("reading {}", f.display()))?,
                        ),
                        None => read_stdin_secret("24-word mnemonic")?,
                    };
                    KeyPair::from_mnemonic(&phrase)?;
                    KeySecret::mnemonic(&phrase)
                }
            };
            let ring = ctx.keyring()?;
            let info = ring.add(&name, &secret, passphrase.as_deref().map(|s| s.as_str()))?;
            let note = storage_note(&info);
            let mut value = key_json(&info);
            value["note"] = json!(note);
            ctx.emit(value, || {
                format!("imported key {name:?}\n{}\nnote: {note}.", key_text(&info))
            });
            Ok(())
        }
        KeysCmd::List => {
            let ring = ctx.keyring()?;
            let (keys, problems) = ring.list()?;
            for p in &problems {
                eprintln!("warning: {p}");
            }
            ctx.emit(json!({ "keys": keys, "problems": problems }), || {
                if keys.is_empty() {
                    return format!("no keys in {}", ring.dir().display());
                }
                let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(4).max(4);
                let mut out = format!(
                    "{:width$}  {:45}  {:10}  ENCRYPTED",
                    "NAME", "ADDRESS", "KIND"
                );
                for k in &keys {
                    let kind = match k.kind {
                        KeyKind::Mnemonic => "mnemonic",
                        KeyKind::SecretKey => "secret-key",
                    };
                    out.push_str(&format!(
                        "\n{:width$}  {:45}  {:10}  {}",
                        k.name,
                        k.address.to_bech32(),
                        kind,
                        if k.encrypted { "yes" } else { "no" }
                    ));
                }
                out
            });
            Ok(())
        }
        KeysCmd::Show { name, address } => {
            let info = ctx.keyring()?.find(&name)?;
            if address {
                ctx.emit(json!({ "address": info.address }), || {
                    info.address.to_bech32()
                });
            } else {
                ctx.emit(key_json(&info), || key_text(&info));
            }
            Ok(())
        }
        KeysCmd::Delete { name, yes } => {
            let ring = ctx.keyring()?;
            let info = ring.get(&name)?;
            if !yes {
                let stdin = std::io::stdin();
                if !stdin.is_terminal() {
                    bail!("deleting a key cannot be undone; pass --yes to confirm");
                }
                eprint!(
                    "delete key {:?} ({})? Without its mnemonic the key is lost. Type the name to confirm: ",
                    info.name, info.address
                );
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                stdin
                    .read_line(&mut line)
                    .context("reading the confirmation")?;
                if line.trim() != info.name {
                    bail!("not confirmed; nothing deleted");
                }
            }
            let info = ring.delete(&name)?;
            ctx.emit(json!({ "deleted": key_json(&info) }), || {
                format!("deleted key {:?} ({})", info.name, info.address)
            });
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- tx

/// An address, or the address of a key in the keyring.
fn resolve_address(ctx: &Ctx, s: &str) -> Result<Address> {
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

fn result_text(r: &TxResult) -> String {
    let mut out = format!(
        "included in block {} (index {}): code {}{}",
        r.height,
        r.index,
        r.code,
        if r.code == 0 {
            " (ok)".to_string()
        } else {
            format!(" codespace {:?}", r.codespace)
        }
    );
    if !r.log.is_empty() {
        out.push_str(&format!("\nlog: {}", r.log));
    }
    if !r.events.is_empty() {
        out.push_str("\nevents:");
        for e in &r.events {
            let attrs: Vec<String> = e
                .attributes
                .iter()
                .map(|a| format!("{}={}", a.key, a.value))
                .collect();
            out.push_str(&format!("\n  {}: {}", e.kind, attrs.join(", ")));
        }
    }
    out
}

async fn tx(ctx: &Ctx, cmd: TxCmd) -> Result<()> {
    let TxCmd::Send {
        from,
        to,
        amount,
        fee,
        memo,
        nonce,
        no_wait,
        timeout,
    } = cmd;
    let amount = parse_amount(&amount).context("AMOUNT")?;
    let fee = fee
        .as_deref()
        .map(parse_amount)
        .transpose()
        .context("--fee")?;
    let ring = ctx.keyring()?;
    let from_info = ring.find(&from)?;
    let to_address = resolve_address(ctx, &to).context("TO")?;
    let passphrase = if from_info.encrypted {
        ctx.passphrase()?
    } else {
        None
    };
    let key = ring.load_key(&from_info.name, passphrase.as_deref().map(|s| s.as_str()))?;

    let client = ctx.client()?;
    let chain_id = ctx.chain_id(&client).await?;
    let nonce = match nonce {
        Some(n) => n,
        None => query_account(&client, &key.address(), None).await?.0.nonce,
    };
    let params = query_tx_params(&client).await?;
    let body = build_send(&chain_id, nonce, &to_address, amount, fee, &memo, &params)?;
    let minimum = required_fee(&params, &body)?;
    if body.fee < minimum {
        eprintln!("warning: fee {} unop is below the chain's minimum {minimum} unop for this tx; the node will refuse it", body.fee);
    }
    let tx = sign_tx(body, &key)?;
    let bytes = encode_tx(&tx)?;
    let wait = (!no_wait).then(|| Duration::from_secs(timeout));
    let outcome: TxOutcome = broadcast_and_wait(&client, bytes, wait).await?;

    let view = TxView::from(&tx);
    ctx.emit(json!({ "tx": view, "outcome": outcome }), || {
        let mut out = format!(
            "tx {}\nbank.send {} from {} ({}) to {}\nfee {}, nonce {}, chain {}",
            outcome.hash,
            describe(amount),
            key.address(),
            from_info.name,
            to_address,
            describe(tx.body.fee),
            tx.body.nonce,
            chain_id
        );
        if outcome.accepted() {
            out.push_str("\ncheck_tx: accepted");
            match &outcome.included {
                Some(r) => out.push_str(&format!("\n{}", result_text(r))),
                None => out.push_str(&format!(
                    "\nnot waiting for the block; later: nodeop query tx {}",
                    outcome.hash
                )),
            }
        } else {
            out.push_str(&format!(
                "\ncheck_tx: REFUSED codespace {:?} code {}\nlog: {}",
                outcome.check_tx.codespace, outcome.check_tx.code, outcome.check_tx.log
            ));
        }
        out
    });
    if !outcome.accepted() {
        return Err(TxFailed(format!(
            "CheckTx refused the tx: codespace {:?} code {}: {}",
            outcome.check_tx.codespace, outcome.check_tx.code, outcome.check_tx.log
        ))
        .into());
    }
    if let Some(r) = &outcome.included {
        if r.code != 0 {
            return Err(TxFailed(format!(
                "the tx failed in block {}: codespace {:?} code {}: {} (the fee was charged)",
                r.height, r.codespace, r.code, r.log
            ))
            .into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- query

fn verified_text(v: &VerifiedRecord, summary: &str) -> String {
    let h = &v.header;
    let trust = if h.validators_pinned {
        "trusted: pinned by --trusted-validators-hash".to_string()
    } else {
        "trusted: the set the node reported at height ".to_string()
            + &h.height.to_string()
            + ", checked against the header and the signatures only; pass --trusted-validators-hash to pin it"
    };
    format!(
        "verified: {} = {} at height {}\n  {}\n  app hash {} is in header {} (hash {}, time {}, chain {}),\n  signed by {}/{} of the voting power ({} of {} validators) of validator set {}\n  ({trust})",
        v.key,
        if v.exists { v.value.to_string() } else { "(absent; non-membership proven)".into() },
        v.height,
        summary,
        h.app_hash,
        h.height,
        h.header_hash,
        h.time,
        h.chain_id,
        h.signed_power,
        h.total_power,
        h.signers,
        h.validators,
        h.validators_hash,
    )
}

async fn prove_record(ctx: &Ctx, record: &Record, args: &ProveArgs) -> Result<VerifiedRecord> {
    let client = ctx.client()?;
    let chain_id = ctx.chain_id(&client).await?;
    let pinned = args
        .trusted_validators_hash
        .as_deref()
        .map(parse_hash)
        .transpose()
        .context("--trusted-validators-hash")?;
    query_verified(
        &client,
        record,
        args.height,
        &chain_id,
        pinned.as_ref(),
        Duration::from_secs(args.timeout),
    )
    .await
}

async fn query(ctx: &Ctx, cmd: QueryCmd) -> Result<()> {
    match cmd {
        QueryCmd::Account { account, prove } => {
            let address = resolve_address(ctx, &account)?;
            if prove.prove {
                let v = prove_record(ctx, &Record::Account(address), &prove).await?;
                let balance = v.value["balance"]
                    .as_str()
                    .and_then(|b| b.parse::<u128>().ok())
                    .unwrap_or(0);
                let nonce = v.value["nonce"].as_u64().unwrap_or(0);
                let summary = format!(
                    "account {address}: balance {}, next nonce {nonce}",
                    describe(balance)
                );
                ctx.emit(json!({ "address": address, "verified": v }), || {
                    verified_text(&v, &summary)
                });
            } else {
                let client = ctx.client()?;
                let (acct, height) = query_account(&client, &address, prove.height).await?;
                ctx.emit(json!({ "account": acct, "height": height }), || {
                    format!(
                        "address: {}\nbalance: {}\nnonce:   {} (the next tx must carry it)\nheight:  {height} (not verified; add --prove)",
                        acct.address,
                        describe(acct.balance),
                        acct.nonce
                    )
                });
            }
            Ok(())
        }
        QueryCmd::Supply { prove } => {
            if prove.prove {
                let v = prove_record(ctx, &Record::Supply, &prove).await?;
                let total = v.value["total_supply"]
                    .as_str()
                    .and_then(|b| b.parse::<u128>().ok())
                    .unwrap_or(0);
                let summary = format!("total supply {}", describe(total));
                ctx.emit(json!({ "verified": v }), || verified_text(&v, &summary));
            } else {
                let client = ctx.client()?;
                let resp = abci_query(&client, "/supply", Vec::new(), prove.height, false).await?;
                let supply: serde_json::Value = serde_json::from_slice(&resp.value)
                    .context("the node's /supply answer is not JSON")?;
                let height = resp.height.value();
                ctx.emit(json!({ "supply": supply, "height": height }), || {
                    let field = |k: &str| {
                        supply[k].as_str().and_then(|s| s.parse::<u128>().ok()).map(describe).unwrap_or_else(|| "?".into())
                    };
                    format!(
                        "total_supply:   {}\ngenesis_supply: {}\nminted:         {}\nburned:         {}\nmax_supply:     {}\nheight:         {height} (not verified; add --prove)",
                        field("total_supply"),
                        field("genesis_supply"),
                        field("minted"),
                        field("burned"),
                        field("max_supply")
                    )
                });
            }
            Ok(())
        }
        QueryCmd::Params => {
            let client = ctx.client()?;
            let resp = abci_query(&client, "/params", Vec::new(), None, false).await?;
            let params: serde_json::Value = serde_json::from_slice(&resp.value)
                .context("the node's /params answer is not JSON")?;
            let height = resp.height.value();
            let text = serde_json::to_string_pretty(&params).unwrap_or_default();
            ctx.emit(json!({ "params": params, "height": height }), || {
                format!("{text}\n(at height {height})")
            });
            Ok(())
        }
        QueryCmd::Store { key_hex, prove } => {
            let key = hex::decode(key_hex.trim())
                .map_err(|_| anyhow!("KEY_HEX {key_hex:?} is not hex"))?;
            if key.is_empty() {
                bail!("KEY_HEX is empty");
            }
            if prove.prove {
                let v = prove_record(ctx, &Record::Store(key), &prove).await?;
                let summary = format!("{} bytes stored", v.value_hex.len() / 2);
                ctx.emit(json!({ "verified": v }), || verified_text(&v, &summary));
            } else {
                let client = ctx.client()?;
                let resp = abci_query(&client, "/store", key.clone(), prove.height, false).await?;
                let value = String::from_utf8_lossy(&resp.value).into_owned();
                let height = resp.height.value();
                ctx.emit(
                    json!({ "key_hex": hex::encode(&key), "value_hex": value, "height": height }),
                    || {
                        format!(
                            "{} = {}\nheight: {height} (not verified; add --prove)",
                            nodeop_client::verify::display_store_key(&key),
                            if value.is_empty() { "(absent)" } else { &value }
                        )
                    },
                );
            }
            Ok(())
        }
        QueryCmd::Tx { hash, height } => {
            let hash = parse_tx_hash(&hash)?;
            let client = ctx.client()?;
            let (result, tx_bytes) = match height {
                Some(h) => find_tx_in_block(&client, &hash, h)
                    .await?
                    .ok_or_else(|| anyhow!("block {h} does not hold tx {hash}"))?,
                None => match fetch_tx(&client, &hash).await {
                    Ok(Some(r)) => (TxResult::from_response(&r), r.tx),
                    Ok(None) => bail!(
                        "the node's tx index does not know tx {hash}; if it is in a block, pass --height H to read it from the block"
                    ),
                    Err(e) if e.is::<TxIndexDisabled>() => {
                        bail!("{e}; pass --height H to read tx {hash} from its block")
                    }
                    Err(e) => return Err(e),
                },
            };
            let decoded = decode_tx(&tx_bytes);
            let (view, decode_error) = match &decoded {
                Ok(t) => (Some(TxView::from(t)), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            ctx.emit(
                json!({
                    "hash": hash.to_string(),
                    "tx": view,
                    "decode_error": decode_error,
                    "tx_hex": hex::encode(&tx_bytes),
                    "result": result,
                }),
                || {
                    let mut out = format!("tx {hash}");
                    match &view {
                        Some(v) => {
                            out.push_str(&format!(
                                "\nsigner:   {}\nchain_id: {}\nnonce:    {}\nfee:      {}\nmemo:     {:?}\nmsgs:",
                                v.signer,
                                v.chain_id,
                                v.nonce,
                                describe(v.fee),
                                v.memo
                            ));
                            for m in &v.msgs {
                                match m {
                                    nodeop_client::tx::MsgView::Send { to, amount } => {
                                        out.push_str(&format!("\n  bank.send {} to {to}", describe(*amount)))
                                    }
                                }
                            }
                        }
                        None => out.push_str(&format!(
                            "\n(the bytes do not decode as a nodeop tx: {})\nhex: {}",
                            decode_error.clone().unwrap_or_default(),
                            hex::encode(&tx_bytes)
                        )),
                    }
                    out.push_str(&format!("\n{}", result_text(&result)));
                    out
                },
            );
            Ok(())
        }
    }
}
