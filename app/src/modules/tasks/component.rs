//! tasks' end-block hook and the lifecycle steps it drives.
//!
//! At the end of every block, in this order:
//! 1. every task due at this height (`tasks/due/{height}/…`, ascending task id): a round in
//!    commit–reveal aggregates (finalize, escalate, or fail); a task awaiting delivery closes
//!    its submission window (the next one opens, or the task ends Undelivered);
//! 2. the results finalized in this block get their Merkle root (`tasks/block_results/{h}`);
//! 3. finished tasks whose retention ended are pruned;
//! 4. the unit price moves toward the target utilisation.

use super::aggregate::{self, Reveal};
use super::assign;
use super::keys;
use super::merkle;
use super::params::{quorum_of, TasksParams};
use super::reexec;
use super::rewards;
use super::sampling;
use super::state::{
    capacity, params, put_task, result_record, set_due, set_status, slot, task, unit_price,
    BlockResults, FinalResult, PayLine, ResultRecord, Submission, Task, TaskStatus,
};
use crate::block::BlockCtx;
use crate::crypto::{sha256, Address};
use crate::events::Event;
use crate::hooks::{Hooks, SlotOutcome, SoldSlot};
use crate::modules::bank;
use crate::modules::bank::move_or_halt;
use crate::modules::slashing::{self, Evidence, Offence};
use crate::modules::{issuance, reputation, staking};
use crate::num::{mul_div, ppm_of};
use crate::state::{fatal, StateRead, StateReadExt, StateWrite, StateWriteExt};

pub fn end_block(state: &mut impl StateWrite, ctx: &BlockCtx, hooks: &Hooks) -> Vec<Event> {
    let p = params(state);
    let mut events = Vec::new();
    let mut leaves: Vec<(u64, [u8; 32])> = Vec::new();
    loop {
        let due = state.prefix_raw(keys::DUE_PREFIX, None, 64);
        let mut progressed = false;
        for (k, _) in &due {
            let Some(h) = keys::height_at(k, keys::DUE_PREFIX.len()) else {
                fatal("tasks: malformed due key");
            };
            if h > ctx.height {
                break;
            }
            let Some(id) = crate::state::keys::trailing_id(k) else {
                fatal("tasks: malformed due key");
            };
            let Some(mut t) = task(state, id) else {
                fatal(&format!("tasks: due queue names missing task {id}"));
            };
            progressed = true;
            set_due(state, &mut t, None);
            match t.status {
                TaskStatus::Assigned => {
                    close_round(state, ctx, &p, &mut t, &mut leaves, &mut events, hooks)
                }
                TaskStatus::Finalized => close_window(state, ctx, &p, &mut t, &mut events),
                s => fatal(&format!("tasks: task {id} is due but {}", s.name())),
            }
            put_task(state, &t);
        }
        if !progressed {
            break;
        }
    }
    if !leaves.is_empty() {
        let block = BlockResults {
            height: ctx.height,
            root: merkle::root(&leaves.iter().map(|(_, l)| *l).collect::<Vec<_>>()),
            task_ids: leaves.iter().map(|(id, _)| *id).collect(),
            leaves: leaves.iter().map(|(_, l)| *l).collect(),
        };
        events.push(
            Event::new(super::events::TASK_RESULTS_ROOT)
                .attr("height", ctx.height)
                .attr("root", hex::encode(block.root))
                .attr("results", block.leaves.len()),
        );
        state.put(keys::block_results(ctx.height), &block);
    }
    events.extend(prune(state, ctx));
    if let Some(e) = update_price(state, &p) {
        events.push(e);
    }
    events
}

/// A duty met or missed: reputation's uptime and the downtime SLA's counters both count it.
pub fn record_duty(state: &mut impl StateWrite, operator: &Address, met: bool) {
    reputation::record_duty(state, operator, met);
    slashing::uptime::record(state, operator, met);
    if !met {
        issuance::record_faulty_operator(state, operator);
    }
}

/// Pays `amount` to an operator from the task escrow by [`staking::state::reward`], as staking's
/// epochs pay fees: `⌊amount × commission⌋` to its account, the rest into its pool (raising every
/// delegation's value). An operator whose pool
/// has no shares left gets it all in its account; an unknown one (never: operators are not
/// deleted) leaves it to the treasury.
pub fn pay_operator(state: &mut impl StateWrite, operator: &Address, amount: u128) {
    if amount == 0 {
        return;
    }
    let escrow = bank::TASK_ESCROW.address();
    let Some(mut op) = staking::state::operator(state, operator) else {
        move_or_halt(state, &escrow, &bank::TREASURY.address(), amount);
        return;
    };
    if op.shares == 0 {
        move_or_halt(state, &escrow, operator, amount);
        return;
    }
    staking::state::reward(state, &escrow, &mut op, amount);
}

/// Marks a task finished at this height (status already set): no due entry, pruned after
/// `task_retention`, its result record follows its status.
pub fn finish(state: &mut impl StateWrite, ctx: &BlockCtx, t: &mut Task) {
    let p = params(state);
    set_due(state, t, None);
    t.finished_height = Some(ctx.height);
    state.put_raw(
        keys::prune(ctx.height.saturating_add(p.task_retention), t.id),
        vec![1],
    );
    if let Some(mut rec) = result_record(state, t.id) {
        rec.status = t.status;
        state.put(keys::result(t.id), &rec);
    }
}

fn close_round(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &mut Task,
    leaves: &mut Vec<(u64, [u8; 32])>,
    events: &mut Vec<Event>,
    hooks: &Hooks,
) {
    let round = t.current_round().clone();
    // missed duties: a member that did not commit missed its commit and its reveal
    for m in &round.members {
        if m.commitment.is_none() {
            record_duty(state, &m.operator, false);
            record_duty(state, &m.operator, false);
        } else if m.result.is_none() {
            record_duty(state, &m.operator, false);
        }
    }
    let reveals: Vec<Reveal> = round
        .members
        .iter()
        .filter_map(|m| {
            Some(Reveal {
                operator: m.operator,
                weight: m.weight,
                result: m.result.clone()?,
            })
        })
        .collect();
    let outcome = aggregate::aggregate(t.kind, &reveals, round.quorum);
    // sold slots that are not paid as agreeing ones in `finalize` close here
    let agreeing_slots: Vec<Address> = outcome
        .agreeing
        .iter()
        .map(|&i| reveals[i].operator)
        .collect();
    for m in &round.members {
        if agreeing_slots.contains(&m.operator) {
            continue;
        }
        let slot_outcome = if m.result.is_none() {
            SlotOutcome::Missed
        } else if outcome.result.is_some() {
            SlotOutcome::Disagreed
        } else {
            SlotOutcome::Unsettled
        };
        let (_, e) = close_sold_slot(state, ctx, p, t, &round, m, slot_outcome, hooks);
        events.extend(e);
    }
    match outcome.result {
        Some(result) => {
            let agreeing: Vec<Address> = outcome
                .agreeing
                .iter()
                .map(|&i| reveals[i].operator)
                .collect();
            let disagreeing: Vec<Address> = outcome
                .disagreeing
                .iter()
                .map(|&i| reveals[i].operator)
                .collect();
            finalize(
                state,
                ctx,
                p,
                t,
                result,
                agreeing,
                disagreeing,
                leaves,
                events,
                hooks,
            );
        }
        None if t.reexec.is_some() => {
            assign::release_all(state, ctx, t);
            set_status(state, t, TaskStatus::Reexecuted);
            finish(state, ctx, t);
            events.push(
                Event::new(super::events::TASK_FAILED)
                    .attr("task", t.id)
                    .attr("reason", "no_quorum")
                    .attr("reexecution", true),
            );
            events.extend(reexec::decide(state, ctx, t, None, hooks));
        }
        None if round.number == 0 => escalate(state, ctx, p, t, events),
        None => fail(state, ctx, p, t, "no_quorum_after_escalation", events),
    }
}

/// Tells the coprocessors module how a sold slot ended (nothing for a slot the member kept);
/// answers what the buyer was paid from `task_escrow` and the events.
#[allow(clippy::too_many_arguments)]
fn close_sold_slot(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &Task,
    round: &super::state::Round,
    m: &super::state::Member,
    outcome: SlotOutcome,
    hooks: &Hooks,
) -> (u128, Vec<Event>) {
    let Some(coprocessor) = slot(state, t.id, &m.operator).and_then(|s| s.coprocessor) else {
        return (0, Vec::new());
    };
    let sold = SoldSlot {
        task_id: t.id,
        member: m.operator,
        coprocessor,
        assigned_height: round.assigned_height,
        commit_blocks: p.commit_blocks,
        commit_height: m.commit_height,
        reveal_height: m.reveal_height,
    };
    (hooks.slot_closed)(state, ctx, &sold, outcome)
}

fn escalate(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &mut Task,
    events: &mut Vec<Event>,
) {
    assign::release_all(state, ctx, t);
    let n = t.current_round().members.len() as u32;
    let size = n.saturating_mul(2).saturating_add(1);
    let quorum = quorum_of(size);
    let exclude = t.all_members();
    match assign::select(
        state,
        sampling::seed(ctx, sampling::DOMAIN_ESCALATE, t.id),
        size,
        t.min_reputation_ppm,
        t.difficulty_units,
        &exclude,
    ) {
        Ok(committee) => {
            let assigned = assign::install_round(state, ctx, p, t, committee, quorum);
            let reveal_end = t.current_round().reveal_end;
            set_due(state, t, Some(reveal_end));
            events.push(
                Event::new(super::events::TASK_ESCALATED)
                    .attr("task", t.id)
                    .attr("size", size)
                    .attr("quorum", quorum),
            );
            events.push(assigned);
        }
        Err(e) => {
            events.push(
                Event::new(super::events::TASK_ESCALATION_UNASSIGNED)
                    .attr("task", t.id)
                    .attr("reason", e.to_string()),
            );
            fail(state, ctx, p, t, "no_committee_for_escalation", events);
        }
    }
}

/// No quorum twice (or no escalated committee): the client gets the fee back minus the
/// protocol fee, which goes to the treasury.
fn fail(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &mut Task,
    reason: &str,
    events: &mut Vec<Event>,
) {
    assign::release_all(state, ctx, t);
    let escrow = bank::TASK_ESCROW.address();
    let protocol_fee = ppm_of(t.fee, p.protocol_fee_ppm).min(t.escrow);
    let refund = t.escrow - protocol_fee;
    move_or_halt(state, &escrow, &bank::TREASURY.address(), protocol_fee);
    move_or_halt(state, &escrow, &t.client, refund);
    t.escrow = 0;
    issuance::record_revenue(state, protocol_fee);
    issuance::record_task_failed(state);
    set_status(state, t, TaskStatus::Failed);
    finish(state, ctx, t);
    events.push(
        Event::new(super::events::TASK_FAILED)
            .attr("task", t.id)
            .attr("reason", reason)
            .attr("refund", refund)
            .attr("protocol_fee", protocol_fee),
    );
}

#[allow(clippy::too_many_arguments)]
fn finalize(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &mut Task,
    result: Vec<u8>,
    agreeing: Vec<Address>,
    disagreeing: Vec<Address>,
    leaves: &mut Vec<(u64, [u8; 32])>,
    events: &mut Vec<Event>,
    hooks: &Hooks,
) {
    let result_hash = sha256(&[&result]);
    let leaf_index = leaves.len() as u32;
    leaves.push((t.id, merkle::leaf(t.id, &result_hash)));
    let round = t.current_round().clone();
    for a in &agreeing {
        reputation::record_result(state, a, true);
    }
    let fraction = slashing::state::params(state).result_mismatch_ppm;
    for d in &disagreeing {
        reputation::record_result(state, d, false);
        issuance::record_faulty_operator(state, d);
        if let Some(e) = slashing::handler::propose_automatic(
            state,
            ctx,
            *d,
            Offence::ResultMismatch,
            Evidence::ResultMismatch { task_id: t.id },
            t.id,
            ctx.height,
            fraction,
        ) {
            events.push(e.attr("task", t.id));
        }
    }
    let mut fin = FinalResult {
        result: result.clone(),
        result_hash,
        finalized_height: ctx.height,
        leaf_index,
        round: round.number,
        agreeing: agreeing.clone(),
        disagreeing: disagreeing.clone(),
        pay: Vec::new(),
        protocol_fee: 0,
        rounding_to_treasury: 0,
    };
    let mut finalized = Event::new(super::events::RESULT_FINALIZED)
        .attr("task", t.id)
        .attr("round", round.number)
        .attr("result_hash", hex::encode(result_hash))
        .attr("leaf_index", leaf_index)
        .attr(
            "agreeing",
            agreeing
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .attr(
            "disagreeing",
            disagreeing
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
    if t.reexec.is_some() {
        assign::release_all(state, ctx, t);
        t.result = Some(fin);
        state.put(
            keys::result(t.id),
            &ResultRecord {
                task_id: t.id,
                result_hash,
                finalized_height: ctx.height,
                leaf_index,
                status: TaskStatus::Reexecuted,
            },
        );
        set_status(state, t, TaskStatus::Reexecuted);
        finish(state, ctx, t);
        events.push(finalized.attr("reexecution", true));
        events.extend(reexec::decide(state, ctx, t, Some(&result), hooks));
        return;
    }
    // rewards
    let weights: Vec<u64> = agreeing
        .iter()
        .map(|a| {
            let m = round
                .member(a)
                .unwrap_or_else(|| fatal("tasks: agreeing non-member"));
            let delay = m
                .commit_height
                .unwrap_or(round.assigned_height + 1)
                .saturating_sub(round.assigned_height + 1);
            rewards::member_weight_ppm(
                reputation::effective_score_ppm(state, a),
                delay,
                p.commit_blocks,
            )
        })
        .collect();
    let split = rewards::split(t.fee, p.protocol_fee_ppm, p.submission_fee_ppm, &weights);
    let escrow = bank::TASK_ESCROW.address();
    let treasury = bank::TREASURY.address();
    move_or_halt(state, &escrow, &treasury, split.protocol_fee);
    for ((a, w), pay) in agreeing.iter().zip(&weights).zip(&split.pays) {
        // a sold slot's buyer is paid its price out of the member's pay
        let m = round
            .member(a)
            .unwrap_or_else(|| fatal("tasks: agreeing non-member"));
        let (to_buyer, e) = close_sold_slot(
            state,
            ctx,
            p,
            t,
            &round,
            m,
            SlotOutcome::Agreed { pay: *pay },
            hooks,
        );
        events.extend(e);
        let Some(kept) = pay.checked_sub(to_buyer) else {
            fatal(&format!(
                "tasks: the buyer of {a}'s slot on task {} took {to_buyer} of a pay of {pay}",
                t.id
            ));
        };
        pay_operator(state, a, kept);
        issuance::record_work(state, a, kept);
        fin.pay.push(PayLine {
            operator: *a,
            weight_ppm: *w,
            pay: *pay,
        });
    }
    move_or_halt(state, &escrow, &treasury, split.remainder);
    fin.protocol_fee = split.protocol_fee;
    fin.rounding_to_treasury = split.remainder;
    t.escrow = split.submission_fee;
    issuance::record_revenue(state, t.fee - split.submission_fee);
    issuance::record_task_finalized(state, ctx.height.saturating_sub(t.posted_height));
    finalized = finalized
        .attr("members_paid", split.members_pool - split.remainder)
        .attr("protocol_fee", split.protocol_fee)
        .attr("to_treasury", split.remainder);
    // the submission schedule
    let order = sampling::schedule(
        &agreeing,
        sampling::seed(ctx, sampling::DOMAIN_SCHEDULE, t.id),
    );
    let schedule: Vec<Address> = order.into_iter().take(p.max_fallbacks as usize).collect();
    let ri = t.rounds.len() - 1;
    for mi in 0..t.rounds[ri].members.len() {
        if !schedule.contains(&t.rounds[ri].members[mi].operator) {
            assign::release(state, ctx, t, ri, mi);
        }
    }
    let window_end = ctx.height.saturating_add(p.submission_window);
    let sub = Submission {
        schedule: schedule.clone(),
        window: 0,
        window_end,
        submission_fee: split.submission_fee,
        submitter: None,
        target_ref: None,
        delivered_height: None,
    };
    events.push(finalized);
    events.push(due_event(t.id, &sub, p.submission_window));
    t.submission = Some(sub);
    t.result = Some(fin);
    state.put(
        keys::result(t.id),
        &ResultRecord {
            task_id: t.id,
            result_hash,
            finalized_height: ctx.height,
            leaf_index,
            status: TaskStatus::Finalized,
        },
    );
    set_status(state, t, TaskStatus::Finalized);
    set_due(state, t, Some(window_end));
}

fn due_event(task_id: u64, sub: &Submission, window_blocks: u64) -> Event {
    Event::new(super::events::SUBMISSION_DUE)
        .attr("task", task_id)
        .attr("window", sub.window)
        .attr(
            "submitter",
            sub.current_member()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "any_bonded_operator".into()),
        )
        .attr("opens_after", sub.window_end.saturating_sub(window_blocks))
        .attr("window_end", sub.window_end)
}

fn close_window(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    p: &TasksParams,
    t: &mut Task,
    events: &mut Vec<Event>,
) {
    let Some(mut sub) = t.submission.clone() else {
        fatal(&format!("tasks: finalized task {} has no schedule", t.id));
    };
    match sub.current_member() {
        Some(missed) => {
            record_duty(state, &missed, false);
            let ri = t.rounds.len() - 1;
            if let Some(mi) = t.rounds[ri]
                .members
                .iter()
                .position(|m| m.operator == missed)
            {
                assign::release(state, ctx, t, ri, mi);
            }
            sub.window += 1;
            sub.window_end = sub.window_end.saturating_add(p.submission_window);
            events.push(due_event(t.id, &sub, p.submission_window).attr("missed_by", missed));
            let end = sub.window_end;
            t.submission = Some(sub);
            set_due(state, t, Some(end));
        }
        None => {
            // the open window passed too: the submission fee goes back to the client
            let fee = sub.submission_fee;
            move_or_halt(state, &bank::TASK_ESCROW.address(), &t.client, fee);
            t.escrow = t.escrow.saturating_sub(fee);
            t.submission = Some(sub);
            assign::release_all(state, ctx, t);
            issuance::record_task_failed(state);
            set_status(state, t, TaskStatus::Undelivered);
            finish(state, ctx, t);
            events.push(
                Event::new(super::events::TASK_UNDELIVERED)
                    .attr("task", t.id)
                    .attr("refund", fee),
            );
        }
    }
}

/// Deletes finished tasks whose retention ended (their result record stays).
fn prune(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let page = state.prefix_raw(keys::PRUNE_PREFIX, None, 64);
        let mut progressed = false;
        for (k, _) in &page {
            let Some(h) = keys::height_at(k, keys::PRUNE_PREFIX.len()) else {
                fatal("tasks: malformed prune key");
            };
            if h > ctx.height {
                return events;
            }
            progressed = true;
            state.delete(k.clone());
            let Some(id) = crate::state::keys::trailing_id(k) else {
                continue;
            };
            let Some(t) = task(state, id) else { continue };
            for m in t.all_members() {
                state.delete(keys::by_operator(&m, id));
            }
            state.delete(keys::by_client(&t.client, id));
            super::state::delete_slots(state, id);
            state.delete(keys::by_status(t.status.index(), id));
            state.delete(keys::task(id));
            events.push(
                Event::new(super::events::TASK_PRUNED)
                    .attr("task", id)
                    .attr("status", t.status.name()),
            );
        }
        if !progressed {
            return events;
        }
    }
}

/// `price ← price ± ⌊price × min(|u − target| / target, 1) / 8⌋` (rising by at least 1 unop
/// when utilisation is above target), clamped to [min_unit_price, max_unit_price].
pub fn next_price(price: u128, utilisation_ppm: u32, p: &TasksParams) -> u128 {
    let target = u128::from(p.target_utilisation_ppm.max(1));
    let u = u128::from(utilisation_ppm);
    let deviation_ppm = (u.abs_diff(target) * 1_000_000 / target).min(1_000_000);
    // deviation ≤ 10⁶, so the step is at most price / 8
    let step = mul_div(
        price,
        deviation_ppm,
        8_000_000,
        "a price step is at most an eighth of the price",
    );
    let next = if u > target {
        price.saturating_add(step.max(1))
    } else {
        price.saturating_sub(step)
    };
    next.clamp(p.min_unit_price, p.max_unit_price)
}

fn update_price(state: &mut impl StateWrite, p: &TasksParams) -> Option<Event> {
    let price = unit_price(state);
    let cap = capacity(state);
    let next = next_price(price, cap.utilisation_ppm, p);
    if state.get::<u128>(keys::UNIT_PRICE) == Some(next) {
        return None;
    }
    state.put(keys::UNIT_PRICE.to_vec(), &next);
    (next != price).then(|| {
        Event::new(super::events::TASK_PRICE)
            .attr("unit_price", next)
            .attr("utilisation_ppm", cap.utilisation_ppm)
    })
}

/// Read helper for invariants and genesis: every task in an open status.
pub fn open_tasks(state: &impl StateRead) -> Vec<Task> {
    let mut out = Vec::new();
    for s in [TaskStatus::Assigned, TaskStatus::Finalized] {
        for (k, _) in state.prefix_raw(&keys::by_status_prefix(s.index()), None, usize::MAX) {
            if let Some(t) = crate::state::keys::trailing_id(&k).and_then(|id| task(state, id)) {
                out.push(t);
            }
        }
    }
    out
}

// ------------------------------------------------------------------ the module table

use crate::component::Component;
use crate::error::{QueryError, TxError};
use crate::genesis::AppState;
use crate::query::Target;
use crate::tx::Msg;

pub struct Tasks;

impl Component for Tasks {
    fn name(&self) -> &'static str {
        "tasks"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.tasks.problems()
    }

    fn init_genesis(&self, mut state: &mut dyn StateWrite, genesis: &AppState, _: u64) {
        genesis.tasks.apply(&mut state);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.tasks = super::genesis::TasksGenesis::export(&state);
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        signer: &Address,
        msg: &Msg,
        _hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        use super::handler as h;
        let state = &mut state;
        Some(match msg {
            Msg::PostTask(m) => h::post_task(state, ctx, signer, m),
            Msg::CommitResult(m) => h::commit_result(state, ctx, signer, m),
            Msg::RevealResult(m) => h::reveal_result(state, ctx, signer, m),
            Msg::ConfirmSubmission(m) => h::confirm_submission(state, ctx, signer, m),
            _ => return None,
        })
    }

    fn end_block(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        hooks: &Hooks,
    ) -> Vec<Event> {
        end_block(&mut state, ctx, hooks)
    }

    fn check_invariants(&self, state: &dyn StateRead) -> Result<(), String> {
        super::invariants::check(&state)
    }

    fn query(&self, rest: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
        super::query::route(rest, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_moves_at_most_an_eighth_per_block_and_stays_in_bounds() {
        let p = TasksParams {
            min_unit_price: 100,
            max_unit_price: 1_000_000,
            target_utilisation_ppm: 500_000,
            ..TasksParams::default()
        };
        // full: +1/8
        assert_eq!(next_price(80_000, 1_000_000, &p), 90_000);
        // empty: −1/8
        assert_eq!(next_price(80_000, 0, &p), 70_000);
        // on target: unchanged
        assert_eq!(next_price(80_000, 500_000, &p), 80_000);
        // 75 %: +1/16
        assert_eq!(next_price(80_000, 750_000, &p), 85_000);
        // a small price still rises
        assert_eq!(next_price(100, 500_001, &p), 101);
        // bounds
        assert_eq!(next_price(100, 0, &p), 100);
        assert_eq!(next_price(1_000_000, 1_000_000, &p), 1_000_000);
        // a low target: deviation capped at 100 %
        let low = TasksParams {
            target_utilisation_ppm: 100_000,
            ..p.clone()
        };
        assert_eq!(next_price(80_000, 1_000_000, &low), 90_000);
        let mut price = 100u128;
        for _ in 0..200 {
            let next = next_price(price, 1_000_000, &p);
            assert!(next * 8 <= price * 9 + 8, "{price} → {next}");
            price = next;
        }
        assert_eq!(price, 1_000_000);
    }
}
