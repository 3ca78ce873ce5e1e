//! tasks' message handlers: PostTask (escrow + assignment in the same tx), CommitResult,
//! RevealResult, ConfirmSubmission.

use super::assign;
use super::component::{finish, pay_operator, record_duty};
use super::msg::{
    commitment, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
use super::sampling;
use super::state::{
    next_id, params, put_task, set_due, set_status, slot, slot_held_by, task, unit_price, Task,
    TaskStatus,
};
use super::{keys, TasksError};
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::error::TxError;
use crate::events::Event;
use crate::modules::{bank, issuance, reputation, staking};
use crate::state::StateWrite;

pub fn post_task(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgPostTask,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let p = params(state);
    if let TaskPayload::Inline(bytes) = &msg.payload {
        if bytes.len() as u64 > u64::from(p.max_payload_bytes) {
            return Err(TasksError::PayloadTooLarge {
                len: bytes.len() as u64,
                max: p.max_payload_bytes,
            }
            .into());
        }
    }
    if msg.difficulty_units > p.max_difficulty_units {
        return Err(TasksError::DifficultyTooHigh {
            difficulty: msg.difficulty_units,
            max: p.max_difficulty_units,
        }
        .into());
    }
    let price = unit_price(state);
    let required = u128::from(msg.difficulty_units)
        .checked_mul(price)
        .ok_or(TasksError::Overflow)?;
    if msg.fee < required {
        return Err(TasksError::FeeBelowPrice {
            fee: msg.fee,
            difficulty: msg.difficulty_units,
            unit_price: price,
            required,
        }
        .into());
    }
    let id = next_id(state);
    let spec = p.committee(msg.consistency);
    let committee = assign::select(
        state,
        sampling::seed(ctx, sampling::DOMAIN_ASSIGN, id),
        spec.size,
        msg.min_reputation_ppm,
        msg.difficulty_units,
        &[],
    )?;
    bank::transfer(state, signer, &bank::TASK_ESCROW.address(), msg.fee)?;
    let mut t = Task {
        id,
        client: *signer,
        kind: msg.kind,
        consistency: msg.consistency,
        payload: msg.payload.clone(),
        payload_hash: msg.payload.hash(),
        difficulty_units: msg.difficulty_units,
        min_reputation_ppm: msg.min_reputation_ppm,
        fee: msg.fee,
        escrow: msg.fee,
        status: TaskStatus::Assigned,
        posted_height: ctx.height,
        rounds: Vec::new(),
        result: None,
        submission: None,
        reexec: None,
        due_height: None,
        finished_height: None,
    };
    let assigned = assign::install_round(state, ctx, &p, &mut t, committee, spec.quorum);
    state.put_raw(keys::by_status(TaskStatus::Assigned.index(), id), vec![1]);
    state.put_raw(keys::by_client(signer, id), vec![1]);
    let reveal_end = t.current_round().reveal_end;
    set_due(state, &mut t, Some(reveal_end));
    put_task(state, &t);
    let posted = Event::new(super::events::TASK_POSTED)
        .attr("task", id)
        .attr("client", signer)
        .attr("kind", kind_name(msg.kind))
        .attr("consistency", msg.consistency.name())
        .attr("difficulty_units", msg.difficulty_units)
        .attr("fee", msg.fee)
        .attr("unit_price", price)
        .attr("payload_hash", hex::encode(t.payload_hash));
    Ok(vec![posted, assigned])
}

pub fn kind_name(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Exact => "exact",
        TaskKind::Numeric { .. } => "numeric",
    }
}

/// The open task, the index of the slot the signer acts for in its current round, the member
/// that slot belongs to, and the coprocessor acting for it (when the member sold it). A member
/// whose slot is on auction or sold cannot act for it.
fn member_of(
    state: &impl crate::state::StateRead,
    task_id: u64,
    signer: &Address,
) -> Result<(Task, usize, Address, Option<Address>), TxError> {
    let t = task(state, task_id).ok_or(TasksError::UnknownTask(task_id))?;
    if t.status != TaskStatus::Assigned {
        return Err(TasksError::WrongTaskStatus {
            id: t.id,
            status: t.status.name(),
        }
        .into());
    }
    let members = &t.current_round().members;
    if let Some(idx) = members.iter().position(|m| m.operator == *signer) {
        if slot(state, task_id, signer).is_some() {
            return Err(TasksError::SlotOffered {
                task: task_id,
                member: signer.to_string(),
            }
            .into());
        }
        return Ok((t, idx, *signer, None));
    }
    if let Some(member) = slot_held_by(state, task_id, signer) {
        if let Some(idx) = members.iter().position(|m| m.operator == member) {
            return Ok((t, idx, member, Some(*signer)));
        }
    }
    Err(TasksError::NotAMember {
        task: task_id,
        operator: signer.to_string(),
    }
    .into())
}

pub fn commit_result(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgCommitResult,
) -> Result<Vec<Event>, TxError> {
    let (mut t, idx, member, coprocessor) = member_of(state, msg.task_id, signer)?;
    let p = params(state);
    let round = t.current_round();
    if ctx.height <= round.assigned_height {
        return Err(TasksError::WindowNotOpen {
            phase: "commit",
            opens_after: round.assigned_height,
            height: ctx.height,
        }
        .into());
    }
    if ctx.height > round.commit_end {
        return Err(TasksError::WindowClosed {
            phase: "commit",
            closed_at: round.commit_end,
            height: ctx.height,
        }
        .into());
    }
    if let Some(h) = round.members[idx].commit_height {
        return Err(TasksError::AlreadyCommitted(h).into());
    }
    let delay = ctx.height - round.assigned_height - 1;
    let round_number = round.number;
    let m = &mut t.current_round_mut().members[idx];
    m.commitment = Some(msg.commitment);
    m.commit_height = Some(ctx.height);
    reputation::record_commit_delay(state, &member, delay, p.commit_blocks);
    record_duty(state, &member, true);
    put_task(state, &t);
    let mut e = Event::new(super::events::RESULT_COMMITTED)
        .attr("task", t.id)
        .attr("round", round_number)
        .attr("operator", member)
        .attr("delay_blocks", delay);
    if let Some(c) = coprocessor {
        e = e.attr("coprocessor", c);
    }
    Ok(vec![e])
}

pub fn reveal_result(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgRevealResult,
) -> Result<Vec<Event>, TxError> {
    let (mut t, idx, member, coprocessor) = member_of(state, msg.task_id, signer)?;
    let p = params(state);
    let round = t.current_round();
    if ctx.height <= round.commit_end {
        return Err(TasksError::WindowNotOpen {
            phase: "reveal",
            opens_after: round.commit_end,
            height: ctx.height,
        }
        .into());
    }
    if ctx.height > round.reveal_end {
        return Err(TasksError::WindowClosed {
            phase: "reveal",
            closed_at: round.reveal_end,
            height: ctx.height,
        }
        .into());
    }
    let slot = &round.members[idx];
    if let Some(h) = slot.reveal_height {
        return Err(TasksError::AlreadyRevealed(h).into());
    }
    let Some(committed) = slot.commitment else {
        return Err(TasksError::RevealWithoutCommit.into());
    };
    match t.kind {
        TaskKind::Numeric { .. } if msg.result.len() != 8 => {
            return Err(TasksError::WrongResultSize {
                got: msg.result.len() as u64,
                expected: "a Numeric result is exactly 8 bytes (big-endian i64)".into(),
            }
            .into())
        }
        TaskKind::Exact if msg.result.len() as u64 > u64::from(p.max_result_bytes) => {
            return Err(TasksError::WrongResultSize {
                got: msg.result.len() as u64,
                expected: format!("at most max_result_bytes = {}", p.max_result_bytes),
            }
            .into())
        }
        _ => {}
    }
    // a bought slot's commitment binds the member's address, as the member's own would
    if commitment(t.id, &member, &msg.result, &msg.salt) != committed {
        return Err(TasksError::CommitmentMismatch.into());
    }
    let round_number = round.number;
    let m = &mut t.current_round_mut().members[idx];
    m.result = Some(msg.result.clone());
    m.reveal_height = Some(ctx.height);
    record_duty(state, &member, true);
    // every member that committed has revealed: the round aggregates at the end of this block
    if t.current_round().all_committed_revealed() && t.due_height != Some(ctx.height) {
        set_due(state, &mut t, Some(ctx.height));
    }
    put_task(state, &t);
    let mut e = Event::new(super::events::RESULT_REVEALED)
        .attr("task", t.id)
        .attr("round", round_number)
        .attr("operator", member)
        .attr(
            "result_hash",
            hex::encode(crate::crypto::sha256(&[&msg.result])),
        );
    if let Some(c) = coprocessor {
        e = e.attr("coprocessor", c);
    }
    Ok(vec![e])
}

pub fn confirm_submission(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgConfirmSubmission,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let mut t = task(state, msg.task_id).ok_or(TasksError::UnknownTask(msg.task_id))?;
    let Some(mut sub) = t
        .submission
        .clone()
        .filter(|_| t.status == TaskStatus::Finalized)
    else {
        return Err(TasksError::WrongTaskStatus {
            id: t.id,
            status: t.status.name(),
        }
        .into());
    };
    if ctx.height > sub.window_end {
        return Err(TasksError::WindowClosed {
            phase: "submission",
            closed_at: sub.window_end,
            height: ctx.height,
        }
        .into());
    }
    match sub.current_member() {
        Some(expected) if expected != *signer => {
            return Err(TasksError::NotScheduledSubmitter {
                task: t.id,
                window: sub.window,
                expected: expected.to_string(),
            }
            .into())
        }
        Some(_) => record_duty(state, signer, true),
        None => {
            let sp = staking::state::params(state);
            let bonded = staking::state::operator(state, signer)
                .map(|o| o.eligible(&sp))
                .unwrap_or(false);
            if !bonded {
                return Err(TasksError::NotBondedOperator(signer.to_string()).into());
            }
        }
    }
    let fee = sub.submission_fee;
    pay_operator(state, signer, fee);
    t.escrow = t.escrow.checked_sub(fee).ok_or(TasksError::Overflow)?;
    issuance::record_revenue(state, fee);
    issuance::record_work(state, signer, fee);
    sub.submitter = Some(*signer);
    sub.target_ref = Some(msg.target_ref.clone());
    sub.delivered_height = Some(ctx.height);
    let window = sub.window;
    t.submission = Some(sub);
    // later scheduled members have no duty left
    assign::release_all(state, ctx, &mut t);
    set_status(state, &mut t, TaskStatus::Delivered);
    finish(state, ctx, &mut t);
    put_task(state, &t);
    Ok(vec![Event::new(super::events::SUBMISSION_CONFIRMED)
        .attr("task", t.id)
        .attr("submitter", signer)
        .attr("window", window)
        .attr("target_ref", &msg.target_ref)
        .attr("submission_fee", fee)])
}
