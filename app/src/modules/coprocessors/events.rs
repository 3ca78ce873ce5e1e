//! The coprocessors module's events (the `kind` of each); match on these constants.

/// Attributes: `capacity_units`, `collateral`, `coprocessor`, `moniker`.
pub const COPROCESSOR_REGISTERED: &str = "coprocessor_registered";
/// Attributes: `capacity_units`, `coprocessor`, `moniker`.
pub const COPROCESSOR_EDITED: &str = "coprocessor_edited";
/// Attributes: `amount`, `coprocessor`, `free_collateral`.
pub const COLLATERAL_ADDED: &str = "collateral_added";
/// Attributes: `amount`, `coprocessor`, `id`, `maturity_height`.
pub const WITHDRAWAL_QUEUED: &str = "collateral_withdrawal_queued";
/// Attributes: `amount`, `coprocessor`, `id`.
pub const WITHDRAWAL_PAID: &str = "collateral_withdrawal_paid";
/// Attributes: `auction`, `expected_pay`, `expires_height`, `floor_price`, `interval_blocks`,
/// `member`, `start_price`, `step`, `task`.
pub const AUCTION_OPENED: &str = "auction_opened";
/// Attributes: `auction`, `bidder`, `price`.
pub const BID_PLACED: &str = "bid_placed";
/// Attributes: `auction`, `bids`, `collateral_locked`, `coprocessor`, `member`, `price`, `task`.
pub const AUCTION_WON: &str = "auction_won";
/// Attributes: `auction`, `member`, `task`.
pub const AUCTION_EXPIRED: &str = "auction_expired";
/// Attributes: `auction`, `coprocessor`, `member`, `member_kept`, `price`, `task`.
pub const COPROCESSOR_PAID: &str = "coprocessor_paid";
/// Attributes: `amount`, `amplification_ppm`, `auction`, `burned`, `coprocessor`, `reason`
/// (`result_mismatch`, `missed_commit`, `missed_reveal`), `released`, `task`, `to_treasury`.
pub const COLLATERAL_SLASHED: &str = "collateral_slashed";
/// Attributes: `auction`, `coprocessor`, `released`, `task`: the round finalized nothing.
pub const COLLATERAL_RELEASED: &str = "collateral_released";
/// Attributes: `blocks`, `epoch`, `records`.
pub const COPROCESSOR_EPOCH: &str = "coprocessor_epoch";
