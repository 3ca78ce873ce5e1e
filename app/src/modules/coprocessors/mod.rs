//! coprocessors — collateralised coprocessors and the Dutch auctions in which committee members
//! sell their task slots to them (PROTOCOL.md §3.7; the rules and every decision are in
//! `docs/coprocessors.md`).
//!
//! A coprocessor registers with a capacity and collateral (held by the `coprocessor_collateral`
//! module account as free, locked and pending-withdrawal amounts). A committee member whose
//! commit window is open may auction its slot; the price falls by a step per interval to a
//! floor; a coprocessor with more free capacity may bid earlier; the bids of a block are settled
//! at its end by reputation, then free capacity, then a seeded hash. The winner locks
//! `collateral_ppm × price`, reserves the task's difficulty and commits and reveals for the
//! member's slot (tasks counts its result as the member's). When the round closes tasks calls
//! the `slot_closed` hook: an agreeing result is paid the price out of the member's pay; a
//! disagreeing one, or a missed commit or reveal, has its locked collateral slashed (amplified
//! by the coprocessor's load state) and the rest released.
//!
//! State keys: see [`keys`]. Hooks: begin block (the epoch step of coprocessor reputations,
//! [`settle::begin_block`]); end block (the block's bids, expiries, matured withdrawals,
//! [`settle::end_block`]); `slot_closed` from tasks ([`settle::slot_closed`]). Invariants:
//! [`invariants`].

pub mod component;
pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod msg;
pub mod params;
pub mod query;
pub mod settle;
pub mod state;

pub use error::{CoprocessorsError, CODESPACE};
pub use msg::{
    MsgAddCollateral, MsgBid, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
    MsgWithdrawCollateral,
};
pub use params::CoprocessorsParams;
pub use state::{Auction, AuctionStatus, Bid, Coprocessor, Withdrawal};
