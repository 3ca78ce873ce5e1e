//! coprocessors' errors (codespace `coprocessors`). Codes are append-only.

pub const CODESPACE: &str = "coprocessors";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoprocessorsError {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("{0} is already a registered coprocessor")]
    AlreadyRegistered(String),
    #[error("{0} is not a registered coprocessor")]
    NotACoprocessor(String),
    #[error("collateral {got} unop is below min_collateral = {min} unop")]
    CollateralBelowMinimum { got: u128, min: u128 },
    #[error("capacity {capacity} is below the {reserved} units reserved by won auctions, or above max_capacity_units = {max}")]
    CapacityOutOfRange {
        capacity: u64,
        reserved: u64,
        max: u64,
    },
    #[error("{requested} unop asked, only {free} unop of collateral is free (locked and pending collateral cannot be used)")]
    InsufficientFreeCollateral { requested: u128, free: u128 },
    #[error("no auction {0}")]
    UnknownAuction(u64),
    #[error("auction {id} is {status}, not open")]
    AuctionNotOpen { id: u64, status: &'static str },
    #[error("this member already auctioned its slot on task {task} (auction {auction})")]
    AuctionExists { task: u64, auction: u64 },
    #[error("start price {start} unop is above the member's expected pay {expected_pay} unop")]
    PriceAboveExpectedPay { start: u128, expected_pay: u128 },
    #[error("floor price {floor} unop is above the start price {start} unop")]
    FloorAboveStart { floor: u128, start: u128 },
    #[error("the commit window ends at height {commit_end}; an auction must open by height {latest} so that the member can still commit after it expires")]
    TooLateToAuction { commit_end: u64, latest: u64 },
    #[error("this coprocessor cannot bid on auction {auction}: {reason}")]
    CannotBid { auction: u64, reason: String },
    #[error("{free} free units; the task needs {needed}")]
    InsufficientCapacity { free: u64, needed: u64 },
    #[error("effective reputation {score_ppm} ppm is below the task's minimum {min_ppm} ppm")]
    ReputationTooLow { score_ppm: u32, min_ppm: u32 },
    #[error("with {free_ppm} ppm of its capacity free this coprocessor may bid from height {opens_at}; this block is {height}")]
    BidTooEarly {
        free_ppm: u32,
        opens_at: u64,
        height: u64,
    },
    #[error("this coprocessor already bid on auction {0}")]
    AlreadyBid(u64),
    #[error("amount arithmetic overflowed")]
    Overflow,
}

impl CoprocessorsError {
    pub fn code(&self) -> u32 {
        match self {
            CoprocessorsError::InvalidField { .. } => 1,
            CoprocessorsError::AlreadyRegistered(_) => 2,
            CoprocessorsError::NotACoprocessor(_) => 3,
            CoprocessorsError::CollateralBelowMinimum { .. } => 4,
            CoprocessorsError::CapacityOutOfRange { .. } => 5,
            CoprocessorsError::InsufficientFreeCollateral { .. } => 6,
            CoprocessorsError::UnknownAuction(_) => 7,
            CoprocessorsError::AuctionNotOpen { .. } => 8,
            CoprocessorsError::AuctionExists { .. } => 9,
            CoprocessorsError::PriceAboveExpectedPay { .. } => 10,
            CoprocessorsError::FloorAboveStart { .. } => 11,
            CoprocessorsError::TooLateToAuction { .. } => 12,
            CoprocessorsError::CannotBid { .. } => 13,
            CoprocessorsError::InsufficientCapacity { .. } => 14,
            CoprocessorsError::ReputationTooLow { .. } => 15,
            CoprocessorsError::BidTooEarly { .. } => 16,
            CoprocessorsError::AlreadyBid(_) => 17,
            CoprocessorsError::Overflow => 18,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            CoprocessorsError::InvalidField { .. } => "invalid_field",
            CoprocessorsError::AlreadyRegistered(_) => "already_registered",
            CoprocessorsError::NotACoprocessor(_) => "not_a_coprocessor",
            CoprocessorsError::CollateralBelowMinimum { .. } => "collateral_below_minimum",
            CoprocessorsError::CapacityOutOfRange { .. } => "capacity_out_of_range",
            CoprocessorsError::InsufficientFreeCollateral { .. } => "insufficient_free_collateral",
            CoprocessorsError::UnknownAuction(_) => "unknown_auction",
            CoprocessorsError::AuctionNotOpen { .. } => "auction_not_open",
            CoprocessorsError::AuctionExists { .. } => "auction_exists",
            CoprocessorsError::PriceAboveExpectedPay { .. } => "price_above_expected_pay",
            CoprocessorsError::FloorAboveStart { .. } => "floor_above_start",
            CoprocessorsError::TooLateToAuction { .. } => "too_late_to_auction",
            CoprocessorsError::CannotBid { .. } => "cannot_bid",
            CoprocessorsError::InsufficientCapacity { .. } => "insufficient_capacity",
            CoprocessorsError::ReputationTooLow { .. } => "reputation_too_low",
            CoprocessorsError::BidTooEarly { .. } => "bid_too_early",
            CoprocessorsError::AlreadyBid(_) => "already_bid",
            CoprocessorsError::Overflow => "overflow",
        }
    }

    pub fn examples() -> Vec<CoprocessorsError> {
        vec![
            CoprocessorsError::InvalidField {
                field: "",
                reason: String::new(),
            },
            CoprocessorsError::AlreadyRegistered(String::new()),
            CoprocessorsError::NotACoprocessor(String::new()),
            CoprocessorsError::CollateralBelowMinimum { got: 0, min: 0 },
            CoprocessorsError::CapacityOutOfRange {
                capacity: 0,
                reserved: 0,
                max: 0,
            },
            CoprocessorsError::InsufficientFreeCollateral {
                requested: 0,
                free: 0,
            },
            CoprocessorsError::UnknownAuction(0),
            CoprocessorsError::AuctionNotOpen { id: 0, status: "" },
            CoprocessorsError::AuctionExists {
                task: 0,
                auction: 0,
            },
            CoprocessorsError::PriceAboveExpectedPay {
                start: 0,
                expected_pay: 0,
            },
            CoprocessorsError::FloorAboveStart { floor: 0, start: 0 },
            CoprocessorsError::TooLateToAuction {
                commit_end: 0,
                latest: 0,
            },
            CoprocessorsError::CannotBid {
                auction: 0,
                reason: String::new(),
            },
            CoprocessorsError::InsufficientCapacity { free: 0, needed: 0 },
            CoprocessorsError::ReputationTooLow {
                score_ppm: 0,
                min_ppm: 0,
            },
            CoprocessorsError::BidTooEarly {
                free_ppm: 0,
                opens_at: 0,
                height: 0,
            },
            CoprocessorsError::AlreadyBid(0),
            CoprocessorsError::Overflow,
        ]
    }
}
