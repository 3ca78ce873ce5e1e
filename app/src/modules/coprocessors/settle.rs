//! What happens at block boundaries: the block's bids are settled, unsold auctions expire,
//! matured withdrawals are paid (end block); coprocessor reputations take the epoch step (begin
//! block); and a sold slot's round closing pays, slashes or releases its buyer (the
//! `slot_closed` hook tasks calls from its end block).

use super::handler::{bid_refusal, collateral_for};
use super::keys;
use super::state::{
    self, auction, coprocessor, params, put_auction, put_coprocessor, update_reputation, Auction,
    AuctionStatus, Bid, Withdrawal,
};
use crate::block::BlockCtx;
use crate::crypto::sha256;
use crate::events::Event;
use crate::hooks::{SlotOutcome, SoldSlot};
use crate::modules::bank::{self, move_or_halt};
use crate::modules::{issuance, reputation, staking, tasks};
use crate::num::ppm_of;
use crate::state::{decode_stored, fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

/// Domain of the tie-break hash `SHA-256(seed ‖ bidder)`.
pub const DOMAIN_BID_TIEBREAK: &[u8] = b"coprocessors/bid";

pub fn end_block(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let mut events = Vec::new();
    // 1. the block's bids, auction by auction in id order
    for (k, _) in state.prefix_raw(keys::BIDDING_PREFIX, None, usize::MAX) {
        state.delete(k.clone());
        let Some(id) = crate::state::keys::trailing_id(&k) else {
            fatal("coprocessors: malformed bidding key");
        };
        events.extend(settle_bids(state, ctx, id));
    }
    // 2. auctions that reached their expiry unsold (the queue is read only up to this height)
    for (k, _) in due_entries(state, keys::EXPIRY_PREFIX, ctx.height) {
        state.delete(k.clone());
        let Some(id) = crate::state::keys::trailing_id(&k) else {
            fatal("coprocessors: malformed expiry key");
        };
        let Some(mut a) = auction(state, id) else {
            fatal(&format!("coprocessors: expiry names missing auction {id}"));
        };
        if a.status != AuctionStatus::Open {
            fatal(&format!(
                "coprocessors: auction {id} is due to expire but {}",
                a.status.name()
            ));
        }
        a.status = AuctionStatus::Expired;
        a.closed_height = Some(ctx.height);
        state::schedule_prune(state, &a);
        state.delete(keys::open(id));
        tasks::state::withdraw_offer(state, a.task_id, &a.member);
        put_auction(state, &a);
        events.push(
            Event::new(super::events::AUCTION_EXPIRED)
                .attr("auction", id)
                .attr("task", a.task_id)
                .attr("member", a.member),
        );
    }
    // 3. matured withdrawals
    for (k, v) in due_entries(state, keys::WITHDRAWAL_PREFIX, ctx.height) {
        let w: Withdrawal = decode_stored(&k, &v);
        state.delete(k);
        let Some(mut c) = coprocessor(state, &w.coprocessor) else {
            fatal(&format!(
                "coprocessors: withdrawal {} of unknown {}",
                w.id, w.coprocessor
            ));
        };
        let Some(pending) = c.pending_collateral.checked_sub(w.amount) else {
            fatal(&format!(
                "coprocessors: withdrawal {} exceeds {}'s pending collateral",
                w.id, w.coprocessor
            ));
        };
        c.pending_collateral = pending;
        put_coprocessor(state, &c);
        move_or_halt(
            state,
            &bank::COPROCESSOR_COLLATERAL.address(),
            &w.coprocessor,
            w.amount,
        );
        events.push(
            Event::new(super::events::WITHDRAWAL_PAID)
                .attr("coprocessor", w.coprocessor)
                .attr("id", w.id)
                .attr("amount", w.amount),
        );
    }
    // 4. closed auctions whose retention ended: the record, its bids and its index entries
    for (k, _) in due_entries(state, keys::PRUNE_PREFIX, ctx.height) {
        state.delete(k.clone());
        let Some(id) = crate::state::keys::trailing_id(&k) else {
            fatal("coprocessors: malformed prune key");
        };
        let Some(a) = auction(state, id) else {
            fatal(&format!("coprocessors: prune names missing auction {id}"));
        };
        if a.closed_height.is_none() {
            fatal(&format!(
                "coprocessors: auction {id} is due to be pruned but {}",
                a.status.name()
            ));
        }
        // while its task still runs commit–reveal, the record keeps its slot from a second
        // auction: look again one retention later
        let running = tasks::state::task(state, a.task_id)
            .is_some_and(|t| t.status == tasks::TaskStatus::Assigned);
        if running {
            let retention = tasks::state::params(state).task_retention;
            state.put_raw(
                keys::prune(ctx.height.saturating_add(retention), id),
                vec![1],
            );
            continue;
        }
        state::delete_auction(state, &a);
    }
    events
}

/// The entries of a queue keyed `{prefix}{height:8 BE}/…` due at or before `height`, in key
/// order, read a page at a time so that a long queue of later entries is not loaded.
fn due_entries(state: &impl StateRead, prefix: &[u8], height: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let page = state.prefix_raw(prefix, cursor.as_deref(), 64);
        let Some((last, _)) = page.last() else {
            return out;
        };
        cursor = Some(last.clone());
        for (k, v) in page {
            match keys::height_at(&k, prefix.len()) {
                Some(h) if h <= height => out.push((k, v)),
                Some(_) => return out,
                None => fatal("coprocessors: malformed queue key"),
            }
        }
    }
}

/// The bids auction `id` received in this block: ranked by effective reputation (higher
/// first), then free capacity (more first), then `SHA-256(seed ‖ bidder)` (smaller first) —
/// never by their order in the block. The first that can still take the slot wins at this
/// height's price.
fn settle_bids(state: &mut impl StateWrite, ctx: &BlockCtx, id: u64) -> Vec<Event> {
    let Some(mut a) = auction(state, id) else {
        fatal(&format!("coprocessors: bids on missing auction {id}"));
    };
    if a.status != AuctionStatus::Open {
        fatal(&format!(
            "coprocessors: bids settled on auction {id}, which is {}",
            a.status.name()
        ));
    }
    let seed = tasks::sampling::seed(ctx, DOMAIN_BID_TIEBREAK, id);
    let mut bids: Vec<(Bid, [u8; 32])> = state::bids_of(state, id)
        .into_iter()
        .filter(|b| b.height == ctx.height)
        .map(|b| {
            let h = sha256(&[&seed, &b.bidder.0]);
            (b, h)
        })
        .collect();
    bids.sort_by(|(x, hx), (y, hy)| {
        y.effective_score_ppm
            .cmp(&x.effective_score_ppm)
            .then(y.free_units.cmp(&x.free_units))
            .then(hx.cmp(hy))
    });
    let p = params(state);
    let price = a.price_at(ctx.height);
    for (mut b, _) in bids.iter().cloned() {
        let Some(mut c) = coprocessor(state, &b.bidder) else {
            continue;
        };
        if bid_refusal(state, &a, &c, ctx.height).is_some() {
            continue;
        }
        let Some(lock) = collateral_for(price, p.collateral_ppm) else {
            continue;
        };
        // bid_refusal checked both
        c.free_collateral -= lock;
        c.locked_collateral = c.locked_collateral.saturating_add(lock);
        c.reserved_units = c.reserved_units.saturating_add(a.difficulty_units);
        put_coprocessor(state, &c);
        a.status = AuctionStatus::Won;
        a.winner = Some(c.address);
        a.price = price;
        a.won_height = Some(ctx.height);
        a.collateral_locked = lock;
        a.bids = bids.len() as u32;
        state.delete(keys::open(id));
        state.delete(keys::expiry(a.expires_height, id));
        state.put_raw(keys::by_coprocessor(&c.address, id), vec![1]);
        b.won = true;
        state.put(keys::bid(id, &b.bidder), &b);
        tasks::state::sell_slot(state, a.task_id, &a.member, &c.address);
        put_auction(state, &a);
        return vec![Event::new(super::events::AUCTION_WON)
            .attr("auction", id)
            .attr("task", a.task_id)
            .attr("member", a.member)
            .attr("coprocessor", c.address)
            .attr("price", price)
            .attr("collateral_locked", lock)
            .attr("bids", bids.len())];
    }
    Vec::new()
}

/// The `slot_closed` hook: the round of a sold slot closed with `outcome`. Answers what was paid
/// to the buyer out of `task_escrow`.
pub fn slot_closed(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    slot: &SoldSlot,
    outcome: SlotOutcome,
) -> (u128, Vec<Event>) {
    let Some(mut a) = state::auction_of_slot(state, slot.task_id, &slot.member) else {
        fatal(&format!(
            "coprocessors: task {} sold {}'s slot without an auction",
            slot.task_id, slot.member
        ));
    };
    if a.status != AuctionStatus::Won || a.winner != Some(slot.coprocessor) {
        fatal(&format!(
            "coprocessors: auction {} closes a slot sold to {} but is {} (winner {:?})",
            a.id,
            slot.coprocessor,
            a.status.name(),
            a.winner
        ));
    }
    let Some(mut c) = coprocessor(state, &slot.coprocessor) else {
        fatal(&format!(
            "coprocessors: auction {} was won by unknown {}",
            a.id, slot.coprocessor
        ));
    };
    let Some(locked) = c.locked_collateral.checked_sub(a.collateral_locked) else {
        fatal(&format!(
            "coprocessors: {} has less locked than auction {} holds",
            c.address, a.id
        ));
    };
    // the capacity is released and its load counts toward the epoch's utilisation
    c.locked_collateral = locked;
    c.reserved_units = c.reserved_units.saturating_sub(a.difficulty_units);
    let held = ctx
        .height
        .saturating_sub(a.won_height.unwrap_or(ctx.height));
    let unit_blocks = u128::from(a.difficulty_units) * u128::from(held);
    let delay = slot
        .commit_height
        .map(|h| h.saturating_sub(slot.assigned_height.saturating_add(1)));
    let committed = slot.commit_height.is_some();
    let revealed = slot.reveal_height.is_some();
    update_reputation(state, &c.address, |r| {
        r.epoch_unit_blocks = r.epoch_unit_blocks.saturating_add(unit_blocks);
        if let Some(d) = delay {
            r.latency
                .record(reputation::score::commit_latency_ppm(d, slot.commit_blocks));
        }
        r.duties.record(if committed { 1_000_000 } else { 0 });
        r.duties.record(if revealed { 1_000_000 } else { 0 });
        match outcome {
            SlotOutcome::Agreed { .. } => r.results.record(1_000_000),
            SlotOutcome::Disagreed => {
                r.results.record(0);
                r.byz_factor_ppm = reputation::score::halve(r.byz_factor_ppm);
            }
            SlotOutcome::Missed | SlotOutcome::Unsettled => {}
        }
    });
    a.closed_height = Some(ctx.height);
    state::schedule_prune(state, &a);
    let mut events = Vec::new();
    let mut to_buyer = 0;
    let p = params(state);
    match outcome {
        SlotOutcome::Agreed { pay } => {
            to_buyer = a.price.min(pay);
            c.free_collateral = c.free_collateral.saturating_add(a.collateral_locked);
            move_or_halt(state, &bank::TASK_ESCROW.address(), &c.address, to_buyer);
            // the price is the coprocessor's work for the payout by work, weighted by its own
            // load state's reward weight (the member's work is the pay it kept)
            let weight = state::reward_weight_ppm(state, &c.address);
            issuance::record_weighted_work(state, &c.address, to_buyer, weight);
            a.status = AuctionStatus::Paid;
            a.paid = to_buyer;
            events.push(
                Event::new(super::events::COPROCESSOR_PAID)
                    .attr("auction", a.id)
                    .attr("task", a.task_id)
                    .attr("member", a.member)
                    .attr("coprocessor", c.address)
                    .attr("price", to_buyer)
                    .attr("member_kept", pay - to_buyer),
            );
        }
        SlotOutcome::Unsettled => {
            c.free_collateral = c.free_collateral.saturating_add(a.collateral_locked);
            a.status = AuctionStatus::Released;
            events.push(
                Event::new(super::events::COLLATERAL_RELEASED)
                    .attr("auction", a.id)
                    .attr("task", a.task_id)
                    .attr("coprocessor", c.address)
                    .attr("released", a.collateral_locked),
            );
        }
        SlotOutcome::Disagreed | SlotOutcome::Missed => {
            let (fraction, reason, status) = match outcome {
                SlotOutcome::Disagreed => (
                    p.coproc_mismatch_slash_ppm,
                    "result_mismatch",
                    AuctionStatus::Slashed,
                ),
                _ if committed => (
                    p.coproc_miss_slash_ppm,
                    "missed_reveal",
                    AuctionStatus::Missed,
                ),
                _ => (
                    p.coproc_miss_slash_ppm,
                    "missed_commit",
                    AuctionStatus::Missed,
                ),
            };
            // the offence's share of the locked collateral × the load amplification, capped
            // at what this auction locked; each product floored
            let amplification = state::load_amplification_ppm(state, &c.address);
            let amount = ppm_of(ppm_of(a.collateral_locked, fraction), amplification)
                .min(a.collateral_locked);
            let released = a.collateral_locked - amount;
            c.free_collateral = c.free_collateral.saturating_add(released);
            let split = slash_split(amount);
            let account = bank::COPROCESSOR_COLLATERAL.address();
            if split.burned > 0 {
                if let Err(e) = bank::burn(state, &account, split.burned) {
                    fatal(&format!(
                        "coprocessors: burning slashed collateral failed: {e}"
                    ));
                }
            }
            move_or_halt(
                state,
                &account,
                &bank::TREASURY.address(),
                split.to_reporter + split.to_treasury,
            );
            // a penalty of the issuance period, as a stake slash is (the epoch metrics count it)
            issuance::record_penalty(state, amount);
            a.status = status;
            a.slashed = amount;
            events.push(
                Event::new(super::events::COLLATERAL_SLASHED)
                    .attr("auction", a.id)
                    .attr("task", a.task_id)
                    .attr("coprocessor", c.address)
                    .attr("reason", reason)
                    .attr("amount", amount)
                    .attr("amplification_ppm", amplification)
                    .attr("burned", split.burned)
                    .attr("to_treasury", split.to_reporter + split.to_treasury)
                    .attr("released", released),
            );
        }
    }
    put_coprocessor(state, &c);
    put_auction(state, &a);
    (to_buyer, events)
}

/// The split of §3.5 for a slash no one reported: 50 % burned, the reporter's 30 % and the
/// treasury's 20 % both to the treasury (each share floored; the remainder to the treasury).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlashSplit {
    pub burned: u128,
    pub to_reporter: u128,
    pub to_treasury: u128,
}

pub fn slash_split(amount: u128) -> SlashSplit {
    let burned = ppm_of(amount, 500_000);
    let to_reporter = ppm_of(amount, 300_000);
    SlashSplit {
        burned,
        to_reporter,
        to_treasury: amount - burned - to_reporter,
    }
}

/// Begin block: once per staking epoch entered since the last one processed here, every
/// coprocessor's reputation takes reputation's own epoch step (decay, recovery of the
/// Byzantine factor, load state from the epoch's utilisation of its capacity). Nothing happens
/// before the first coprocessor registers.
pub fn begin_block(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let Some(mut last) = state.get::<u64>(keys::LAST_EPOCH) else {
        return Vec::new();
    };
    let now: u64 = state.get(staking::keys::LAST_EPOCH).unwrap_or(0);
    if last >= now {
        return Vec::new();
    }
    let rp = reputation::state::params(state);
    let mut from: u64 = state.get(keys::LAST_EPOCH_HEIGHT).unwrap_or(ctx.height);
    let mut events = Vec::new();
    let all = state::coprocessors(state);
    while last < now {
        last += 1;
        let blocks = ctx.height.saturating_sub(from);
        for c in &all {
            let before = state::reputation_record(state, &c.address);
            let after = reputation::component::epoch_step(&before, &rp, c.capacity_units, blocks);
            if after != before {
                state.put(keys::reputation(&c.address), &after);
            }
        }
        events.push(
            Event::new(super::events::COPROCESSOR_EPOCH)
                .attr("epoch", last)
                .attr("blocks", blocks)
                .attr("records", all.len()),
        );
        from = ctx.height;
    }
    state.put(keys::LAST_EPOCH.to_vec(), &last);
    state.put(keys::LAST_EPOCH_HEIGHT.to_vec(), &ctx.height);
    events
}

/// Every auction, for invariants and export.
pub fn all_auctions(state: &impl StateRead) -> Vec<Auction> {
    state
        .prefix_raw(keys::AUCTION_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slash_split_conserves_the_amount() {
        for amount in [0u128, 1, 7, 10, 999_999, 1_000_003] {
            let s = slash_split(amount);
            assert_eq!(s.burned + s.to_reporter + s.to_treasury, amount);
        }
        assert_eq!(
            slash_split(1_000),
            SlashSplit {
                burned: 500,
                to_reporter: 300,
                to_treasury: 200
            }
        );
    }
}
