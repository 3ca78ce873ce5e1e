//! Issuance for people: supply, the subsidy, period records and payouts, epoch metrics,
//! vesting, params.

use std::fmt::Write as _;

use nodeop_app::modules::issuance::state::Payout;
use nodeop_app::modules::issuance::{EpochMetrics, IssuanceParams, PeriodRecord, VestingSchedule};

use crate::amount::{describe, format_ppm};
use crate::issuance::{SubsidyView, SupplyView, VestingView};

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
    if r.to_accounts > 0 {
        let _ = writeln!(
            out,
            "to accounts:     {} (coprocessors' work, part of paid out)",
            describe(r.to_accounts)
        );
    }
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
        if p.to_account > 0 {
            let _ = writeln!(
                out,
                "{}: pay {}, share {} (not an operator: paid to the account)",
                p.operator,
                describe(p.pay),
                describe(p.share)
            );
            continue;
        }
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
        v.schedule.beneficiary,
        describe(v.schedule.total),
        describe(v.vested),
        v.time,
        describe(v.schedule.claimed),
        v.schedule.start,
        v.cliff_ends,
        v.ends,
    )
}
