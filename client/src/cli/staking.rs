//! `nodeop tx staking …` and `nodeop query staking …`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use nodeop_app::modules::staking::MsgRegisterOperator;
use nodeop_app::modules::staking::{
    Delegation, MsgEditOperator, Operator, StakingParams, UnbondingEntry,
};
use nodeop_app::tx::Msg;
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::consensus_key::{parse_consensus_pubkey, read_priv_validator_key};
use nodeop_client::render;
use nodeop_client::staking::{self, OperatorStatus};
use nodeop_client::tx::{DEFAULT_CAPACITY_UNITS, DEFAULT_COMMISSION_PPM};
use nodeop_client::verify::Record;
use serde_json::json;

use super::proof::{
    decode_value, emit_unverified, emit_verified, listing_note, page_text, prove_record, ProveArgs,
};
use super::submit::{submit_tx, TxFlags};
use super::{parse_cursor, resolve_address, Ctx};

#[derive(Subcommand)]
pub(crate) enum StakingTxCmd {
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

#[derive(Subcommand)]
pub(crate) enum StakingQueryCmd {
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

pub(crate) async fn staking_tx(ctx: &Ctx, cmd: StakingTxCmd) -> Result<()> {
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
            let msg = MsgRegisterOperator {
                consensus_pubkey,
                moniker,
                capacity_units,
                region,
                commission_ppm,
                self_bond,
            };
            submit_tx(ctx, &from, vec![msg.into()], &flags).await
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
            submit_tx(ctx, &from, vec![msg.into()], &flags).await
        }
        StakingTxCmd::Delegate {
            from,
            operator,
            amount,
            flags,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let amount = parse_amount(&amount).context("AMOUNT")?;
            submit_tx(ctx, &from, vec![Msg::delegate(&operator, amount)], &flags).await
        }
        StakingTxCmd::Undelegate {
            from,
            operator,
            amount,
            flags,
        } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let amount = parse_amount(&amount).context("AMOUNT")?;
            submit_tx(ctx, &from, vec![Msg::undelegate(&operator, amount)], &flags).await
        }
        StakingTxCmd::Unjail { from, flags } => {
            submit_tx(ctx, &from, vec![Msg::unjail()], &flags).await
        }
    }
}

pub(crate) async fn staking_query(ctx: &Ctx, cmd: StakingQueryCmd) -> Result<()> {
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
                                .map(|t| format!("until {}", render::staking::format_time(t)))
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
                Some((op.status(power), power))
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
                        render::staking::operator_text(&op, status)
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
                || {
                    page_text(
                        render::staking::operators_text(&items),
                        next.as_ref(),
                        true,
                        height,
                    )
                },
            );
            Ok(())
        }
        StakingQueryCmd::Validators => {
            let client = ctx.client()?;
            let (vals, height) = staking::validators(&client).await?;
            ctx.emit(json!({ "validators": vals, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::staking::validators_text(&vals),
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
                    render::staking::delegations_text(&list),
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
                        render::staking::delegations_text(&page.items),
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
                    Some(e) => render::staking::unbonding_entry_text(&e),
                    None => format!("no unbonding entry {id}"),
                };
                emit_verified(ctx, &v, &summary, json!({}));
                return Ok(());
            }
            let client = ctx.client()?;
            let (e, height) = staking::unbonding_entry(&client, id, prove.height).await?;
            emit_unverified(
                ctx,
                "entry",
                &e,
                height,
                render::staking::unbonding_entry_text,
            );
            Ok(())
        }
        StakingQueryCmd::Slashes { operator } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            let client = ctx.client()?;
            let (list, height) = staking::slashes(&client, &operator).await?;
            ctx.emit(json!({ "slashes": list, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::staking::slashes_text(&list),
                    listing_note(height)
                )
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
                    render::staking::signing_info_text(&info),
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
            emit_unverified(ctx, "params", &p, height, render::staking::params_text);
            Ok(())
        }
        StakingQueryCmd::Epoch => {
            let client = ctx.client()?;
            let (e, height) = staking::epoch(&client).await?;
            ctx.emit(json!({ "epoch": e, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::staking::epoch_text(&e),
                    listing_note(height)
                )
            });
            Ok(())
        }
    }
}

pub(crate) fn emit_entries(ctx: &Ctx, list: &[UnbondingEntry], height: u64) {
    let total: u128 = list.iter().map(|e| e.amount).fold(0, u128::saturating_add);
    ctx.emit(json!({ "entries": list, "height": height }), || {
        format!(
            "{}\ntotal unbonding: {}\n{}",
            render::staking::unbonding_text(list),
            describe(total),
            listing_note(height)
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Command, QueryCmd, TxCmd};
    use std::path::Path;

    fn staking_tx(args: &[&str]) -> Result<StakingTxCmd, clap::Error> {
        let mut all = vec!["tx", "staking"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Staking(cmd)) => Ok(cmd),
            _ => panic!("not a staking tx"),
        }
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
}
