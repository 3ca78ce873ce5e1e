//! slashing's block hooks.

use super::msg::{Evidence, Offence};
use super::resolver::{verdict, Verdict};
use super::state::{params, proposal, put_proposal, ProposalStatus};
use super::uptime::Uptime;
use super::{handler, keys};
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::hooks::Hooks;
use crate::modules::bank;
use crate::modules::staking;
use crate::state::{decode_stored, fatal, StateReadExt, StateWrite, StateWriteExt};

/// Begin block, after staking's epochs: at the end of every SLA period (every
/// `downtime_period_epochs` epochs), an automatic downtime proposal for each operator whose
/// uptime in the period was below `min_uptime_ppm`; then the counters restart.
pub fn begin_block(state: &mut impl StateWrite, ctx: &BlockCtx) -> Vec<Event> {
    let p = params(state);
    let epoch: u64 = state.get(staking::keys::LAST_EPOCH).unwrap_or(0);
    let period_now = epoch / p.downtime_period_epochs.max(1);
    let mut last: u64 = state.get(keys::LAST_SLA_PERIOD).unwrap_or(0);
    let mut events = Vec::new();
    while last < period_now {
        // the counters hold the period that just ended; later periods of a long gap had no blocks
        for (k, v) in state.prefix_raw(keys::UPTIME_PREFIX, None, usize::MAX) {
            let Some(operator) = crate::state::keys::address_at(&k, keys::UPTIME_PREFIX.len())
            else {
                continue;
            };
            let u: Uptime = decode_stored(&k, &v);
            state.delete(k);
            let Some(uptime_ppm) = u.ppm() else { continue };
            if uptime_ppm >= p.min_uptime_ppm {
                continue;
            }
            let fraction = p.downtime_fraction_ppm(uptime_ppm);
            if let Some(e) = handler::propose_automatic(
                state,
                ctx,
                operator,
                Offence::Downtime,
                Evidence::Downtime {
                    period: last,
                    uptime_ppm,
                },
                last,
                ctx.height,
                fraction,
            ) {
                events.push(e.attr("uptime_ppm", uptime_ppm));
            }
        }
        last += 1;
    }
    if period_now > 0 && state.get::<u64>(keys::LAST_SLA_PERIOD) != Some(period_now) {
        state.put(keys::LAST_SLA_PERIOD.to_vec(), &period_now);
    }
    events
}

/// End block: every open proposal whose decision time has come (dispute deadline, or the end of
/// its vote) is executed or overturned, oldest first.
pub fn end_block(state: &mut impl StateWrite, ctx: &BlockCtx, hooks: &Hooks) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let due = state.prefix_raw(keys::DEADLINE_PREFIX, None, 64);
        let mut progressed = false;
        for (k, _) in &due {
            let Some(id) = crate::state::keys::trailing_id(k) else {
                continue;
            };
            let Some(prop) = proposal(state, id) else {
                fatal(&format!(
                    "slashing deadline queue names missing proposal {id}"
                ));
            };
            let decides_at = prop
                .dispute
                .as_ref()
                .map(|d| d.decides_at)
                .unwrap_or(prop.deadline);
            if decides_at > ctx.time {
                return events;
            }
            state.delete(k.clone());
            progressed = true;
            let v = match &prop.dispute {
                None => Verdict::Upheld,
                Some(d) => verdict(d),
            };
            events.push(match v {
                Verdict::Upheld => execute(state, ctx, prop, hooks),
                Verdict::Overturned { reason } => overturn(state, ctx, prop, reason),
            });
        }
        if !progressed {
            return events;
        }
    }
}

fn pay(state: &mut impl StateWrite, to: &Address, amount: u128) {
    if amount == 0 {
        return;
    }
    if let Err(e) = bank::transfer(state, &bank::DISPUTE_ESCROW.address(), to, amount) {
        fatal(&format!("dispute_escrow cannot pay {amount} to {to}: {e}"));
    }
}

fn close(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    prop: &mut super::Proposal,
    status: ProposalStatus,
) {
    prop.status = status;
    prop.closed_height = Some(ctx.height);
    state.delete(keys::pending(&prop.operator, prop.id));
    put_proposal(state, prop);
}

pub(crate) fn execute(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    mut prop: super::Proposal,
    hooks: &Hooks,
) -> Event {
    let record = staking::evidence::slash(
        state,
        ctx,
        &prop.operator,
        prop.amount,
        prop.infraction_height,
        prop.stake_at_infraction,
        prop.offence.name(),
        prop.reporter,
        hooks,
    );
    // bonds: the reporter's comes back; an upheld dispute's bond is burned
    if let Some(r) = prop.reporter {
        pay(state, &r, prop.reporter_bond);
    }
    if let Some(d) = &prop.dispute {
        if d.bond > 0 {
            if let Err(e) = bank::burn(state, &bank::DISPUTE_ESCROW.address(), d.bond) {
                fatal(&format!("burning a dispute bond failed: {e}"));
            }
        }
    }
    // an upheld slash halves the operator's Byzantine factor (PROTOCOL.md §3.5)
    crate::modules::reputation::halve_byz_factor(state, &prop.operator);
    if prop.offence == Offence::Byzantine {
        staking::tombstone(state, &prop.operator);
    }
    let event = Event::new(super::events::SLASH_EXECUTED)
        .attr("proposal", prop.id)
        .attr("operator", prop.operator)
        .attr("offence", prop.offence.name())
        .attr("amount", record.from_pool + record.from_unbonding)
        .attr("burned", record.burned)
        .attr("to_reporter", record.to_reporter)
        .attr("to_treasury", record.to_treasury)
        .attr("disputed", prop.dispute.is_some());
    prop.outcome = Some(record);
    close(state, ctx, &mut prop, ProposalStatus::Executed);
    event
}

pub(crate) fn overturn(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    mut prop: super::Proposal,
    reason: &str,
) -> Event {
    // the dispute bond returns to the accused, and the reporter's bond is paid to it
    if let Some(d) = &prop.dispute {
        pay(state, &prop.operator, d.bond);
    }
    pay(state, &prop.operator, prop.reporter_bond);
    let event = Event::new(super::events::SLASH_OVERTURNED)
        .attr("proposal", prop.id)
        .attr("operator", prop.operator)
        .attr("reason", reason);
    close(state, ctx, &mut prop, ProposalStatus::Overturned);
    event
}

// ------------------------------------------------------------------ the module table

use crate::component::Component;
use crate::error::{QueryError, TxError};
use crate::genesis::AppState;
use crate::query::Target;
use crate::state::StateRead;
use crate::tx::Msg;

pub struct Slashing;

impl Component for Slashing {
    fn name(&self) -> &'static str {
        "slashing"
    }

    fn genesis_problems(&self, genesis: &AppState) -> Vec<String> {
        genesis.slashing.problems()
    }

    fn init_genesis(&self, mut state: &mut dyn StateWrite, genesis: &AppState, _: u64) {
        genesis.slashing.apply(&mut state);
    }

    fn export_genesis(&self, state: &dyn StateRead, genesis: &mut AppState) {
        genesis.slashing = super::genesis::SlashingGenesis::export(&state);
    }

    fn begin_block(
        &self,
        mut state: &mut dyn StateWrite,
        block: &crate::block::BeginBlock,
        _: &Hooks,
    ) -> Vec<Event> {
        begin_block(&mut state, &block.ctx)
    }

    fn deliver(
        &self,
        mut state: &mut dyn StateWrite,
        ctx: &BlockCtx,
        signer: &crate::crypto::Address,
        msg: &Msg,
        hooks: &Hooks,
    ) -> Option<Result<Vec<Event>, TxError>> {
        use super::handler as h;
        let state = &mut state;
        Some(match msg {
            Msg::ProposeSlash(m) => h::propose(state, ctx, signer, m),
            Msg::DisputeSlash(m) => h::dispute(state, ctx, signer, m, hooks),
            Msg::VoteDispute(m) => h::vote(state, ctx, signer, m),
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
