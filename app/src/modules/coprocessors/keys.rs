//! coprocessors' key layout (public API). Addresses are 20 raw bytes; ids and heights 8 bytes
//! big-endian, so that key order is numeric order.

use crate::crypto::Address;

pub const PARAMS: &[u8] = b"coprocessors/params";
pub const NEXT_AUCTION_ID: &[u8] = b"coprocessors/next_auction";
pub const NEXT_WITHDRAWAL_ID: &[u8] = b"coprocessors/next_withdrawal";
pub const LAST_EPOCH: &[u8] = b"coprocessors/last_epoch";
pub const LAST_EPOCH_HEIGHT: &[u8] = b"coprocessors/last_epoch_height";
pub const COPROCESSOR_PREFIX: &[u8] = b"coprocessors/coprocessor/";
pub const REPUTATION_PREFIX: &[u8] = b"coprocessors/reputation/";
pub const AUCTION_PREFIX: &[u8] = b"coprocessors/auction/";
pub const BID_PREFIX: &[u8] = b"coprocessors/bid/";
pub const BIDDING_PREFIX: &[u8] = b"coprocessors/bidding/";
pub const OPEN_PREFIX: &[u8] = b"coprocessors/open/";
pub const EXPIRY_PREFIX: &[u8] = b"coprocessors/expiry/";
pub const BY_TASK_PREFIX: &[u8] = b"coprocessors/by_task/";
pub const BY_MEMBER_PREFIX: &[u8] = b"coprocessors/by_member/";
pub const BY_COPROCESSOR_PREFIX: &[u8] = b"coprocessors/by_coprocessor/";
pub const WITHDRAWAL_PREFIX: &[u8] = b"coprocessors/withdrawal/";
pub const PRUNE_PREFIX: &[u8] = b"coprocessors/prune/";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `coprocessors/coprocessor/{address}` → [`super::Coprocessor`].
pub fn coprocessor(address: &Address) -> Vec<u8> {
    join(&[COPROCESSOR_PREFIX, &address.0])
}

/// `coprocessors/reputation/{address}` → [`crate::modules::reputation::OperatorReputation`]:
/// the coprocessor's tallies, Byzantine factor and load state (absent: neutral).
pub fn reputation(address: &Address) -> Vec<u8> {
    join(&[REPUTATION_PREFIX, &address.0])
}

/// `coprocessors/auction/{id}` → [`super::Auction`].
pub fn auction(id: u64) -> Vec<u8> {
    join(&[AUCTION_PREFIX, &id.to_be_bytes()])
}

/// `coprocessors/bid/{auction}/{bidder}` → [`super::Bid`].
pub fn bid(auction: u64, bidder: &Address) -> Vec<u8> {
    join(&[BID_PREFIX, &auction.to_be_bytes(), b"/", &bidder.0])
}

pub fn bid_prefix(auction: u64) -> Vec<u8> {
    join(&[BID_PREFIX, &auction.to_be_bytes(), b"/"])
}

/// `coprocessors/bidding/{auction}` → `[1]`: the auction received bids in this block; the end
/// block settles it and deletes the entry.
pub fn bidding(auction: u64) -> Vec<u8> {
    join(&[BIDDING_PREFIX, &auction.to_be_bytes()])
}

/// `coprocessors/open/{auction}` → `[1]` while the auction is open.
pub fn open(auction: u64) -> Vec<u8> {
    join(&[OPEN_PREFIX, &auction.to_be_bytes()])
}

/// `coprocessors/expiry/{height}/{auction}` → `[1]`: an open auction expires at the end of
/// `height`.
pub fn expiry(height: u64, auction: u64) -> Vec<u8> {
    join(&[
        EXPIRY_PREFIX,
        &height.to_be_bytes(),
        b"/",
        &auction.to_be_bytes(),
    ])
}

/// `coprocessors/by_task/{task}/{member}` → the auction id (u64): one auction per (task, member).
pub fn by_task(task: u64, member: &Address) -> Vec<u8> {
    join(&[BY_TASK_PREFIX, &task.to_be_bytes(), b"/", &member.0])
}

pub fn by_task_prefix(task: u64) -> Vec<u8> {
    join(&[BY_TASK_PREFIX, &task.to_be_bytes(), b"/"])
}

/// `coprocessors/by_member/{member}/{auction}` → `[1]`.
pub fn by_member(member: &Address, auction: u64) -> Vec<u8> {
    join(&[BY_MEMBER_PREFIX, &member.0, b"/", &auction.to_be_bytes()])
}

pub fn by_member_prefix(member: &Address) -> Vec<u8> {
    join(&[BY_MEMBER_PREFIX, &member.0, b"/"])
}

/// `coprocessors/by_coprocessor/{coprocessor}/{auction}` → `[1]`: auctions it won.
pub fn by_coprocessor(coprocessor: &Address, auction: u64) -> Vec<u8> {
    join(&[
        BY_COPROCESSOR_PREFIX,
        &coprocessor.0,
        b"/",
        &auction.to_be_bytes(),
    ])
}

pub fn by_coprocessor_prefix(coprocessor: &Address) -> Vec<u8> {
    join(&[BY_COPROCESSOR_PREFIX, &coprocessor.0, b"/"])
}

/// `coprocessors/withdrawal/{maturity height}/{id}` → [`super::Withdrawal`]: paid at the end of
/// its maturity height.
pub fn withdrawal(maturity: u64, id: u64) -> Vec<u8> {
    join(&[
        WITHDRAWAL_PREFIX,
        &maturity.to_be_bytes(),
        b"/",
        &id.to_be_bytes(),
    ])
}

/// `coprocessors/prune/{height}/{auction}` → `[1]`: a closed auction, its bids and its index
/// entries are deleted at the end of `height` (its close plus tasks' `task_retention`).
pub fn prune(height: u64, auction: u64) -> Vec<u8> {
    join(&[
        PRUNE_PREFIX,
        &height.to_be_bytes(),
        b"/",
        &auction.to_be_bytes(),
    ])
}

/// The height at `offset` in a key.
pub fn height_at(key: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        key.get(offset..offset + 8)?.try_into().ok()?,
    ))
}
