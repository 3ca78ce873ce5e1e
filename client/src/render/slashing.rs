//! Slashing for people: proposals and where their dispute stands, evidence, votes, params.

use std::fmt::Write as _;

use nodeop_app::crypto::Address;
use nodeop_app::modules::slashing::state::{Dispute, Vote};
use nodeop_app::modules::slashing::{Evidence, Proposal, ProposalStatus, SlashingParams};

use super::staking::format_time;
use crate::amount::{describe, format_ppm};

/// `t` relative to `now`: `in 12 s`, `12 s ago`, `now`.
pub fn relative(t: i64, now: i64) -> String {
    match t.saturating_sub(now) {
        0 => "now".into(),
        d if d > 0 => format!("in {d} s"),
        d => format!("{} s ago", d.unsigned_abs()),
    }
}

/// Unix seconds for people: `1700000030 (2023-11-14T22:13:50Z, in 12 s)`; the relative part
/// against the latest block time `now` when known.
pub fn time_text(t: i64, now: Option<i64>) -> String {
    match now {
        Some(now) => format!("{t} ({}, {})", format_time(t), relative(t, now)),
        None => format!("{t} ({})", format_time(t)),
    }
}

fn short_hex(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    if h.len() > 16 {
        format!("{}…", &h[..16])
    } else {
        h
    }
}

/// Evidence in one line.
pub fn evidence_text(e: &Evidence) -> String {
    match e {
        Evidence::Equivocation { first, second } => format!(
            "two attestations by {} on chain {:?} for task {}: result {} and result {}",
            Address::from_pubkey(&first.pubkey),
            first.body.chain_id,
            first.body.task_id,
            short_hex(&first.body.result_hash),
            short_hex(&second.body.result_hash),
        ),
        Evidence::Statement {
            infraction_id,
            infraction_height,
            description,
            reference,
        } => {
            let mut s = format!(
                "statement: infraction {infraction_id} at height {infraction_height}: {description:?}"
            );
            if !reference.is_empty() {
                write!(s, " (reference {reference:?})").ok();
            }
            s
        }
        Evidence::Downtime { period, uptime_ppm } => format!(
            "downtime: uptime {} in SLA period {period}",
            format_ppm(*uptime_ppm)
        ),
        Evidence::ResultMismatch { task_id } => {
            format!("result mismatch: task {task_id} disagreed with its finalized aggregate")
        }
    }
}

fn status_line(p: &Proposal, now: Option<i64>) -> String {
    match (&p.status, &p.dispute) {
        (ProposalStatus::Pending, _) => format!(
            "pending: executes at the dispute deadline unless the accused disputes it before then ({})",
            now.map(|n| relative(p.deadline, n)).unwrap_or_else(|| format_time(p.deadline))
        ),
        (ProposalStatus::Disputed, Some(d)) => format!(
            "disputed: the validators' vote decides at {}",
            time_text(d.decides_at, now)
        ),
        (ProposalStatus::Disputed, None) => "disputed".into(),
        (ProposalStatus::Executed, _) => format!(
            "executed{}",
            if p.dispute.is_some() {
                " (the dispute was upheld)"
            } else {
                " (undisputed)"
            }
        ),
        (ProposalStatus::Overturned, _) => "overturned".into(),
    }
}

/// The quorum of a vote: power cast must be at least a third of the eligible power (rounded up).
fn quorum(d: &Dispute) -> u64 {
    d.eligible_power.div_ceil(3).max(1)
}

fn dispute_text(d: &Dispute, now: Option<i64>) -> String {
    let cast = d.yes_power.saturating_add(d.no_power);
    format!(
        "dispute:             {:?}\n  bond:              {}\n  opened at:         height {}\n  decided by:        {} at {}\n  votes:             uphold {} / reject {} of eligible power {} (quorum: {} cast, has {cast}; upheld if uphold > half of the power cast; a tie or no quorum overturns)",
        d.reason,
        describe(d.bond),
        d.opened_height,
        match d.resolver {
            nodeop_app::modules::slashing::resolver::Resolver::ValidatorVote =>
                "validator vote".to_string(),
            nodeop_app::modules::slashing::resolver::Resolver::Reexecution { task_id } => format!(
                "re-execution by task {task_id} (no quorum there falls back to the validator vote)"
            ),
        },
        time_text(d.decides_at, now),
        d.yes_power,
        d.no_power,
        d.eligible_power,
        quorum(d),
    )
}

/// A proposal, one field per line. `now` is the latest block time, for "in N s".
pub fn proposal_text(p: &Proposal, now: Option<i64>) -> String {
    let mut out = format!(
        "proposal:            {}\nstatus:              {}\noperator:            {}\noffence:             {}\nevidence:            {}\ninfraction:          id {} at height {}\nstake at infraction: {}\nslash amount:        {}",
        p.id,
        status_line(p, now),
        p.operator,
        p.offence.name(),
        evidence_text(&p.evidence),
        p.infraction_id,
        p.infraction_height,
        describe(p.stake_at_infraction),
        describe(p.amount),
    );
    match &p.reporter {
        Some(r) => write!(
            out,
            "\nreporter:            {r} (bond {})",
            describe(p.reporter_bond)
        ),
        None => write!(
            out,
            "\nreporter:            automatic (no bond; the reporter's share goes to the treasury)"
        ),
    }
    .ok();
    // Once disputed, the dispute deadline no longer matters: the vote's end does.
    let deadline = match &p.dispute {
        Some(d) => format!(
            "{} (disputed before it, at height {})",
            time_text(p.deadline, None),
            d.opened_height
        ),
        None => time_text(p.deadline, now),
    };
    write!(
        out,
        "\ncreated at:          height {}\ndispute deadline:    {deadline}",
        p.created_height,
    )
    .ok();
    if let Some(d) = &p.dispute {
        write!(out, "\n{}", dispute_text(d, now)).ok();
    }
    if let Some(o) = &p.outcome {
        write!(
            out,
            "\nslashed:             {} (from the pool {}, from unbonding entries {})\n  burned:            {}\n  to the reporter:   {}\n  to the treasury:   {}",
            describe(o.from_pool.saturating_add(o.from_unbonding)),
            describe(o.from_pool),
            describe(o.from_unbonding),
            describe(o.burned),
            describe(o.to_reporter),
            describe(o.to_treasury),
        )
        .ok();
    }
    match p.status {
        ProposalStatus::Executed => {
            let mut bonds = Vec::new();
            if p.reporter.is_some() {
                bonds.push(format!(
                    "the reporter's bond ({}) returned to the reporter",
                    describe(p.reporter_bond)
                ));
            }
            if let Some(d) = &p.dispute {
                bonds.push(format!("the dispute bond ({}) burned", describe(d.bond)));
            }
            if !bonds.is_empty() {
                write!(out, "\nbonds:               {}", bonds.join("; ")).ok();
            }
        }
        ProposalStatus::Overturned => {
            let mut bonds = Vec::new();
            if let Some(d) = &p.dispute {
                bonds.push(format!(
                    "the dispute bond ({}) returned to the accused",
                    describe(d.bond)
                ));
            }
            if p.reporter_bond > 0 {
                bonds.push(format!(
                    "the reporter's bond ({}) paid to the accused",
                    describe(p.reporter_bond)
                ));
            }
            if !bonds.is_empty() {
                write!(out, "\nbonds:               {}", bonds.join("; ")).ok();
            }
        }
        ProposalStatus::Pending | ProposalStatus::Disputed => {}
    }
    if let Some(h) = p.closed_height {
        write!(out, "\nclosed at:           height {h}").ok();
    }
    out
}

/// A table of proposals.
pub fn proposals_text(list: &[Proposal], now: Option<i64>) -> String {
    if list.is_empty() {
        return "(no proposals)".into();
    }
    let mut out = format!(
        "{:>5}  {:45}  {:16}  {:10}  {:>24}  DEADLINE / DECIDES AT",
        "ID", "OPERATOR", "OFFENCE", "STATUS", "AMOUNT (NOP)"
    );
    for p in list {
        let when = match (&p.status, &p.dispute) {
            (ProposalStatus::Pending, _) => time_text(p.deadline, now),
            (ProposalStatus::Disputed, Some(d)) => time_text(d.decides_at, now),
            _ => format!(
                "closed at height {}",
                p.closed_height
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
        };
        write!(
            out,
            "\n{:>5}  {:45}  {:16}  {:10}  {:>24}  {when}",
            p.id,
            p.operator.to_string(),
            p.offence.name(),
            p.status.name(),
            crate::amount::format_nop_fixed(p.amount),
        )
        .ok();
    }
    out
}

/// The votes on a proposal, with totals.
pub fn votes_text(list: &[Vote]) -> String {
    if list.is_empty() {
        return "(no votes)".into();
    }
    let mut out = format!("{:45}  {:7}  {:>10}  HEIGHT", "VOTER", "VOTE", "POWER");
    let (mut yes, mut no) = (0u64, 0u64);
    for v in list {
        if v.uphold {
            yes = yes.saturating_add(v.power);
        } else {
            no = no.saturating_add(v.power);
        }
        write!(
            out,
            "\n{:45}  {:7}  {:>10}  {}",
            v.voter.to_string(),
            if v.uphold { "uphold" } else { "reject" },
            v.power,
            v.height
        )
        .ok();
    }
    write!(out, "\nuphold {yes}, reject {no}").ok();
    out
}

pub fn params_text(p: &SlashingParams) -> String {
    format!(
        "result_mismatch:          {}\nequivocation:             {}\nfalse_submission:         {}\ndowntime:                 {} per point of uptime below {}\nperformance:              {}\nbyzantine:                {}\nslashing_factor:          {}\ndispute_window:           {} s\nvote_period:              {} s\nreport_bond:              {}\ndispute_bond:             {}\ndowntime_period_epochs:   {}\nmax_evidence_age_blocks:  {}\nmax_task_lifetime:        {} s",
        format_ppm(p.result_mismatch_ppm),
        format_ppm(p.equivocation_ppm),
        format_ppm(p.false_submission_ppm),
        format_ppm(p.downtime_ppm_per_point),
        format_ppm(p.min_uptime_ppm),
        format_ppm(p.performance_ppm),
        format_ppm(p.byzantine_ppm),
        format_ppm(p.slashing_factor_ppm),
        p.dispute_window,
        p.vote_period,
        describe(p.report_bond),
        describe(p.dispute_bond),
        p.downtime_period_epochs,
        p.max_evidence_age_blocks,
        p.max_task_lifetime_seconds,
    )
}
