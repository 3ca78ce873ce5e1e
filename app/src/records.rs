//! The records a client can read with a proof, declared once: the query path, the store key and
//! the stored type of each, and what its stored bytes render as.
//!
//! The App's query routes answer these paths through [`Record`] (the key they read and the JSON
//! they put in `info`), and clients verify a proven answer with the same [`Record`]: they compute
//! the key from what they asked (never trusting the node's), check the ICS23 proof, then render the
//! proven bytes with [`Record::render`] and compare that with the node's `info`. A module that adds
//! a provable record adds its variant here, beside its path, key and type.

use borsh::BorshDeserialize;
use serde::Serialize;

use crate::crypto::Address;
use crate::error::QueryError;
use crate::modules::bank::query::AccountView;
use crate::modules::{bank, coprocessors, issuance, reputation, slashing, staking, tasks};

/// A record that can be read with a proof: what was asked, from which the path and the store key
/// follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// `bank/acct/{address}` → `{address, balance, nonce}` (absent: the zero account).
    Account(Address),
    /// `bank/supply` → [`bank::Supply`].
    Supply,
    /// Any store key (`/store`); the value is shown as hex.
    Store(Vec<u8>),
    /// `staking/op/{operator}` → [`staking::Operator`].
    Operator(Address),
    /// `staking/del/{delegator}/{operator}` → [`staking::Delegation`].
    Delegation {
        delegator: Address,
        operator: Address,
    },
    /// `staking/unb/{id}` → [`staking::UnbondingEntry`].
    UnbondingEntry(u64),
    /// `staking/params` → [`staking::StakingParams`].
    StakingParams,
    /// `slashing/proposal/{id}` → [`slashing::Proposal`].
    SlashingProposal(u64),
    /// `slashing/params` → [`slashing::SlashingParams`].
    SlashingParams,
    /// `tasks/task/{id}` → [`tasks::Task`] (absent once pruned).
    Task(u64),
    /// `tasks/result/{id}` → [`tasks::state::ResultRecord`] (kept after pruning).
    ResultRecord(u64),
    /// `tasks/block_results/{height}` → [`tasks::state::BlockResults`]: the Merkle root over the
    /// results finalized at that height, and its leaves.
    BlockResults(u64),
    /// `tasks/params` → [`tasks::TasksParams`].
    TasksParams,
    /// `reputation/operator/{address}` → [`reputation::OperatorReputation`] (absent: the
    /// neutral record every operator starts from).
    Reputation(Address),
    /// `reputation/params` → [`reputation::ReputationParams`].
    ReputationParams,
    /// `issuance/period/{m}` → [`issuance::PeriodRecord`].
    IssuancePeriod(u64),
    /// `issuance/payout/{m}/{operator}` → [`issuance::state::Payout`].
    IssuancePayout { period: u64, operator: Address },
    /// `issuance/metrics/{epoch}` → [`issuance::EpochMetrics`].
    IssuanceMetrics(u64),
    /// `issuance/vesting/{beneficiary}` → [`issuance::VestingSchedule`].
    VestingSchedule(Address),
    /// `issuance/params` → [`issuance::IssuanceParams`].
    IssuanceParams,
    /// `coprocessors/coprocessor/{address}` → [`coprocessors::Coprocessor`].
    Coprocessor(Address),
    /// `coprocessors/auction/{id}` → [`coprocessors::Auction`].
    Auction(u64),
    /// `coprocessors/bid/{auction}/{bidder}` → [`coprocessors::Bid`].
    AuctionBid { auction: u64, bidder: Address },
}

/// Decodes `T`, checks that it is the record asked for, renders it as JSON.
fn typed<T: BorshDeserialize + Serialize>(
    what: &str,
    stored: &[u8],
    is_the_one_asked: impl Fn(&T) -> Result<(), String>,
) -> Result<String, String> {
    let record: T =
        borsh::from_slice(stored).map_err(|e| format!("the stored {what} does not decode: {e}"))?;
    is_the_one_asked(&record)?;
    serde_json::to_string(&record).map_err(|e| e.to_string())
}

fn same<V: PartialEq + std::fmt::Display>(what: &str, stored: V, asked: V) -> Result<(), String> {
    if stored == asked {
        Ok(())
    } else {
        Err(format!("the stored {what} is {stored}, not {asked}"))
    }
}

fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

impl Record {
    /// The query path that reads it.
    pub fn path(&self) -> String {
        match self {
            Record::Account(a) => format!("/account/{a}"),
            Record::Supply => "/supply".into(),
            Record::Store(_) => "/store".into(),
            Record::Operator(a) => format!("/staking/operator/{a}"),
            Record::Delegation {
                delegator,
                operator,
            } => format!("/staking/delegation/{delegator}/{operator}"),
            Record::UnbondingEntry(id) => format!("/staking/unbonding-entry/{id}"),
            Record::StakingParams => "/staking/params".into(),
            Record::SlashingProposal(id) => format!("/slashing/proposal/{id}"),
            Record::SlashingParams => "/slashing/params".into(),
            Record::Task(id) => format!("/tasks/task/{id}"),
            Record::ResultRecord(id) => format!("/tasks/result-record/{id}"),
            Record::BlockResults(h) => format!("/tasks/block-results/{h}"),
            Record::TasksParams => "/tasks/params".into(),
            Record::Reputation(a) => format!("/reputation/record/{a}"),
            Record::ReputationParams => "/reputation/params".into(),
            Record::IssuancePeriod(m) => format!("/issuance/period/{m}"),
            Record::IssuancePayout { period, operator } => {
                format!("/issuance/payout/{period}/{operator}")
            }
            Record::IssuanceMetrics(e) => format!("/issuance/metrics/{e}"),
            Record::VestingSchedule(a) => format!("/issuance/vesting-schedule/{a}"),
            Record::IssuanceParams => "/issuance/params".into(),
            Record::Coprocessor(a) => format!("/coprocessors/coprocessor/{a}"),
            Record::Auction(id) => format!("/coprocessors/auction/{id}"),
            Record::AuctionBid { auction, bidder } => {
                format!("/coprocessors/bid/{auction}/{bidder}")
            }
        }
    }

    /// The query's data: the raw key for `/store`, nothing otherwise.
    pub fn data(&self) -> Vec<u8> {
        match self {
            Record::Store(k) => k.clone(),
            _ => Vec::new(),
        }
    }

    /// The store key.
    pub fn key(&self) -> Vec<u8> {
        match self {
            Record::Account(a) => bank::keys::account(a),
            Record::Supply => bank::keys::SUPPLY.to_vec(),
            Record::Store(k) => k.clone(),
            Record::Operator(a) => staking::keys::operator(a),
            Record::Delegation {
                delegator,
                operator,
            } => staking::keys::delegation(delegator, operator),
            Record::UnbondingEntry(id) => staking::keys::unbonding(*id),
            Record::StakingParams => staking::keys::PARAMS.to_vec(),
            Record::SlashingProposal(id) => slashing::keys::proposal(*id),
            Record::SlashingParams => slashing::keys::PARAMS.to_vec(),
            Record::Task(id) => tasks::keys::task(*id),
            Record::ResultRecord(id) => tasks::keys::result(*id),
            Record::BlockResults(h) => tasks::keys::block_results(*h),
            Record::TasksParams => tasks::keys::PARAMS.to_vec(),
            Record::Reputation(a) => reputation::keys::operator(a),
            Record::ReputationParams => reputation::keys::PARAMS.to_vec(),
            Record::IssuancePeriod(m) => issuance::keys::period(*m),
            Record::IssuancePayout { period, operator } => {
                issuance::keys::payout(*period, operator)
            }
            Record::IssuanceMetrics(e) => issuance::keys::metrics(*e),
            Record::VestingSchedule(a) => issuance::keys::vesting(a),
            Record::IssuanceParams => issuance::keys::PARAMS.to_vec(),
            Record::Coprocessor(a) => coprocessors::keys::coprocessor(a),
            Record::Auction(id) => coprocessors::keys::auction(*id),
            Record::AuctionBid { auction, bidder } => coprocessors::keys::bid(*auction, bidder),
        }
    }

    /// The kind of record, for messages.
    pub fn what(&self) -> &'static str {
        match self {
            Record::Account(_) => "account",
            Record::Supply => "supply",
            Record::Store(_) => "store value",
            Record::Operator(_) => "operator",
            Record::Delegation { .. } => "delegation",
            Record::UnbondingEntry(_) => "unbonding entry",
            Record::StakingParams => "staking params",
            Record::SlashingProposal(_) => "slash proposal",
            Record::SlashingParams => "slashing params",
            Record::Task(_) => "task",
            Record::ResultRecord(_) => "task result record",
            Record::BlockResults(_) => "block results",
            Record::TasksParams => "tasks params",
            Record::Reputation(_) => "reputation record",
            Record::ReputationParams => "reputation params",
            Record::IssuancePeriod(_) => "period record",
            Record::IssuancePayout { .. } => "period payout",
            Record::IssuanceMetrics(_) => "epoch metrics",
            Record::VestingSchedule(_) => "vesting schedule",
            Record::IssuanceParams => "issuance params",
            Record::Coprocessor(_) => "coprocessor",
            Record::Auction(_) => "auction",
            Record::AuctionBid { .. } => "auction bid",
        }
    }

    /// What the record's stored bytes render as: the JSON the node puts in `info` (`/store`: the
    /// bytes as hex). Fails if the bytes do not decode as the record's type, or decode as
    /// another record than the one asked for (its address, pair or id).
    pub fn render(&self, stored: &[u8]) -> Result<String, String> {
        let w = self.what();
        match self {
            Record::Store(_) => Ok(hex::encode(stored)),
            Record::Account(a) => {
                let acct: bank::Account = borsh::from_slice(stored)
                    .map_err(|e| format!("the stored account does not decode: {e}"))?;
                serde_json::to_string(&AccountView {
                    address: *a,
                    balance: acct.balance,
                    nonce: acct.nonce,
                })
                .map_err(|e| e.to_string())
            }
            Record::Supply => typed(w, stored, any::<bank::Supply>),
            Record::Operator(a) => typed(w, stored, |o: &staking::Operator| {
                same("operator", o.address, *a)
            }),
            Record::Delegation {
                delegator,
                operator,
            } => typed(w, stored, |d: &staking::Delegation| {
                same("delegator", d.delegator, *delegator)?;
                same("delegation's operator", d.operator, *operator)
            }),
            Record::UnbondingEntry(id) => typed(w, stored, |e: &staking::UnbondingEntry| {
                same("unbonding entry id", e.id, *id)
            }),
            Record::StakingParams => typed(w, stored, any::<staking::StakingParams>),
            Record::SlashingProposal(id) => typed(w, stored, |p: &slashing::Proposal| {
                same("proposal id", p.id, *id)
            }),
            Record::SlashingParams => typed(w, stored, any::<slashing::SlashingParams>),
            Record::Task(id) => typed(w, stored, |t: &tasks::Task| same("task id", t.id, *id)),
            Record::ResultRecord(id) => typed(w, stored, |r: &tasks::state::ResultRecord| {
                same("result record's task", r.task_id, *id)
            }),
            Record::BlockResults(h) => typed(w, stored, |b: &tasks::state::BlockResults| {
                same("block results' height", b.height, *h)
            }),
            Record::TasksParams => typed(w, stored, any::<tasks::TasksParams>),
            Record::Reputation(_) => typed(w, stored, any::<reputation::OperatorReputation>),
            Record::ReputationParams => typed(w, stored, any::<reputation::ReputationParams>),
            Record::IssuancePeriod(m) => typed(w, stored, |r: &issuance::PeriodRecord| {
                same("period", r.period, *m)
            }),
            Record::IssuancePayout { period, operator } => {
                typed(w, stored, |p: &issuance::state::Payout| {
                    same("payout's period", p.period, *period)?;
                    same("payout's operator", p.operator, *operator)
                })
            }
            Record::IssuanceMetrics(e) => typed(w, stored, |m: &issuance::EpochMetrics| {
                same("metrics' epoch", m.epoch, *e)
            }),
            Record::VestingSchedule(a) => typed(w, stored, |v: &issuance::VestingSchedule| {
                same("schedule's beneficiary", v.beneficiary, *a)
            }),
            Record::IssuanceParams => typed(w, stored, any::<issuance::IssuanceParams>),
            Record::Coprocessor(a) => typed(w, stored, |c: &coprocessors::Coprocessor| {
                same("coprocessor", c.address, *a)
            }),
            Record::Auction(id) => typed(w, stored, |a: &coprocessors::Auction| {
                same("auction id", a.id, *id)
            }),
            Record::AuctionBid { auction, bidder } => typed(w, stored, |b: &coprocessors::Bid| {
                same("bid's auction", b.auction_id, *auction)?;
                same("bidder", b.bidder, *bidder)
            }),
        }
    }

    /// What an absent record reads as, for the records that have a meaning when absent (an
    /// account never used is the zero account; an operator without a reputation record has the
    /// neutral one); `None` for the others, which are simply not there.
    pub fn absent(&self) -> Option<String> {
        match self {
            Record::Account(a) => serde_json::to_string(&AccountView {
                address: *a,
                balance: 0,
                nonce: 0,
            })
            .ok(),
            Record::Reputation(_) => {
                serde_json::to_string(&reputation::OperatorReputation::default()).ok()
            }
            Record::Store(_) => Some(String::new()),
            _ => None,
        }
    }

    /// Why an unproven read of an absent record finds nothing.
    pub fn not_found(&self) -> QueryError {
        QueryError::NotFound(match self {
            Record::Supply => "supply (no genesis yet)".into(),
            Record::Operator(_) => "no operator at this address".into(),
            Record::Delegation { .. } => "no such delegation".into(),
            Record::UnbondingEntry(_) => "no such unbonding entry".into(),
            Record::SlashingProposal(_) => "no such proposal".into(),
            Record::Task(id) => format!(
                "no task {id} in state (never posted, or pruned task_retention blocks after it \
                 finished; its result stays at /tasks/result/{id})"
            ),
            Record::ResultRecord(_) => "no finalized result for this task".into(),
            Record::BlockResults(_) => "no result was finalized at this height".into(),
            Record::IssuancePeriod(_) => {
                "no such period record (a period is recorded in the first block past its end)"
                    .into()
            }
            Record::IssuancePayout { .. } => "no payout to this operator in this period".into(),
            Record::IssuanceMetrics(_) => "no metrics for this epoch (an epoch is recorded in \
                                           the first block past its end)"
                .into(),
            Record::VestingSchedule(_) => "no vesting schedule".into(),
            Record::Coprocessor(_) => "no coprocessor at this address".into(),
            Record::Auction(_) => "no such auction".into(),
            Record::AuctionBid { .. } => "no bid by this coprocessor on this auction".into(),
            Record::TasksParams => "tasks params (no genesis yet)".into(),
            Record::StakingParams
            | Record::SlashingParams
            | Record::ReputationParams
            | Record::IssuanceParams => self.what().into(),
            Record::Account(_) | Record::Reputation(_) | Record::Store(_) => {
                format!("no {}", self.what())
            }
        })
    }

    /// A node may answer a proven read of such a record, when absent, with "not found" rather
    /// than a non-membership proof (older nodes did); a client then proves the absence with a
    /// raw read of the key.
    pub fn absence_is_refused(&self) -> bool {
        self.absent().is_none() && !matches!(self, Record::Supply)
    }
}
