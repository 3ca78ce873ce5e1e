//! `nodeop attest`, `nodeop slashing …` (offline), `nodeop tx slashing …` and
//! `nodeop query slashing …`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use nodeop_app::tx::Msg;
use nodeop_client::node::{self, TxOutcome};
use nodeop_client::render;
use nodeop_client::slashing::{self, Equivocation, ProposalFilter, StatementOffence};
use nodeop_client::verify::Record;
use serde_json::json;

use super::proof::{
    decode_value, emit_proven, emit_unverified, emit_verified, listing_note, page_text,
    prove_record, ProveArgs,
};
use super::submit::{submit_tx, submit_tx_outcome, TxFlags};
use super::{load_key, print_stdout, resolve_address, Ctx};

#[derive(Subcommand)]
pub(crate) enum SlashingCmd {
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
pub(crate) enum SlashingTxCmd {
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

#[derive(Subcommand)]
pub(crate) enum SlashingQueryCmd {
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

/// Writes `value` as pretty JSON to `path`.
pub(crate) fn write_json_file(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// `nodeop attest`: signs offline once the chain id is known (--chain-id, else the node's).
pub(crate) async fn attest(
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
pub(crate) fn read_equivocation_evidence(path: &Path) -> Result<Equivocation> {
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

pub(crate) fn slashing_offline(ctx: &Ctx, cmd: SlashingCmd) -> Result<()> {
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

pub(crate) async fn slashing_tx(ctx: &Ctx, cmd: SlashingTxCmd) -> Result<()> {
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
                vec![Msg::dispute_slash(proposal_id, &reason)],
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
                vec![Msg::vote_dispute(proposal_id, uphold)],
                &flags,
            )
            .await
        }
    }
}

/// After a proposal's tx: where to follow it (text output only; JSON has the events).
pub(crate) fn proposal_hint(ctx: &Ctx, outcome: &TxOutcome) {
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
pub(crate) async fn block_time(client: &tendermint_rpc::HttpClient) -> Option<i64> {
    node::latest_block_time(client).await.ok()
}

pub(crate) async fn slashing_query(ctx: &Ctx, cmd: SlashingQueryCmd) -> Result<()> {
    match cmd {
        SlashingQueryCmd::Proposal { id, prove } => {
            if prove.prove {
                let v = prove_record(ctx, &Record::SlashingProposal(id), &prove).await?;
                let now = block_time(&ctx.client()?).await;
                let summary = match decode_value::<nodeop_app::modules::slashing::Proposal>(&v)? {
                    Some(p) => render::slashing::proposal_text(&p, now).replace('\n', "\n  "),
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
                        render::slashing::proposal_text(&p, now)
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
                || page_text(render::slashing::proposals_text(&items, now), next.as_ref(), true, height),
            );
            Ok(())
        }
        SlashingQueryCmd::Votes { id } => {
            let client = ctx.client()?;
            let (list, height) = slashing::votes(&client, id).await?;
            ctx.emit(json!({ "votes": list, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::slashing::votes_text(&list),
                    listing_note(height)
                )
            });
            Ok(())
        }
        SlashingQueryCmd::Params { prove } => {
            if prove.prove {
                return emit_proven::<nodeop_app::modules::slashing::SlashingParams>(
                    ctx,
                    Record::SlashingParams,
                    &prove,
                    render::slashing::params_text,
                    "no slashing params",
                )
                .await;
            }
            let client = ctx.client()?;
            let (p, height) = slashing::params(&client, prove.height).await?;
            emit_unverified(ctx, "params", &p, height, render::slashing::params_text);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Command, Output, QueryCmd, TxCmd};

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
