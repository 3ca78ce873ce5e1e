//! `nodeop tx coprocessor …`, `nodeop tx auction …`, `nodeop query coprocessor(s)`,
//! `nodeop query auction(s)` and `nodeop query auction-bid`: the command line over [`nodeop_client::coprocessors`]
//! (docs/coprocessors.md).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use nodeop_app::modules::coprocessors::{
    events, Auction, AuctionStatus, Bid, Coprocessor, MsgAddCollateral, MsgBid, MsgEditCoprocessor,
    MsgOpenAuction, MsgRegisterCoprocessor, MsgWithdrawCollateral,
};
use nodeop_client::amount::{describe, parse_amount};
use nodeop_client::coprocessors::{self as copro, AuctionFilter};
use nodeop_client::node::{self, TxOutcome};
use nodeop_client::render;
use nodeop_client::tasks::reads;
use nodeop_client::verify::Record;
use serde_json::json;

use super::proof::{
    decode_value, emit_proven, emit_unverified, emit_verified, page_text, prove_record, ProveArgs,
};
use super::submit::{submit_tx, submit_tx_outcome, TxFlags};
use super::tasks::check_member;
use super::{load_key, parse_cursor, print_stdout, resolve_address, Ctx};

#[derive(Subcommand)]
pub(crate) enum CoprocessorTxCmd {
    /// Register FROM as a coprocessor: it offers --capacity units and moves --collateral from
    /// its balance into the coprocessor collateral account (free collateral, at least the
    /// chain's min_collateral).
    Register {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        /// Capacity offered to auctions, in difficulty units (≥ 1).
        #[arg(long, value_name = "UNITS")]
        capacity: u64,
        /// Collateral moved from FROM's balance (`100nop`, `100000000unop`).
        #[arg(long, value_name = "AMOUNT")]
        collateral: String,
        /// Public name, at most 64 bytes, no control characters.
        #[arg(long)]
        moniker: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Change FROM's capacity and/or moniker; give at least one (the capacity never below the
    /// units reserved by won auctions).
    #[command(group(
        clap::ArgGroup::new("edit")
            .required(true)
            .multiple(true)
            .args(["capacity", "moniker"])
    ))]
    Edit {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        #[arg(long, value_name = "UNITS")]
        capacity: Option<u64>,
        #[arg(long)]
        moniker: Option<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Add AMOUNT of FROM's balance to its free collateral.
    AddCollateral {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// Withdraw AMOUNT of FROM's free collateral: it is pending until it is paid to FROM's
    /// account withdrawal_delay_blocks later.
    Withdraw {
        /// The signer: a key name (or a key's address) in HOME/keyring.
        from: String,
        amount: String,
        #[command(flatten)]
        flags: TxFlags,
    },
}

#[derive(Subcommand)]
pub(crate) enum AuctionTxCmd {
    /// As a member of TASK_ID's committee, sell your slot in a Dutch auction: the price falls
    /// from --start-price by a step per interval to --floor-price; the winning coprocessor
    /// commits and reveals for the slot and is paid the price out of your pay.
    Open {
        /// The member's operator account: a key name (or a key's address) in HOME/keyring.
        from: String,
        task_id: u64,
        /// The opening price (default: the member's expected pay, the most the chain accepts).
        #[arg(long, value_name = "AMOUNT")]
        start_price: Option<String>,
        /// The lowest price (default: half the start price).
        #[arg(long, value_name = "AMOUNT")]
        floor_price: Option<String>,
        #[command(flatten)]
        flags: TxFlags,
    },
    /// As a coprocessor, bid on AUCTION_ID at the price of the block the bid lands in; the
    /// block's bids are settled at its end (by reputation, free capacity, then a seeded hash).
    Bid {
        /// The coprocessor: a key name (or a key's address) in HOME/keyring.
        from: String,
        auction_id: u64,
        #[command(flatten)]
        flags: TxFlags,
    },
}

/// The filters and page of an auction listing.
#[derive(Args, Clone)]
pub(crate) struct AuctionListArgs {
    /// Only auctions of this task.
    #[arg(long, value_name = "ID")]
    task: Option<u64>,
    /// Only auctions opened by this member (address or key name).
    #[arg(long)]
    member: Option<String>,
    /// Only auctions won by this coprocessor (address or key name).
    #[arg(long)]
    coprocessor: Option<String>,
    /// Only open auctions (default: every status).
    #[arg(long)]
    open: bool,
    /// Auctions per page (the node's default 100, at most 1000).
    #[arg(long)]
    limit: Option<u32>,
    /// Start after this auction id (the previous page's `next`).
    #[arg(long, value_name = "ID")]
    after: Option<u64>,
}

// ---------------------------------------------------------------- txs

pub(crate) async fn coprocessor_tx(ctx: &Ctx, cmd: CoprocessorTxCmd) -> Result<()> {
    match cmd {
        CoprocessorTxCmd::Register {
            from,
            capacity,
            collateral,
            moniker,
            flags,
        } => {
            let collateral = parse_amount(&collateral).context("--collateral")?;
            let msg = MsgRegisterCoprocessor {
                capacity_units: capacity,
                collateral,
                moniker,
            };
            submit_tx(ctx, &from, vec![msg.into()], &flags).await
        }
        CoprocessorTxCmd::Edit {
            from,
            capacity,
            moniker,
            flags,
        } => {
            let msg = MsgEditCoprocessor {
                capacity_units: capacity,
                moniker,
            };
            submit_tx(ctx, &from, vec![msg.into()], &flags).await
        }
        CoprocessorTxCmd::AddCollateral {
            from,
            amount,
            flags,
        } => {
            let amount = parse_amount(&amount).context("AMOUNT")?;
            submit_tx(ctx, &from, vec![MsgAddCollateral { amount }.into()], &flags).await
        }
        CoprocessorTxCmd::Withdraw {
            from,
            amount,
            flags,
        } => {
            let amount = parse_amount(&amount).context("AMOUNT")?;
            let outcome = submit_tx_outcome(
                ctx,
                &from,
                vec![MsgWithdrawCollateral { amount }.into()],
                &flags,
            )
            .await?;
            if !ctx.json {
                if let Some(h) =
                    node::event_attribute(&outcome, events::WITHDRAWAL_QUEUED, "maturity_height")
                {
                    print_stdout(&format!(
                        "{} pending; paid to the account at the end of height {h}",
                        describe(amount)
                    ));
                }
            }
            Ok(())
        }
    }
}

/// The member's expected pay for its slot of `task_id`, after checking it sits on the task's
/// current committee (what the chain would refuse is refused here first).
async fn expected_pay_of(
    ctx: &Ctx,
    client: &tendermint_rpc::HttpClient,
    member: &nodeop_app::crypto::Address,
    task_id: u64,
) -> Result<u128> {
    let (t, height) = reads::task(client, task_id, None)
        .await
        .with_context(|| format!("reading task {task_id}"))?;
    check_member(&t, member, "an auction")?;
    let (params, _) = reads::params(client, Some(height)).await?;
    let pay = copro::member_expected_pay(&t, &params)?;
    if !ctx.json {
        eprintln!(
            "expected pay of {member}'s slot of task {task_id}: {} (fee {}, committee of {})",
            describe(pay),
            describe(t.fee),
            t.current_round().members.len()
        );
    }
    Ok(pay)
}

pub(crate) async fn auction_tx(ctx: &Ctx, cmd: AuctionTxCmd) -> Result<()> {
    match cmd {
        AuctionTxCmd::Open {
            from,
            task_id,
            start_price,
            floor_price,
            flags,
        } => {
            let start = start_price
                .as_deref()
                .map(parse_amount)
                .transpose()
                .context("--start-price")?;
            let floor = floor_price
                .as_deref()
                .map(parse_amount)
                .transpose()
                .context("--floor-price")?;
            if let (Some(s), Some(f)) = (start, floor) {
                if f > s {
                    bail!(
                        "--floor-price {} is above --start-price {}",
                        describe(f),
                        describe(s)
                    );
                }
            }
            let (_, key) = load_key(ctx, &from)?;
            let client = ctx.client()?;
            let expected = expected_pay_of(ctx, &client, &key.address(), task_id).await?;
            let (start_price, floor_price) = copro::default_prices(expected, start, floor)?;
            let msg = MsgOpenAuction {
                task_id,
                start_price,
                floor_price,
            };
            let outcome = submit_tx_outcome(ctx, &from, vec![msg.into()], &flags).await?;
            opened_hint(ctx, &outcome);
            Ok(())
        }
        AuctionTxCmd::Bid {
            from,
            auction_id,
            flags,
        } => {
            let (_, key) = load_key(ctx, &from)?;
            let bidder = key.address();
            let client = ctx.client()?;
            // refuse a bid on an auction that is not open before signing anything
            let (a, _) = copro::auction(&client, auction_id, None)
                .await
                .with_context(|| format!("reading auction {auction_id}"))?;
            if a.status != AuctionStatus::Open {
                bail!(
                    "auction {auction_id} is {}: only open auctions take bids",
                    a.status.name()
                );
            }
            if a.member == bidder {
                bail!("{bidder} opened auction {auction_id}: a member cannot bid on its own slot");
            }
            let outcome =
                submit_tx_outcome(ctx, &from, vec![MsgBid { auction_id }.into()], &flags).await?;
            bid_hint(ctx, &client, auction_id, &bidder, &outcome).await;
            Ok(())
        }
    }
}

fn opened_hint(ctx: &Ctx, outcome: &TxOutcome) {
    if ctx.json {
        return;
    }
    if let Some(id) = node::event_attribute(outcome, events::AUCTION_OPENED, "auction") {
        print_stdout(&format!("opened auction {id}: nodeop query auction {id}"));
    }
}

/// After an included bid: whether it won in its block (bids are settled at the block's end).
async fn bid_hint(
    ctx: &Ctx,
    client: &tendermint_rpc::HttpClient,
    auction_id: u64,
    bidder: &nodeop_app::crypto::Address,
    outcome: &TxOutcome,
) {
    if ctx.json {
        return;
    }
    let Some(height) = outcome.included.as_ref().map(|r| r.height) else {
        return;
    };
    match copro::auction(client, auction_id, Some(height)).await {
        Ok((a, _)) if a.winner == Some(*bidder) => print_stdout(&format!(
            "won auction {auction_id} at height {height} for {} ({} locked): commit and reveal with `nodeop tx task commit|reveal` for task {}",
            describe(a.price),
            describe(a.collateral_locked),
            a.task_id
        )),
        Ok((a, _)) => print_stdout(&format!(
            "auction {auction_id} is {} after block {height}{}",
            a.status.name(),
            a.winner
                .map(|w| format!(" (won by {w})"))
                .unwrap_or_default()
        )),
        Err(e) => eprintln!("warning: reading auction {auction_id} at {height}: {e:#}"),
    }
}

// ---------------------------------------------------------------- queries

pub(crate) async fn coprocessor_query(ctx: &Ctx, address: &str, prove: &ProveArgs) -> Result<()> {
    let address = resolve_address(ctx, address).context("ADDRESS")?;
    if prove.prove {
        let v = prove_record(ctx, &Record::Coprocessor(address), prove).await?;
        let summary = match decode_value::<Coprocessor>(&v)? {
            Some(c) => render::coprocessors::coprocessor_text(&c, None).replace('\n', "\n  "),
            None => format!("no coprocessor at {address}"),
        };
        emit_verified(ctx, &v, &summary, json!({}));
        return Ok(());
    }
    let client = ctx.client()?;
    let (c, height) = copro::coprocessor(&client, &address, prove.height).await?;
    // load and reputation are computed at the latest height only
    let load = if prove.height.is_none() {
        Some(copro::load(&client, &address).await?.0)
    } else {
        None
    };
    ctx.emit(
        json!({ "coprocessor": c, "load": load, "height": height }),
        || {
            format!(
                "{}\nheight:            {height} (not verified; add --prove)",
                render::coprocessors::coprocessor_text(&c, load.as_ref())
            )
        },
    );
    Ok(())
}

pub(crate) async fn coprocessors_query(
    ctx: &Ctx,
    limit: Option<u32>,
    after: Option<&str>,
) -> Result<()> {
    let after = parse_cursor(after, "--after")?;
    let client = ctx.client()?;
    let (page, height) = copro::coprocessors(&client, limit, after.as_ref()).await?;
    ctx.emit(
        json!({ "coprocessors": page.items, "next": page.next, "height": height }),
        || {
            page_text(
                render::coprocessors::coprocessors_text(&page.items),
                page.next.as_ref(),
                false,
                height,
            )
        },
    );
    Ok(())
}

pub(crate) async fn auction_query(ctx: &Ctx, id: u64, prove: &ProveArgs) -> Result<()> {
    if prove.prove {
        let v = prove_record(ctx, &Record::Auction(id), prove).await?;
        let auction = decode_value::<Auction>(&v)?;
        // the price follows from the proven record and its height alone
        let price_at = auction
            .as_ref()
            .filter(|a| a.status == AuctionStatus::Open)
            .map(|a| a.price_at(v.height));
        let summary = match &auction {
            Some(a) => {
                let mut s = render::coprocessors::auction_text(a, None);
                if let Some(p) = price_at {
                    s.push_str(&format!(
                        "\nprice at {}:     {} (from the proven record)",
                        v.height,
                        describe(p)
                    ));
                }
                s.replace('\n', "\n  ")
            }
            None => format!("no auction {id}"),
        };
        emit_verified(
            ctx,
            &v,
            &summary,
            json!({ "price_at_height": price_at.map(|p| p.to_string()) }),
        );
        return Ok(());
    }
    let client = ctx.client()?;
    let (a, height) = copro::auction(&client, id, prove.height).await?;
    let price = if a.status == AuctionStatus::Open && prove.height.is_none() {
        Some(copro::price(&client, id).await?.0)
    } else {
        None
    };
    ctx.emit(
        json!({ "auction": a, "price": price, "height": height }),
        || {
            format!(
                "{}\nheight:            {height} (not verified; add --prove)",
                render::coprocessors::auction_text(&a, price.as_ref())
            )
        },
    );
    Ok(())
}

pub(crate) async fn auction_bid_query(
    ctx: &Ctx,
    auction_id: u64,
    bidder: &str,
    prove: &ProveArgs,
) -> Result<()> {
    let bidder = resolve_address(ctx, bidder).context("BIDDER")?;
    if prove.prove {
        let record = Record::AuctionBid {
            auction: auction_id,
            bidder,
        };
        return emit_proven::<Bid>(
            ctx,
            record,
            prove,
            render::coprocessors::bid_text,
            &format!("no bid by {bidder} on auction {auction_id}"),
        )
        .await;
    }
    let client = ctx.client()?;
    let (b, height) = copro::bid(&client, auction_id, &bidder, prove.height).await?;
    emit_unverified(ctx, "bid", &b, height, render::coprocessors::bid_text);
    Ok(())
}

pub(crate) async fn auctions_query(ctx: &Ctx, args: AuctionListArgs) -> Result<()> {
    let filter = AuctionFilter {
        open_only: args.open,
        task: args.task,
        member: args
            .member
            .map(|m| resolve_address(ctx, &m))
            .transpose()
            .context("--member")?,
        coprocessor: args
            .coprocessor
            .map(|c| resolve_address(ctx, &c))
            .transpose()
            .context("--coprocessor")?,
    };
    let client = ctx.client()?;
    let (page, height) = copro::auctions(&client, &filter, args.limit, args.after).await?;
    ctx.emit(
        json!({ "auctions": page.items, "next": page.next, "height": height }),
        || {
            page_text(
                render::coprocessors::auctions_text(&page.items),
                page.next.as_ref(),
                false,
                height,
            )
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Command, QueryCmd, TxCmd};

    fn coprocessor_tx(args: &[&str]) -> Result<CoprocessorTxCmd, clap::Error> {
        let mut all = vec!["tx", "coprocessor"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Coprocessor(cmd)) => Ok(cmd),
            _ => panic!("not a coprocessor tx"),
        }
    }

    fn auction_tx(args: &[&str]) -> Result<AuctionTxCmd, clap::Error> {
        let mut all = vec!["tx", "auction"];
        all.extend_from_slice(args);
        match parse(&all)?.command {
            Command::Tx(TxCmd::Auction(cmd)) => Ok(cmd),
            _ => panic!("not an auction tx"),
        }
    }

    #[test]
    fn register_needs_capacity_collateral_and_moniker() {
        let CoprocessorTxCmd::Register {
            from,
            capacity,
            collateral,
            moniker,
            flags,
        } = coprocessor_tx(&[
            "register",
            "carol",
            "--capacity",
            "4",
            "--collateral",
            "1.5nop",
            "--moniker",
            "gpu-1",
        ])
        .unwrap()
        else {
            panic!("not register");
        };
        assert_eq!(
            (from.as_str(), capacity, moniker.as_str()),
            ("carol", 4, "gpu-1")
        );
        assert_eq!(parse_amount(&collateral).unwrap(), 1_500_000);
        assert_eq!(flags.timeout, 30);
        for missing in [
            &["register", "c", "--collateral", "1", "--moniker", "m"][..],
            &["register", "c", "--capacity", "1", "--moniker", "m"],
            &["register", "c", "--capacity", "1", "--collateral", "1"],
            &[
                "register",
                "--capacity",
                "1",
                "--collateral",
                "1",
                "--moniker",
                "m",
            ],
        ] {
            assert!(coprocessor_tx(missing).is_err(), "{missing:?}");
        }
        // a capacity is a number of units
        assert!(coprocessor_tx(&[
            "register",
            "c",
            "--capacity",
            "four",
            "--collateral",
            "1",
            "--moniker",
            "m"
        ])
        .is_err());
        assert!(coprocessor_tx(&[
            "register",
            "c",
            "--capacity",
            "-1",
            "--collateral",
            "1",
            "--moniker",
            "m"
        ])
        .is_err());
    }

    #[test]
    fn edit_needs_a_field_and_collateral_txs_take_an_amount() {
        assert!(coprocessor_tx(&["edit", "c"]).is_err());
        assert!(matches!(
            coprocessor_tx(&["edit", "c", "--capacity", "9"]).unwrap(),
            CoprocessorTxCmd::Edit {
                capacity: Some(9),
                moniker: None,
                ..
            }
        ));
        assert!(matches!(
            coprocessor_tx(&["edit", "c", "--moniker", "x", "--capacity", "2"]).unwrap(),
            CoprocessorTxCmd::Edit { capacity: Some(2), moniker: Some(m), .. } if m == "x"
        ));
        assert!(matches!(
            coprocessor_tx(&["add-collateral", "c", "2nop", "--no-wait"]).unwrap(),
            CoprocessorTxCmd::AddCollateral { amount, flags, .. } if amount == "2nop" && flags.no_wait
        ));
        assert!(coprocessor_tx(&["add-collateral", "c"]).is_err());
        assert!(matches!(
            coprocessor_tx(&["withdraw", "c", "1500000unop", "--fee", "5"]).unwrap(),
            CoprocessorTxCmd::Withdraw { amount, flags, .. }
                if amount == "1500000unop" && flags.fee.as_deref() == Some("5")
        ));
        assert!(coprocessor_tx(&["withdraw", "c"]).is_err());
    }

    #[test]
    fn auction_open_prices_are_optional_and_bid_takes_an_id() {
        assert!(matches!(
            auction_tx(&["open", "operator", "7"]).unwrap(),
            AuctionTxCmd::Open {
                task_id: 7,
                start_price: None,
                floor_price: None,
                ..
            }
        ));
        let AuctionTxCmd::Open {
            from,
            start_price,
            floor_price,
            ..
        } = auction_tx(&[
            "open",
            "operator",
            "7",
            "--start-price",
            "10nop",
            "--floor-price",
            "2000000unop",
        ])
        .unwrap()
        else {
            panic!("not open");
        };
        assert_eq!(from, "operator");
        assert_eq!(parse_amount(&start_price.unwrap()).unwrap(), 10_000_000);
        assert_eq!(parse_amount(&floor_price.unwrap()).unwrap(), 2_000_000);
        assert!(auction_tx(&["open", "operator"]).is_err());
        assert!(auction_tx(&["open", "operator", "seven"]).is_err());
        assert!(matches!(
            auction_tx(&["bid", "carol", "3", "--nonce", "4"]).unwrap(),
            AuctionTxCmd::Bid { auction_id: 3, flags, .. } if flags.nonce == Some(4)
        ));
        assert!(auction_tx(&["bid", "carol"]).is_err());
        assert!(auction_tx(&["bid", "carol", "-3"]).is_err());
    }

    #[test]
    fn coprocessor_and_auction_queries_parse() {
        let q = |args: &[&str]| {
            let mut all = vec!["query"];
            all.extend_from_slice(args);
            parse(&all).map(|c| match c.command {
                Command::Query(q) => q,
                _ => panic!("not a query"),
            })
        };
        assert!(matches!(
            q(&["coprocessor", "carol", "--prove", "--height", "5"]).unwrap(),
            QueryCmd::Coprocessor {
                prove: ProveArgs {
                    prove: true,
                    height: Some(5),
                    ..
                },
                ..
            }
        ));
        assert!(q(&["coprocessor"]).is_err());
        assert!(matches!(
            q(&["coprocessors", "--limit", "2", "--after", "x"]).unwrap(),
            QueryCmd::Coprocessors { limit: Some(2), after: Some(a) } if a == "x"
        ));
        assert!(q(&["coprocessors", "--prove"]).is_err());
        assert!(matches!(
            q(&["auction", "4", "--prove"]).unwrap(),
            QueryCmd::Auction {
                id: 4,
                prove: ProveArgs { prove: true, .. }
            }
        ));
        assert!(q(&["auction", "four"]).is_err());
        let QueryCmd::Auctions(args) = q(&[
            "auctions",
            "--task",
            "3",
            "--member",
            "m",
            "--coprocessor",
            "c",
            "--open",
            "--limit",
            "10",
            "--after",
            "2",
        ])
        .unwrap() else {
            panic!("not auctions");
        };
        assert_eq!(args.task, Some(3));
        assert_eq!(args.member.as_deref(), Some("m"));
        assert_eq!(args.coprocessor.as_deref(), Some("c"));
        assert!(args.open);
        assert_eq!((args.limit, args.after), (Some(10), Some(2)));
        let QueryCmd::Auctions(args) = q(&["auctions"]).unwrap() else {
            panic!("not auctions");
        };
        assert!(!args.open && args.task.is_none() && args.after.is_none());
        assert!(q(&["auctions", "--after", "x"]).is_err());
        assert!(q(&["auctions", "--prove"]).is_err());
        assert!(matches!(
            q(&["auction-bid", "4", "carol", "--prove", "--height", "9"]).unwrap(),
            QueryCmd::AuctionBid {
                auction_id: 4,
                bidder,
                prove: ProveArgs {
                    prove: true,
                    height: Some(9),
                    ..
                },
            } if bidder == "carol"
        ));
        assert!(matches!(
            q(&["auction-bid", "4", "carol"]).unwrap(),
            QueryCmd::AuctionBid {
                prove: ProveArgs {
                    prove: false,
                    height: None,
                    ..
                },
                ..
            }
        ));
        assert!(q(&["auction-bid", "4"]).is_err());
        assert!(q(&["auction-bid", "carol", "4"]).is_err());
    }
}
