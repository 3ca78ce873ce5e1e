//! Coprocessors and auctions for people: a coprocessor with its collateral and load, an
//! auction with its price schedule and outcome, a bid, and their listings.

use std::fmt::Write as _;

use nodeop_app::modules::coprocessors::{Auction, AuctionStatus, Bid, Coprocessor};

use crate::amount::{describe, format_ppm};
use crate::coprocessors::{AuctionPriceView, CoprocessorLoadView};

/// A coprocessor record, with its load when known (the load is a latest-height answer).
pub fn coprocessor_text(c: &Coprocessor, load: Option<&CoprocessorLoadView>) -> String {
    let mut out = format!(
        "coprocessor:       {}\nmoniker:           {:?}\ncapacity:          {} units ({} reserved by won auctions, {} free)\ncollateral:        {} free, {} locked, {} pending withdrawal\nregistered at:     height {}",
        c.address,
        c.moniker,
        c.capacity_units,
        c.reserved_units,
        c.free_units(),
        describe(c.free_collateral),
        describe(c.locked_collateral),
        describe(c.pending_collateral),
        c.registered_height,
    );
    if let Some(l) = load {
        write!(
            out,
            "\nfree capacity:     {} (early access to auctions)\nload state:        {} (slash amplification {}, reward weight {})\nreputation:        effective {} (Byzantine factor {})",
            format_ppm(l.free_ppm),
            format_ppm(l.load_ppm),
            format_ppm(l.load_amplification_ppm),
            format_ppm(l.reward_weight_ppm),
            format_ppm(l.effective_score_ppm),
            format_ppm(l.byz_factor_ppm),
        )
        .ok();
    }
    out
}

/// A table of coprocessors.
pub fn coprocessors_text(list: &[Coprocessor]) -> String {
    if list.is_empty() {
        return "no coprocessors".into();
    }
    let mut out = format!(
        "{:<46} {:<16} {:>9} {:>9} {:>22} {:>22}",
        "address", "moniker", "capacity", "reserved", "free collateral", "locked collateral"
    );
    for c in list {
        write!(
            out,
            "\n{:<46} {:<16} {:>9} {:>9} {:>22} {:>22}",
            c.address.to_string(),
            c.moniker.chars().take(16).collect::<String>(),
            c.capacity_units,
            c.reserved_units,
            describe(c.free_collateral),
            describe(c.locked_collateral),
        )
        .ok();
    }
    out
}

/// An auction record, with its current price when it is open and the price is known.
pub fn auction_text(a: &Auction, price: Option<&AuctionPriceView>) -> String {
    let mut out = format!(
        "auction:           {}\ntask:              {}\nmember:            {}\nstatus:            {}\ndifficulty:        {} units (min reputation {})\nexpected pay:      {}\nprice:             from {} down {} every {} block(s) to the floor {}\nopened at:         height {} (commit window ends at {}; expires at the end of {} if unsold)",
        a.id,
        a.task_id,
        a.member,
        a.status.name(),
        a.difficulty_units,
        format_ppm(a.min_reputation_ppm),
        describe(a.expected_pay),
        describe(a.start_price),
        describe(a.step),
        a.interval_blocks,
        describe(a.floor_price),
        a.opened_height,
        a.commit_end,
        a.expires_height,
    );
    if let Some(p) = price.filter(|_| a.status == AuctionStatus::Open) {
        write!(
            out,
            "\nprice now:         {} at height {} ({} for a bid in the next block)",
            describe(p.price_now),
            p.height,
            describe(p.price_next_block),
        )
        .ok();
    }
    if let Some(w) = &a.winner {
        write!(
            out,
            "\nwon by:            {w} at height {} for {} ({} bid(s) in that block), {} of its collateral locked",
            a.won_height.map(|h| h.to_string()).unwrap_or_else(|| "?".into()),
            describe(a.price),
            a.bids,
            describe(a.collateral_locked),
        )
        .ok();
    }
    match a.status {
        AuctionStatus::Paid => {
            write!(
                out,
                "\noutcome:           agreed; the coprocessor was paid {}",
                describe(a.paid)
            )
            .ok();
        }
        AuctionStatus::Slashed | AuctionStatus::Missed => {
            write!(
                out,
                "\noutcome:           {}; {} of the coprocessor's collateral was slashed",
                if a.status == AuctionStatus::Slashed {
                    "disagreed with the aggregate"
                } else {
                    "missed its commit or reveal"
                },
                describe(a.slashed)
            )
            .ok();
        }
        AuctionStatus::Released => {
            out.push_str(
                "\noutcome:           the round finalized nothing; the collateral was released",
            );
        }
        AuctionStatus::Expired => {
            out.push_str("\noutcome:           no winning bid in time; the member executes itself");
        }
        AuctionStatus::Open | AuctionStatus::Won => {}
    }
    if let Some(h) = a.closed_height {
        write!(out, "\nclosed at:         height {h}").ok();
    }
    out
}

/// A bid record: where and at what price it was placed, what ranked it in its block's
/// settlement, and whether it won.
pub fn bid_text(b: &Bid) -> String {
    format!(
        "bid:               on auction {} by {}\nplaced at:         height {}, price {}\nranked by:         effective reputation {}, {} free unit(s) when placed\nwon:               {}",
        b.auction_id,
        b.bidder,
        b.height,
        describe(b.price),
        format_ppm(b.effective_score_ppm),
        b.free_units,
        if b.won {
            "yes"
        } else {
            "no (the auction's record says who won, if anyone)"
        },
    )
}

/// A table of auctions.
pub fn auctions_text(list: &[Auction]) -> String {
    if list.is_empty() {
        return "no auctions".into();
    }
    let mut out = format!(
        "{:>6} {:>6} {:<46} {:<8} {:>18} {:>18} {:<46}",
        "id", "task", "member", "status", "start", "price", "winner"
    );
    for a in list {
        write!(
            out,
            "\n{:>6} {:>6} {:<46} {:<8} {:>18} {:>18} {:<46}",
            a.id,
            a.task_id,
            a.member.to_string(),
            a.status.name(),
            describe(a.start_price),
            if a.winner.is_some() {
                describe(a.price)
            } else {
                "-".into()
            },
            a.winner
                .map(|w| w.to_string())
                .unwrap_or_else(|| "-".into()),
        )
        .ok();
    }
    out
}
