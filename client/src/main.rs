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
use nodeop_app::modules::staking::{
    Delegation, MsgEditOperator, Operator, StakingParams, UnbondingEntry,
};
use nodeop_app::tx::Msg;
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::consensus_key::{parse_consensus_pubkey, read_priv_validator_key};
use nodeop_client::keyring::{read_passphrase_file, KeyInfo, KeyKind, KeySecret, Keyring};
use nodeop_client::keys::{generate_mnemonic, KeyPair};
use nodeop_client::node::{
    self, abci_query, broadcast_and_wait, fetch_tx, find_tx_in_block, node_chain_id, parse_tx_hash,
    query_account, tx_context, TxIndexDisabled, TxOptions, TxOutcome, TxResult, DEFAULT_NODE,
};
use nodeop_client::slashing::{self, Equivocation, ProposalFilter, StatementOffence};
use nodeop_client::staking::{self, OperatorStatus};
use nodeop_client::tx::{
    build_tx, check_msg, decode_tx, delegate_msg, encode_tx, register_operator_msg, required_fee,
    send_msg, sign_tx, undelegate_msg, unjail_msg, TxView, DEFAULT_CAPACITY_UNITS,
    DEFAULT_COMMISSION_PPM,
};
use nodeop_client::verify::{
    parse_hash, query_verified, Record, VerificationFailed, VerifiedRecord,
};
use serde_json::json;
use zeroize::Zeroizing;

#[path = "cli/tasks.rs"]
mod task_cli;

#[path = "cli/issuance.rs"]
mod issuance_cli;

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
    /// Sign a result attestation ("my result for task N hashes to H") with a keyring key and
    /// print it as JSON. Two attestations by one key for the same task with different hashes
    /// prove equivocation. The chain id is --chain-id, else the node's.
    Attest {
        /// The signing key: a key name (or a key's address) in HOME/keyring. An operator
        /// attests with its account key (`operator` after `nodeopd init`).
        key: String,
        #[arg(long)]
        task_id: u64,
        /// The 32-byte hash of the result, 64 hex digits.
        #[arg(long, value_name = "HEX32")]
        result_hash: String,
        /// Also write the attestation JSON to FILE.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Slashing helpers that need no node.
    #[command(subcommand)]
    Slashing(SlashingCmd),
}

#[derive(Subcommand)]
enum SlashingCmd {
    /// Check that two attestation files prove equivocation (both verify, one key, one chain,
    /// one task, different results) and print the evidence and the operator it proves against.
    /// With --chain-id, the attestations must be for that chain.
    BuildEquivocation {
        #[arg(long, value_name = "FILE")]
        first: PathBuf,
        #[arg(long, value_name = "FILE")]
        second: PathBuf,
        /// Also write the evidence JSON to FILE (for `tx slashing propose-equivocation
        /// --evidence FILE`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
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
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Staking: register or edit an operator, delegate, undelegate, unjail.
    #[command(subcommand)]
    Staking(StakingTxCmd),
    /// Slashing: report an offence, dispute a proposal against you, vote on a dispute.
    #[command(subcommand)]
    Slashing(SlashingTxCmd),
    /// Tasks: post one; as a committee member commit, reveal; as the submitter confirm.
    #[command(subcommand)]
    Task(task_cli::TaskTxCmd),
    /// Vesting: claim what has vested.
    #[command(subcommand)]
    Vesting(issuance_cli::VestingTxCmd),
}

#[derive(Subcommand)]
enum SlashingTxCmd {
    /// Report an offence the chain cannot check itself (a statement). FROM puts up the chain's
    /// report_bond: returned if the slash executes, paid to the accused if it is overturned. The
    /// accused may dispute until the dispute deadline; the validators then vote.
    Propose {
        /// The reporter: a key name (or a key's address) in HOME/keyring.
        from: String,
        /// The accused operator: an address or key name.
        operator: String,
        #[arg(long, value_enum)]
        offence: StatementOffence,
        /// Names the infraction (e.g. the task id); one proposal per operator, offence and id.
        #[arg(long, value_name = "N")]
        infraction_id: u64,
        /// The block height of the infraction (at most max_evidence_age_blocks old); the slash
        /// is a fraction of the operator's stake at that height.
        #[arg(long, value_name = "H")]
        infraction_height: u64,
        /// What happened, at most 512 bytes.
        #[arg(long, value_name = "TEXT")]
        description: String,
        /// Where to find more (a URL, a task or tx id), at most 256 bytes.
        #[arg(long, value_name = "REF", default_value = "")]
        reference: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Report equivocation: two attestations (`nodeop attest`) by OPERATOR's account key for one
    /// task with different results. They are checked here as the chain checks them before
    /// anything is sent. FROM puts up the chain's report_bond.
    #[command(group(
        clap::ArgGroup::new("attestations")
            .required(true)
            .args(["first", "evidence"])
    ))]
    ProposeEquivocation {
        /// The reporter: a key name (or a key's address) in HOME/keyring.
        from: String,
        /// The accused operator: an address or key name (must be the attestations' signer).
        operator: String,
        /// The first attestation's JSON file.
        #[arg(long, value_name = "FILE", requires = "second")]
        first: Option<PathBuf>,
        /// The second attestation's JSON file.
        #[arg(long, value_name = "FILE", requires = "first")]
        second: Option<PathBuf>,
        /// Instead of --first/--second: the evidence file of `nodeop slashing build-equivocation
        /// --out FILE`.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["first", "second"])]
        evidence: Option<PathBuf>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Dispute a proposal against FROM's operator before its deadline. FROM puts up the chain's
    /// dispute_bond: returned (with the reporter's bond) if the slash is overturned, burned if it
    /// is upheld. The validators (not FROM) vote for vote_period; no quorum overturns.
    Dispute {
        /// The accused operator's account: a key name (or a key's address) in HOME/keyring.
        from: String,
        proposal_id: u64,
        /// Why the proposal is wrong, at most 512 bytes.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Vote on a disputed proposal as a validator (with the operator account's voting power):
    /// --uphold to slash, --reject to overturn.
    #[command(group(
        clap::ArgGroup::new("decision")
            .required(true)
            .args(["uphold", "reject"])
    ))]
    Vote {
        /// A validator's operator account: a key name (or a key's address) in HOME/keyring.
        from: String,
        proposal_id: u64,
        /// Uphold the slash.
        #[arg(long)]
        uphold: bool,
        /// Reject the slash.
        #[arg(long)]
        reject: bool,
        #[command(flatten)]
        flags: TxFlags,
    },
}

/// Flags every tx takes.
#[derive(Args, Clone)]
struct TxFlags {
    /// Fee (same units as amounts); default: the chain's minimum for this tx's size.
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
}

#[derive(Subcommand)]
enum StakingTxCmd {
    /// Make FROM an operator: bind a CometBFT ed25519 consensus key and bond a self-bond
    /// (at least the chain's min_self_bond). Among the top max_validators by pool tokens, it
    /// validates from two blocks after the tx's block.
    #[command(group(
        clap::ArgGroup::new("consensus_key")
            .required(true)
            .args(["consensus_key_file", "consensus_pubkey"])
    ))]
    RegisterOperator {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        /// CometBFT's priv_validator_key.json of the node that will sign (only its pub_key is
        /// read), e.g. ~/.cometbft/config/priv_validator_key.json.
        #[arg(long, value_name = "PATH")]
        consensus_key_file: Option<PathBuf>,
        /// The ed25519 consensus public key in base64 (or as `cometbft show-validator` prints it).
        #[arg(long, value_name = "BASE64")]
        consensus_pubkey: Option<String>,
        /// Public name, 1..=70 bytes.
        #[arg(long)]
        moniker: String,
        /// Tokens bonded from FROM's balance (`1000nop`, `1000000000unop`).
        #[arg(long, value_name = "AMOUNT")]
        self_bond: String,
        /// Task capacity the operator offers, in units (≥ 1).
        #[arg(long, default_value_t = DEFAULT_CAPACITY_UNITS)]
        capacity_units: u64,
        /// Region label, 0..=32 bytes.
        #[arg(long, default_value = "")]
        region: String,
        /// Commission on delegators' rewards, ppm (100000 = 10 %; at most 1000000).
        #[arg(long, default_value_t = DEFAULT_COMMISSION_PPM)]
        commission_ppm: u32,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Change FROM's operator metadata; give at least one field.
    #[command(group(
        clap::ArgGroup::new("edit")
            .required(true)
            .multiple(true)
            .args(["moniker", "capacity_units", "region", "commission_ppm"])
    ))]
    EditOperator {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        #[arg(long)]
        moniker: Option<String>,
        #[arg(long)]
        capacity_units: Option<u64>,
        /// New region label (`--region ""` clears it).
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        commission_ppm: Option<u32>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Bond AMOUNT of FROM's balance to OPERATOR (an address or key name).
    Delegate {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        operator: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Start unbonding AMOUNT of FROM's delegation to OPERATOR; it is paid out after the
    /// chain's unbonding_time (later if a slash against the operator is pending).
    Undelegate {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        operator: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Let FROM's jailed operator back into the validator set (after its jail time; never when
    /// tombstoned).
    Unjail {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        #[command(flatten)]
        flags: TxFlags,
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
    /// Operators, validators, delegations, unbonding, slashes, liveness, params, epoch.
    /// [provable] records can be read at a past --height and verified with --prove; listings are
    /// the node's answer at its latest height, without proof.
    #[command(subcommand)]
    Staking(StakingQueryCmd),
    /// Slash proposals, votes, params. [provable] records can be read at a past --height and
    /// verified with --prove; listings are the node's answer at its latest height, without proof.
    #[command(subcommand)]
    Slashing(SlashingQueryCmd),
    /// A task by id ([provable], `nodeop query task ID`), or: list, schedule, result (with a
    /// Merkle path; --prove checks it against the app hash), price, capacity, load, params.
    Task(task_cli::TaskQueryArgs),
    /// Tasks in id order, a page at a time (= `nodeop query task list`).
    Tasks(task_cli::TaskListArgs),
    /// Supply, period records and payouts, the current subsidy, vesting, epoch metrics, params.
    /// [provable] records can be read at a past --height and verified with --prove.
    #[command(subcommand)]
    Issuance(issuance_cli::IssuanceQueryCmd),
    /// An operator's reputation: every component, the score, the Byzantine factor, the load
    /// state. With --prove it is recomputed from proven records.
    Reputation {
        operator: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
}

#[derive(Subcommand)]
enum SlashingQueryCmd {
    /// [provable] A slash proposal by id.
    Proposal {
        id: u64,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// Proposals in id order, a page at a time (`next` is the --after of the next page).
    Proposals {
        #[arg(long, value_enum, default_value_t = ProposalFilter::All)]
        status: ProposalFilter,
        /// Only proposals against this operator (address or key name).
        #[arg(long)]
        operator: Option<String>,
        /// Proposals per page (the node's default 100, at most 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this proposal id (the previous page's `next`).
        #[arg(long, value_name = "ID", conflicts_with = "all")]
        after: Option<u64>,
        /// Follow `next` to the last page and list every proposal.
        #[arg(long)]
        all: bool,
    },
    /// The votes cast on a disputed proposal.
    Votes { id: u64 },
    /// [provable] The slashing params.
    Params {
        #[command(flatten)]
        prove: ProveArgs,
    },
}

#[derive(Subcommand)]
enum StakingQueryCmd {
    /// [provable] An operator (address or key name).
    Operator {
        operator: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// Operators in address order, a page at a time (`next` is the --after of the next page).
    Operators {
        #[arg(long, value_enum, default_value_t = OperatorStatus::All)]
        status: OperatorStatus,
        /// Operators per page (the node's default 100, at most 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this operator address (the previous page's `next`).
        #[arg(long, conflicts_with = "all")]
        after: Option<String>,
        /// Follow `next` to the last page and list every operator.
        #[arg(long)]
        all: bool,
    },
    /// The validator set the chain last reported to CometBFT.
    Validators,
    /// [provable] DELEGATOR's delegation to OPERATOR (addresses or key names).
    Delegation {
        delegator: String,
        operator: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// DELEGATOR's delegations.
    Delegations { delegator: String },
    /// OPERATOR's delegators, a page at a time.
    Delegators {
        operator: String,
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this delegator address (the previous page's `next`).
        #[arg(long)]
        after: Option<String>,
    },
    /// DELEGATOR's unbonding entries.
    Unbonding { delegator: String },
    /// Unbonding entries leaving OPERATOR.
    UnbondingFrom { operator: String },
    /// [provable] One unbonding entry by id.
    UnbondingEntry {
        id: u64,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// Slashes executed against OPERATOR.
    Slashes { operator: String },
    /// OPERATOR's liveness: blocks missed in the signed-blocks window.
    SigningInfo { operator: String },
    /// [provable] The staking params.
    Params {
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// The epoch clock.
    Epoch,
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
fn print_stdout(line: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing to stdout: {e}");
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
        Command::Attest {
            key,
            task_id,
            result_hash,
            out,
        } => attest(&ctx, &key, task_id, &result_hash, out.as_deref()).await,
        Command::Slashing(cmd) => slashing_offline(&ctx, cmd),
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
                print_stdout(&json!({ "error": format!("{e:#}"), "exit_code": code }).to_string());
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
    match cmd {
        TxCmd::Send {
            from,
            to,
            amount,
            flags,
        } => {
            let amount = parse_amount(&amount).context("AMOUNT")?;
            let to = resolve_address(ctx, &to).context("TO")?;
            submit_tx(ctx, &from, vec![send_msg(&to, amount)], &flags).await
        }
        TxCmd::Staking(cmd) => staking_tx(ctx, cmd).await,
        TxCmd::Slashing(cmd) => slashing_tx(ctx, cmd).await,
        TxCmd::Task(cmd) => task_cli::task_tx(ctx, cmd).await,
        TxCmd::Vesting(cmd) => issuance_cli::vesting_tx(ctx, cmd).await,
    }
}

async fn staking_tx(ctx: &Ctx, cmd: StakingTxCmd) -> Result<()> {
    match cmd {
        StakingTxCmd::RegisterOperator {
            from,
            consensus_key_file,
            consensus_pubkey,
            moniker,
            self_bond,
            capacity_units,
            region,
            commission_ppm,
            flags,
        } => {
            let consensus_pubkey = match (consensus_key_file, consensus_pubkey) {
                (Some(path), None) => read_priv_validator_key(&path)?,
                (None, Some(b64)) => parse_consensus_pubkey(&b64).context("--consensus-pubkey")?,
                _ => bail!("give exactly one of --consensus-key-file and --consensus-pubkey"),
            };
            let self_bond = parse_amount(&self_bond).context("--self-bond")?;
            let mut msg = register_operator_msg(consensus_pubkey, &moniker, self_bond);
            msg.capacity_units = capacity_units;
            msg.region = region;
            msg.commission_ppm = commission_ppm;
            submit_tx(ctx, &from, vec![Msg::RegisterOperator(msg)], &flags).await
        }
        StakingTxCmd::EditOperator {
            from,
            moniker,
            capacity_units,
            region,
            commission_ppm,
            flags,
        } => {
            let msg = MsgEditOperator {
                moniker,
                capacity_units,
                region,
                commission_ppm,
            };
            submit_tx(ctx, &from, vec![Msg::EditOperator(msg)], &flags).await
        }
        StakingTxCmd::Delegate {
            from,
            operator,
            amount,
            flags,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let amount = parse_amount(&amount).context("AMOUNT")?;
            submit_tx(ctx, &from, vec![delegate_msg(&operator, amount)], &flags).await
        }
        StakingTxCmd::Undelegate {
            from,
            operator,
            amount,
            flags,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let amount = parse_amount(&amount).context("AMOUNT")?;
            submit_tx(ctx, &from, vec![undelegate_msg(&operator, amount)], &flags).await
        }
        StakingTxCmd::Unjail { from, flags } => {
            submit_tx(ctx, &from, vec![unjail_msg()], &flags).await
        }
    }
}

/// A key of the keyring by name or address, decrypted with the passphrase if it is encrypted.
fn load_key(ctx: &Ctx, name_or_address: &str) -> Result<(KeyInfo, KeyPair)> {
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

/// [`submit_tx_outcome`] when the outcome is not needed afterwards.
async fn submit_tx(ctx: &Ctx, from: &str, msgs: Vec<Msg>, flags: &TxFlags) -> Result<()> {
    submit_tx_outcome(ctx, from, msgs, flags).await.map(drop)
}

/// Every tx's path: parse the shared flags, load FROM's key, ask the node for what is missing,
/// build → check → sign → broadcast → wait, print the
/// outcome. A refusal or a failure in the block is a [`TxFailed`] (exit code 3).
async fn submit_tx_outcome(
    ctx: &Ctx,
    from: &str,
    msgs: Vec<Msg>,
    flags: &TxFlags,
) -> Result<TxOutcome> {
    let fee = flags
        .fee
        .as_deref()
        .map(parse_amount)
        .transpose()
        .context("--fee")?;
    let (from_info, key) = load_key(ctx, from)?;
    // Refuse a bad message before asking the node anything.
    for m in &msgs {
        check_msg(m)?;
    }

    let client = ctx.client()?;
    let opts = TxOptions {
        chain_id: Some(ctx.chain_id(&client).await?),
        nonce: flags.nonce,
        fee,
        memo: flags.memo.clone(),
        wait: (!flags.no_wait).then(|| Duration::from_secs(flags.timeout)),
    };
    let (chain_id, nonce, params) = tx_context(&client, &key.address(), &opts).await?;
    let body = build_tx(&chain_id, nonce, msgs, opts.fee, &opts.memo, &params)?;
    let minimum = required_fee(&params, &body)?;
    if body.fee < minimum {
        eprintln!(
            "warning: fee {} is below the chain's minimum {} for this tx; the node will refuse it",
            describe(body.fee),
            describe(minimum)
        );
    }
    let tx = sign_tx(body, &key)?;
    let bytes = encode_tx(&tx)?;
    let outcome: TxOutcome = broadcast_and_wait(&client, bytes, opts.wait).await?;

    let view = TxView::from(&tx);
    ctx.emit(json!({ "tx": view, "outcome": outcome }), || {
        let mut out = format!("tx {}", outcome.hash);
        for m in &view.msgs {
            out.push_str(&format!("\n{}", m.describe()));
        }
        out.push_str(&format!(
            "\nsigner {} ({}), fee {}, nonce {}, chain {}",
            key.address(),
            from_info.name,
            describe(tx.body.fee),
            tx.body.nonce,
            chain_id
        ));
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
    Ok(outcome)
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

/// What a proof is checked against: the chain id, and the validator-set hash pinned by
/// `--trusted-validators-hash` (if given).
async fn proof_anchor(
    ctx: &Ctx,
    client: &tendermint_rpc::HttpClient,
    args: &ProveArgs,
) -> Result<(String, Option<tendermint::Hash>)> {
    let chain_id = ctx.chain_id(client).await?;
    let pinned = args
        .trusted_validators_hash
        .as_deref()
        .map(parse_hash)
        .transpose()
        .context("--trusted-validators-hash")?;
    Ok((chain_id, pinned))
}

async fn prove_record(ctx: &Ctx, record: &Record, args: &ProveArgs) -> Result<VerifiedRecord> {
    let client = ctx.client()?;
    let (chain_id, pinned) = proof_anchor(ctx, &client, args).await?;
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
                let summary = if v.exists {
                    format!(
                        "account {address}: balance {}, next nonce {nonce}",
                        describe(balance)
                    )
                } else {
                    format!("account {address}: never used (balance 0, next nonce 0)")
                };
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
        QueryCmd::Staking(cmd) => staking_query(ctx, cmd).await,
        QueryCmd::Slashing(cmd) => slashing_query(ctx, cmd).await,
        QueryCmd::Task(args) => task_cli::task_query(ctx, args).await,
        QueryCmd::Tasks(args) => task_cli::task_list(ctx, args).await,
        QueryCmd::Issuance(cmd) => issuance_cli::issuance_query(ctx, cmd).await,
        QueryCmd::Reputation { operator, prove } => {
            task_cli::reputation_query(ctx, &operator, &prove).await
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
                                out.push_str(&format!("\n  {}", m.describe()));
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

// ---------------------------------------------------------------- staking queries

/// A page cursor given on the command line.
fn parse_cursor(s: Option<&str>, flag: &str) -> Result<Option<Address>> {
    s.map(|a| Address::parse(a).map_err(|e| anyhow!("{flag} {a:?} is not an address: {e}")))
        .transpose()
}

fn not_verified(height: u64) -> String {
    format!("height: {height} (not verified; add --prove)")
}

/// Prints a record read from the node without a proof: `{key: value, "height": height}`, or
/// its text and the height it is for.
fn emit_unverified<T: serde::Serialize>(
    ctx: &Ctx,
    key: &str,
    value: &T,
    height: u64,
    text: impl FnOnce(&T) -> String,
) {
    ctx.emit(json!({ key: value, "height": height }), || {
        format!("{}\n{}", text(value), not_verified(height))
    });
}

fn listing_note(height: u64) -> String {
    format!("(at height {height}; not verified: listings have no proof)")
}

/// Prints a verified record and returns nothing more to do.
fn emit_verified(ctx: &Ctx, v: &VerifiedRecord, summary: &str, extra: serde_json::Value) {
    let mut doc = json!({ "verified": v });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, val) in extra {
            doc.insert(k.clone(), val.clone());
        }
    }
    ctx.emit(doc, || verified_text(v, summary));
}

/// Emits a proven record of type `T` with its text, or says it is absent.
async fn emit_proven<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    record: Record,
    prove: &ProveArgs,
    text: impl Fn(&T) -> String,
    absent: &str,
) -> Result<()> {
    let v = prove_record(ctx, &record, prove).await?;
    let summary = match decode_value::<T>(&v)? {
        Some(r) => text(&r).replace('\n', "\n  "),
        None => absent.to_string(),
    };
    emit_verified(ctx, &v, &summary, json!({}));
    Ok(())
}

/// A page of a listing as text: `out`, a `more: --after NEXT` line while there is a next page
/// (with the `--all` hint where the command takes `--all`), and the listing note.
fn page_text(
    mut out: String,
    next: Option<impl std::fmt::Display>,
    has_all: bool,
    height: u64,
) -> String {
    if let Some(n) = next {
        if has_all {
            out.push_str(&format!("\nmore: --after {n} (or --all for every page)"));
        } else {
            out.push_str(&format!("\nmore: --after {n}"));
        }
    }
    out.push_str(&format!("\n{}", listing_note(height)));
    out
}

fn decode_value<T: serde::de::DeserializeOwned>(v: &VerifiedRecord) -> Result<Option<T>> {
    if !v.exists {
        return Ok(None);
    }
    serde_json::from_value(v.value.clone())
        .map(Some)
        .map_err(|e| anyhow!("the proven value does not read back: {e}"))
}

async fn staking_query(ctx: &Ctx, cmd: StakingQueryCmd) -> Result<()> {
    match cmd {
        StakingQueryCmd::Operator { operator, prove } => {
            let address = resolve_address(ctx, &operator).context("OPERATOR")?;
            if prove.prove {
                let v = prove_record(ctx, &Record::Operator(address), &prove).await?;
                let summary = match decode_value::<Operator>(&v)? {
                    Some(op) => format!(
                        "operator {address} {:?}: pool {}, self-bond {}, jailed: {}",
                        op.moniker,
                        describe(op.tokens),
                        describe(op.self_bond()),
                        if op.tombstoned {
                            "tombstoned".to_string()
                        } else {
                            op.jailed_until
                                .map(|t| format!("until {}", staking::format_time(t)))
                                .unwrap_or_else(|| "no".into())
                        }
                    ),
                    None => format!("no operator at {address}"),
                };
                emit_verified(ctx, &v, &summary, json!({ "address": address }));
                return Ok(());
            }
            let client = ctx.client()?;
            let (op, height) = staking::operator(&client, &address, prove.height).await?;
            // Status and power come from the validator listing, which exists only at the latest
            // height.
            let status = if prove.height.is_none() {
                let (vals, _) = staking::validators(&client).await?;
                let power = vals
                    .iter()
                    .find(|v| v.operator == address)
                    .map(|v| v.power)
                    .unwrap_or(0);
                let status = if op.tombstoned {
                    "tombstoned"
                } else if op.jailed_until.is_some() {
                    "jailed"
                } else if power > 0 {
                    "bonded"
                } else {
                    "inactive"
                };
                Some((status, power))
            } else {
                None
            };
            ctx.emit(
                json!({
                    "operator": op,
                    "status": status.map(|s| s.0),
                    "power": status.map(|s| s.1),
                    "height": height,
                }),
                || {
                    format!(
                        "{}\nheight:            {height} (not verified; add --prove)",
                        staking::operator_text(&op, status)
                    )
                },
            );
            Ok(())
        }
        StakingQueryCmd::Operators {
            status,
            limit,
            after,
            all,
        } => {
            let client = ctx.client()?;
            let (items, next, height) = if all {
                let (items, height) = staking::all_operators(&client, status, limit).await?;
                (items, None, height)
            } else {
                let after = parse_cursor(after.as_deref(), "--after")?;
                let (page, height) =
                    staking::operators(&client, status, limit, after.as_ref()).await?;
                (page.items, page.next, height)
            };
            ctx.emit(
                json!({ "operators": items, "next": next, "height": height }),
                || page_text(staking::operators_text(&items), next.as_ref(), true, height),
            );
            Ok(())
        }
        StakingQueryCmd::Validators => {
            let client = ctx.client()?;
            let (vals, height) = staking::validators(&client).await?;
            ctx.emit(json!({ "validators": vals, "height": height }), || {
                format!(
                    "{}\n{}",
                    staking::validators_text(&vals),
                    listing_note(height)
                )
            });
            Ok(())
        }
        StakingQueryCmd::Delegation {
            delegator,
            operator,
            prove,
        } => {
            let delegator = resolve_address(ctx, &delegator).context("DELEGATOR")?;
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            if prove.prove {
                let record = Record::Delegation {
                    delegator,
                    operator,
                };
                let v = prove_record(ctx, &record, &prove).await?;
                let Some(d) = decode_value::<Delegation>(&v)? else {
                    emit_verified(
                        ctx,
                        &v,
                        &format!("{delegator} has no delegation to {operator}"),
                        json!({}),
                    );
                    return Ok(());
                };
                // What the shares are worth: the operator's pool at the same height, proven too.
                let at = ProveArgs {
                    height: Some(v.height),
                    ..prove.clone()
                };
                let pool = prove_record(ctx, &Record::Operator(operator), &at).await?;
                let tokens = decode_value::<Operator>(&pool)?
                    .map(|op| op.tokens_for(d.shares))
                    .unwrap_or(0);
                let summary = format!(
                    "{delegator} → {operator}: {} shares, worth {} (from the operator's pool, proven at the same height)",
                    d.shares,
                    describe(tokens)
                );
                emit_verified(
                    ctx,
                    &v,
                    &summary,
                    json!({ "tokens": tokens.to_string(), "operator_verified": pool }),
                );
                return Ok(());
            }
            let client = ctx.client()?;
            let (d, height) =
                staking::delegation(&client, &delegator, &operator, prove.height).await?;
            let (op, _) = staking::operator(&client, &operator, Some(height)).await?;
            let tokens = op.tokens_for(d.shares);
            ctx.emit(
                json!({ "delegation": d, "tokens": tokens.to_string(), "height": height }),
                || {
                    format!(
                        "delegator: {}\noperator:  {} ({:?})\nshares:    {}\nworth:     {}\nheight:    {height} (not verified; add --prove)",
                        d.delegator,
                        d.operator,
                        op.moniker,
                        d.shares,
                        describe(tokens)
                    )
                },
            );
            Ok(())
        }
        StakingQueryCmd::Delegations { delegator } => {
            let delegator = resolve_address(ctx, &delegator).context("DELEGATOR")?;
            let client = ctx.client()?;
            let (list, height) = staking::delegations(&client, &delegator).await?;
            let total: u128 = list.iter().map(|d| d.tokens).fold(0, u128::saturating_add);
            ctx.emit(json!({ "delegations": list, "height": height }), || {
                format!(
                    "{}\ntotal delegated: {}\n{}",
                    staking::delegations_text(&list),
                    describe(total),
                    listing_note(height)
                )
            });
            Ok(())
        }
        StakingQueryCmd::Delegators {
            operator,
            limit,
            after,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let after = parse_cursor(after.as_deref(), "--after")?;
            let client = ctx.client()?;
            let (page, height) =
                staking::delegators(&client, &operator, limit, after.as_ref()).await?;
            ctx.emit(
                json!({ "delegators": page.items, "next": page.next, "height": height }),
                || {
                    page_text(
                        staking::delegations_text(&page.items),
                        page.next.as_ref(),
                        false,
                        height,
                    )
                },
            );
            Ok(())
        }
        StakingQueryCmd::Unbonding { delegator } => {
            let delegator = resolve_address(ctx, &delegator).context("DELEGATOR")?;
            let client = ctx.client()?;
            let (list, height) = staking::unbonding(&client, &delegator).await?;
            emit_entries(ctx, &list, height);
            Ok(())
        }
        StakingQueryCmd::UnbondingFrom { operator } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let client = ctx.client()?;
            let (list, height) = staking::unbonding_from(&client, &operator).await?;
            emit_entries(ctx, &list, height);
            Ok(())
        }
        StakingQueryCmd::UnbondingEntry { id, prove } => {
            if prove.prove {
                let v = prove_record(ctx, &Record::UnbondingEntry(id), &prove).await?;
                let summary = match decode_value::<UnbondingEntry>(&v)? {
                    Some(e) => staking::unbonding_entry_text(&e),
                    None => format!("no unbonding entry {id}"),
                };
                emit_verified(ctx, &v, &summary, json!({}));
                return Ok(());
            }
            let client = ctx.client()?;
            let (e, height) = staking::unbonding_entry(&client, id, prove.height).await?;
            emit_unverified(ctx, "entry", &e, height, staking::unbonding_entry_text);
            Ok(())
        }
        StakingQueryCmd::Slashes { operator } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let client = ctx.client()?;
            let (list, height) = staking::slashes(&client, &operator).await?;
            ctx.emit(json!({ "slashes": list, "height": height }), || {
                format!("{}\n{}", staking::slashes_text(&list), listing_note(height))
            });
            Ok(())
        }
        StakingQueryCmd::SigningInfo { operator } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let client = ctx.client()?;
            let (info, height) = staking::signing_info(&client, &operator).await?;
            ctx.emit(json!({ "signing_info": info, "height": height }), || {
                format!(
                    "{}\n{}",
                    staking::signing_info_text(&info),
                    listing_note(height)
                )
            });
            Ok(())
        }
        StakingQueryCmd::Params { prove } => {
            if prove.prove {
                let v = prove_record(ctx, &Record::StakingParams, &prove).await?;
                let summary = match decode_value::<StakingParams>(&v)? {
                    Some(p) => format!(
                        "staking params: max_validators {}, min_self_bond {}, unbonding_time {} s",
                        p.max_validators,
                        describe(p.min_self_bond),
                        p.unbonding_time
                    ),
                    None => "no staking params".into(),
                };
                emit_verified(ctx, &v, &summary, json!({}));
                return Ok(());
            }
            let client = ctx.client()?;
            let (p, height) = staking::params(&client, prove.height).await?;
            emit_unverified(ctx, "params", &p, height, staking::params_text);
            Ok(())
        }
        StakingQueryCmd::Epoch => {
            let client = ctx.client()?;
            let (e, height) = staking::epoch(&client).await?;
            ctx.emit(json!({ "epoch": e, "height": height }), || {
                format!("{}\n{}", staking::epoch_text(&e), listing_note(height))
            });
            Ok(())
        }
    }
}

fn emit_entries(ctx: &Ctx, list: &[UnbondingEntry], height: u64) {
    let total: u128 = list.iter().map(|e| e.amount).fold(0, u128::saturating_add);
    ctx.emit(json!({ "entries": list, "height": height }), || {
        format!(
            "{}\ntotal unbonding: {}\n{}",
            staking::unbonding_text(list),
            describe(total),
            listing_note(height)
        )
    });
}

// ---------------------------------------------------------------- slashing

/// Writes `value` as pretty JSON to `path`.
fn write_json_file(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// `nodeop attest`: signs offline once the chain id is known (--chain-id, else the node's).
async fn attest(
    ctx: &Ctx,
    key_name: &str,
    task_id: u64,
    result_hash: &str,
    out: Option<&Path>,
) -> Result<()> {
    let result_hash = slashing::parse_result_hash(result_hash).context("--result-hash")?;
    let (info, key) = load_key(ctx, key_name)?;
    let chain_id = match &ctx.chain_id {
        Some(c) => c.clone(),
        None => ctx
            .chain_id(&ctx.client()?)
            .await
            .context("no --chain-id given, so the node was asked")?,
    };
    let attestation = slashing::sign_attestation(&key, &chain_id, task_id, result_hash)?;
    // Serialized from the struct (not a JSON map) so the fields keep their documented order.
    let text = serde_json::to_string_pretty(&attestation).context("encoding the attestation")?;
    if let Some(path) = out {
        std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote the attestation of task {task_id} by {} ({}) on chain {chain_id:?} to {}",
            key.address(),
            info.name,
            path.display()
        );
    }
    // The attestation's JSON is the output in both formats, so it can be redirected to a file.
    print_stdout(&text);
    Ok(())
}

/// Reads `--evidence FILE`: the document `build-equivocation` writes, or a bare evidence.
fn read_equivocation_evidence(path: &Path) -> Result<Equivocation> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if let Some(inner) = doc.get_mut("evidence") {
        doc = inner.take();
    }
    let evidence: nodeop_app::modules::slashing::Evidence = serde_json::from_value(doc)
        .with_context(|| {
            format!(
                "{} is not equivocation evidence ({{\"equivocation\":{{\"first\",\"second\"}}}})",
                path.display()
            )
        })?;
    let nodeop_app::modules::slashing::Evidence::Equivocation { first, second } = &evidence else {
        bail!(
            "{} holds evidence of another kind, not equivocation",
            path.display()
        );
    };
    Ok(slashing::check_equivocation(first, second)?)
}

fn slashing_offline(ctx: &Ctx, cmd: SlashingCmd) -> Result<()> {
    match cmd {
        SlashingCmd::BuildEquivocation { first, second, out } => {
            let a = slashing::read_attestation(&first).context("--first")?;
            let b = slashing::read_attestation(&second).context("--second")?;
            let e = slashing::check_equivocation(&a, &b)?;
            if let Some(chain) = &ctx.chain_id {
                e.check_chain(chain)?;
            }
            let doc = serde_json::to_value(&e).context("encoding the evidence")?;
            if let Some(path) = &out {
                write_json_file(path, &doc)?;
            }
            ctx.emit(doc.clone(), || {
                let mut text = format!(
                    "equivocation by operator {} on chain {:?}, task {}:\n  first:  result {}\n  second: result {}\nboth signatures verify with the chain's rules (compressed key, low S).\npropose it with: nodeop tx slashing propose-equivocation FROM {} --first {} --second {}",
                    e.operator,
                    e.chain_id,
                    e.task_id,
                    hex::encode(a.body.result_hash),
                    hex::encode(b.body.result_hash),
                    e.operator,
                    first.display(),
                    second.display(),
                );
                match &out {
                    Some(p) => text.push_str(&format!("\n(or --evidence {}: written there)", p.display())),
                    None => text.push_str(&format!(
                        "\nevidence:\n{}",
                        serde_json::to_string_pretty(&doc["evidence"]).unwrap_or_default()
                    )),
                }
                text
            });
            Ok(())
        }
    }
}

async fn slashing_tx(ctx: &Ctx, cmd: SlashingTxCmd) -> Result<()> {
    match cmd {
        SlashingTxCmd::Propose {
            from,
            operator,
            offence,
            infraction_id,
            infraction_height,
            description,
            reference,
            flags,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let msg = slashing::statement_msg(
                &operator,
                offence,
                infraction_id,
                infraction_height,
                &description,
                &reference,
            );
            let outcome = submit_tx_outcome(ctx, &from, vec![msg], &flags).await?;
            proposal_hint(ctx, &outcome);
            Ok(())
        }
        SlashingTxCmd::ProposeEquivocation {
            from,
            operator,
            first,
            second,
            evidence,
            flags,
        } => {
            let e = match (first, second, evidence) {
                (Some(first), Some(second), None) => {
                    let a = slashing::read_attestation(&first).context("--first")?;
                    let b = slashing::read_attestation(&second).context("--second")?;
                    slashing::check_equivocation(&a, &b)?
                }
                (None, None, Some(path)) => read_equivocation_evidence(&path)?,
                _ => bail!("give --first and --second, or --evidence"),
            };
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            e.check_operator(&operator)?;
            let chain_id = ctx.chain_id(&ctx.client()?).await?;
            e.check_chain(&chain_id)?;
            let msg = slashing::propose_equivocation_msg(&e);
            let outcome = submit_tx_outcome(ctx, &from, vec![msg], &flags).await?;
            proposal_hint(ctx, &outcome);
            Ok(())
        }
        SlashingTxCmd::Dispute {
            from,
            proposal_id,
            reason,
            flags,
        } => {
            submit_tx(
                ctx,
                &from,
                vec![slashing::dispute_msg(proposal_id, &reason)],
                &flags,
            )
            .await
        }
        SlashingTxCmd::Vote {
            from,
            proposal_id,
            uphold,
            reject,
            flags,
        } => {
            if uphold == reject {
                bail!("give exactly one of --uphold and --reject");
            }
            submit_tx(
                ctx,
                &from,
                vec![slashing::vote_msg(proposal_id, uphold)],
                &flags,
            )
            .await
        }
    }
}

/// After a proposal's tx: where to follow it (text output only; JSON has the events).
fn proposal_hint(ctx: &Ctx, outcome: &TxOutcome) {
    if ctx.json {
        return;
    }
    if let Some(id) = slashing::proposal_id(outcome) {
        print_stdout(&format!(
            "opened proposal {id}: nodeop query slashing proposal {id}"
        ));
    }
}

/// The latest block time, if the node says; "in N s" is relative to it.
async fn block_time(client: &tendermint_rpc::HttpClient) -> Option<i64> {
    node::latest_block_time(client).await.ok()
}

async fn slashing_query(ctx: &Ctx, cmd: SlashingQueryCmd) -> Result<()> {
    match cmd {
        SlashingQueryCmd::Proposal { id, prove } => {
            if prove.prove {
                let v = prove_record(ctx, &Record::SlashingProposal(id), &prove).await?;
                let now = block_time(&ctx.client()?).await;
                let summary = match decode_value::<nodeop_app::modules::slashing::Proposal>(&v)? {
                    Some(p) => slashing::proposal_text(&p, now).replace('\n', "\n  "),
                    None => format!("no proposal {id}"),
                };
                emit_verified(ctx, &v, &summary, json!({ "latest_block_time": now }));
                return Ok(());
            }
            let client = ctx.client()?;
            let (p, height) = slashing::proposal(&client, id, prove.height).await?;
            let now = block_time(&client).await;
            ctx.emit(
                json!({ "proposal": p, "height": height, "latest_block_time": now }),
                || {
                    format!(
                        "{}\nheight:              {height} (not verified; add --prove)",
                        slashing::proposal_text(&p, now)
                    )
                },
            );
            Ok(())
        }
        SlashingQueryCmd::Proposals {
            status,
            operator,
            limit,
            after,
            all,
        } => {
            let operator = operator
                .map(|o| resolve_address(ctx, &o))
                .transpose()
                .context("--operator")?;
            let client = ctx.client()?;
            let (items, next, height) = if all {
                let (items, height) =
                    slashing::all_proposals(&client, status, operator.as_ref(), limit).await?;
                (items, None, height)
            } else {
                let (page, height) =
                    slashing::proposals(&client, status, operator.as_ref(), limit, after).await?;
                (page.items, page.next, height)
            };
            let now = block_time(&client).await;
            ctx.emit(
                json!({ "proposals": items, "next": next, "height": height, "latest_block_time": now }),
                || page_text(slashing::proposals_text(&items, now), next.as_ref(), true, height),
            );
            Ok(())
        }
        SlashingQueryCmd::Votes { id } => {
            let client = ctx.client()?;
            let (list, height) = slashing::votes(&client, id).await?;
            ctx.emit(json!({ "votes": list, "height": height }), || {
                format!("{}\n{}", slashing::votes_text(&list), listing_note(height))
            });
            Ok(())
        }
        SlashingQueryCmd::Params { prove } => {
            if prove.prove {
                return emit_proven::<nodeop_app::modules::slashing::SlashingParams>(
                    ctx,
                    Record::SlashingParams,
                    &prove,
                    slashing::params_text,
                    "no slashing params",
                )
                .await;
            }
            let client = ctx.client()?;
            let (p, height) = slashing::params(&client, prove.height).await?;
            emit_unverified(ctx, "params", &p, height, slashing::params_text);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("nodeop").chain(args.iter().copied()))
    }

    fn staking_tx(args: &[&str]) -> Result<StakingTxCmd, clap::Error> {
        let mut all = vec!["tx", "staking"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Staking(cmd)) => Ok(cmd),
            _ => panic!("not a staking tx"),
        }
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn register_operator_flags_and_defaults() {
        let cmd = staking_tx(&[
            "register-operator",
            "alice",
            "--consensus-key-file",
            "/k/priv_validator_key.json",
            "--moniker",
            "n1",
            "--self-bond",
            "1000nop",
        ])
        .unwrap();
        let StakingTxCmd::RegisterOperator {
            from,
            consensus_key_file,
            consensus_pubkey,
            moniker,
            self_bond,
            capacity_units,
            region,
            commission_ppm,
            flags,
        } = cmd
        else {
            panic!("not register-operator");
        };
        assert_eq!(from, "alice");
        assert_eq!(
            consensus_key_file.as_deref(),
            Some(Path::new("/k/priv_validator_key.json"))
        );
        assert_eq!(consensus_pubkey, None);
        assert_eq!(moniker, "n1");
        assert_eq!(parse_amount(&self_bond).unwrap(), 1_000_000_000);
        assert_eq!(capacity_units, 100);
        assert_eq!(region, "");
        assert_eq!(commission_ppm, 100_000);
        assert_eq!(flags.timeout, 30);
        assert!(!flags.no_wait);

        // exactly one of the two key flags
        let base = [
            "register-operator",
            "a",
            "--moniker",
            "m",
            "--self-bond",
            "1",
        ];
        assert!(staking_tx(&base).is_err());
        let mut both = base.to_vec();
        both.extend(["--consensus-key-file", "f", "--consensus-pubkey", "k"]);
        assert!(staking_tx(&both).is_err());
        // moniker and self-bond are required
        assert!(staking_tx(&["register-operator", "a", "--consensus-pubkey", "k"]).is_err());
        // numbers are numbers
        let mut bad = base.to_vec();
        bad.extend(["--consensus-pubkey", "k", "--commission-ppm", "10%"]);
        assert!(staking_tx(&bad).is_err());
        let mut ok = base.to_vec();
        ok.extend([
            "--consensus-pubkey",
            "k",
            "--commission-ppm",
            "50000",
            "--capacity-units",
            "7",
            "--region",
            "eu",
            "--fee",
            "2000",
            "--no-wait",
        ]);
        let StakingTxCmd::RegisterOperator {
            commission_ppm,
            capacity_units,
            region,
            flags,
            ..
        } = staking_tx(&ok).unwrap()
        else {
            panic!("not register-operator");
        };
        assert_eq!(
            (commission_ppm, capacity_units, region.as_str()),
            (50_000, 7, "eu")
        );
        assert_eq!(flags.fee.as_deref(), Some("2000"));
        assert!(flags.no_wait);
    }

    #[test]
    fn edit_operator_needs_a_field_and_other_staking_txs_parse() {
        assert!(staking_tx(&["edit-operator", "a"]).is_err());
        let StakingTxCmd::EditOperator {
            moniker,
            region,
            capacity_units,
            commission_ppm,
            ..
        } = staking_tx(&["edit-operator", "a", "--region", ""]).unwrap()
        else {
            panic!("not edit-operator");
        };
        assert_eq!(
            (moniker, region, capacity_units, commission_ppm),
            (None, Some(String::new()), None, None)
        );
        assert!(matches!(
            staking_tx(&["delegate", "a", "op", "1.5nop", "--memo", "x"]).unwrap(),
            StakingTxCmd::Delegate { amount, flags, .. } if amount == "1.5nop" && flags.memo == "x"
        ));
        assert!(staking_tx(&["delegate", "a", "op"]).is_err());
        assert!(matches!(
            staking_tx(&["undelegate", "a", "op", "1"]).unwrap(),
            StakingTxCmd::Undelegate { .. }
        ));
        assert!(matches!(
            staking_tx(&["unjail", "a", "--nonce", "3"]).unwrap(),
            StakingTxCmd::Unjail { flags, .. } if flags.nonce == Some(3)
        ));
        // send keeps its flags
        assert!(parse(&["tx", "send", "a", "b", "1", "--fee", "5", "--timeout", "9"]).is_ok());
    }

    #[test]
    fn staking_queries_parse() {
        let q = |args: &[&str]| {
            let mut all = vec!["query", "staking"];
            all.extend_from_slice(args);
            parse(&all).map(|c| match c.command {
                Command::Query(QueryCmd::Staking(cmd)) => cmd,
                _ => panic!("not a staking query"),
            })
        };
        assert!(matches!(
            q(&["operators", "--status", "jailed", "--limit", "5"]).unwrap(),
            StakingQueryCmd::Operators {
                status: OperatorStatus::Jailed,
                limit: Some(5),
                all: false,
                ..
            }
        ));
        assert!(q(&["operators", "--status", "sleeping"]).is_err());
        assert!(q(&["operators", "--all", "--after", "x"]).is_err());
        assert!(matches!(
            q(&["operator", "n1", "--prove", "--height", "7"]).unwrap(),
            StakingQueryCmd::Operator {
                prove: ProveArgs {
                    prove: true,
                    height: Some(7),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            q(&["delegation", "a", "b", "--prove"]).unwrap(),
            StakingQueryCmd::Delegation { .. }
        ));
        assert!(matches!(
            q(&["params", "--prove"]).unwrap(),
            StakingQueryCmd::Params { .. }
        ));
        for args in [
            &["validators"][..],
            &["delegations", "a"],
            &["delegators", "o", "--limit", "2", "--after", "x"],
            &["unbonding", "a"],
            &["unbonding-from", "o"],
            &["unbonding-entry", "3", "--prove"],
            &["slashes", "o"],
            &["signing-info", "o"],
            &["epoch"],
        ] {
            assert!(q(args).is_ok(), "{args:?}");
        }
        // listings take no --prove
        assert!(q(&["validators", "--prove"]).is_err());
    }

    fn slashing_tx(args: &[&str]) -> Result<SlashingTxCmd, clap::Error> {
        let mut all = vec!["tx", "slashing"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Slashing(cmd)) => Ok(cmd),
            _ => panic!("not a slashing tx"),
        }
    }

    #[test]
    fn slashing_propose_flags() {
        let cmd = slashing_tx(&[
            "propose",
            "reporter",
            "nodeop1op",
            "--offence",
            "false_submission",
            "--infraction-id",
            "7",
            "--infraction-height",
            "12",
            "--description",
            "never delivered",
        ])
        .unwrap();
        let SlashingTxCmd::Propose {
            from,
            operator,
            offence,
            infraction_id,
            infraction_height,
            description,
            reference,
            flags,
        } = cmd
        else {
            panic!("not propose");
        };
        assert_eq!(
            (from.as_str(), operator.as_str()),
            ("reporter", "nodeop1op")
        );
        assert_eq!(offence, StatementOffence::FalseSubmission);
        assert_eq!((infraction_id, infraction_height), (7, 12));
        assert_eq!(description, "never delivered");
        assert_eq!(reference, "");
        assert_eq!(flags.timeout, 30);
        let base = [
            "propose",
            "r",
            "o",
            "--infraction-id",
            "1",
            "--infraction-height",
            "2",
            "--description",
            "d",
        ];
        for (offence, expected) in [
            ("performance", StatementOffence::Performance),
            ("byzantine", StatementOffence::Byzantine),
        ] {
            let mut args = base.to_vec();
            args.extend(["--offence", offence, "--reference", "task-1"]);
            assert!(matches!(
                slashing_tx(&args).unwrap(),
                SlashingTxCmd::Propose { offence, reference, .. } if offence == expected && reference == "task-1"
            ));
        }
        // the chain raises these itself, and equivocation has its own command
        for offence in [
            "equivocation",
            "downtime",
            "result_mismatch",
            "false-submission",
        ] {
            let mut args = base.to_vec();
            args.extend(["--offence", offence]);
            assert!(slashing_tx(&args).is_err(), "{offence}");
        }
        // every statement field is required
        assert!(slashing_tx(&base).is_err());
        let mut no_height = base.to_vec();
        no_height.drain(5..7);
        no_height.extend(["--offence", "performance"]);
        assert!(slashing_tx(&no_height).is_err());
        let mut bad = base.to_vec();
        bad.extend(["--offence", "performance", "--infraction-height", "-1"]);
        assert!(slashing_tx(&bad).is_err());
    }

    #[test]
    fn equivocation_dispute_and_vote_flags() {
        assert!(matches!(
            slashing_tx(&["propose-equivocation", "r", "o", "--first", "a.json", "--second", "b.json", "--fee", "9"]).unwrap(),
            SlashingTxCmd::ProposeEquivocation { first: Some(f), second: Some(s), evidence: None, flags, .. }
                if f == Path::new("a.json") && s == Path::new("b.json") && flags.fee.as_deref() == Some("9")
        ));
        assert!(matches!(
            slashing_tx(&["propose-equivocation", "r", "o", "--evidence", "e.json"]).unwrap(),
            SlashingTxCmd::ProposeEquivocation {
                evidence: Some(_),
                first: None,
                ..
            }
        ));
        // both attestations, or the evidence file, not a mix
        assert!(slashing_tx(&["propose-equivocation", "r", "o"]).is_err());
        assert!(slashing_tx(&["propose-equivocation", "r", "o", "--first", "a"]).is_err());
        assert!(slashing_tx(&["propose-equivocation", "r", "o", "--second", "b"]).is_err());
        assert!(slashing_tx(&[
            "propose-equivocation",
            "r",
            "o",
            "--first",
            "a",
            "--second",
            "b",
            "--evidence",
            "e"
        ])
        .is_err());

        assert!(matches!(
            slashing_tx(&["dispute", "operator", "3", "--reason", "I delivered", "--no-wait"]).unwrap(),
            SlashingTxCmd::Dispute { proposal_id: 3, reason, flags, .. } if reason == "I delivered" && flags.no_wait
        ));
        assert!(slashing_tx(&["dispute", "operator", "3"]).is_err());
        assert!(slashing_tx(&["dispute", "operator", "x", "--reason", "r"]).is_err());

        assert!(matches!(
            slashing_tx(&["vote", "v", "3", "--uphold"]).unwrap(),
            SlashingTxCmd::Vote {
                proposal_id: 3,
                uphold: true,
                reject: false,
                ..
            }
        ));
        assert!(matches!(
            slashing_tx(&["vote", "v", "3", "--reject", "--nonce", "4"]).unwrap(),
            SlashingTxCmd::Vote { uphold: false, reject: true, flags, .. } if flags.nonce == Some(4)
        ));
        // exactly one decision
        assert!(slashing_tx(&["vote", "v", "3"]).is_err());
        assert!(slashing_tx(&["vote", "v", "3", "--uphold", "--reject"]).is_err());
    }

    #[test]
    fn attest_and_build_equivocation_flags() {
        let Command::Attest {
            key,
            task_id,
            result_hash,
            out,
        } = parse(&[
            "attest",
            "operator",
            "--task-id",
            "7",
            "--result-hash",
            "aa",
            "--chain-id",
            "nodeop-devnet",
        ])
        .unwrap()
        .command
        else {
            panic!("not attest");
        };
        assert_eq!(
            (key.as_str(), task_id, result_hash.as_str()),
            ("operator", 7, "aa")
        );
        assert_eq!(out, None);
        assert!(parse(&["attest", "operator", "--task-id", "7"]).is_err());
        assert!(parse(&["attest", "operator", "--result-hash", "aa"]).is_err());
        // the global --chain-id reaches it
        let cli = parse(&[
            "attest",
            "k",
            "--task-id",
            "1",
            "--result-hash",
            "a",
            "--chain-id",
            "c",
        ])
        .unwrap();
        assert_eq!(cli.chain_id.as_deref(), Some("c"));

        let cli = parse(&[
            "slashing",
            "build-equivocation",
            "--first",
            "a.json",
            "--second",
            "b.json",
            "--out",
            "e.json",
            "--output",
            "json",
        ])
        .unwrap();
        assert!(cli.output == Output::Json);
        assert!(matches!(
            cli.command,
            Command::Slashing(SlashingCmd::BuildEquivocation { out: Some(o), .. }) if o == Path::new("e.json")
        ));
        assert!(parse(&["slashing", "build-equivocation", "--first", "a.json"]).is_err());
    }

    #[test]
    fn slashing_queries_parse() {
        let q = |args: &[&str]| {
            let mut all = vec!["query", "slashing"];
            all.extend_from_slice(args);
            parse(&all).map(|c| match c.command {
                Command::Query(QueryCmd::Slashing(cmd)) => cmd,
                _ => panic!("not a slashing query"),
            })
        };
        assert!(matches!(
            q(&["proposal", "3", "--prove", "--height", "9"]).unwrap(),
            SlashingQueryCmd::Proposal {
                id: 3,
                prove: ProveArgs {
                    prove: true,
                    height: Some(9),
                    ..
                }
            }
        ));
        assert!(q(&["proposal", "x"]).is_err());
        assert!(matches!(
            q(&["proposals"]).unwrap(),
            SlashingQueryCmd::Proposals {
                status: ProposalFilter::All,
                operator: None,
                limit: None,
                after: None,
                all: false
            }
        ));
        assert!(matches!(
            q(&[
                "proposals",
                "--status",
                "disputed",
                "--operator",
                "op",
                "--limit",
                "5",
                "--after",
                "2"
            ])
            .unwrap(),
            SlashingQueryCmd::Proposals {
                status: ProposalFilter::Disputed,
                limit: Some(5),
                after: Some(2),
                ..
            }
        ));
        for s in ["open", "pending", "executed", "overturned"] {
            assert!(q(&["proposals", "--status", s]).is_ok(), "{s}");
        }
        assert!(q(&["proposals", "--status", "closed"]).is_err());
        assert!(q(&["proposals", "--all", "--after", "2"]).is_err());
        assert!(matches!(
            q(&["proposals", "--all"]).unwrap(),
            SlashingQueryCmd::Proposals { all: true, .. }
        ));
        assert!(matches!(
            q(&["votes", "3"]).unwrap(),
            SlashingQueryCmd::Votes { id: 3 }
        ));
        assert!(q(&["votes", "3", "--prove"]).is_err());
        assert!(matches!(
            q(&["params", "--prove"]).unwrap(),
            SlashingQueryCmd::Params {
                prove: ProveArgs { prove: true, .. }
            }
        ));
    }
}
