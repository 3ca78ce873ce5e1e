//! Staking reads (PROTOCOL.md §3.2; the app's `/staking/…` query paths), typed.
//!
//! Single records (`operator`, `delegation`, `unbonding-entry`, `params`) can be read at any
//! kept height, and with a proof through [`crate::verify::query_verified`] and the matching
//! [`crate::verify::Record`]. Listings are computed by the node at its latest height, without a
//! proof. Long listings page: `?limit=N&after=CURSOR` answers `{"items": […], "next": CURSOR}`,
//! and [`all_operators`] follows `next` to the end.
//!
//! The view types mirror the node's JSON (amounts as decimal strings of unop); they accept
//! fields they do not know, so a newer node does not break an older client.

use anyhow::{anyhow, bail, Result};
use nodeop_app::crypto::Address;
use nodeop_app::modules::staking::state::SlashRecord;
use nodeop_app::modules::staking::{Delegation, Operator, StakingParams, UnbondingEntry};

use tendermint_rpc::HttpClient;

use crate::node::{push_query_param, query_json, Page};

/// Which operators `operators` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OperatorStatus {
    #[default]
    All,
    /// In the validator set reported to CometBFT.
    Bonded,
    /// Neither in the set nor jailed (too little stake, or outside the top `max_validators`).
    Inactive,
    Jailed,
    /// Jailed forever for double-signing.
    Tombstoned,
}

impl OperatorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorStatus::All => "all",
            OperatorStatus::Bonded => "bonded",
            OperatorStatus::Inactive => "inactive",
            OperatorStatus::Jailed => "jailed",
            OperatorStatus::Tombstoned => "tombstoned",
        }
    }
}

/// The views the node renders for staking reads (one definition, in the app).
pub use nodeop_app::modules::staking::query::{
    DelegationView, EpochView, OperatorView, SigningView as SigningInfoView, ValidatorView,
};

/// `/staking/operator/{address}`: the stored operator record.
pub async fn operator(
    client: &HttpClient,
    address: &Address,
    height: Option<u64>,
) -> Result<(Operator, u64)> {
    let (op, h): (Operator, u64) =
        query_json(client, &format!("/staking/operator/{address}"), height).await?;
    if op.address != *address {
        bail!(
            "the node answered with operator {} instead of {address}",
            op.address
        );
    }
    Ok((op, h))
}

/// `/staking/operators?status=&limit=&after=`: one page.
pub async fn operators(
    client: &HttpClient,
    status: OperatorStatus,
    limit: Option<u32>,
    after: Option<&Address>,
) -> Result<(Page<OperatorView>, u64)> {
    let mut path = format!("/staking/operators?status={}", status.as_str());
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    query_json(client, &path, None).await
}

/// Every operator with `status`, following `next` from page to page (`limit` per request).
/// Pages are read at the node's latest height each time, so a listing taken while blocks are
/// made may mix heights; the returned height is the last page's.
pub async fn all_operators(
    client: &HttpClient,
    status: OperatorStatus,
    limit: Option<u32>,
) -> Result<(Vec<OperatorView>, u64)> {
    let mut all = Vec::new();
    let mut after: Option<Address> = None;
    loop {
        let (page, height) = operators(client, status, limit, after.as_ref()).await?;
        all.extend(page.items);
        let Some(next) = page.next else {
            return Ok((all, height));
        };
        let next = Address::parse(&next)
            .map_err(|e| anyhow!("the node's next cursor {next:?} is not an address: {e}"))?;
        if after.as_ref().is_some_and(|a| next <= *a) {
            bail!(
                "the node's next cursor {next} does not advance past {}; stopping",
                after.map(|a| a.to_string()).unwrap_or_default()
            );
        }
        after = Some(next);
    }
}

/// `/staking/validators`: the set last reported to CometBFT.
pub async fn validators(client: &HttpClient) -> Result<(Vec<ValidatorView>, u64)> {
    query_json(client, "/staking/validators", None).await
}

/// `/staking/delegation/{delegator}/{operator}`: the stored delegation (shares only).
pub async fn delegation(
    client: &HttpClient,
    delegator: &Address,
    operator: &Address,
    height: Option<u64>,
) -> Result<(Delegation, u64)> {
    query_json(
        client,
        &format!("/staking/delegation/{delegator}/{operator}"),
        height,
    )
    .await
}

/// `/staking/delegations/{delegator}`.
pub async fn delegations(
    client: &HttpClient,
    delegator: &Address,
) -> Result<(Vec<DelegationView>, u64)> {
    query_json(client, &format!("/staking/delegations/{delegator}"), None).await
}

/// `/staking/delegators/{operator}?limit=&after=`: one page.
pub async fn delegators(
    client: &HttpClient,
    operator: &Address,
    limit: Option<u32>,
    after: Option<&Address>,
) -> Result<(Page<DelegationView>, u64)> {
    let mut path = format!("/staking/delegators/{operator}");
    push_query_param(&mut path, "limit", limit);
    push_query_param(&mut path, "after", after);
    query_json(client, &path, None).await
}

/// `/staking/unbonding/{delegator}`.
pub async fn unbonding(
    client: &HttpClient,
    delegator: &Address,
) -> Result<(Vec<UnbondingEntry>, u64)> {
    query_json(client, &format!("/staking/unbonding/{delegator}"), None).await
}

/// `/staking/unbonding-from/{operator}`.
pub async fn unbonding_from(
    client: &HttpClient,
    operator: &Address,
) -> Result<(Vec<UnbondingEntry>, u64)> {
    query_json(client, &format!("/staking/unbonding-from/{operator}"), None).await
}

/// `/staking/unbonding-entry/{id}`.
pub async fn unbonding_entry(
    client: &HttpClient,
    id: u64,
    height: Option<u64>,
) -> Result<(UnbondingEntry, u64)> {
    query_json(client, &format!("/staking/unbonding-entry/{id}"), height).await
}

/// `/staking/slashes/{operator}`.
pub async fn slashes(client: &HttpClient, operator: &Address) -> Result<(Vec<SlashRecord>, u64)> {
    query_json(client, &format!("/staking/slashes/{operator}"), None).await
}

/// `/staking/signing-info/{operator}`.
pub async fn signing_info(
    client: &HttpClient,
    operator: &Address,
) -> Result<(SigningInfoView, u64)> {
    query_json(client, &format!("/staking/signing-info/{operator}"), None).await
}

/// `/staking/params`.
pub async fn params(client: &HttpClient, height: Option<u64>) -> Result<(StakingParams, u64)> {
    query_json(client, "/staking/params", height).await
}

/// `/staking/epoch`.
pub async fn epoch(client: &HttpClient) -> Result<(EpochView, u64)> {
    query_json(client, "/staking/epoch", None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::staking::*;

    #[test]
    fn the_nodes_listing_json_decodes() {
        // as the app renders `/staking/operators` (OperatorView with the record flattened)
        let json = r#"{"items":[{"address":"nodeop1kygrp97xykh98x8x6wmvr2s9au7awna5untxcm",
            "consensus_pubkey":"ej7DqjQt5I5g1D49yN9qb6alGReg5M8HzaUM1SD0NsI=","moniker":"n1",
            "capacity_units":100,"region":"eu","commission_ppm":100000,"tokens":"2000000000",
            "shares":"2000000000","self_shares":"1000000000","jailed_until":null,
            "tombstoned":false,"slashed_total":"0","slash_count":0,"registered_height":7,
            "status":"bonded","power":2000,"self_bond":"1000000000","future_field":1}],
            "next":null}"#;
        let page: Page<OperatorView> = serde_json::from_str(json).unwrap();
        assert_eq!(page.items[0].operator.tokens, 2_000_000_000);
        assert_eq!(page.items[0].power, 2000);
        assert!(page.next.is_none());
        let text = operators_text(&page.items);
        assert!(text.contains("2000.000000"), "{text}");
        assert!(text.contains("10.0000%"), "{text}");
    }

    #[test]
    fn times_and_epochs_read_as_dates() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        let e = EpochView {
            last_processed_epoch: 2,
            epoch_seconds: 10,
            genesis_time: 1_700_000_000,
        };
        assert!(epoch_text(&e).contains("unix 1700000030"));
    }
}
