//! `nodeop tx task …`, `nodeop query task …` / `nodeop query tasks`: the command line over
//! [`nodeop_client::tasks`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use nodeop_app::crypto::Address;
use nodeop_app::modules::tasks::{
    Consistency, MsgPostTask, Task, TaskKind, TaskPayload, TaskStatus,
};
use nodeop_app::tx::Msg;
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::coprocessors;
use nodeop_client::node::{self, TxOutcome};
use nodeop_client::render;
use nodeop_client::tasks as tasks_lib;
use nodeop_client::tasks::codec::result_bytes;
use nodeop_client::tasks::reads::{self, TaskFilter};
use nodeop_client::tasks::result_path::proven_result;
use nodeop_client::tasks::salts::SaltStore;
use nodeop_client::tx::SignMode;
use nodeop_client::verify::Record;
use serde_json::json;

use super::proof::{
    decode_value, emit_proven, emit_unverified, emit_verified, listing_note, page_text,
    proof_anchor, prove_record, ProveArgs,
};
use super::submit::{submit_tx_outcome, TxFlags};
use super::{load_key, print_stdout, resolve_address, Ctx};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum KindArg {
    /// Results agree when their bytes are equal.
    Exact,
    /// Fixed-point numbers (--scale decimals); members within --tolerance-ppm of the weighted
    /// median agree and the result is their weighted mean.
    Numeric,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ConsistencyArg {
    /// A committee of 1, quorum 1.
    Eventual,
    /// A committee of 3, quorum 2.
    Session,
    /// A committee of 7, quorum 5.
    Strong,
}

impl From<ConsistencyArg> for Consistency {
    fn from(c: ConsistencyArg) -> Self {
        match c {
            ConsistencyArg::Eventual => Consistency::Eventual,
            ConsistencyArg::Session => Consistency::Session,
            ConsistencyArg::Strong => Consistency::Strong,
        }
    }
}

/// The flags of `tx task post`: as every tx's, but the tx fee is --tx-fee, since --fee is the
/// task's escrowed fee.
#[derive(Args, Clone)]
pub(crate) struct PostTxFlags {
    /// The tx fee (same units as amounts); default: the chain's minimum for this tx's size.
    #[arg(long, value_name = "AMOUNT")]
    tx_fee: Option<String>,
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
    /// The envelope: `nodeop` (borsh) or `direct` (a Cosmos SDK `TxRaw`; docs/wallets.md).
    #[arg(long, value_enum, default_value_t = SignMode::Nodeop)]
    sign_mode: SignMode,
}

impl From<PostTxFlags> for TxFlags {
    fn from(f: PostTxFlags) -> Self {
        TxFlags {
            fee: f.tx_fee,
            memo: f.memo,
            nonce: f.nonce,
            no_wait: f.no_wait,
            timeout: f.timeout,
            sign_mode: f.sign_mode,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum TaskTxCmd {
    /// Post a task and escrow its fee. The committee is drawn in the tx's block; if too few
    /// operators are eligible, or the fee is below difficulty × the unit price, the tx fails
    /// and FROM keeps the task fee (the tx fee is charged).
    #[command(group(
        clap::ArgGroup::new("payload_source")
            .required(true)
            .args(["payload", "payload_file", "payload_sha256"])
    ))]
    Post {
        /// The client: a key name (or a key's address) in HOME/keyring.
        from: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Decimal places of a numeric result (value × 10^scale is sent as an i64), 0..=18.
        #[arg(long, required_if_eq("kind", "numeric"))]
        scale: Option<u8>,
        /// How far from the weighted median a numeric result may be and still agree, ppm.
        #[arg(long, value_name = "PPM", default_value_t = 0)]
        tolerance_ppm: u32,
        #[arg(long, value_enum, default_value_t = ConsistencyArg::Session)]
        consistency: ConsistencyArg,
        /// The payload itself, as text (sent inline).
        #[arg(long, value_name = "TEXT")]
        payload: Option<String>,
        /// A file whose bytes are the payload (sent inline).
        #[arg(long, value_name = "PATH")]
        payload_file: Option<PathBuf>,
        /// Instead of an inline payload: the SHA-256 of a payload stored elsewhere (64 hex).
        #[arg(long, value_name = "HEX32", requires = "uri")]
        payload_sha256: Option<String>,
        /// Where members fetch the referenced payload (with --payload-sha256).
        #[arg(long, requires = "payload_sha256")]
        uri: Option<String>,
        /// Difficulty units: the capacity each member reserves, and the fee's multiplier.
        #[arg(long, value_name = "UNITS")]
        difficulty: u64,
        /// The effective reputation a member needs, ppm (600000 = 0.6).
        #[arg(long, value_name = "PPM", default_value_t = 0)]
        min_reputation: u32,
        /// The task's fee, escrowed (`20000`, `20000unop`, `0.02nop`); default: difficulty ×
        /// the node's current unit price.
        #[arg(long, value_name = "AMOUNT")]
        fee: Option<String>,
        #[command(flatten)]
        flags: PostTxFlags,
    },
    /// Commit to a result as a committee member, or as the coprocessor that won a member's slot
    /// at auction. A random salt is drawn and saved with the result in
    /// HOME/salts/CHAIN/TASK-MEMBER.json before the commit is sent; `tx task reveal` reads it
    /// back. RESULT is the result's text (Exact tasks; --hex for bytes) or a decimal
    /// number (Numeric tasks, at the task's scale).
    #[command(group(
        clap::ArgGroup::new("result_source")
            .required(true)
            .args(["result", "result_file"])
    ))]
    Commit {
        /// The member's operator account: a key name (or a key's address) in HOME/keyring.
        from: String,
        task: u64,
        result: Option<String>,
        /// RESULT is hex (Exact tasks).
        #[arg(long)]
        hex: bool,
        /// Read the result's bytes from a file (Exact tasks).
        #[arg(long, value_name = "PATH", conflicts_with = "hex")]
        result_file: Option<PathBuf>,
        /// Replace a salt stored for another result of this task (a commitment already on
        /// chain with the old salt can then never be revealed).
        #[arg(long)]
        replace_salt: bool,
        /// As a coprocessor, commit for this member's slot (address or key name), won at
        /// auction; the commitment binds the member's address. Default: FROM's own slot, else
        /// the slot of the task FROM won.
        #[arg(long, value_name = "ADDRESS")]
        for_member: Option<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Reveal the result and salt stored by `tx task commit` (in the reveal window), as the
    /// member or as the coprocessor acting for its slot.
    Reveal {
        /// The member's operator account: a key name (or a key's address) in HOME/keyring.
        from: String,
        task: u64,
        /// If the reveal window has not opened yet, wait for it (at most --window-timeout
        /// seconds) instead of refusing.
        #[arg(long)]
        wait_for_window: bool,
        /// Seconds --wait-for-window waits at most.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 600,
            requires = "wait_for_window"
        )]
        window_timeout: u64,
        /// As a coprocessor, reveal for this member's slot (address or key name). Default:
        /// FROM's own slot, else the slot of the task FROM won.
        #[arg(long, value_name = "ADDRESS")]
        for_member: Option<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Confirm delivery of a finalized task's aggregate, as the member of the open submission
    /// window (or any bonded operator in the last window).
    Confirm {
        /// The submitter's operator account: a key name (or a key's address) in HOME/keyring.
        from: String,
        task: u64,
        /// The consumer-side reference of the delivery (1..=128 bytes).
        target_ref: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

/// The filters and page of a task listing.
#[derive(Args, Clone)]
pub(crate) struct TaskListArgs {
    #[arg(long, value_enum, default_value_t = TaskFilter::All)]
    status: TaskFilter,
    /// Only tasks this client posted (address or key name).
    #[arg(long)]
    client: Option<String>,
    /// Only tasks this operator sat on a committee of (address or key name).
    #[arg(long)]
    operator: Option<String>,
    /// Tasks per page (the node's default 100, at most 1000).
    #[arg(long)]
    limit: Option<u32>,
    /// Start after this task id (the previous page's `next`).
    #[arg(long, value_name = "ID", conflicts_with = "all")]
    after: Option<u64>,
    /// Follow `next` to the last page and list every task.
    #[arg(long)]
    all: bool,
}

/// `nodeop query task ID` or `nodeop query task SUBCOMMAND`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct TaskQueryArgs {
    /// [provable] The task with this id: committee, phase deadlines, result, schedule.
    #[arg(required = true)]
    id: Option<u64>,
    #[command(flatten)]
    prove: ProveArgs,
    #[command(subcommand)]
    cmd: Option<TaskQueryCmd>,
}

#[derive(Subcommand)]
pub(crate) enum TaskQueryCmd {
    /// Tasks in id order, a page at a time (also `nodeop query tasks`).
    #[command(visible_alias = "tasks")]
    List(TaskListArgs),
    /// A finalized task's submission windows: who may confirm when.
    Schedule { id: u64 },
    /// A finalized result, its Merkle path and its block's root (also after the task is
    /// pruned). With --prove, the result record and the root are read with proofs and the path
    /// is checked from the proven leaf to the proven root.
    Result {
        id: u64,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// The current price of a difficulty unit.
    Price,
    /// Total, reserved and free operator capacity.
    Capacity,
    /// An operator's capacity, reserved and free units.
    Load { operator: String },
    /// [provable] The tasks params.
    Params {
        #[command(flatten)]
        prove: ProveArgs,
    },
}

// ---------------------------------------------------------------- txs

fn read_payload(
    payload: Option<String>,
    payload_file: Option<PathBuf>,
    payload_sha256: Option<String>,
    uri: Option<String>,
) -> Result<TaskPayload> {
    match (payload, payload_file, payload_sha256, uri) {
        (Some(text), None, None, None) => Ok(TaskPayload::Inline(text.into_bytes())),
        (None, Some(path), None, None) => Ok(TaskPayload::Inline(
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )),
        (None, None, Some(h), Some(uri)) => Ok(TaskPayload::Reference {
            sha256: tasks_lib::parse_sha256("--payload-sha256", &h)?,
            uri,
        }),
        _ => bail!(
            "give the payload one way: --payload TEXT, --payload-file PATH, or --payload-sha256 HEX with --uri URI"
        ),
    }
}

/// The task record for a member's command, or a clear error.
async fn member_task(ctx: &Ctx, id: u64) -> Result<(Task, tendermint_rpc::HttpClient)> {
    let client = ctx.client()?;
    let (t, _) = reads::task(&client, id, None)
        .await
        .with_context(|| format!("reading task {id}"))?;
    Ok((t, client))
}

/// Refuses (before anything is signed) what the chain would certainly refuse: a member of no
/// round, or a task no longer in commit–reveal. Windows are only warned about: the height moves.
pub(crate) fn check_member(
    t: &Task,
    member: &nodeop_app::crypto::Address,
    what: &str,
) -> Result<()> {
    if t.status != TaskStatus::Assigned {
        bail!(
            "task {} is {}: {what} is only accepted while it is assigned (commit–reveal running)",
            t.id,
            t.status.name()
        );
    }
    let round = t
        .rounds
        .last()
        .ok_or_else(|| anyhow!("task {} has no committee", t.id))?;
    if round.member(member).is_none() {
        bail!(
            "{member} is not on the current committee of task {} (round {}: {})",
            t.id,
            round.number,
            round
                .members
                .iter()
                .map(|m| m.operator.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The member whose slot `signer` acts for on `task`: `--for-member` if given (the signer itself,
/// or a member whose slot the signer won at auction), else the signer if it sits on the current
/// committee, else the member whose slot it won (read from the auctions it won of the task).
async fn slot_member(
    ctx: &Ctx,
    client: &tendermint_rpc::HttpClient,
    t: &Task,
    signer: &Address,
    for_member: Option<&str>,
) -> Result<Address> {
    let on_committee = t.rounds.last().is_some_and(|r| r.member(signer).is_some());
    let wanted = for_member
        .map(|m| resolve_address(ctx, m))
        .transpose()
        .context("--for-member")?;
    if wanted == Some(*signer) || (wanted.is_none() && on_committee) {
        return Ok(*signer);
    }
    let won = coprocessors::won_slot(client, t.id, signer)
        .await
        .with_context(|| format!("reading the auctions {signer} won of task {}", t.id))?;
    match (wanted, won) {
        (Some(m), Some(a)) if a.member == m => Ok(m),
        (Some(m), Some(a)) => bail!(
            "{signer} holds the slot of {} on task {} (auction {}), not the slot of {m}",
            a.member,
            t.id,
            a.id
        ),
        (Some(m), None) => bail!(
            "{signer} holds no slot of task {} won at auction: it cannot act for {m}",
            t.id
        ),
        (None, Some(a)) => {
            if !ctx.json {
                eprintln!(
                    "acting for {}'s slot of task {}, won in auction {} for {}",
                    a.member,
                    t.id,
                    a.id,
                    describe(a.price)
                );
            }
            Ok(a.member)
        }
        // not a member and no slot won: the member check says why
        (None, None) => Ok(*signer),
    }
}

fn posted_hint(ctx: &Ctx, outcome: &TxOutcome) {
    if ctx.json {
        return;
    }
    if let Some(id) = tasks_lib::posted_task_id(outcome) {
        print_stdout(&format!("posted task {id}: nodeop query task {id}"));
    }
}

pub(crate) async fn task_tx(ctx: &Ctx, cmd: TaskTxCmd) -> Result<()> {
    match cmd {
        TaskTxCmd::Post {
            from,
            kind,
            scale,
            tolerance_ppm,
            consistency,
            payload,
            payload_file,
            payload_sha256,
            uri,
            difficulty,
            min_reputation,
            fee,
            flags,
        } => {
            let kind = match kind {
                KindArg::Exact => TaskKind::Exact,
                KindArg::Numeric => TaskKind::Numeric {
                    scale: scale.ok_or_else(|| anyhow!("--kind numeric needs --scale"))?,
                    tolerance_ppm,
                },
            };
            let payload = read_payload(payload, payload_file, payload_sha256, uri)?;
            let fee = match fee {
                Some(f) => parse_amount(&f).context("--fee")?,
                None => {
                    let client = ctx.client()?;
                    let (fee, unit_price) = reads::default_fee(&client, difficulty).await?;
                    if !ctx.json {
                        eprintln!(
                            "fee: {difficulty} units × unit price {} = {} (the price can rise by 1/8 per block before the tx's block; set --fee for a margin)",
                            describe(unit_price),
                            describe(fee)
                        );
                    }
                    fee
                }
            };
            let msg = Msg::from(MsgPostTask {
                kind,
                consistency: consistency.into(),
                payload,
                difficulty_units: difficulty,
                min_reputation_ppm: min_reputation,
                fee,
            });
            let outcome = submit_tx_outcome(ctx, &from, vec![msg], &flags.into()).await?;
            posted_hint(ctx, &outcome);
            Ok(())
        }
        TaskTxCmd::Commit {
            from,
            task,
            result,
            hex,
            result_file,
            replace_salt,
            for_member,
            flags,
        } => {
            let (_, key) = load_key(ctx, &from)?;
            let (t, client) = member_task(ctx, task).await?;
            let member =
                slot_member(ctx, &client, &t, &key.address(), for_member.as_deref()).await?;
            check_member(&t, &member, "a commit")?;
            let commit_end = t.current_round().commit_end;
            let latest = node::latest_height(&client).await?;
            if latest >= commit_end {
                bail!(
                    "the commit window of task {task} closed at height {commit_end} (the latest block is {latest})"
                );
            }
            let bytes = match (result, result_file) {
                (_, Some(path)) => {
                    if matches!(t.kind, TaskKind::Numeric { .. }) {
                        bail!("task {task} is numeric: give its result as a decimal number, not a file");
                    }
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?
                }
                (Some(text), None) => result_bytes(&t.kind, &text, hex).with_context(|| {
                    format!(
                        "RESULT for task {task} ({})",
                        render::tasks::kind_text(&t.kind)
                    )
                })?,
                (None, None) => bail!("give RESULT or --result-file"),
            };
            let chain_id = ctx.chain_id(&client).await?;
            let store = SaltStore::open(&ctx.home()?);
            let entry = store.prepare(&chain_id, task, &member, &bytes, replace_salt)?;
            // the salt is on disk before anything is sent
            let salt_file = store.save(&entry)?;
            if !ctx.json {
                eprintln!(
                    "salt saved: {} (needed by `nodeop tx task reveal {from} {task}`)",
                    salt_file.display()
                );
            }
            // a coprocessor's commitment binds the member whose slot it acts for
            submit_tx_outcome(
                ctx,
                &from,
                vec![Msg::commit_result(
                    entry.task_id,
                    &entry.member,
                    &entry.result,
                    &entry.salt,
                )],
                &flags,
            )
            .await?;
            Ok(())
        }
        TaskTxCmd::Reveal {
            from,
            task,
            wait_for_window,
            window_timeout,
            for_member,
            flags,
        } => {
            let (_, key) = load_key(ctx, &from)?;
            let signer = key.address();
            let store = SaltStore::open(&ctx.home()?);
            let client = ctx.client()?;
            let chain_id = ctx.chain_id(&client).await?;
            let read = reads::task(&client, task, None).await;
            let member = match &read {
                Ok((t, _)) => slot_member(ctx, &client, t, &signer, for_member.as_deref()).await?,
                Err(_) => match for_member.as_deref() {
                    Some(m) => resolve_address(ctx, m).context("--for-member")?,
                    None => signer,
                },
            };
            // no stored salt: refuse before asking the node anything more
            let entry = store.load(&chain_id, task, &member)?;
            if let Ok((t, _)) = read {
                check_member(&t, &member, "a reveal")?;
                let committed = t
                    .rounds
                    .last()
                    .and_then(|r| r.member(&member))
                    .and_then(|m| m.commitment);
                match committed {
                    None => bail!(
                        "{member} has no commitment on task {task}: nothing to reveal (did the commit fail?)"
                    ),
                    Some(c) if c != entry.commitment => bail!(
                        "the commitment on chain ({}) is not the one of the stored salt ({}): the result was committed with another salt or from another home",
                        ::hex::encode(c),
                        ::hex::encode(entry.commitment)
                    ),
                    Some(_) => {}
                }
                let round = t.current_round();
                let latest = node::latest_height(&client).await?;
                if latest >= round.reveal_end {
                    bail!(
                        "the reveal window of task {task} closed at height {} (the latest block is {latest})",
                        round.reveal_end
                    );
                }
                // the tx lands in block latest + 1 at the earliest
                if latest < round.commit_end {
                    if !wait_for_window {
                        bail!(
                            "the reveal window of task {task} opens after height {} (the latest block is {latest}, {} blocks to go); reveal then, or pass --wait-for-window",
                            round.commit_end,
                            round.commit_end - latest
                        );
                    }
                    if !ctx.json {
                        eprintln!(
                            "waiting for height {} (the reveal window opens after it; the latest block is {latest})",
                            round.commit_end
                        );
                    }
                    tasks_lib::wait_for_height(
                        &client,
                        round.commit_end,
                        Duration::from_secs(window_timeout),
                    )
                    .await?;
                }
            }
            submit_tx_outcome(
                ctx,
                &from,
                vec![Msg::reveal_result(
                    entry.task_id,
                    &entry.result,
                    &entry.salt,
                )],
                &flags,
            )
            .await?;
            Ok(())
        }
        TaskTxCmd::Confirm {
            from,
            task,
            target_ref,
            flags,
        } => {
            submit_tx_outcome(
                ctx,
                &from,
                vec![Msg::confirm_submission(task, &target_ref)],
                &flags,
            )
            .await?;
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- queries

async fn latest(client: &tendermint_rpc::HttpClient) -> Option<u64> {
    node::latest_height(client).await.ok()
}

pub(crate) async fn task_list(ctx: &Ctx, args: TaskListArgs) -> Result<()> {
    let poster = args
        .client
        .map(|c| resolve_address(ctx, &c))
        .transpose()
        .context("--client")?;
    let operator = args
        .operator
        .map(|o| resolve_address(ctx, &o))
        .transpose()
        .context("--operator")?;
    let client = ctx.client()?;
    let (items, next, height) = if args.all {
        let (items, height) = reads::all_tasks(
            &client,
            args.status,
            poster.as_ref(),
            operator.as_ref(),
            args.limit,
        )
        .await?;
        (items, None, height)
    } else {
        let (page, height) = reads::tasks(
            &client,
            args.status,
            poster.as_ref(),
            operator.as_ref(),
            args.limit,
            args.after,
        )
        .await?;
        (page.items, page.next, height)
    };
    ctx.emit(
        json!({ "tasks": items, "next": next, "height": height }),
        || {
            page_text(
                render::tasks::tasks_text(&items),
                next.as_ref(),
                true,
                height,
            )
        },
    );
    Ok(())
}

pub(crate) async fn task_query(ctx: &Ctx, args: TaskQueryArgs) -> Result<()> {
    let Some(cmd) = args.cmd else {
        let id = args
            .id
            .ok_or_else(|| anyhow!("give a task id or a subcommand (nodeop query task --help)"))?;
        return show_task(ctx, id, &args.prove).await;
    };
    match cmd {
        TaskQueryCmd::List(list) => task_list(ctx, list).await,
        TaskQueryCmd::Schedule { id } => {
            let client = ctx.client()?;
            let (v, height) = reads::schedule(&client, id).await?;
            let now = latest(&client).await;
            ctx.emit(json!({ "schedule": v, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::tasks::schedule_text(&v, now),
                    listing_note(height)
                )
            });
            Ok(())
        }
        TaskQueryCmd::Result { id, prove } => show_result(ctx, id, &prove).await,
        TaskQueryCmd::Price => {
            let client = ctx.client()?;
            let (p, height) = reads::price(&client).await?;
            ctx.emit(json!({ "price": p, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::tasks::price_text(&p),
                    listing_note(height)
                )
            });
            Ok(())
        }
        TaskQueryCmd::Capacity => {
            let client = ctx.client()?;
            let (c, height) = reads::capacity(&client).await?;
            ctx.emit(json!({ "capacity": c, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::tasks::capacity_text(&c),
                    listing_note(height)
                )
            });
            Ok(())
        }
        TaskQueryCmd::Load { operator } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let client = ctx.client()?;
            let (l, height) = reads::load(&client, &operator).await?;
            ctx.emit(json!({ "load": l, "height": height }), || {
                format!("{}\n{}", render::tasks::load_text(&l), listing_note(height))
            });
            Ok(())
        }
        TaskQueryCmd::Params { prove } => {
            if prove.prove {
                return emit_proven::<nodeop_app::modules::tasks::TasksParams>(
                    ctx,
                    Record::TasksParams,
                    &prove,
                    render::tasks::params_text,
                    "no tasks params",
                )
                .await;
            }
            let client = ctx.client()?;
            let (p, height) = reads::params(&client, prove.height).await?;
            emit_unverified(ctx, "params", &p, height, render::tasks::params_text);
            Ok(())
        }
    }
}

async fn show_task(ctx: &Ctx, id: u64, prove: &ProveArgs) -> Result<()> {
    if prove.prove {
        let v = prove_record(ctx, &Record::Task(id), prove).await?;
        let now = latest(&ctx.client()?).await;
        let summary = match decode_value::<Task>(&v)? {
            Some(t) => render::tasks::task_text(&t, now).replace('\n', "\n  "),
            None => format!(
                "no task {id} (never posted, or pruned after task_retention; `nodeop query task result {id} --prove` still proves its result)"
            ),
        };
        emit_verified(ctx, &v, &summary, json!({ "latest_height": now }));
        return Ok(());
    }
    let client = ctx.client()?;
    let (t, height) = reads::task(&client, id, prove.height).await?;
    let now = latest(&client).await;
    ctx.emit(
        json!({ "task": t, "height": height, "latest_height": now }),
        || {
            format!(
                "{}\nheight:              {height} (not verified; add --prove)",
                render::tasks::task_text(&t, now)
            )
        },
    );
    Ok(())
}

async fn show_result(ctx: &Ctx, id: u64, prove: &ProveArgs) -> Result<()> {
    let client = ctx.client()?;
    // the task's kind, to show the result's value (absent once pruned)
    let kind = reads::task(&client, id, None)
        .await
        .ok()
        .map(|(t, _)| t.kind);
    if prove.prove {
        // A task without a finalized result (never posted, or not finalized yet) has no record:
        // its absence is what is proven, and it is an answer, not an error.
        let record = prove_record(ctx, &Record::ResultRecord(id), prove).await?;
        if !record.exists {
            let summary =
                format!("task {id} has no finalized result (never posted, or not finalized yet)");
            emit_verified(ctx, &record, &summary, json!({ "task_id": id }));
            return Ok(());
        }
        let (chain_id, pinned) = proof_anchor(ctx, &client, prove).await?;
        let p = proven_result(
            &client,
            id,
            Some(record.height),
            &chain_id,
            pinned.as_ref(),
            Duration::from_secs(prove.timeout),
        )
        .await?;
        let h = &p.record_proof.header;
        ctx.emit(json!({ "proven_result": p }), || {
            format!(
                "verified: task {id}'s result\n{}\n  the result record (tasks/result/{id}) and block {}'s result root (tasks/block_results/{}) are proven at height {} against app hash {} in header {} (signed by {}/{} of the voting power{}),\n  and the path climbs from the proven leaf to the proven root",
                render::tasks::result_view_text(&p.path, kind.as_ref()),
                p.record.finalized_height,
                p.record.finalized_height,
                p.record_proof.height,
                h.app_hash,
                h.height,
                h.signed_power,
                h.total_power,
                if h.validators_pinned {
                    ", validator set pinned"
                } else {
                    "; pass --trusted-validators-hash to pin the set"
                },
            )
        });
        return Ok(());
    }
    let (v, height) = reads::result(&client, id).await?;
    let checked = nodeop_client::tasks::result_path::verify_result_path(&v);
    ctx.emit(
        json!({ "result": v, "height": height, "path_checked": checked.is_ok() }),
        || {
            format!(
                "{}\npath:           {}\nheight:         {height} (the root is the node's word; add --prove to prove it against the app hash)",
                render::tasks::result_view_text(&v, kind.as_ref()),
                match &checked {
                    Ok(()) => "climbs from the leaf to the root".to_string(),
                    Err(e) => format!("DOES NOT CHECK: {e}"),
                }
            )
        },
    );
    checked.map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Command, QueryCmd, TxCmd};

    fn task_tx(args: &[&str]) -> Result<TaskTxCmd, clap::Error> {
        let mut all = vec!["tx", "task"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Task(cmd)) => Ok(cmd),
            _ => panic!("not a task tx"),
        }
    }

    fn task_query(args: &[&str]) -> Result<TaskQueryArgs, clap::Error> {
        let mut all = vec!["query", "task"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Query(QueryCmd::Task(a)) => Ok(a),
            _ => panic!("not a task query"),
        }
    }

    #[test]
    fn post_flags_defaults_and_the_two_fees() {
        let cmd = task_tx(&[
            "post",
            "alice",
            "--kind",
            "numeric",
            "--scale",
            "3",
            "--tolerance-ppm",
            "5000",
            "--consistency",
            "strong",
            "--payload",
            "price of X",
            "--difficulty",
            "4",
            "--min-reputation",
            "600000",
            "--fee",
            "0.5nop",
            "--tx-fee",
            "9000",
        ])
        .unwrap();
        let TaskTxCmd::Post {
            from,
            kind,
            scale,
            tolerance_ppm,
            consistency,
            payload,
            difficulty,
            min_reputation,
            fee,
            flags,
            ..
        } = cmd
        else {
            panic!("not a post");
        };
        assert_eq!(from, "alice");
        assert_eq!(
            (kind, scale, tolerance_ppm),
            (KindArg::Numeric, Some(3), 5000)
        );
        assert_eq!(consistency, ConsistencyArg::Strong);
        assert_eq!(payload.as_deref(), Some("price of X"));
        assert_eq!((difficulty, min_reputation), (4, 600_000));
        assert_eq!(fee.as_deref(), Some("0.5nop"));
        let tx: TxFlags = flags.into();
        assert_eq!(tx.fee.as_deref(), Some("9000"));

        // defaults: session, no minimum reputation, fee from the price
        let TaskTxCmd::Post {
            consistency,
            min_reputation,
            fee,
            ..
        } = task_tx(&[
            "post",
            "a",
            "--kind",
            "exact",
            "--payload-file",
            "/tmp/p",
            "--difficulty",
            "1",
        ])
        .unwrap()
        else {
            panic!("not a post");
        };
        assert_eq!(
            (consistency, min_reputation, fee),
            (ConsistencyArg::Session, 0, None)
        );
        let base = ["post", "a", "--kind", "exact", "--difficulty", "1"];
        let with = |extra: &[&str]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            task_tx(&v)
        };
        // a payload is required, one way only; a hash needs a URI
        assert!(with(&[]).is_err());
        assert!(with(&["--payload", "x", "--payload-file", "/p"]).is_err());
        assert!(with(&["--payload-sha256", &"ab".repeat(32)]).is_err());
        assert!(with(&["--uri", "ipfs://x"]).is_err());
        assert!(with(&["--payload-sha256", &"ab".repeat(32), "--uri", "ipfs://x"]).is_ok());
        // numeric needs a scale
        assert!(task_tx(&[
            "post",
            "a",
            "--kind",
            "numeric",
            "--payload",
            "x",
            "--difficulty",
            "1"
        ])
        .is_err());
        assert!(with(&["--payload", "x", "--kind", "fuzzy"]).is_err());
    }

    #[test]
    fn payloads_are_read_one_way() {
        let inline = read_payload(Some("hi".into()), None, None, None).unwrap();
        assert_eq!(inline, TaskPayload::Inline(b"hi".to_vec()));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.bin");
        std::fs::write(&file, [0u8, 1, 2]).unwrap();
        assert_eq!(
            read_payload(None, Some(file), None, None).unwrap(),
            TaskPayload::Inline(vec![0, 1, 2])
        );
        assert_eq!(
            read_payload(None, None, Some("cd".repeat(32)), Some("ipfs://x".into())).unwrap(),
            TaskPayload::Reference {
                sha256: [0xcd; 32],
                uri: "ipfs://x".into()
            }
        );
        assert!(read_payload(None, None, Some("cd".into()), Some("u".into())).is_err());
        assert!(read_payload(None, None, None, None).is_err());
        assert!(read_payload(None, Some(dir.path().join("missing")), None, None).is_err());
    }

    #[test]
    fn commit_reveal_and_confirm_flags() {
        let TaskTxCmd::Commit {
            from,
            task,
            result,
            hex,
            replace_salt,
            ..
        } = task_tx(&["commit", "op1", "7", "12.5"]).unwrap()
        else {
            panic!("not a commit");
        };
        assert_eq!(
            (from.as_str(), task, result.as_deref(), hex, replace_salt),
            ("op1", 7, Some("12.5"), false, false)
        );
        assert!(
            task_tx(&["commit", "op1", "7"]).is_err(),
            "a result is needed"
        );
        assert!(task_tx(&["commit", "op1", "7", "--result-file", "/r"]).is_ok());
        assert!(task_tx(&["commit", "op1", "7", "x", "--result-file", "/r"]).is_err());
        assert!(task_tx(&["commit", "op1", "7", "00ff", "--hex", "--replace-salt"]).is_ok());
        // a negative numeric result is a value, not a flag
        assert!(task_tx(&["commit", "op1", "7", "--", "-1.5"]).is_ok());
        assert!(matches!(
            task_tx(&["reveal", "op1", "7", "--no-wait"]).unwrap(),
            TaskTxCmd::Reveal { task: 7, .. }
        ));
        let TaskTxCmd::Confirm {
            task, target_ref, ..
        } = task_tx(&["confirm", "op1", "7", "consumer-tx-9"]).unwrap()
        else {
            panic!("not a confirm");
        };
        assert_eq!((task, target_ref.as_str()), (7, "consumer-tx-9"));
        assert!(task_tx(&["confirm", "op1", "7"]).is_err());
    }

    #[test]
    fn a_coprocessor_commits_and_reveals_for_a_members_slot() {
        assert!(matches!(
            task_tx(&["commit", "gpu", "7", "42", "--for-member", "op1"]).unwrap(),
            TaskTxCmd::Commit { for_member: Some(m), task: 7, .. } if m == "op1"
        ));
        assert!(matches!(
            task_tx(&["commit", "op1", "7", "42"]).unwrap(),
            TaskTxCmd::Commit {
                for_member: None,
                ..
            }
        ));
        assert!(matches!(
            task_tx(&["reveal", "gpu", "7", "--for-member", "op1", "--wait-for-window"]).unwrap(),
            TaskTxCmd::Reveal { for_member: Some(m), wait_for_window: true, .. } if m == "op1"
        ));
        assert!(task_tx(&["reveal", "gpu", "7", "--for-member"]).is_err());
    }

    #[test]
    fn task_queries_parse() {
        let a = task_query(&["7", "--prove", "--height", "40"]).unwrap();
        assert_eq!(a.id, Some(7));
        assert!(a.cmd.is_none() && a.prove.prove);
        assert_eq!(a.prove.height, Some(40));
        assert!(task_query(&[]).is_err(), "an id or a subcommand");
        let a = task_query(&[
            "list", "--status", "open", "--client", "alice", "--limit", "5",
        ])
        .unwrap();
        let Some(TaskQueryCmd::List(l)) = a.cmd else {
            panic!("not a list");
        };
        assert_eq!(l.status, TaskFilter::Open);
        assert_eq!((l.client.as_deref(), l.limit), (Some("alice"), Some(5)));
        assert!(task_query(&["list", "--status", "done"]).is_err());
        assert!(task_query(&["list", "--all", "--after", "3"]).is_err());
        assert!(matches!(
            task_query(&["result", "7", "--prove"]).unwrap().cmd,
            Some(TaskQueryCmd::Result { id: 7, ref prove }) if prove.prove
        ));
        for sub in [
            vec!["schedule", "7"],
            vec!["price"],
            vec!["capacity"],
            vec!["load", "op1"],
            vec!["params", "--prove"],
            vec!["tasks", "--operator", "op1"],
        ] {
            assert!(task_query(&sub).unwrap().cmd.is_some(), "{sub:?}");
        }
        // `nodeop query tasks` is the listing too
        match parse(&["query", "tasks", "--status", "finalized", "--all"])
            .unwrap()
            .command
        {
            Command::Query(QueryCmd::Tasks(l)) => {
                assert_eq!(l.status, TaskFilter::Finalized);
                assert!(l.all);
            }
            _ => panic!("not a task listing"),
        }
        match parse(&["query", "reputation", "op1", "--prove"])
            .unwrap()
            .command
        {
            Command::Query(QueryCmd::Reputation { operator, prove }) => {
                assert_eq!(operator, "op1");
                assert!(prove.prove);
            }
            _ => panic!("not a reputation query"),
        }
    }
}
