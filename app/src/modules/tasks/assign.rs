//! Committee selection, capacity reservation and release.
//!
//! Eligible: an operator that may validate (not jailed or tombstoned, self-bond ≥
//! `min_self_bond`, at least one unit of power), whose effective reputation is ≥ the task's
//! `min_reputation_ppm`, whose free capacity is ≥ the task's difficulty, and who is not
//! excluded (members of earlier rounds, or of the task a re-execution repeats). Its weight is
//! `(pool tokens / power_reduction) × effective score ppm` (power × score: stake in whole NOP
//! so that the product stays far inside u128). Selection is [`sampling::sample`].

use super::keys;
use super::params::TasksParams;
use super::sampling;
use super::state::{put_reserved, reserved_units, Member, Round, Task};
use super::TasksError;
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::modules::{reputation, staking};
use crate::state::{fatal, StateRead, StateWrite};

/// Every eligible operator and its weight, in address order.
pub fn eligible(
    state: &impl StateRead,
    min_reputation_ppm: u32,
    difficulty: u64,
    exclude: &[Address],
) -> Vec<(Address, u128)> {
    let sp = staking::state::params(state);
    let rp = reputation::state::params(state);
    let mut out = Vec::new();
    for op in staking::state::operators(state) {
        if !op.eligible(&sp) || exclude.contains(&op.address) {
            continue;
        }
        let score = reputation::effective_score_ppm_of(state, &rp, &op.address, op.tokens);
        if score < min_reputation_ppm || score == 0 {
            continue;
        }
        let free = op
            .capacity_units
            .saturating_sub(reserved_units(state, &op.address));
        if free < difficulty {
            continue;
        }
        let weight = u128::from(op.power(&sp)).saturating_mul(u128::from(score));
        if weight > 0 {
            out.push((op.address, weight));
        }
    }
    out
}

/// Draws a committee of `size` (read only): the members and their weights, in draw order.
pub fn select(
    state: &impl StateRead,
    seed: [u8; 32],
    size: u32,
    min_reputation_ppm: u32,
    difficulty: u64,
    exclude: &[Address],
) -> Result<Vec<(Address, u128)>, TasksError> {
    let candidates = eligible(state, min_reputation_ppm, difficulty, exclude);
    let not_enough = || TasksError::NotEnoughEligible {
        needed: size,
        eligible: candidates.len() as u32,
        min_reputation_ppm,
        difficulty,
    };
    let picks = sampling::sample(&candidates, size as usize, seed).ok_or_else(not_enough)?;
    Ok(picks.into_iter().map(|i| candidates[i]).collect())
}

/// Reserves the committee's capacity, indexes the task under each member, and appends the
/// round to the task (the caller writes the task and its due entry).
pub fn install_round(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    task: &mut Task,
    committee: Vec<(Address, u128)>,
    quorum: u32,
) -> Event {
    let mut members = Vec::with_capacity(committee.len());
    for (operator, weight) in committee {
        reserve(state, &operator, task.difficulty_units, task.id);
        state.put_raw(keys::by_operator(&operator, task.id), vec![1]);
        members.push(Member {
            operator,
            weight,
            commitment: None,
            commit_height: None,
            result: None,
            reveal_height: None,
            reserved: true,
            reserved_since: ctx.height,
        });
    }
    let commit_end = ctx.height.saturating_add(p.commit_blocks);
    let round = Round {
        number: task.rounds.len() as u8,
        members,
        quorum,
        assigned_height: ctx.height,
        commit_end,
        reveal_end: commit_end.saturating_add(p.reveal_blocks),
    };
    let event = Event::new(super::events::TASK_ASSIGNED)
        .attr("task", task.id)
        .attr("round", round.number)
        .attr(
            "members",
            round
                .members
                .iter()
                .map(|m| m.operator.to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .attr("quorum", quorum)
        .attr("commit_end", round.commit_end)
        .attr("reveal_end", round.reveal_end);
    task.rounds.push(round);
    event
}

fn reserve(state: &mut impl StateWrite, operator: &Address, units: u64, task: u64) {
    let capacity = staking::state::operator(state, operator)
        .map(|o| o.capacity_units)
        .unwrap_or(0);
    let now = reserved_units(state, operator);
    let after = now.saturating_add(units);
    // selection only draws operators with enough free capacity
    if after > capacity {
        fatal(&format!(
            "tasks: task {task} drew {operator} with {now} of {capacity} units reserved for \
             {units} more: the committee was not drawn from eligible operators"
        ));
    }
    put_reserved(state, operator, after);
}

/// Ends the reservation of member `member` of round `round` (if it still holds one) and
/// reports its load (`units × blocks held`) to reputation.
pub fn release(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    task: &mut Task,
    round: usize,
    member: usize,
) {
    let units = task.difficulty_units;
    let Some(m) = task
        .rounds
        .get_mut(round)
        .and_then(|r| r.members.get_mut(member))
    else {
        return;
    };
    if !m.reserved {
        return;
    }
    m.reserved = false;
    let now = reserved_units(state, &m.operator);
    put_reserved(state, &m.operator, now.saturating_sub(units));
    let held = ctx.height.saturating_sub(m.reserved_since);
    reputation::record_load(state, &m.operator, u128::from(units) * u128::from(held));
}

/// Ends every reservation the task still holds.
pub fn release_all(state: &mut impl StateWrite, ctx: &BlockCtx, task: &mut Task) {
    for r in 0..task.rounds.len() {
        for m in 0..task.rounds[r].members.len() {
            release(state, ctx, task, r, m);
        }
    }
}
