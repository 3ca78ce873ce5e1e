//! coprocessors' records and their reads and writes.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::keys;
use super::params::CoprocessorsParams;
use crate::crypto::Address;
use crate::modules::reputation::{self, OperatorReputation};
use crate::serde_u128;
use crate::state::{decode_stored, fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

/// A registered coprocessor (`coprocessors/coprocessor/{address}`). Its collateral, all held by
/// the `coprocessor_collateral` module account, is in exactly one of three states.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coprocessor {
    pub address: Address,
    pub moniker: String,
    pub capacity_units: u64,
    /// Units reserved by won auctions whose round has not closed.
    pub reserved_units: u64,
    /// Collateral that backs new bids and can be withdrawn.
    #[serde(with = "serde_u128")]
    pub free_collateral: u128,
    /// Collateral locked by won auctions until their round closes.
    #[serde(with = "serde_u128")]
    pub locked_collateral: u128,
    /// Collateral queued for withdrawal, paid at its maturity.
    #[serde(with = "serde_u128")]
    pub pending_collateral: u128,
    pub registered_height: u64,
}

impl Coprocessor {
    pub fn free_units(&self) -> u64 {
        self.capacity_units.saturating_sub(self.reserved_units)
    }

    /// Free capacity as a fraction of capacity, ppm, floored.
    pub fn free_ppm(&self) -> u32 {
        if self.capacity_units == 0 {
            return 0;
        }
        (u128::from(self.free_units()) * 1_000_000 / u128::from(self.capacity_units)) as u32
    }

    /// Free + locked: what the reputation's stake component counts (pending collateral is
    /// leaving).
    pub fn backing(&self) -> u128 {
        self.free_collateral.saturating_add(self.locked_collateral)
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AuctionStatus {
    /// 0: taking bids.
    Open,
    /// 1: won; the winner executes the member's slot.
    Won,
    /// 2: no bid in time; the member executes itself (terminal).
    Expired,
    /// 3: the winner's result agreed; it was paid the price (terminal).
    Paid,
    /// 4: the winner's result disagreed; its collateral was slashed (terminal).
    Slashed,
    /// 5: the winner missed its commit or reveal; liveness slash (terminal).
    Missed,
    /// 6: the winner revealed but the round finalized nothing; collateral released (terminal).
    Released,
}

impl AuctionStatus {
    pub fn name(&self) -> &'static str {
        match self {
            AuctionStatus::Open => "open",
            AuctionStatus::Won => "won",
            AuctionStatus::Expired => "expired",
            AuctionStatus::Paid => "paid",
            AuctionStatus::Slashed => "slashed",
            AuctionStatus::Missed => "missed",
            AuctionStatus::Released => "released",
        }
    }
}

/// A Dutch auction of one member's slot (`coprocessors/auction/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auction {
    pub id: u64,
    pub task_id: u64,
    pub member: Address,
    pub difficulty_units: u64,
    pub min_reputation_ppm: u32,
    /// The member's guaranteed pay if its slot agrees (see `docs/coprocessors.md`).
    #[serde(with = "serde_u128")]
    pub expected_pay: u128,
    #[serde(with = "serde_u128")]
    pub start_price: u128,
    #[serde(with = "serde_u128")]
    pub floor_price: u128,
    /// The price falls by `step` every `interval_blocks`.
    #[serde(with = "serde_u128")]
    pub step: u128,
    pub interval_blocks: u64,
    /// K of the early-access rule.
    pub access_spread_blocks: u64,
    pub opened_height: u64,
    /// The last height of the task's commit window.
    pub commit_end: u64,
    /// An auction still open at the end of this height expires.
    pub expires_height: u64,
    pub status: AuctionStatus,
    pub winner: Option<Address>,
    /// The price it was won at.
    #[serde(with = "serde_u128")]
    pub price: u128,
    pub won_height: Option<u64>,
    /// The winner's collateral this auction locks.
    #[serde(with = "serde_u128")]
    pub collateral_locked: u128,
    /// Bids received in the block it was won (or 0).
    pub bids: u32,
    pub closed_height: Option<u64>,
    /// What the winner was paid, and what of its collateral was slashed.
    #[serde(with = "serde_u128")]
    pub paid: u128,
    #[serde(with = "serde_u128")]
    pub slashed: u128,
}

impl Auction {
    /// `max(floor, start − step × ⌊(h − h_open) / interval⌋)` (the start before the opening).
    pub fn price_at(&self, height: u64) -> u128 {
        price_at(
            self.start_price,
            self.floor_price,
            self.step,
            self.interval_blocks,
            self.opened_height,
            height,
        )
    }

    /// The first height a coprocessor with `free_ppm` of its capacity free may bid:
    /// `h_open + ⌈(10⁶ − φ) × K / 10⁶⌉`.
    pub fn access_height(&self, free_ppm: u32) -> u64 {
        access_height(self.opened_height, self.access_spread_blocks, free_ppm)
    }
}

pub fn price_at(
    start: u128,
    floor: u128,
    step: u128,
    interval: u64,
    opened: u64,
    height: u64,
) -> u128 {
    let steps = height.saturating_sub(opened) / interval.max(1);
    start
        .saturating_sub(step.saturating_mul(u128::from(steps)))
        .max(floor)
}

/// `⌈(start − floor) / intervals⌉`: the price reaches the floor after at most `intervals`.
pub fn step_of(start: u128, floor: u128, intervals: u64) -> u128 {
    let span = start.saturating_sub(floor);
    let n = u128::from(intervals.max(1));
    span / n + u128::from(!span.is_multiple_of(n))
}

pub fn access_height(opened: u64, spread: u64, free_ppm: u32) -> u64 {
    let busy = 1_000_000u128 - u128::from(free_ppm.min(1_000_000));
    let delay = (busy * u128::from(spread)).div_ceil(1_000_000);
    opened.saturating_add(u64::try_from(delay).unwrap_or(u64::MAX))
}

/// A bid (`coprocessors/bid/{auction}/{bidder}`), with what ranked it in its block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bid {
    pub auction_id: u64,
    pub bidder: Address,
    pub height: u64,
    #[serde(with = "serde_u128")]
    pub price: u128,
    pub effective_score_ppm: u32,
    pub free_units: u64,
    /// Whether it won.
    pub won: bool,
}

/// A queued withdrawal of free collateral (`coprocessors/withdrawal/{maturity}/{id}`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    pub id: u64,
    pub coprocessor: Address,
    #[serde(with = "serde_u128")]
    pub amount: u128,
    pub maturity_height: u64,
}

pub fn params(state: &impl StateRead) -> CoprocessorsParams {
    state.get(keys::PARAMS).unwrap_or_default()
}

pub fn coprocessor(state: &impl StateRead, address: &Address) -> Option<Coprocessor> {
    state.get(&keys::coprocessor(address))
}

pub fn put_coprocessor(state: &mut impl StateWrite, c: &Coprocessor) {
    state.put(keys::coprocessor(&c.address), c);
}

/// Every coprocessor, in address order.
pub fn coprocessors(state: &impl StateRead) -> Vec<Coprocessor> {
    state
        .prefix_raw(keys::COPROCESSOR_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

pub fn auction(state: &impl StateRead, id: u64) -> Option<Auction> {
    state.get(&keys::auction(id))
}

pub fn put_auction(state: &mut impl StateWrite, a: &Auction) {
    state.put(keys::auction(a.id), a);
}

/// Schedules a closed auction's deletion for the end of `closed_height + task_retention`
/// (tasks' param: an auction is kept as long as a finished task is).
pub fn schedule_prune(state: &mut impl StateWrite, a: &Auction) {
    let Some(closed) = a.closed_height else {
        fatal(&format!(
            "coprocessors: auction {} is scheduled for pruning while {}",
            a.id,
            a.status.name()
        ));
    };
    let retention = crate::modules::tasks::state::params(state).task_retention;
    state.put_raw(keys::prune(closed.saturating_add(retention), a.id), vec![1]);
}

/// Deletes a closed auction: its record, its bids and its index entries.
pub fn delete_auction(state: &mut impl StateWrite, a: &Auction) {
    let bids: Vec<Vec<u8>> = state
        .prefix_raw(&keys::bid_prefix(a.id), None, usize::MAX)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for k in bids {
        state.delete(k);
    }
    if state.get::<u64>(&keys::by_task(a.task_id, &a.member)) == Some(a.id) {
        state.delete(keys::by_task(a.task_id, &a.member));
    }
    state.delete(keys::by_member(&a.member, a.id));
    if let Some(w) = a.winner {
        state.delete(keys::by_coprocessor(&w, a.id));
    }
    state.delete(keys::auction(a.id));
}

/// The auction of `member`'s slot on `task_id`, if it opened one.
pub fn auction_of_slot(state: &impl StateRead, task_id: u64, member: &Address) -> Option<Auction> {
    let id: u64 = state.get(&keys::by_task(task_id, member))?;
    auction(state, id)
}

pub fn bid(state: &impl StateRead, auction_id: u64, bidder: &Address) -> Option<Bid> {
    state.get(&keys::bid(auction_id, bidder))
}

pub fn bids_of(state: &impl StateRead, auction_id: u64) -> Vec<Bid> {
    state
        .prefix_raw(&keys::bid_prefix(auction_id), None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

pub fn withdrawals(state: &impl StateRead) -> Vec<Withdrawal> {
    state
        .prefix_raw(keys::WITHDRAWAL_PREFIX, None, usize::MAX)
        .iter()
        .map(|(k, v)| decode_stored(k, v))
        .collect()
}

pub fn next_id(state: &mut impl StateWrite, key: &[u8]) -> u64 {
    let id: u64 = state.get(key).unwrap_or(1);
    let Some(next) = id.checked_add(1) else {
        fatal("coprocessors: an id counter overflowed u64");
    };
    state.put(key.to_vec(), &next);
    id
}

/// The coprocessor's reputation record (neutral when it has none).
pub fn reputation_record(state: &impl StateRead, address: &Address) -> OperatorReputation {
    state.get(&keys::reputation(address)).unwrap_or_default()
}

pub fn update_reputation(
    state: &mut impl StateWrite,
    address: &Address,
    change: impl FnOnce(&mut OperatorReputation),
) {
    let mut r = reputation_record(state, address);
    change(&mut r);
    state.put(keys::reputation(address), &r);
}

/// A coprocessor's score components, computed by reputation's own formulas (§3.3) with its
/// collateral (free + locked) as the stake; it has no validator blocks.
pub fn components(state: &impl StateRead, c: &Coprocessor) -> reputation::Components {
    let p = reputation::state::params(state);
    reputation::Components::of(&reputation_record(state, &c.address), c.backing(), &p)
}

/// `score × byz_factor`, ppm.
pub fn effective_score_ppm(state: &impl StateRead, c: &Coprocessor) -> u32 {
    // the params and the record read once (a bid and every auction's settlement score each
    // bidder)
    let p = reputation::state::params(state);
    let record = reputation_record(state, &c.address);
    let score = reputation::Components::of(&record, c.backing(), &p).score_ppm(&p);
    reputation::score::effective_ppm(score, record.byz_factor_ppm)
}

/// The slash amplification of the coprocessor's load state, ppm.
pub fn load_amplification_ppm(state: &impl StateRead, address: &Address) -> u32 {
    let p = reputation::state::params(state);
    reputation::score::load_amplification_ppm(reputation_record(state, address).load_ppm, &p)
}

/// The optimal-load reward weight of the coprocessor's load state, ppm.
pub fn reward_weight_ppm(state: &impl StateRead, address: &Address) -> u32 {
    let p = reputation::state::params(state);
    reputation::score::reward_weight_ppm(reputation_record(state, address).load_ppm, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_falls_by_step_per_interval_and_stops_at_the_floor() {
        let step = step_of(1_000, 200, 4);
        assert_eq!(step, 200);
        let p = |h| price_at(1_000, 200, step, 2, 10, h);
        assert_eq!(
            [p(9), p(10), p(11), p(12), p(14), p(16), p(18), p(40)],
            [1_000, 1_000, 1_000, 800, 600, 400, 200, 200]
        );
        // a span that does not divide: the step rounds up, the floor still holds
        assert_eq!(step_of(10, 0, 3), 4);
        assert_eq!(price_at(10, 0, 4, 1, 0, 3), 0);
        assert_eq!(step_of(5, 5, 3), 0);
    }

    #[test]
    fn more_free_capacity_bids_earlier() {
        assert_eq!(access_height(100, 4, 1_000_000), 100);
        assert_eq!(access_height(100, 4, 750_000), 101);
        assert_eq!(access_height(100, 4, 500_000), 102);
        assert_eq!(access_height(100, 4, 499_999), 103, "rounded up");
        assert_eq!(access_height(100, 4, 0), 104);
    }
}
