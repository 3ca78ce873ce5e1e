//! `nodeop query issuance …` and `nodeop tx vesting claim`: the command line over
//! [`nodeop_client::issuance`].

use anyhow::{Context, Result};
use clap::Subcommand;
use nodeop_app::modules::issuance::state::Payout;
use nodeop_app::modules::issuance::{EpochMetrics, IssuanceParams, PeriodRecord, VestingSchedule};
use nodeop_app::tx::Msg;
use nodeop_client::issuance as lib;
use nodeop_client::render;
use nodeop_client::verify::Record;
use serde_json::json;

use super::proof::{
    decode_value, emit_proven, emit_unverified, emit_verified, listing_note, page_text,
    prove_record, ProveArgs,
};
use super::submit::{submit_tx, TxFlags};
use super::{resolve_address, Ctx};

#[derive(Subcommand)]
pub(crate) enum IssuanceQueryCmd {
    /// Total, minted, burned and max supply, the room under the cap, the treasury, the reward
    /// pool and the unclaimed vesting (latest height; `nodeop query supply --prove` proves the
    /// supply record).
    Supply,
    /// The open period: its index, subsidy s(m), revenue so far.
    Subsidy,
    /// [provable] The issuance params.
    Params {
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// [provable] The record of period M: revenue, subsidy, mint, clip, payout, vesting, burns,
    /// supply at start and end.
    Period {
        m: u64,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// Period records in order, a page at a time (`next` is the --after of the next page).
    Periods {
        /// Records per page (the node's default 100, at most 1000).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this period (the previous page's `next`).
        #[arg(long, value_name = "M", conflicts_with = "all")]
        after: Option<u64>,
        /// Follow `next` to the last page.
        #[arg(long)]
        all: bool,
    },
    /// What each operator received from period M's payout.
    Payouts { m: u64 },
    /// [provable] One operator's payout in period M (address or key name).
    Payout {
        m: u64,
        operator: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
    /// [provable] The NodeOP metrics of EPOCH; without EPOCH, every closed epoch's, a page at a
    /// time.
    Metrics {
        epoch: Option<u64>,
        #[command(flatten)]
        prove: ProveArgs,
        /// Epochs per page (lists only).
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this epoch (lists only).
        #[arg(long, value_name = "EPOCH")]
        after: Option<u64>,
    },
    /// An address's vesting schedule and what it can claim now; with --prove the stored
    /// schedule is proven (claimable is then computed from it at the header's time).
    Vesting {
        address: String,
        #[command(flatten)]
        prove: ProveArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum VestingTxCmd {
    /// Mint to FROM what its vesting schedule has vested and it has not claimed yet. Refused
    /// before the cliff (issuance/2), when nothing new has vested (issuance/3), and when the
    /// mint would pass max_supply (issuance/4, nothing claimed).
    Claim {
        /// The beneficiary: a key name (or a key's address) in HOME/keyring.
        from: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

pub(crate) async fn vesting_tx(ctx: &Ctx, cmd: VestingTxCmd) -> Result<()> {
    match cmd {
        VestingTxCmd::Claim { from, flags } => {
            submit_tx(ctx, &from, vec![Msg::claim_vested()], &flags).await
        }
    }
}

pub(crate) async fn issuance_query(ctx: &Ctx, cmd: IssuanceQueryCmd) -> Result<()> {
    match cmd {
        IssuanceQueryCmd::Supply => {
            let (s, height) = lib::supply(&ctx.client()?).await?;
            ctx.emit(json!({ "supply": s, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::issuance::supply_text(&s),
                    listing_note(height)
                )
            });
        }
        IssuanceQueryCmd::Subsidy => {
            let (s, height) = lib::subsidy(&ctx.client()?).await?;
            ctx.emit(json!({ "subsidy": s, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::issuance::subsidy_text(&s),
                    listing_note(height)
                )
            });
        }
        IssuanceQueryCmd::Params { prove } => {
            if prove.prove {
                return emit_proven::<IssuanceParams>(
                    ctx,
                    Record::IssuanceParams,
                    &prove,
                    render::issuance::params_text,
                    "no issuance params",
                )
                .await;
            }
            let (p, height) = lib::params(&ctx.client()?, prove.height).await?;
            emit_unverified(ctx, "params", &p, height, render::issuance::params_text);
        }
        IssuanceQueryCmd::Period { m, prove } => {
            if prove.prove {
                return emit_proven::<PeriodRecord>(
                    ctx,
                    Record::IssuancePeriod(m),
                    &prove,
                    render::issuance::period_text,
                    &format!(
                        "no record of period {m} (it is written in the first block past its end)"
                    ),
                )
                .await;
            }
            let (r, height) = lib::period(&ctx.client()?, m, prove.height).await?;
            emit_unverified(ctx, "period", &r, height, render::issuance::period_text);
        }
        IssuanceQueryCmd::Periods { limit, after, all } => {
            let client = ctx.client()?;
            let (items, next, height) = if all {
                let (items, height) = lib::all_periods(&client, limit).await?;
                (items, None, height)
            } else {
                let (page, height) = lib::periods(&client, limit, after).await?;
                (page.items, page.next, height)
            };
            ctx.emit(
                json!({ "periods": items, "next": next, "height": height }),
                || {
                    page_text(
                        render::issuance::periods_text(&items),
                        next.as_ref(),
                        true,
                        height,
                    )
                },
            );
        }
        IssuanceQueryCmd::Payouts { m } => {
            let (list, height) = lib::payouts(&ctx.client()?, m).await?;
            ctx.emit(json!({ "payouts": list, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::issuance::payouts_text(&list),
                    listing_note(height)
                )
            });
        }
        IssuanceQueryCmd::Payout { m, operator, prove } => {
            let operator = resolve_address(ctx, &operator).context("OPERATOR")?;
            if prove.prove {
                return emit_proven::<Payout>(
                    ctx,
                    Record::IssuancePayout {
                        period: m,
                        operator,
                    },
                    &prove,
                    |p| render::issuance::payouts_text(std::slice::from_ref(p)),
                    &format!("no payout to {operator} in period {m}"),
                )
                .await;
            }
            let (p, height) = lib::payout(&ctx.client()?, m, &operator, prove.height).await?;
            emit_unverified(ctx, "payout", &p, height, |p| {
                render::issuance::payouts_text(std::slice::from_ref(p))
            });
        }
        IssuanceQueryCmd::Metrics {
            epoch,
            prove,
            limit,
            after,
        } => match epoch {
            Some(e) if prove.prove => {
                return emit_proven::<EpochMetrics>(
                    ctx,
                    Record::IssuanceMetrics(e),
                    &prove,
                    render::issuance::metrics_text,
                    &format!("no metrics for epoch {e} (written in the first block past its end)"),
                )
                .await;
            }
            Some(e) => {
                let (m, height) = lib::metrics(&ctx.client()?, e, prove.height).await?;
                emit_unverified(ctx, "metrics", &m, height, render::issuance::metrics_text);
            }
            None => {
                anyhow::ensure!(!prove.prove, "--prove needs an EPOCH (lists have no proof)");
                let (page, height) = lib::metrics_page(&ctx.client()?, limit, after).await?;
                ctx.emit(
                    json!({ "metrics": page.items, "next": page.next, "height": height }),
                    || {
                        page_text(
                            render::issuance::metrics_list_text(&page.items),
                            page.next.as_ref(),
                            false,
                            height,
                        )
                    },
                );
            }
        },
        IssuanceQueryCmd::Vesting { address, prove } => {
            let address = resolve_address(ctx, &address).context("ADDRESS")?;
            if prove.prove {
                let v = prove_record(ctx, &Record::VestingSchedule(address), &prove).await?;
                let time = v.header.time.clone();
                let (summary, claimable) = match decode_value::<VestingSchedule>(&v)? {
                    Some(s) => {
                        let at = header_unix_seconds(&time);
                        let claimable = at.map(|t| s.claimable_at(t));
                        let text = render::issuance::schedule_text(&s).replace('\n', "\n  ");
                        let line = match claimable {
                            Some(c) => {
                                format!("\n  claimable at the header's time ({time}): {c} unop")
                            }
                            None => String::new(),
                        };
                        (text + &line, claimable)
                    }
                    None => (format!("{address} has no vesting schedule"), None),
                };
                emit_verified(
                    ctx,
                    &v,
                    &summary,
                    json!({ "claimable_at_header_time": claimable.map(|c| c.to_string()) }),
                );
                return Ok(());
            }
            let (v, height) = lib::vesting(&ctx.client()?, &address).await?;
            ctx.emit(json!({ "vesting": v, "height": height }), || {
                format!(
                    "{}\n{}",
                    render::issuance::vesting_text(&v),
                    listing_note(height)
                )
            });
        }
    }
    Ok(())
}

/// Unix seconds of an RFC 3339 header time.
fn header_unix_seconds(time: &str) -> Option<i64> {
    tendermint::Time::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.unix_timestamp())
}
