//! coprocessors' message handlers. Each runs on the tx's overlay: a failure leaves nothing.

use super::keys;
use super::msg::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
use super::state::{
    self, auction, coprocessor, next_id, params, put_auction, put_coprocessor, step_of, Auction,
    AuctionStatus, Bid, Coprocessor, Withdrawal,
};
use super::CoprocessorsError as E;
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::error::TxError;
use crate::events::Event;
use crate::modules::staking;
use crate::modules::{bank, tasks};
use crate::num::{checked_mul_div, checked_mul_div_ceil};
use crate::state::{StateRead, StateReadExt, StateWrite, StateWriteExt};

fn collateral_account() -> Address {
    bank::COPROCESSOR_COLLATERAL.address()
}

fn registered(state: &impl StateRead, signer: &Address) -> Result<Coprocessor, TxError> {
    coprocessor(state, signer).ok_or_else(|| E::NotACoprocessor(signer.to_string()).into())
}

pub fn register(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgRegisterCoprocessor,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let p = params(state);
    if coprocessor(state, signer).is_some() {
        return Err(E::AlreadyRegistered(signer.to_string()).into());
    }
    if msg.capacity_units > p.max_capacity_units {
        return Err(E::CapacityOutOfRange {
            capacity: msg.capacity_units,
            reserved: 0,
            max: p.max_capacity_units,
        }
        .into());
    }
    if msg.collateral < p.min_collateral {
        return Err(E::CollateralBelowMinimum {
            got: msg.collateral,
            min: p.min_collateral,
        }
        .into());
    }
    bank::transfer(state, signer, &collateral_account(), msg.collateral)?;
    // the epoch clock of coprocessor reputations starts with the first registration
    if state.get_raw(keys::LAST_EPOCH).is_none() {
        let epoch: u64 = state.get(staking::keys::LAST_EPOCH).unwrap_or(0);
        state.put(keys::LAST_EPOCH.to_vec(), &epoch);
        state.put(keys::LAST_EPOCH_HEIGHT.to_vec(), &ctx.height);
    }
    put_coprocessor(
        state,
        &Coprocessor {
            address: *signer,
            moniker: msg.moniker.clone(),
            capacity_units: msg.capacity_units,
            reserved_units: 0,
            free_collateral: msg.collateral,
            locked_collateral: 0,
            pending_collateral: 0,
            registered_height: ctx.height,
        },
    );
    Ok(vec![Event::new(super::events::COPROCESSOR_REGISTERED)
        .attr("coprocessor", signer)
        .attr("capacity_units", msg.capacity_units)
        .attr("collateral", msg.collateral)
        .attr("moniker", &msg.moniker)])
}

pub fn edit(
    state: &mut impl StateWrite,
    signer: &Address,
    msg: &MsgEditCoprocessor,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let p = params(state);
    let mut c = registered(state, signer)?;
    if let Some(capacity) = msg.capacity_units {
        if capacity < c.reserved_units || capacity > p.max_capacity_units {
            return Err(E::CapacityOutOfRange {
                capacity,
                reserved: c.reserved_units,
                max: p.max_capacity_units,
            }
            .into());
        }
        c.capacity_units = capacity;
    }
    if let Some(m) = &msg.moniker {
        c.moniker = m.clone();
    }
    put_coprocessor(state, &c);
    Ok(vec![Event::new(super::events::COPROCESSOR_EDITED)
        .attr("coprocessor", signer)
        .attr("capacity_units", c.capacity_units)
        .attr("moniker", &c.moniker)])
}

pub fn add_collateral(
    state: &mut impl StateWrite,
    signer: &Address,
    msg: &MsgAddCollateral,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let mut c = registered(state, signer)?;
    c.free_collateral = c
        .free_collateral
        .checked_add(msg.amount)
        .ok_or(E::Overflow)?;
    bank::transfer(state, signer, &collateral_account(), msg.amount)?;
    put_coprocessor(state, &c);
    Ok(vec![Event::new(super::events::COLLATERAL_ADDED)
        .attr("coprocessor", signer)
        .attr("amount", msg.amount)
        .attr("free_collateral", c.free_collateral)])
}

pub fn withdraw_collateral(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgWithdrawCollateral,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let p = params(state);
    let mut c = registered(state, signer)?;
    if msg.amount > c.free_collateral {
        return Err(E::InsufficientFreeCollateral {
            requested: msg.amount,
            free: c.free_collateral,
        }
        .into());
    }
    c.free_collateral -= msg.amount;
    c.pending_collateral = c
        .pending_collateral
        .checked_add(msg.amount)
        .ok_or(E::Overflow)?;
    let maturity = ctx
        .height
        .checked_add(p.withdrawal_delay_blocks)
        .ok_or(E::Overflow)?;
    let id = next_id(state, keys::NEXT_WITHDRAWAL_ID);
    state.put(
        keys::withdrawal(maturity, id),
        &Withdrawal {
            id,
            coprocessor: *signer,
            amount: msg.amount,
            maturity_height: maturity,
        },
    );
    put_coprocessor(state, &c);
    Ok(vec![Event::new(super::events::WITHDRAWAL_QUEUED)
        .attr("coprocessor", signer)
        .attr("id", id)
        .attr("amount", msg.amount)
        .attr("maturity_height", maturity)])
}

/// A member's guaranteed pay if its slot agrees with the aggregate: with `P = fee − protocol
/// fee − submission fee` and `n` the committee size,
/// `⌊P × 640_000 / (640_000 + 1_200_000 × (n − 1))⌋` — the smallest `pay_i = ⌊P·u_i/Σu⌋` can be,
/// since every weight `u` lies in [640_000, 1_200_000] ppm (docs/tasks.md). So the price, never
/// above it, can always be paid out of the member's pay.
pub fn expected_pay(fee: u128, p: &tasks::TasksParams, committee: usize) -> Option<u128> {
    let split = tasks::rewards::split(fee, p.protocol_fee_ppm, p.submission_fee_ppm, &[]);
    let others = u128::try_from(committee.saturating_sub(1)).ok()?;
    let den = 1_200_000u128.checked_mul(others)?.checked_add(640_000)?;
    checked_mul_div(split.members_pool, 640_000, den)
}

pub fn open_auction(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgOpenAuction,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let p = params(state);
    if let Some(a) = state::auction_of_slot(state, msg.task_id, signer) {
        return Err(E::AuctionExists {
            task: msg.task_id,
            auction: a.id,
        }
        .into());
    }
    // the task, the membership, the commit and the window are tasks' to check
    let t = tasks::state::offer_slot(state, ctx.height, msg.task_id, signer)?;
    let round = t.current_round();
    let latest = round.commit_end.saturating_sub(2);
    if ctx.height > latest {
        return Err(E::TooLateToAuction {
            commit_end: round.commit_end,
            latest,
        }
        .into());
    }
    let tp = tasks::state::params(state);
    let pay = expected_pay(t.fee, &tp, round.members.len()).ok_or(E::Overflow)?;
    if msg.start_price > pay {
        return Err(E::PriceAboveExpectedPay {
            start: msg.start_price,
            expected_pay: pay,
        }
        .into());
    }
    let step = step_of(msg.start_price, msg.floor_price, p.descent_intervals);
    let floor_height = p
        .descent_intervals
        .saturating_mul(p.price_interval_blocks)
        .saturating_add(ctx.height);
    let expires = floor_height
        .saturating_add(p.expiry_grace_blocks)
        .min(round.commit_end - 1);
    let id = next_id(state, keys::NEXT_AUCTION_ID);
    let a = Auction {
        id,
        task_id: t.id,
        member: *signer,
        difficulty_units: t.difficulty_units,
        min_reputation_ppm: t.min_reputation_ppm,
        expected_pay: pay,
        start_price: msg.start_price,
        floor_price: msg.floor_price,
        step,
        interval_blocks: p.price_interval_blocks,
        access_spread_blocks: p.access_spread_blocks,
        opened_height: ctx.height,
        commit_end: round.commit_end,
        expires_height: expires,
        status: AuctionStatus::Open,
        winner: None,
        price: 0,
        won_height: None,
        collateral_locked: 0,
        bids: 0,
        closed_height: None,
        paid: 0,
        slashed: 0,
    };
    put_auction(state, &a);
    state.put(keys::by_task(t.id, signer), &id);
    state.put_raw(keys::by_member(signer, id), vec![1]);
    state.put_raw(keys::open(id), vec![1]);
    state.put_raw(keys::expiry(expires, id), vec![1]);
    Ok(vec![Event::new(super::events::AUCTION_OPENED)
        .attr("auction", id)
        .attr("task", t.id)
        .attr("member", signer)
        .attr("start_price", msg.start_price)
        .attr("floor_price", msg.floor_price)
        .attr("step", step)
        .attr("interval_blocks", p.price_interval_blocks)
        .attr("expected_pay", pay)
        .attr("expires_height", expires)])
}

/// `⌈price × collateral_ppm / 10⁶⌉` (rounded up: the chain's side).
pub fn collateral_for(price: u128, collateral_ppm: u32) -> Option<u128> {
    checked_mul_div_ceil(price, u128::from(collateral_ppm), 1_000_000)
}

/// Why `c` cannot take the slot of auction `a` now (`None`: it can). Checked when it bids and
/// again when the block's bids are settled.
pub fn bid_refusal(state: &impl StateRead, a: &Auction, c: &Coprocessor, height: u64) -> Option<E> {
    let cannot = |reason: &str| {
        Some(E::CannotBid {
            auction: a.id,
            reason: reason.into(),
        })
    };
    if c.address == a.member {
        return cannot("the member cannot buy its own slot");
    }
    if let Some(t) = tasks::state::task(state, a.task_id) {
        if t.current_round().member(&c.address).is_some() {
            return cannot("it sits on the task's committee");
        }
    }
    if tasks::state::slot_held_by(state, a.task_id, &c.address).is_some() {
        return cannot("it already holds a slot of this task");
    }
    if c.free_units() < a.difficulty_units {
        return Some(E::InsufficientCapacity {
            free: c.free_units(),
            needed: a.difficulty_units,
        });
    }
    let score = state::effective_score_ppm(state, c);
    if score < a.min_reputation_ppm {
        return Some(E::ReputationTooLow {
            score_ppm: score,
            min_ppm: a.min_reputation_ppm,
        });
    }
    let opens_at = a.access_height(c.free_ppm());
    if height < opens_at {
        return Some(E::BidTooEarly {
            free_ppm: c.free_ppm(),
            opens_at,
            height,
        });
    }
    let p = params(state);
    let Some(needed) = collateral_for(a.price_at(height), p.collateral_ppm) else {
        return Some(E::Overflow);
    };
    if c.free_collateral < needed {
        return Some(E::InsufficientFreeCollateral {
            requested: needed,
            free: c.free_collateral,
        });
    }
    None
}

pub fn bid(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgBid,
) -> Result<Vec<Event>, TxError> {
    let a = auction(state, msg.auction_id).ok_or(E::UnknownAuction(msg.auction_id))?;
    if a.status != AuctionStatus::Open || ctx.height > a.expires_height {
        return Err(E::AuctionNotOpen {
            id: a.id,
            status: a.status.name(),
        }
        .into());
    }
    let c = registered(state, signer)?;
    if let Some(e) = bid_refusal(state, &a, &c, ctx.height) {
        return Err(e.into());
    }
    if state::bid(state, a.id, signer).is_some() {
        return Err(E::AlreadyBid(a.id).into());
    }
    let price = a.price_at(ctx.height);
    state.put(
        keys::bid(a.id, signer),
        &Bid {
            auction_id: a.id,
            bidder: *signer,
            height: ctx.height,
            price,
            effective_score_ppm: state::effective_score_ppm(state, &c),
            free_units: c.free_units(),
            won: false,
        },
    );
    state.put_raw(keys::bidding(a.id), vec![1]);
    Ok(vec![Event::new(super::events::BID_PLACED)
        .attr("auction", a.id)
        .attr("bidder", signer)
        .attr("price", price)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::tasks::rewards::{member_weight_ppm, split};

    #[test]
    fn the_expected_pay_is_never_above_an_agreeing_members_pay() {
        let p = tasks::TasksParams::default();
        let lowest = member_weight_ppm(0, 1_000, 10);
        let highest = member_weight_ppm(1_000_000, 0, 10);
        assert_eq!((lowest, highest), (640_000, 1_200_000));
        for fee in [1u128, 999, 1_000_003, 100_000_000, u128::from(u64::MAX)] {
            for n in 1usize..=15 {
                let expected = expected_pay(fee, &p, n).unwrap();
                // the worst case: this member lowest, every other member highest
                let mut u = vec![highest; n - 1];
                u.push(lowest);
                let s = split(fee, p.protocol_fee_ppm, p.submission_fee_ppm, &u);
                assert!(s.pays[n - 1] >= expected, "fee {fee}, n {n}");
                // fewer agreeing members only raise the pay
                let s = split(fee, p.protocol_fee_ppm, p.submission_fee_ppm, &[lowest]);
                assert!(s.pays[0] >= expected);
            }
        }
        // a Session task of 100 NOP
        assert_eq!(expected_pay(100_000_000, &p, 3), Some(18_526_315));
    }

    #[test]
    fn the_collateral_rounds_up() {
        assert_eq!(collateral_for(3, 500_000), Some(2));
        assert_eq!(collateral_for(8_000_000, 2_000_000), Some(16_000_000));
        assert_eq!(collateral_for(u128::MAX, 2_000_000), None);
    }
}
