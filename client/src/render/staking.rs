//! Staking for people: operators, validators, delegations, unbonding entries, slashes,
//! signing info, params and the epoch clock.

use std::fmt::Write as _;

use nodeop_app::modules::staking::state::SlashRecord;
use nodeop_app::modules::staking::{Operator, StakingParams, UnbondingEntry};

use crate::amount::{describe, format_ppm};
use crate::staking::{DelegationView, EpochView, OperatorView, SigningInfoView, ValidatorView};

/// Unix seconds as RFC 3339 (`2025-01-02T03:04:05Z`), or the number if out of range.
pub fn format_time(unix: i64) -> String {
    tendermint::Time::from_unix_timestamp(unix, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|_| format!("unix {unix}"))
}

fn jail_text(jailed_until: Option<i64>, tombstoned: bool) -> String {
    match (tombstoned, jailed_until) {
        (true, _) => "tombstoned (jailed forever for double-signing)".into(),
        (false, Some(t)) => format!("jailed until {} (unix {t})", format_time(t)),
        (false, None) => "no".into(),
    }
}

/// A stored operator record, with its status line when known.
pub fn operator_text(op: &Operator, status: Option<(&str, u64)>) -> String {
    let consensus_address = hex::encode_upper(nodeop_app::modules::staking::consensus_address(
        &op.consensus_pubkey,
    ));
    let mut out = format!(
        "operator:          {}\nmoniker:           {:?}",
        op.address, op.moniker
    );
    if let Some((status, power)) = status {
        write!(out, "\nstatus:            {status} (voting power {power})").ok();
    }
    write!(
        out,
        "\nconsensus pubkey:  {} (validator address {consensus_address})\npool tokens:       {}\npool shares:       {}\nself-bond:         {} ({} shares)\ncommission:        {}\ncapacity:          {} units\nregion:            {:?}\njailed:            {}\nslashed:           {} in {} slash(es)\nregistered at:     height {}",
        nodeop_app::serde_base64_32::encode(&op.consensus_pubkey),
        describe(op.tokens),
        op.shares,
        describe(op.self_bond()),
        op.self_shares,
        format_ppm(op.commission_ppm),
        op.capacity_units,
        op.region,
        jail_text(op.jailed_until, op.tombstoned),
        describe(op.slashed_total),
        op.slash_count,
        op.registered_height,
    )
    .ok();
    out
}

/// A table of operators.
pub fn operators_text(ops: &[OperatorView]) -> String {
    if ops.is_empty() {
        return "(no operators)".into();
    }
    let mut out = format!(
        "{:45}  {:20}  {:10}  {:>7}  {:>24}  {:>24}  {:>10}",
        "OPERATOR", "MONIKER", "STATUS", "POWER", "TOKENS (NOP)", "SELF-BOND (NOP)", "COMMISSION"
    );
    for o in ops {
        write!(
            out,
            "\n{:45}  {:20}  {:10}  {:>7}  {:>24}  {:>24}  {:>9}%",
            o.operator.address.to_string(),
            truncate(&o.operator.moniker, 20),
            o.status,
            o.power,
            crate::amount::format_nop_fixed(o.operator.tokens),
            crate::amount::format_nop_fixed(o.self_bond),
            ppm_percent(o.operator.commission_ppm),
        )
        .ok();
    }
    out
}

/// A table of validators.
pub fn validators_text(vals: &[ValidatorView]) -> String {
    if vals.is_empty() {
        return "(no validators)".into();
    }
    let total: u128 = vals.iter().map(|v| u128::from(v.power)).sum();
    let mut out = format!(
        "{:45}  {:20}  {:40}  {:>7}",
        "OPERATOR", "MONIKER", "CONSENSUS ADDRESS", "POWER"
    );
    for v in vals {
        write!(
            out,
            "\n{:45}  {:20}  {:40}  {:>7}",
            v.operator.to_string(),
            truncate(&v.moniker, 20),
            v.consensus_address,
            v.power
        )
        .ok();
    }
    write!(
        out,
        "\n{} validator(s), total voting power {total}",
        vals.len()
    )
    .ok();
    out
}

/// A table of delegations.
pub fn delegations_text(list: &[DelegationView]) -> String {
    if list.is_empty() {
        return "(no delegations)".into();
    }
    let mut out = format!(
        "{:45}  {:45}  {:>24}  {}",
        "DELEGATOR", "OPERATOR", "TOKENS (NOP)", "SHARES"
    );
    for d in list {
        write!(
            out,
            "\n{:45}  {:45}  {:>24}  {}",
            d.delegator.to_string(),
            d.operator.to_string(),
            crate::amount::format_nop_fixed(d.tokens),
            d.shares
        )
        .ok();
    }
    out
}

/// Unbonding entries, one paragraph each.
pub fn unbonding_text(list: &[UnbondingEntry]) -> String {
    if list.is_empty() {
        return "(no unbonding entries)".into();
    }
    list.iter()
        .map(unbonding_entry_text)
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn unbonding_entry_text(e: &UnbondingEntry) -> String {
    let slashed = e.initial_amount.saturating_sub(e.amount);
    format!(
        "entry {}: {} from {} to {}\n  created at height {}, completes at {} (unix {}){}",
        e.id,
        describe(e.amount),
        e.operator,
        e.delegator,
        e.creation_height,
        format_time(e.completion_time),
        e.completion_time,
        if slashed > 0 {
            format!(
                ", slashed {} of {}",
                describe(slashed),
                describe(e.initial_amount)
            )
        } else {
            String::new()
        }
    )
}

/// Slash records, one paragraph each.
pub fn slashes_text(list: &[SlashRecord]) -> String {
    if list.is_empty() {
        return "(no slashes)".into();
    }
    list.iter()
        .map(|s| {
            format!(
                "height {}: {} for {:?} (infraction at height {}, stake then {})\n  from the pool {}, from unbonding {}, burned {}, to the treasury {}",
                s.height,
                describe(s.amount),
                s.reason,
                s.infraction_height,
                describe(s.stake_at_infraction),
                describe(s.from_pool),
                describe(s.from_unbonding),
                describe(s.burned),
                describe(s.to_treasury)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn signing_info_text(s: &SigningInfoView) -> String {
    format!(
        "operator:          {}\nconsensus address: {}\ncounting from:     height {}\nmissed:            {} of the last {} blocks (more than {} jails)",
        s.operator, s.consensus_address, s.info.start_height, s.info.missed, s.window, s.max_missed
    )
}

pub fn params_text(p: &StakingParams) -> String {
    format!(
        "max_validators:         {}\nmin_self_bond:          {}\npower_reduction:        {} per unit of voting power\nunbonding_time:         {} s\nsigned_blocks_window:   {} blocks\nmin_signed:             {}\ndowntime_jail_duration: {} s\ndouble_sign_slash:      {}\nepoch_seconds:          {} s",
        p.max_validators,
        describe(p.min_self_bond),
        describe(p.power_reduction),
        p.unbonding_time,
        p.signed_blocks_window,
        format_ppm(p.min_signed_ppm),
        p.downtime_jail_duration,
        format_ppm(p.double_sign_slash_ppm),
        p.epoch_seconds
    )
}

pub fn epoch_text(e: &EpochView) -> String {
    let next_start = e
        .last_processed_epoch
        .checked_add(1)
        .and_then(|n| i64::try_from(n).ok())
        .and_then(|n| n.checked_mul(e.epoch_seconds))
        .and_then(|s| s.checked_add(e.genesis_time));
    format!(
        "last processed epoch: {}\nepoch length:         {} s\ngenesis time:         {} (unix {}){}",
        e.last_processed_epoch,
        e.epoch_seconds,
        format_time(e.genesis_time),
        e.genesis_time,
        next_start
            .map(|t| format!("\nnext epoch starts at: {} (unix {t})", format_time(t)))
            .unwrap_or_default()
    )
}

fn ppm_percent(ppm: u32) -> String {
    format!("{}.{:04}", ppm / 10_000, ppm % 10_000)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
