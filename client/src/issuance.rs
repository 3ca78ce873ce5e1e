//! Issuance reads (PROTOCOL.md §3.6, §3.8; the app's `/issuance/…` query paths, docs/issuance.md),
//! typed (their text for people is [`crate::render::issuance`]; the `ClaimVested` message is
//! [`nodeop_app::tx::Msg::claim_vested`]).
//!
//! Records (`period/{m}`, `payout/{m}/{operator}`, `metrics/{epoch}`, `vesting-schedule/{address}`,
//! `params`) can be read at any kept height, and with a proof through
//! [`crate::verify::query_verified`] and the matching [`crate::verify::Record`]. The supply, the
//! current subsidy, a vesting schedule with what is claimable now, and the lists are computed by
//! the node at its latest height, without a proof.

use anyhow::{anyhow, bail, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::issuance::state::Payout;
use nodeop_app::modules::issuance::{EpochMetrics, IssuanceParams, PeriodRecord, VestingSchedule};

use tendermint_rpc::HttpClient;

use crate::node::{push_query_param, query_json, Page};

/// The views the node renders for issuance reads (one definition, in the app).
pub use nodeop_app::modules::issuance::query::{SubsidyView, SupplyView, VestingView};

pub async fn supply(client: &HttpClient) -> Result<(SupplyView, u64)> {
    query_json(client, "/issuance/supply", None).await
}

pub async fn subsidy(client: &HttpClient) -> Result<(SubsidyView, u64)> {
    query_json(client, "/issuance/subsidy", None).await
}

pub async fn params(client: &HttpClient, height: Option<u64>) -> Result<(IssuanceParams, u64)> {
    query_json(client, "/issuance/params", height).await
}

pub async fn period(
    client: &HttpClient,
    m: u64,
    height: Option<u64>,
) -> Result<(PeriodRecord, u64)> {
    query_json(client, &format!("/issuance/period/{m}"), height).await
}

pub async fn periods(
    client: &HttpClient,
    limit: Option<u32>,
    after: Option<u64>,
) -> Result<(Page<PeriodRecord>, u64)> {
    query_json(client, &page_path("/issuance/periods", limit, after), None).await
}

/// Every period record, following `next` to the last page.
pub async fn all_periods(
    client: &HttpClient,
    limit: Option<u32>,
) -> Result<(Vec<PeriodRecord>, u64)> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, height) = periods(client, limit, after).await?;
        all.extend(page.items);
        let Some(next) = page.next else {
            return Ok((all, height));
        };
        let next: u64 = next
            .parse()
            .map_err(|_| anyhow!("the node's next cursor {next:?} is not a period index"))?;
        // a node whose cursor does not move would otherwise keep this loop going for ever
        if after.is_some_and(|a| next <= a) {
            bail!(
                "the node's next cursor {next} does not advance past {}; stopping",
                after.unwrap_or_default()
            );
        }
        after = Some(next);
    }
}

pub async fn payouts(client: &HttpClient, m: u64) -> Result<(Vec<Payout>, u64)> {
    query_json(client, &format!("/issuance/payouts/{m}"), None).await
}

pub async fn payout(
    client: &HttpClient,
    m: u64,
    operator: &Address,
    height: Option<u64>,
) -> Result<(Payout, u64)> {
    query_json(client, &format!("/issuance/payout/{m}/{operator}"), height).await
}

pub async fn metrics(
    client: &HttpClient,
    epoch: u64,
    height: Option<u64>,
) -> Result<(EpochMetrics, u64)> {
    query_json(client, &format!("/issuance/metrics/{epoch}"), height).await
}

pub async fn metrics_page(
    client: &HttpClient,
    limit: Option<u32>,
    after: Option<u64>,
) -> Result<(Page<EpochMetrics>, u64)> {
    query_json(client, &page_path("/issuance/metrics", limit, after), None).await
}

pub async fn vesting(client: &HttpClient, beneficiary: &Address) -> Result<(VestingView, u64)> {
    query_json(client, &format!("/issuance/vesting/{beneficiary}"), None).await
}

pub async fn vesting_schedule(
    client: &HttpClient,
    beneficiary: &Address,
    height: Option<u64>,
) -> Result<(VestingSchedule, u64)> {
    query_json(
        client,
        &format!("/issuance/vesting-schedule/{beneficiary}"),
        height,
    )
    .await
}

fn page_path(base: &str, limit: Option<u32>, after: Option<u64>) -> String {
    let mut path = base.to_string();
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::issuance::*;

    #[test]
    fn page_paths_carry_only_the_given_arguments() {
        assert_eq!(
            page_path("/issuance/periods", None, None),
            "/issuance/periods"
        );
        assert_eq!(
            page_path("/issuance/periods", Some(5), Some(7)),
            "/issuance/periods?limit=5&after=7"
        );
        assert_eq!(
            page_path("/issuance/metrics", None, Some(0)),
            "/issuance/metrics?after=0"
        );
    }

    #[test]
    fn vesting_text_says_what_can_be_done() {
        let mut v = VestingView {
            schedule: nodeop_app::modules::issuance::VestingSchedule {
                beneficiary: Address([1; 20]),
                total: 10_000_000,
                start: 100,
                cliff: 10,
                duration: 100,
                claimed: 0,
            },
            cliff_ends: 110,
            ends: 200,
            time: 105,
            vested: 0,
            claimable: 0,
        };
        assert!(vesting_text(&v).contains("before the cliff"));
        v.time = 150;
        v.vested = 5_000_000;
        v.claimable = 5_000_000;
        assert!(vesting_text(&v).contains("claimable now: 5"));
        v.schedule.claimed = 5_000_000;
        v.claimable = 0;
        assert!(vesting_text(&v).contains("nothing to claim"));
    }
}
