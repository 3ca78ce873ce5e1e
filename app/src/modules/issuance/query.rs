//! issuance's query paths (under `/issuance/`; see docs/queries.md).
//!
//! Provable records: `period/{m}`, `payout/{m}/{operator}`, `metrics/{epoch}`,
//! `vesting-schedule/{address}`, `params`. Computed (latest height): `supply`, `subsidy`,
//! `vesting/{address}` (the schedule and what is claimable at the last block's time),
//! `payouts/{m}`. Lists page with `?limit=N&after=CURSOR` and answer
//! `{"items": […], "next": CURSOR|null}`: `periods`, `metrics`.

use serde::{Deserialize, Serialize};

use super::keys;
use super::state::{
    open_epoch, open_period, params, payouts, vesting, vesting_schedules, EpochMetrics,
    PeriodRecord, VestingSchedule, Work,
};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::modules::bank;
use crate::query::{json, listing, Page, Target};
use crate::records::Record;
use crate::serde_u128;
use crate::state::{decode_stored, StateRead, StateReadExt};

/// Views with flattened records. Deserializing a flattened struct goes through serde's untyped
/// buffer, which can hold floats; only clients deserialize views, the state machine never does.
mod flattened {
    #![allow(clippy::disallowed_types)]

    use super::*;

    /// `/issuance/vesting/{address}`: the schedule and what it gives at the last block's time.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct VestingView {
        #[serde(flatten)]
        pub schedule: VestingSchedule,
        pub cliff_ends: i64,
        pub ends: i64,
        /// At the last committed block's time.
        pub time: i64,
        #[serde(with = "serde_u128")]
        pub vested: u128,
        #[serde(with = "serde_u128")]
        pub claimable: u128,
    }
}

pub use flattened::VestingView;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;

/// `/issuance/supply`: the supply record and what it leaves room for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyView {
    #[serde(with = "serde_u128")]
    pub total_supply: u128,
    #[serde(with = "serde_u128")]
    pub genesis_supply: u128,
    #[serde(with = "serde_u128")]
    pub minted: u128,
    #[serde(with = "serde_u128")]
    pub burned: u128,
    #[serde(with = "serde_u128")]
    pub max_supply: u128,
    /// max_supply − total_supply: what any mint may still create.
    #[serde(with = "serde_u128")]
    pub room: u128,
    #[serde(with = "serde_u128")]
    pub treasury: u128,
    #[serde(with = "serde_u128")]
    pub reward_pool: u128,
    /// What vesting schedules may still mint.
    #[serde(with = "serde_u128")]
    pub vesting_unclaimed: u128,
}

/// `/issuance/subsidy`: the open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyView {
    /// The open period m and its subsidy s(m).
    pub period: u64,
    pub subsidy_ppm: u32,
    /// s(m + 1).
    pub next_subsidy_ppm: u32,
    pub subsidy_periods: u64,
    pub issuance_period_epochs: u64,
    /// The open period's epochs, and the epoch now running.
    pub first_epoch: u64,
    pub last_epoch: u64,
    pub epoch: u64,
    /// Revenue and vesting claims so far in the open period.
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    #[serde(with = "serde_u128")]
    pub vested: u128,
}

fn arg<'a>(args: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    args.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn limit(args: &[(&str, &str)]) -> Result<usize, QueryError> {
    match arg(args, "limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| QueryError::BadArgument(format!("limit {v:?} must be 1..={MAX_LIMIT}"))),
    }
}

fn number(what: &str, s: &str) -> Result<u64, QueryError> {
    s.parse()
        .map_err(|_| QueryError::BadArgument(format!("{what} {s:?} is not a number")))
}

fn address(s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| QueryError::BadArgument(format!("address {s:?}: {e}")))
}

/// A page of records under `prefix` keyed by an 8-byte number, from after `after`.
fn numbered_page<T: borsh::BorshDeserialize>(
    state: &impl StateRead,
    prefix: &[u8],
    key: fn(u64) -> Vec<u8>,
    after: Option<u64>,
    limit: usize,
) -> (Vec<T>, Option<String>) {
    let start = after.map(key);
    let mut page = state.prefix_raw(prefix, start.as_deref(), limit + 1);
    let next = if page.len() > limit {
        page.truncate(limit);
        page.last()
            .and_then(|(k, _)| keys::number_at(k, prefix))
            .map(|n| n.to_string())
    } else {
        None
    };
    let items = page.iter().map(|(k, v)| decode_stored(k, v)).collect();
    (items, next)
}

pub(crate) fn route(path: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["params"] => Ok(Target::Record(Record::IssuanceParams)),
        ["period", m] => Ok(Target::Record(Record::IssuancePeriod(number("period", m)?))),
        ["payout", m, operator] => Ok(Target::Record(Record::IssuancePayout {
            period: number("period", m)?,
            operator: address(operator)?,
        })),
        ["metrics", e] => Ok(Target::Record(Record::IssuanceMetrics(number("epoch", e)?))),
        ["vesting-schedule", a] => Ok(Target::Record(Record::VestingSchedule(address(a)?))),
        ["vesting", a] => {
            let a = address(a)?;
            Ok(listing(move |app| {
                let state = app.storage();
                let schedule = vesting(state, &a)
                    .ok_or_else(|| QueryError::NotFound(format!("{a} has no vesting schedule")))?;
                let time = state.committed().map(|c| c.block_time).unwrap_or(0);
                json(&VestingView {
                    cliff_ends: schedule.cliff_ends(),
                    ends: schedule.start.saturating_add(schedule.duration),
                    time,
                    vested: schedule.vested_at(time),
                    claimable: schedule.claimable_at(time),
                    schedule,
                })
            }))
        }
        ["supply"] => Ok(listing(|app| {
            let state = app.storage();
            let s = bank::supply(state);
            json(&SupplyView {
                total_supply: s.total_supply,
                genesis_supply: s.genesis_supply,
                minted: s.minted,
                burned: s.burned,
                max_supply: s.max_supply,
                room: s.max_supply.saturating_sub(s.total_supply),
                treasury: bank::account(state, &bank::TREASURY.address()).balance,
                reward_pool: bank::account(state, &bank::REWARD_POOL.address()).balance,
                vesting_unclaimed: vesting_schedules(state)
                    .iter()
                    .fold(0u128, |t, v| t.saturating_add(v.unclaimed())),
            })
        })),
        ["subsidy"] => Ok(listing(|app| {
            let state = app.storage();
            let p = params(state);
            let open = open_period(state);
            let n = p.issuance_period_epochs.max(1);
            json(&SubsidyView {
                period: open.period,
                subsidy_ppm: p.subsidy_ppm(open.period),
                next_subsidy_ppm: p.subsidy_ppm(open.period.saturating_add(1)),
                subsidy_periods: p.subsidy_periods,
                issuance_period_epochs: p.issuance_period_epochs,
                first_epoch: open.period.saturating_mul(n),
                last_epoch: open.period.saturating_add(1).saturating_mul(n) - 1,
                epoch: open_epoch(state).epoch,
                revenue: open.revenue,
                vested: open.vested,
            })
        })),
        ["work", a] => {
            let a = address(a)?;
            Ok(listing(move |app| {
                json(
                    &app.storage()
                        .get::<Work>(&keys::work(&a))
                        .unwrap_or_default(),
                )
            }))
        }
        ["payouts", m] => {
            let m = number("period", m)?;
            Ok(listing(move |app| json(&payouts(app.storage(), m))))
        }
        ["periods"] => {
            let lim = limit(args)?;
            let after = arg(args, "after").map(|a| number("after", a)).transpose()?;
            Ok(listing(move |app| {
                let (items, next) = numbered_page::<PeriodRecord>(
                    app.storage(),
                    keys::PERIOD_PREFIX,
                    keys::period,
                    after,
                    lim,
                );
                json(&Page { items, next })
            }))
        }
        ["metrics"] => {
            let lim = limit(args)?;
            let after = arg(args, "after").map(|a| number("after", a)).transpose()?;
            Ok(listing(move |app| {
                let (items, next) = numbered_page::<EpochMetrics>(
                    app.storage(),
                    keys::METRICS_PREFIX,
                    keys::metrics,
                    after,
                    lim,
                );
                json(&Page { items, next })
            }))
        }
        _ => Err(QueryError::UnknownPath(format!(
            "/issuance/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}
