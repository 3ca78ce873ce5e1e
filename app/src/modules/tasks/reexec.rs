//! Re-execution: the resolver of a disputed `result_mismatch` proposal (PROTOCOL.md §3.5).
//!
//! When the accused disputes, [`start`] creates a re-execution task: the original task's kind,
//! payload, difficulty and minimum reputation, no fee, a fresh committee of `reexec_size`
//! (quorum `⌈2m/3⌉`) drawn excluding every member of the original task's rounds. It runs the
//! same commit–reveal path; nobody is paid for it (members record duties and results in
//! reputation as for any task, and a re-executor that disagrees with the re-execution's
//! aggregate gets its own result_mismatch proposal). When it aggregates, [`decide`]:
//! - the accused's result matches the re-execution's aggregate → **overturned**; if the
//!   original aggregate does not match it, every original agreeing member gets a
//!   result_mismatch proposal (evidence: the original task, where their result is recorded;
//!   infraction id = the re-execution task's id, which no other task shares, so deduplication
//!   cannot collide with the original task's proposals);
//! - otherwise → **upheld**;
//! - no quorum → the proposal falls back to the validators' vote (`vote_period` from then).
//!
//! "Matches" is [`aggregate::matches`]: equal bytes (Exact), within the task's tolerance of the
//! re-execution's aggregate (Numeric). If the original task was already pruned, or no committee
//! can be drawn, the dispute goes to the vote at once.

use super::aggregate;
use super::assign;
use super::keys;
use super::params::quorum_of;
use super::sampling;
use super::state::{next_id, params, put_task, set_due, task, ReexecLink, Task, TaskStatus};
use crate::block::BlockCtx;
use crate::events::Event;
use crate::hooks::{Hooks, ReexecutionRequest};
use crate::modules::slashing::resolver::{conclude_reexecution, ReexecVerdict};
use crate::modules::slashing::{self, Evidence, Offence};
use crate::state::{StateReadExt, StateWrite};

/// Starts the re-execution of a disputed result_mismatch proposal; `Err(reason)` when it
/// cannot run (the caller falls back to the vote). Writes nothing on error.
pub fn start(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    proposal: ReexecutionRequest,
) -> Result<(u64, Vec<Event>), String> {
    let task_id = proposal.task_id;
    let original = task(state, task_id)
        .ok_or_else(|| format!("task {task_id} is no longer in state (pruned)"))?;
    let fin = original
        .result
        .clone()
        .ok_or_else(|| format!("task {task_id} has no finalized result"))?;
    let accused_result = original
        .rounds
        .get(fin.round as usize)
        .and_then(|r| r.member(&proposal.accused))
        .and_then(|m| m.result.clone())
        .ok_or_else(|| format!("the accused revealed no result for task {task_id}"))?;
    let p = params(state);
    let id_preview: u64 = state.get(keys::NEXT_ID).unwrap_or(1);
    let size = p.reexec_size;
    let committee = assign::select(
        state,
        sampling::seed(ctx, sampling::DOMAIN_ASSIGN, id_preview),
        size,
        original.min_reputation_ppm,
        original.difficulty_units,
        &original.all_members(),
    )
    .map_err(|e| e.to_string())?;
    let id = next_id(state);
    let mut t = Task {
        id,
        client: proposal.accused,
        kind: original.kind,
        consistency: original.consistency,
        payload: original.payload.clone(),
        payload_hash: original.payload_hash,
        difficulty_units: original.difficulty_units,
        min_reputation_ppm: original.min_reputation_ppm,
        fee: 0,
        escrow: 0,
        status: TaskStatus::Assigned,
        posted_height: ctx.height,
        rounds: Vec::new(),
        result: None,
        submission: None,
        reexec: Some(ReexecLink {
            proposal: proposal.proposal,
            original_task: task_id,
            accused: proposal.accused,
            accused_result,
            original_result: fin.result.clone(),
            original_agreeing: fin.agreeing.clone(),
            verdict: None,
        }),
        due_height: None,
        finished_height: None,
    };
    let assigned = assign::install_round(state, ctx, &p, &mut t, committee, quorum_of(size));
    state.put_raw(keys::by_status(TaskStatus::Assigned.index(), id), vec![1]);
    state.put_raw(keys::by_client(&t.client, id), vec![1]);
    let reveal_end = t.current_round().reveal_end;
    set_due(state, &mut t, Some(reveal_end));
    put_task(state, &t);
    let started = Event::new(super::events::TASK_REEXECUTION_STARTED)
        .attr("task", id)
        .attr("original_task", task_id)
        .attr("proposal", proposal.proposal)
        .attr("accused", proposal.accused);
    Ok((id, vec![started, assigned]))
}

/// Decides the proposal a re-execution task was started for (`aggregate`: its finalized
/// result, `None` for no quorum). The task is already terminal; its link records the verdict.
pub fn decide(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    t: &mut Task,
    aggregate_result: Option<&[u8]>,
    hooks: &Hooks,
) -> Vec<Event> {
    let Some(mut link) = t.reexec.clone() else {
        return Vec::new();
    };
    let verdict = match aggregate_result {
        None => ReexecVerdict::NoQuorum,
        Some(a) if aggregate::matches(t.kind, &link.accused_result, a) => ReexecVerdict::Overturned,
        Some(_) => ReexecVerdict::Upheld,
    };
    let mut events = conclude_reexecution(state, ctx, link.proposal, verdict, hooks);
    if let (ReexecVerdict::Overturned, Some(a)) = (verdict, aggregate_result) {
        if !aggregate::matches(t.kind, &link.original_result, a) {
            let fraction = slashing::state::params(state).result_mismatch_ppm;
            for member in &link.original_agreeing {
                if let Some(e) = slashing::handler::propose_automatic(
                    state,
                    ctx,
                    *member,
                    Offence::ResultMismatch,
                    Evidence::ResultMismatch {
                        task_id: link.original_task,
                    },
                    t.id,
                    ctx.height,
                    fraction,
                ) {
                    events.push(
                        e.attr("task", t.id)
                            .attr("original_task", link.original_task),
                    );
                }
            }
        }
    }
    link.verdict = Some(verdict.name().to_string());
    t.reexec = Some(link);
    events
}
