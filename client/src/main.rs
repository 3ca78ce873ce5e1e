//! `nodeop`: the nodeop command-line client (keys, txs, queries with verified proofs).
//!
//! Exit codes: 0 success; 1 error (bad input, unknown key, unreachable node, …); 2 usage error;
//! 3 the tx was refused by CheckTx or failed in its block; 4 a proof or header did not verify.
//!
//! This file is the parser and the dispatch; each command group is a file of [`cli`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use nodeop_client::node::DEFAULT_NODE;

mod cli;

use cli::Ctx;

#[derive(Parser)]
#[command(
    name = "nodeop",
    version,
    about = "nodeop client: keys, transactions, verified queries"
)]
pub(crate) struct Cli {
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
    pub(crate) command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Manage keys in HOME/keyring.
    #[command(subcommand)]
    Keys(cli::keys::KeysCmd),
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
    Slashing(cli::slashing::SlashingCmd),
}

#[derive(Subcommand)]
pub(crate) enum TxCmd {
    /// Send tokens: FROM is a key name (or a key's address), TO an address or key name,
    /// AMOUNT in unop (`1500000`, `1500000unop`) or nop (`1.5nop`).
    Send {
        from: String,
        to: String,
        amount: String,
        #[command(flatten)]
        flags: cli::submit::TxFlags,
    },
    /// Staking: register or edit an operator, delegate, undelegate, unjail.
    #[command(subcommand)]
    Staking(cli::staking::StakingTxCmd),
    /// Slashing: report an offence, dispute a proposal against you, vote on a dispute.
    #[command(subcommand)]
    Slashing(cli::slashing::SlashingTxCmd),
    /// Tasks: post one; as a committee member commit, reveal; as the submitter confirm.
    #[command(subcommand)]
    Task(cli::tasks::TaskTxCmd),
    /// Vesting: claim what has vested.
    #[command(subcommand)]
    Vesting(cli::issuance::VestingTxCmd),
    /// Coprocessors: register, edit, add or withdraw collateral.
    #[command(subcommand)]
    Coprocessor(cli::coprocessors::CoprocessorTxCmd),
    /// Auctions of task slots: as a member open one, as a coprocessor bid.
    #[command(subcommand)]
    Auction(cli::coprocessors::AuctionTxCmd),
}

#[derive(Subcommand)]
pub(crate) enum QueryCmd {
    /// An account's balance and nonce (ADDR or key name).
    Account {
        account: String,
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
    },
    /// The supply record.
    Supply {
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
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
        prove: cli::proof::ProveArgs,
    },
    /// Operators, validators, delegations, unbonding, slashes, liveness, params, epoch.
    /// [provable] records can be read at a past --height and verified with --prove; listings are
    /// the node's answer at its latest height, without proof.
    #[command(subcommand)]
    Staking(cli::staking::StakingQueryCmd),
    /// Slash proposals, votes, params. [provable] records can be read at a past --height and
    /// verified with --prove; listings are the node's answer at its latest height, without proof.
    #[command(subcommand)]
    Slashing(cli::slashing::SlashingQueryCmd),
    /// A task by id ([provable], `nodeop query task ID`), or: list, schedule, result (with a
    /// Merkle path; --prove checks it against the app hash), price, capacity, load, params.
    Task(cli::tasks::TaskQueryArgs),
    /// Tasks in id order, a page at a time (= `nodeop query task list`).
    Tasks(cli::tasks::TaskListArgs),
    /// Supply, period records and payouts, the current subsidy, vesting, epoch metrics, params.
    /// [provable] records can be read at a past --height and verified with --prove.
    #[command(subcommand)]
    Issuance(cli::issuance::IssuanceQueryCmd),
    /// An operator's reputation: every component, the score, the Byzantine factor, the load
    /// state. With --prove it is recomputed from proven records.
    Reputation {
        operator: String,
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
    },
    /// [provable] A coprocessor (address or key name): capacity, collateral (free, locked,
    /// pending) and, at the latest height, its load and reputation.
    Coprocessor {
        address: String,
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
    },
    /// Coprocessors in address order, a page at a time (`next` is the --after of the next page).
    Coprocessors {
        /// Coprocessors per page (the node's default 100, at most 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this coprocessor address (the previous page's `next`).
        #[arg(long)]
        after: Option<String>,
    },
    /// [provable] An auction by id: prices, expiry, winner, outcome, and the current price while
    /// it is open.
    Auction {
        id: u64,
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
    },
    /// Auctions in id order, a page at a time, by task, member, winning coprocessor or open.
    Auctions(cli::coprocessors::AuctionListArgs),
    /// [provable] BIDDER's bid on AUCTION_ID (address or key name): the height and price it
    /// was placed at, what ranked it, and whether it won.
    AuctionBid {
        auction_id: u64,
        bidder: String,
        #[command(flatten)]
        prove: cli::proof::ProveArgs,
    },
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
        Command::Keys(cmd) => cli::keys::keys(&ctx, cmd),
        Command::Tx(cmd) => tx(&ctx, cmd).await,
        Command::Query(cmd) => query(&ctx, cmd).await,
        Command::Attest {
            key,
            task_id,
            result_hash,
            out,
        } => cli::slashing::attest(&ctx, &key, task_id, &result_hash, out.as_deref()).await,
        Command::Slashing(cmd) => cli::slashing::slashing_offline(&ctx, cmd),
    };
    cli::exit(&ctx, result)
}

async fn tx(ctx: &Ctx, cmd: TxCmd) -> Result<()> {
    match cmd {
        TxCmd::Send {
            from,
            to,
            amount,
            flags,
        } => cli::bank::send(ctx, &from, &to, &amount, &flags).await,
        TxCmd::Staking(cmd) => cli::staking::staking_tx(ctx, cmd).await,
        TxCmd::Slashing(cmd) => cli::slashing::slashing_tx(ctx, cmd).await,
        TxCmd::Task(cmd) => cli::tasks::task_tx(ctx, cmd).await,
        TxCmd::Vesting(cmd) => cli::issuance::vesting_tx(ctx, cmd).await,
        TxCmd::Coprocessor(cmd) => cli::coprocessors::coprocessor_tx(ctx, cmd).await,
        TxCmd::Auction(cmd) => cli::coprocessors::auction_tx(ctx, cmd).await,
    }
}

async fn query(ctx: &Ctx, cmd: QueryCmd) -> Result<()> {
    match cmd {
        QueryCmd::Account { account, prove } => cli::query::account(ctx, &account, &prove).await,
        QueryCmd::Supply { prove } => cli::query::supply(ctx, &prove).await,
        QueryCmd::Params => cli::query::params(ctx).await,
        QueryCmd::Tx { hash, height } => cli::query::tx(ctx, &hash, height).await,
        QueryCmd::Store { key_hex, prove } => cli::query::store(ctx, &key_hex, &prove).await,
        QueryCmd::Staking(cmd) => cli::staking::staking_query(ctx, cmd).await,
        QueryCmd::Slashing(cmd) => cli::slashing::slashing_query(ctx, cmd).await,
        QueryCmd::Task(args) => cli::tasks::task_query(ctx, args).await,
        QueryCmd::Tasks(args) => cli::tasks::task_list(ctx, args).await,
        QueryCmd::Issuance(cmd) => cli::issuance::issuance_query(ctx, cmd).await,
        QueryCmd::Reputation { operator, prove } => {
            cli::reputation::reputation_query(ctx, &operator, &prove).await
        }
        QueryCmd::Coprocessor { address, prove } => {
            cli::coprocessors::coprocessor_query(ctx, &address, &prove).await
        }
        QueryCmd::Coprocessors { limit, after } => {
            cli::coprocessors::coprocessors_query(ctx, limit, after.as_deref()).await
        }
        QueryCmd::Auction { id, prove } => cli::coprocessors::auction_query(ctx, id, &prove).await,
        QueryCmd::Auctions(args) => cli::coprocessors::auctions_query(ctx, args).await,
        QueryCmd::AuctionBid {
            auction_id,
            bidder,
            prove,
        } => cli::coprocessors::auction_bid_query(ctx, auction_id, &bidder, &prove).await,
    }
}

/// The command line parsed from `args` (without the program name), for the parser's tests.
#[cfg(test)]
pub(crate) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("nodeop").chain(args.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
