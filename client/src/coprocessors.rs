//! Coprocessor and auction reads (docs/coprocessors.md; the app's `/coprocessors/…` query
//! paths), typed, and the defaults of an auction's prices.
//!
//! Records (`coprocessor/{address}`, `auction/{id}`, `bid/{auction}/{bidder}`) can be read at
//! any kept height, and with a proof through [`crate::verify::query_verified`] and
//! `Record::Coprocessor`, `Record::Auction`, `Record::AuctionBid`. Listings, the price of an
//! auction and a coprocessor's load are computed by the node at its latest height, without a
//! proof. Listings page: `?limit=N&after=CURSOR` answers `{"items": […], "next": CURSOR}`.

use anyhow::{anyhow, bail, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::coprocessors::handler::expected_pay;
use nodeop_app::modules::coprocessors::{Auction, AuctionStatus, Bid, Coprocessor};
use nodeop_app::modules::tasks::state::Task;
use nodeop_app::modules::tasks::TasksParams;
use nodeop_app::serde_u128;
use serde::{Deserialize, Serialize};
use tendermint_rpc::HttpClient;

use crate::node::{push_query_param, query_json, Page};

/// `/coprocessors/price/{auction}`: the price a bid would pay now and in the next block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionPriceView {
    pub auction: u64,
    pub status: AuctionStatus,
    /// The node's latest block.
    pub height: u64,
    /// The price at `height`.
    #[serde(with = "serde_u128")]
    pub price_now: u128,
    /// The price a bid included in block `height + 1` pays (if it wins there).
    #[serde(with = "serde_u128")]
    pub price_next_block: u128,
    #[serde(with = "serde_u128")]
    pub floor_price: u128,
    pub expires_height: u64,
}

/// `/coprocessors/load/{address}`: capacity use, load state and reputation of a coprocessor
/// (the record itself and the score components are left out: read the record for those).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoprocessorLoadView {
    pub free_units: u64,
    /// Free capacity over capacity, ppm (φ of the early-access rule).
    pub free_ppm: u32,
    /// The load state `f`, ppm.
    pub load_ppm: u32,
    pub reward_weight_ppm: u32,
    /// What a collateral slash is multiplied by, ppm.
    pub load_amplification_ppm: u32,
    pub effective_score_ppm: u32,
    pub byz_factor_ppm: u32,
}

/// Which auctions [`auctions`] lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuctionFilter {
    /// Only open auctions (else every status).
    pub open_only: bool,
    pub task: Option<u64>,
    pub member: Option<Address>,
    /// Only auctions this coprocessor won.
    pub coprocessor: Option<Address>,
}

/// `/coprocessors/coprocessor/{address}` at `height` (latest if `None`).
pub async fn coprocessor(
    client: &HttpClient,
    address: &Address,
    height: Option<u64>,
) -> Result<(Coprocessor, u64)> {
    let (c, h): (Coprocessor, u64) = query_json(
        client,
        &format!("/coprocessors/coprocessor/{address}"),
        height,
    )
    .await?;
    if c.address != *address {
        bail!(
            "the node answered with coprocessor {} instead of {address}",
            c.address
        );
    }
    Ok((c, h))
}

/// `/coprocessors/load/{address}` (latest height).
pub async fn load(client: &HttpClient, address: &Address) -> Result<(CoprocessorLoadView, u64)> {
    query_json(client, &format!("/coprocessors/load/{address}"), None).await
}

/// `/coprocessors/list?limit=&after=`: one page of coprocessors in address order.
pub async fn coprocessors(
    client: &HttpClient,
    limit: Option<u32>,
    after: Option<&Address>,
) -> Result<(Page<Coprocessor>, u64)> {
    let mut path = "/coprocessors/list".to_string();
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    query_json(client, &path, None).await
}

/// `/coprocessors/auction/{id}` at `height` (latest if `None`).
pub async fn auction(client: &HttpClient, id: u64, height: Option<u64>) -> Result<(Auction, u64)> {
    let (a, h): (Auction, u64) =
        query_json(client, &format!("/coprocessors/auction/{id}"), height).await?;
    if a.id != id {
        bail!("the node answered with auction {} instead of {id}", a.id);
    }
    Ok((a, h))
}

/// `/coprocessors/bid/{auction}/{bidder}` at `height` (latest if `None`).
pub async fn bid(
    client: &HttpClient,
    auction: u64,
    bidder: &Address,
    height: Option<u64>,
) -> Result<(Bid, u64)> {
    let (b, h): (Bid, u64) = query_json(
        client,
        &format!("/coprocessors/bid/{auction}/{bidder}"),
        height,
    )
    .await?;
    if (b.auction_id, b.bidder) != (auction, *bidder) {
        bail!(
            "the node answered with {}'s bid on auction {} instead of {bidder}'s on auction {auction}",
            b.bidder,
            b.auction_id
        );
    }
    Ok((b, h))
}

/// `/coprocessors/price/{auction}` (latest height).
pub async fn price(client: &HttpClient, auction: u64) -> Result<(AuctionPriceView, u64)> {
    query_json(client, &format!("/coprocessors/price/{auction}"), None).await
}

/// The `/coprocessors/auctions` path of one page.
pub fn auctions_path(filter: &AuctionFilter, limit: Option<u32>, after: Option<u64>) -> String {
    let mut path = format!(
        "/coprocessors/auctions?status={}",
        if filter.open_only { "open" } else { "all" }
    );
    push_query_param(&mut path, "task", filter.task);
    push_query_param(&mut path, "member", filter.member.as_ref());
    push_query_param(&mut path, "coprocessor", filter.coprocessor.as_ref());
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    path
}

/// One page of auctions in id order.
pub async fn auctions(
    client: &HttpClient,
    filter: &AuctionFilter,
    limit: Option<u32>,
    after: Option<u64>,
) -> Result<(Page<Auction>, u64)> {
    query_json(client, &auctions_path(filter, limit, after), None).await
}

/// The member whose slot of `task` the coprocessor `coprocessor` won and still holds (its
/// auction is `won`), from the auctions it won of that task; `None` if it holds none.
pub async fn won_slot(
    client: &HttpClient,
    task: u64,
    coprocessor: &Address,
) -> Result<Option<Auction>> {
    let filter = AuctionFilter {
        open_only: false,
        task: Some(task),
        member: None,
        coprocessor: Some(*coprocessor),
    };
    let (page, _) = auctions(client, &filter, None, None).await?;
    Ok(page
        .items
        .into_iter()
        .find(|a| a.status == AuctionStatus::Won && a.winner == Some(*coprocessor)))
}

/// The member's expected pay for its slot of `task` (docs/coprocessors.md: the guaranteed pay
/// of an agreeing slot, the most a start price may be), with the chain's own formula.
pub fn member_expected_pay(task: &Task, params: &TasksParams) -> Result<u128> {
    let committee = task
        .rounds
        .last()
        .map(|r| r.members.len())
        .ok_or_else(|| anyhow!("task {} has no committee", task.id))?;
    expected_pay(task.fee, params, committee)
        .ok_or_else(|| anyhow!("the expected pay of task {} overflows", task.id))
}

/// The prices of an auction when not given: the start is the member's expected pay (the most
/// the chain accepts), the floor half the start (rounded down).
pub fn default_prices(
    expected: u128,
    start: Option<u128>,
    floor: Option<u128>,
) -> Result<(u128, u128)> {
    let start = start.unwrap_or(expected);
    if start == 0 {
        bail!("the start price must be above 0 (the member's expected pay is {expected} unop)");
    }
    if start > expected {
        bail!(
            "the start price {start} unop is above the member's expected pay {expected} unop (the chain refuses it)"
        );
    }
    let floor = floor.unwrap_or(start / 2);
    if floor > start {
        bail!("the floor price {floor} unop is above the start price {start} unop");
    }
    Ok((start, floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auction_listing_paths() {
        let a = crate::keys::KeyPair::from_secret_hex(&"55".repeat(32))
            .unwrap()
            .address();
        assert_eq!(
            auctions_path(&AuctionFilter::default(), None, None),
            "/coprocessors/auctions?status=all"
        );
        let f = AuctionFilter {
            open_only: true,
            task: Some(7),
            member: None,
            coprocessor: Some(a),
        };
        assert_eq!(
            auctions_path(&f, Some(5), Some(9)),
            format!("/coprocessors/auctions?status=open&task=7&coprocessor={a}&limit=5&after=9")
        );
    }

    #[test]
    fn bad_coprocessor_and_auction_messages_are_refused_before_signing() {
        use crate::tx::check_msg;
        use nodeop_app::modules::coprocessors::{
            MsgAddCollateral, MsgEditCoprocessor, MsgOpenAuction, MsgRegisterCoprocessor,
            MsgWithdrawCollateral,
        };
        use nodeop_app::tx::Msg;
        let check = |m: Msg| check_msg(&m).map_err(|e| format!("{e:#}"));
        let register = |capacity_units, collateral, moniker: &str| {
            check(
                MsgRegisterCoprocessor {
                    capacity_units,
                    collateral,
                    moniker: moniker.into(),
                }
                .into(),
            )
        };
        assert!(register(4, 1_000_000, "gpu").is_ok());
        let e = register(0, 1_000_000, "gpu").unwrap_err();
        assert!(
            e.contains("coprocessors.register") && e.contains("capacity_units"),
            "{e}"
        );
        assert!(register(4, 0, "gpu").is_err());
        assert!(register(4, 1, &"x".repeat(65)).is_err());
        assert!(register(4, 1, "a\nb").is_err());
        let edit = |capacity_units, moniker: Option<&str>| {
            check(
                MsgEditCoprocessor {
                    capacity_units,
                    moniker: moniker.map(String::from),
                }
                .into(),
            )
        };
        assert!(edit(None, None).is_err());
        assert!(edit(Some(0), None).is_err());
        assert!(edit(Some(2), None).is_ok() && edit(None, Some("m")).is_ok());
        assert!(check(MsgAddCollateral { amount: 0 }.into()).is_err());
        assert!(check(MsgWithdrawCollateral { amount: 0 }.into()).is_err());
        assert!(check(MsgWithdrawCollateral { amount: 1 }.into()).is_ok());
        let open = |start_price, floor_price| {
            check(
                MsgOpenAuction {
                    task_id: 1,
                    start_price,
                    floor_price,
                }
                .into(),
            )
        };
        assert!(open(10, 2).is_ok() && open(10, 10).is_ok() && open(10, 0).is_ok());
        assert!(open(0, 0).is_err());
        let e = open(2, 10).unwrap_err();
        assert!(e.contains("coprocessors.open_auction"), "{e}");
    }

    #[test]
    fn coprocessor_and_auction_messages_show_in_tx_views() {
        use crate::tx::MsgView;
        use nodeop_app::modules::coprocessors::{MsgBid, MsgOpenAuction, MsgRegisterCoprocessor};
        use nodeop_app::tx::Msg;
        let view = |m: Msg| {
            let v = MsgView::from(&m);
            (serde_json::to_value(&v).unwrap(), v.describe())
        };
        let (json, text) = view(
            MsgRegisterCoprocessor {
                capacity_units: 4,
                collateral: 1_500_000,
                moniker: "gpu".into(),
            }
            .into(),
        );
        assert_eq!(json["type"], "coprocessors.register", "{json}");
        assert_eq!(json["collateral"], "1500000", "{json}");
        assert!(
            text.contains("1.500000 NOP") && text.contains("4 units"),
            "{text}"
        );
        let (json, text) = view(
            MsgOpenAuction {
                task_id: 7,
                start_price: 10,
                floor_price: 2,
            }
            .into(),
        );
        assert_eq!(json["type"], "coprocessors.open_auction", "{json}");
        assert!(text.contains("task 7"), "{text}");
        let (json, text) = view(MsgBid { auction_id: 3 }.into());
        assert_eq!(
            (json["type"].as_str(), json["auction_id"].as_u64()),
            (Some("coprocessors.bid"), Some(3))
        );
        assert!(text.contains("auction 3"), "{text}");
    }

    #[test]
    fn default_prices_start_at_the_expected_pay_and_floor_at_half() {
        assert_eq!(
            default_prices(18_526_315, None, None).unwrap(),
            (18_526_315, 9_263_157)
        );
        assert_eq!(default_prices(100, Some(10), None).unwrap(), (10, 5));
        assert_eq!(default_prices(100, Some(10), Some(2)).unwrap(), (10, 2));
        assert_eq!(default_prices(100, None, Some(0)).unwrap(), (100, 0));
        assert!(default_prices(100, Some(101), None).is_err());
        assert!(default_prices(100, Some(10), Some(11)).is_err());
        assert!(default_prices(0, None, None).is_err());
    }
}
