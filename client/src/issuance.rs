//! Issuance reads (PROTOCOL.md §3.6, §3.8; the app's `/issuance/…` query paths, docs/issuance.md),
//! typed, with text for people, and the `ClaimVested` message.
//!
//! Records (`period/{m}`, `payout/{m}/{operator}`, `metrics/{epoch}`, `vesting-schedule/{address}`,
//! `params`) can be read at any kept height, and with a proof through
//! [`crate::verify::query_verified`] and the matching [`crate::verify::Record`]. The supply, the
//! current subsidy, a vesting schedule with what is claimable now, and the lists are computed by
//! the node at its latest height, without a proof.

use std::fmt::Write as _;

use anyhow::Result;
use nodeop_app::crypto::Address;
use nodeop_app::modules::issuance::state::Payout;
use nodeop_app::modules::issuance::{EpochMetrics, IssuanceParams, PeriodRecord, VestingSchedule};
use nodeop_app::serde_u128;
use serde::{Deserialize, Serialize};
use tendermint_rpc::HttpClient;

use crate::amount::{describe, format_ppm};
use crate::staking::{push_query_param, query_json, Page};

/// `/issuance/supply`.
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
    #[serde(with = "serde_u128")]
    pub room: u128,
    #[serde(with = "serde_u128")]
    pub treasury: u128,
    #[serde(with = "serde_u128")]
    pub reward_pool: u128,
    #[serde(with = "serde_u128")]
    pub vesting_unclaimed: u128,
}

/// `/issuance/subsidy`: the open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyView {
    pub period: u64,
    pub subsidy_ppm: u32,
    pub next_subsidy_ppm: u32,
    pub subsidy_periods: u64,
    pub issuance_period_epochs: u64,
    pub first_epoch: u64,
    pub last_epoch: u64,
    pub epoch: u64,
    #[serde(with = "serde_u128")]
    pub revenue: u128,
    #[serde(with = "serde_u128")]
    pub vested: u128,
}

/// `/issuance/vesting/{address}`: the schedule and what it gives at the last block's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VestingView {
    pub beneficiary: Address,
    #[serde(with = "serde_u128")]
    pub total: u128,
    pub start: i64,
    pub cliff: i64,
    pub duration: i64,
    #[serde(with = "serde_u128")]
    pub claimed: u128,
    pub cliff_ends: i64,
    pub ends: i64,
    /// The block time the amounts below are for.
    pub time: i64,
    #[serde(with = "serde_u128")]
    pub vested: u128,
    #[serde(with = "serde_u128")]
    pub claimable: u128,
}

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
        match page.next.and_then(|n| n.parse().ok()) {
            Some(n) => after = Some(n),
            None => return Ok((all, height)),
        }
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

// ------------------------------------------------------------------ text for people

pub fn supply_text(s: &SupplyView) -> String {
    format!(
        "total supply:       {}\ngenesis supply:     {}\nminted:             {}\nburned:             {}\nmax supply:         {}\nroom under the cap: {}\ntreasury:           {}\nreward pool:        {}\nunclaimed vesting:  {}",
        describe(s.total_supply),
        describe(s.genesis_supply),
        describe(s.minted),
        describe(s.burned),
        describe(s.max_supply),
        describe(s.room),
        describe(s.treasury),
        describe(s.reward_pool),
        describe(s.vesting_unclaimed),
    )
}

pub fn subsidy_text(s: &SubsidyView) -> String {
    format!(
        "open period:        {} (epochs {}..={}, now epoch {})\nsubsidy s(m):       {} (next period {}; zero from period {})\nperiod length:      {} epochs\nrevenue so far:     {}\nvested so far:      {}\nthe period mints ⌊revenue × (1 + s(m))⌋, at most up to max_supply, when it ends",
        s.period,
        s.first_epoch,
        s.last_epoch,
        s.epoch,
        format_ppm(s.subsidy_ppm),
        format_ppm(s.next_subsidy_ppm),
        s.subsidy_periods,
        s.issuance_period_epochs,
        describe(s.revenue),
        describe(s.vested),
    )
}

pub fn params_text(p: &IssuanceParams) -> String {
    format!(
        "issuance_period_epochs: {}\nsubsidy_periods:        {}",
        p.issuance_period_epochs, p.subsidy_periods
    )
}

pub fn period_text(r: &PeriodRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "period {} (epochs {}..={}), processed at height {} (time {})",
        r.period, r.first_epoch, r.last_epoch, r.height, r.time
    );
    let _ = writeln!(out, "revenue:         {}", describe(r.revenue));
    let _ = writeln!(out, "subsidy:         {}", format_ppm(r.subsidy_ppm));
    let _ = writeln!(out, "due:             {}", describe(r.due));
    let _ = writeln!(out, "minted:          {}", describe(r.minted));
    if r.clipped > 0 {
        let _ = writeln!(
            out,
            "clipped:         {} (max_supply reached)",
            describe(r.clipped)
        );
    }
    if r.carried_in > 0 {
        let _ = writeln!(out, "carried in:      {}", describe(r.carried_in));
    }
    let _ = writeln!(
        out,
        "paid out:        {} to {} operator(s), of which commission {}",
        describe(r.paid_out),
        r.operators_paid,
        describe(r.commission)
    );
    let _ = writeln!(out, "to treasury:     {}", describe(r.to_treasury));
    let _ = writeln!(out, "work (task pay): {}", describe(r.work));
    let _ = writeln!(out, "vested:          {}", describe(r.vested));
    let _ = writeln!(out, "burned:          {}", describe(r.burned));
    let _ = write!(
        out,
        "supply:          {} → {}",
        describe(r.supply_at_start),
        describe(r.total_supply)
    );
    out
}

pub fn periods_text(list: &[PeriodRecord]) -> String {
    if list.is_empty() {
        return "no period has ended yet".into();
    }
    let mut out = format!(
        "{:>6}  {:>8}  {:>10}  {:>20}  {:>20}  {:>20}  {:>20}",
        "period", "height", "subsidy", "revenue", "minted", "clipped", "total supply"
    );
    for r in list {
        let _ = write!(
            out,
            "\n{:>6}  {:>8}  {:>10}  {:>20}  {:>20}  {:>20}  {:>20}",
            r.period, r.height, r.subsidy_ppm, r.revenue, r.minted, r.clipped, r.total_supply
        );
    }
    out.push_str("\n(amounts in unop, subsidy in ppm)");
    out
}

pub fn payouts_text(list: &[Payout]) -> String {
    if list.is_empty() {
        return "no operator earned task pay in this period".into();
    }
    let mut out = String::new();
    for p in list {
        let _ = writeln!(
            out,
            "{}: pay {}, share {} (commission {}, to its pool {}{})",
            p.operator,
            describe(p.pay),
            describe(p.share),
            describe(p.commission),
            describe(p.to_pool),
            if p.to_treasury > 0 {
                format!(", not payable: {} to the treasury", describe(p.to_treasury))
            } else {
                String::new()
            }
        );
    }
    out.pop();
    out
}

pub fn metrics_text(m: &EpochMetrics) -> String {
    let growth = match m.revenue_growth_ppm {
        Some(g) => format!("{g} ppm"),
        None => "undefined (the previous epoch had no revenue)".into(),
    };
    format!(
        "epoch {} (closed at height {})\ntasks finalized:      {}\ntasks failed:         {}\nmean latency:         {} blocks\nerror rate:           {}\noperators (N):        {}\nfaulty operators:     {}\nfault tolerance F:    {}\nrevenue:              {}\nrevenue growth:       {growth}\npenalties:            {}",
        m.epoch,
        m.height,
        m.tasks_finalized,
        m.tasks_failed,
        m.mean_latency_blocks,
        format_ppm(m.error_rate_ppm),
        m.operators,
        m.faulty_operators,
        format_ppm(m.fault_tolerance_ppm),
        describe(m.revenue),
        describe(m.penalties),
    )
}

pub fn metrics_list_text(list: &[EpochMetrics]) -> String {
    if list.is_empty() {
        return "no epoch has ended yet".into();
    }
    let mut out = format!(
        "{:>6}  {:>9}  {:>6}  {:>7}  {:>9}  {:>9}  {:>20}  {:>12}  {:>20}",
        "epoch", "finalized", "failed", "latency", "errors", "F", "revenue", "growth", "penalties"
    );
    for m in list {
        let growth = m
            .revenue_growth_ppm
            .map(|g| g.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = write!(
            out,
            "\n{:>6}  {:>9}  {:>6}  {:>7}  {:>9}  {:>9}  {:>20}  {:>12}  {:>20}",
            m.epoch,
            m.tasks_finalized,
            m.tasks_failed,
            m.mean_latency_blocks,
            m.error_rate_ppm,
            m.fault_tolerance_ppm,
            m.revenue,
            growth,
            m.penalties
        );
    }
    out.push_str("\n(latency in blocks; errors, F and growth in ppm; amounts in unop)");
    out
}

pub fn schedule_text(v: &VestingSchedule) -> String {
    format!(
        "beneficiary: {}\ntotal:       {}\nclaimed:     {}\nstart:       {} (unix s)\ncliff ends:  {} ({} s after the start)\nfully vested {} ({} s after the start)",
        v.beneficiary,
        describe(v.total),
        describe(v.claimed),
        v.start,
        v.cliff_ends(),
        v.cliff,
        v.start.saturating_add(v.duration),
        v.duration,
    )
}

pub fn vesting_text(v: &VestingView) -> String {
    let state = if v.time < v.cliff_ends {
        format!(
            "before the cliff: nothing can be claimed until {} ({} s from now)",
            v.cliff_ends,
            v.cliff_ends - v.time
        )
    } else if v.claimable == 0 {
        "nothing to claim now".into()
    } else {
        format!(
            "claimable now: {} (nodeop tx vesting claim KEY)",
            describe(v.claimable)
        )
    };
    format!(
        "beneficiary: {}\ntotal:       {}\nvested:      {} at block time {}\nclaimed:     {}\nstart:       {} (unix s); cliff ends {}; fully vested {}\n{state}",
        v.beneficiary,
        describe(v.total),
        describe(v.vested),
        v.time,
        describe(v.claimed),
        v.start,
        v.cliff_ends,
        v.ends,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
            beneficiary: Address([1; 20]),
            total: 10_000_000,
            start: 100,
            cliff: 10,
            duration: 100,
            claimed: 0,
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
        v.claimed = 5_000_000;
        v.claimable = 0;
        assert!(vesting_text(&v).contains("nothing to claim"));
    }
}
