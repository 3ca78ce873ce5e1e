//! coprocessors' query paths (under `/coprocessors/`; docs/coprocessors.md lists them).
//!
//! Provable records: `coprocessor/{address}` → [`Coprocessor`], `auction/{id}` → [`Auction`],
//! `bid/{auction}/{bidder}` → [`super::Bid`].
//!
//! Computed answers (latest height, no proof): `list?after=&limit=` (coprocessors, by address),
//! `auctions?status=open|all&task=&member=&coprocessor=&after=&limit=` (a page of auctions by
//! id), `price/{auction}` ([`PriceView`]), `load/{address}` ([`LoadView`]: capacity, reserved,
//! free, load state, reputation), `params`.

use serde::Serialize;

use super::keys;
use super::state::{self, Auction, AuctionStatus, Coprocessor};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::{json, listing, Target};
use crate::records::Record;
use crate::serde_u128;
use crate::state::StateRead;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// `/coprocessors/price/{auction}`: the price a bid included in the next block would pay.
#[derive(Clone, Debug, Serialize)]
pub struct PriceView {
    pub auction: u64,
    pub status: AuctionStatus,
    pub height: u64,
    #[serde(with = "serde_u128")]
    pub price_now: u128,
    #[serde(with = "serde_u128")]
    pub price_next_block: u128,
    #[serde(with = "serde_u128")]
    pub floor_price: u128,
    pub expires_height: u64,
}

/// `/coprocessors/load/{address}`.
#[derive(Clone, Debug, Serialize)]
pub struct LoadView {
    pub coprocessor: Coprocessor,
    pub free_units: u64,
    pub free_ppm: u32,
    pub load_ppm: u32,
    pub reward_weight_ppm: u32,
    pub load_amplification_ppm: u32,
    pub components: crate::modules::reputation::Components,
    pub effective_score_ppm: u32,
    pub byz_factor_ppm: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page (`None`: this was the last).
    pub next: Option<String>,
}

pub fn load(state: &impl StateRead, address: &Address) -> Result<LoadView, QueryError> {
    let c = state::coprocessor(state, address)
        .ok_or_else(|| QueryError::NotFound(format!("no coprocessor {address}")))?;
    let r = state::reputation_record(state, address);
    Ok(LoadView {
        free_units: c.free_units(),
        free_ppm: c.free_ppm(),
        load_ppm: r.load_ppm,
        reward_weight_ppm: state::reward_weight_ppm(state, address),
        load_amplification_ppm: state::load_amplification_ppm(state, address),
        components: state::components(state, &c),
        effective_score_ppm: state::effective_score_ppm(state, &c),
        byz_factor_ppm: r.byz_factor_ppm,
        coprocessor: c,
    })
}

/// Auctions with ids above `after` that pass the filters, at most `limit`, ascending.
pub fn auctions(
    state: &impl StateRead,
    open_only: bool,
    task: Option<u64>,
    member: Option<Address>,
    coprocessor: Option<Address>,
    after: Option<u64>,
    limit: usize,
) -> Page<Auction> {
    let mut items = Vec::new();
    let mut cursor = after.map(keys::auction);
    loop {
        let batch = state.prefix_raw(keys::AUCTION_PREFIX, cursor.as_deref(), 256);
        let Some((last, _)) = batch.last() else { break };
        cursor = Some(last.clone());
        for (k, v) in &batch {
            let a: Auction = crate::state::decode_stored(k, v);
            let keep = (!open_only || a.status == AuctionStatus::Open)
                && task.is_none_or(|t| t == a.task_id)
                && member.is_none_or(|m| m == a.member)
                && coprocessor.is_none_or(|c| Some(c) == a.winner);
            if keep {
                if items.len() == limit {
                    let next = items.last().map(|a: &Auction| a.id.to_string());
                    return Page { items, next };
                }
                items.push(a);
            }
        }
    }
    Page { items, next: None }
}

pub fn coprocessors(
    state: &impl StateRead,
    after: Option<Address>,
    limit: usize,
) -> Page<Coprocessor> {
    let start = after.map(|a| keys::coprocessor(&a));
    let mut rows = state.prefix_raw(keys::COPROCESSOR_PREFIX, start.as_deref(), limit + 1);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items: Vec<Coprocessor> = rows
        .iter()
        .map(|(k, v)| crate::state::decode_stored(k, v))
        .collect();
    let next = if more {
        items.last().map(|c| c.address.to_string())
    } else {
        None
    };
    Page { items, next }
}

pub(crate) fn route(path: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let arg = |name: &str| {
        args.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let limit = match arg("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                QueryError::BadArgument(format!("limit {l:?} must be 1..={MAX_LIMIT}"))
            })?,
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["coprocessor", a] => Ok(Target::Record(Record::Coprocessor(address("address", a)?))),
        ["auction", id] => Ok(Target::Record(Record::Auction(parse_id("auction id", id)?))),
        ["bid", id, a] => Ok(Target::Record(Record::AuctionBid {
            auction: parse_id("auction id", id)?,
            bidder: address("bidder", a)?,
        })),
        ["list"] => {
            let after = arg("after").map(|a| address("after", &a)).transpose()?;
            Ok(listing(move |app| {
                json(&coprocessors(app.storage(), after, limit))
            }))
        }
        ["auctions"] => {
            let open_only = match arg("status").as_deref() {
                None | Some("open") => true,
                Some("all") => false,
                Some(s) => {
                    return Err(QueryError::BadArgument(format!(
                        "status {s:?}: open or all"
                    )))
                }
            };
            let task = arg("task").map(|t| parse_id("task", &t)).transpose()?;
            let member = arg("member").map(|a| address("member", &a)).transpose()?;
            let coprocessor = arg("coprocessor")
                .map(|a| address("coprocessor", &a))
                .transpose()?;
            let after = arg("after").map(|a| parse_id("after", &a)).transpose()?;
            Ok(listing(move |app| {
                json(&auctions(
                    app.storage(),
                    open_only,
                    task,
                    member,
                    coprocessor,
                    after,
                    limit,
                ))
            }))
        }
        ["price", id] => {
            let id = parse_id("auction id", id)?;
            Ok(listing(move |app| {
                let a = state::auction(app.storage(), id)
                    .ok_or_else(|| QueryError::NotFound(format!("no auction {id}")))?;
                let height = app.info().last_block_height;
                json(&PriceView {
                    auction: id,
                    status: a.status,
                    height,
                    price_now: a.price_at(height),
                    price_next_block: a.price_at(height.saturating_add(1)),
                    floor_price: a.floor_price,
                    expires_height: a.expires_height,
                })
            }))
        }
        ["load", a] => {
            let a = address("address", a)?;
            Ok(listing(move |app| json(&load(app.storage(), &a)?)))
        }
        ["params"] => Ok(listing(|app| json(&state::params(app.storage())))),
        _ => Err(QueryError::UnknownPath(format!(
            "/coprocessors/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}

fn parse_id(what: &str, s: &str) -> Result<u64, QueryError> {
    s.parse()
        .map_err(|_| QueryError::BadArgument(format!("{what} {s:?} is not a number")))
}

fn address(what: &str, s: &str) -> Result<Address, QueryError> {
    Address::parse(s).map_err(|e| QueryError::BadArgument(format!("{what} {s:?}: {e}")))
}
