//! slashing's message handlers and the API other modules raise proposals with.

use super::msg::{Evidence, MsgDisputeSlash, MsgProposeSlash, MsgVoteDispute, Offence};
use super::resolver::{reexecutes, Resolver};
use super::state::{
    next_id, params, proposal, put_proposal, Dispute, Proposal, ProposalStatus, Vote,
};
use super::{keys, SlashingError};
use crate::block::BlockCtx;
use crate::crypto::{Address, Verifier};
use crate::error::TxError;
use crate::events::Event;
use crate::hooks::{Hooks, ReexecutionRequest};
use crate::modules::bank;
use crate::modules::staking::state::{operator, unbondings_from};
use crate::modules::staking::validator_set;
use crate::num::ppm_of;
use crate::state::{StateRead, StateReadExt, StateWrite, StateWriteExt};

/// The load amplification the reputation module supplies for `operator` (ppm; 1_000_000 =
/// none): above the optimal load, slashes grow by up to `k_high` (docs/reputation.md).
pub fn load_amplification_ppm(state: &impl StateRead, operator: &Address) -> u32 {
    crate::modules::reputation::load_amplification_ppm(state, operator)
}

/// The operator's stake at `infraction_height`, reconstructed from now: its pool plus what
/// left it since, through unbonding entries created at or after that height. (Deposits made
/// after the infraction count too: the chain does not read old versions of its own state while
/// executing a block.)
pub fn stake_at(
    state: &impl StateRead,
    operator_address: &Address,
    infraction_height: u64,
) -> u128 {
    let pool = operator(state, operator_address)
        .map(|o| o.tokens)
        .unwrap_or(0);
    unbondings_from(state, operator_address)
        .iter()
        .filter(|e| e.creation_height >= infraction_height)
        .fold(pool, |acc, e| acc.saturating_add(e.initial_amount))
}

/// stake × fraction × factor × amplification, capped at the stake.
fn amount_for(state: &impl StateRead, op: &Address, stake: u128, fraction_ppm: u32) -> u128 {
    let p = params(state);
    let a = ppm_of(stake, fraction_ppm);
    let a = ppm_of(a, p.slashing_factor_ppm);
    let a = ppm_of(a, load_amplification_ppm(state, op));
    a.min(stake)
}

#[allow(clippy::too_many_arguments)]
fn create(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    operator_address: Address,
    offence: Offence,
    evidence: Evidence,
    infraction_id: u64,
    infraction_height: u64,
    fraction_ppm: u32,
    reporter: Option<Address>,
) -> Result<(Proposal, Event), SlashingError> {
    if operator(state, &operator_address).is_none() {
        return Err(SlashingError::UnknownOperator(operator_address.to_string()));
    }
    let dedup = keys::infraction(&operator_address, offence.index(), infraction_id);
    if let Some(existing) = state.get::<u64>(&dedup) {
        return Err(SlashingError::DuplicateProposal(existing));
    }
    let p = params(state);
    let stake = stake_at(state, &operator_address, infraction_height);
    let amount = amount_for(state, &operator_address, stake, fraction_ppm);
    let id = next_id(state);
    let deadline = ctx.time.saturating_add(p.dispute_window);
    let bond = if reporter.is_some() { p.report_bond } else { 0 };
    let proposal = Proposal {
        id,
        operator: operator_address,
        offence,
        evidence,
        infraction_id,
        infraction_height,
        stake_at_infraction: stake,
        amount,
        reporter,
        reporter_bond: bond,
        created_height: ctx.height,
        deadline,
        status: ProposalStatus::Pending,
        dispute: None,
        outcome: None,
        closed_height: None,
    };
    put_proposal(state, &proposal);
    state.put(dedup, &id);
    state.put_raw(keys::pending(&operator_address, id), vec![1]);
    state.put_raw(keys::by_operator(&operator_address, id), vec![1]);
    state.put_raw(keys::deadline(deadline, id), vec![1]);
    let event = Event::new(super::events::SLASH_PROPOSED)
        .attr("proposal", id)
        .attr("operator", operator_address)
        .attr("offence", offence.name())
        .attr("amount", amount)
        .attr("deadline", deadline)
        .attr(
            "reporter",
            reporter
                .map(|r| r.to_string())
                .unwrap_or_else(|| "automatic".into()),
        );
    Ok((proposal, event))
}

/// Raises a proposal on the chain's own behalf (no bond; the reporter's share goes to the
/// treasury). `fraction_ppm` is the offence's fraction (for downtime, the computed one).
/// A second proposal for the same infraction is ignored (`Ok(None)`).
#[allow(clippy::too_many_arguments)]
pub fn propose_automatic(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    operator_address: Address,
    offence: Offence,
    evidence: Evidence,
    infraction_id: u64,
    infraction_height: u64,
    fraction_ppm: u32,
) -> Option<Event> {
    create(
        state,
        ctx,
        operator_address,
        offence,
        evidence,
        infraction_id,
        infraction_height,
        fraction_ppm,
        None,
    )
    .ok()
    .map(|(_, e)| e)
}

pub fn propose(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgProposeSlash,
) -> Result<Vec<Event>, TxError> {
    let target = msg.check_stateless()?;
    let p = params(state);
    let chain_id: String = state
        .get(crate::genesis::keys::CHAIN_ID)
        .unwrap_or_default();
    let (infraction_id, infraction_height) = match &msg.evidence {
        Evidence::Equivocation { first, second } => {
            let verifier = Verifier::default();
            for (which, a) in [("first", first), ("second", second)] {
                let signer_addr = a.verify(&verifier, which)?;
                if signer_addr != target {
                    return Err(SlashingError::AttestationNotByOperator {
                        which,
                        signer: signer_addr.to_string(),
                        operator: target.to_string(),
                    }
                    .into());
                }
                if a.body.chain_id != chain_id {
                    return Err(SlashingError::NoConflict(format!(
                        "the {which} attestation is for chain {:?}",
                        a.body.chain_id
                    ))
                    .into());
                }
            }
            if first.body.task_id != second.body.task_id {
                return Err(
                    SlashingError::NoConflict("they are for different tasks".into()).into(),
                );
            }
            if first.body.result_hash == second.body.result_hash {
                return Err(SlashingError::NoConflict("they attest the same result".into()).into());
            }
            (first.body.task_id, ctx.height)
        }
        Evidence::Statement {
            infraction_id,
            infraction_height,
            ..
        } => {
            let first: u64 = state.get(crate::genesis::keys::INITIAL_HEIGHT).unwrap_or(1);
            let min = ctx
                .height
                .saturating_sub(p.max_evidence_age_blocks)
                .max(first);
            if *infraction_height > ctx.height || *infraction_height < min {
                return Err(SlashingError::InfractionHeightOutOfRange {
                    height: *infraction_height,
                    min,
                    max: ctx.height,
                }
                .into());
            }
            (*infraction_id, *infraction_height)
        }
        Evidence::Downtime { .. } | Evidence::ResultMismatch { .. } => {
            return Err(SlashingError::OffenceNotReportable(msg.offence.name()).into())
        }
    };
    let fraction = p.fraction_ppm(msg.offence);
    let (proposal, event) = create(
        state,
        ctx,
        target,
        msg.offence,
        msg.evidence.clone(),
        infraction_id,
        infraction_height,
        fraction,
        Some(*signer),
    )?;
    bank::transfer(
        state,
        signer,
        &bank::DISPUTE_ESCROW.address(),
        proposal.reporter_bond,
    )?;
    Ok(vec![event])
}

pub fn dispute(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgDisputeSlash,
    hooks: &Hooks,
) -> Result<Vec<Event>, TxError> {
    msg.check_stateless()?;
    let mut prop =
        proposal(state, msg.proposal).ok_or(SlashingError::UnknownProposal(msg.proposal))?;
    if *signer != prop.operator {
        return Err(SlashingError::NotAccused(prop.operator.to_string()).into());
    }
    if prop.status != ProposalStatus::Pending {
        return Err(SlashingError::WrongStatus {
            id: prop.id,
            status: prop.status.name(),
        }
        .into());
    }
    if ctx.time >= prop.deadline {
        return Err(SlashingError::DisputeWindowClosed {
            deadline: prop.deadline,
            now: ctx.time,
        }
        .into());
    }
    let p = params(state);
    bank::transfer(
        state,
        signer,
        &bank::DISPUTE_ESCROW.address(),
        p.dispute_bond,
    )?;
    state.delete(keys::deadline(prop.deadline, prop.id));
    prop.status = ProposalStatus::Disputed;
    prop.dispute = Some(Dispute {
        reason: msg.reason.clone(),
        bond: p.dispute_bond,
        opened_height: ctx.height,
        resolver: Resolver::ValidatorVote,
        decides_at: ctx.time,
        eligible_power: 0,
        yes_power: 0,
        no_power: 0,
    });
    let disputed = Event::new(super::events::SLASH_DISPUTED)
        .attr("proposal", prop.id)
        .attr("operator", prop.operator);
    let mut fallback = None;
    if reexecutes(prop.offence) {
        let request = match prop.evidence {
            Evidence::ResultMismatch { task_id } => Ok(ReexecutionRequest {
                proposal: prop.id,
                accused: prop.operator,
                task_id,
            }),
            _ => Err("the proposal is not a result mismatch".to_string()),
        };
        match request.and_then(|r| (hooks.start_reexecution)(state, ctx, r)) {
            Ok((task_id, task_events)) => {
                if let Some(d) = prop.dispute.as_mut() {
                    d.resolver = Resolver::Reexecution { task_id };
                    d.decides_at = i64::MAX;
                }
                put_proposal(state, &prop);
                let mut events = vec![disputed
                    .attr("resolver", "reexecution")
                    .attr("reexecution_task", task_id)];
                events.extend(task_events);
                return Ok(events);
            }
            Err(reason) => fallback = Some(reason),
        }
    }
    let opened = open_vote(state, ctx, prop, "disputed");
    let mut disputed = disputed.attr("resolver", "validator_vote").attr(
        "vote_ends",
        opened.get("vote_ends").unwrap_or_default().to_string(),
    );
    if let Some(reason) = fallback {
        disputed = disputed.attr("reexecution_unavailable", reason);
    }
    Ok(vec![disputed])
}

/// Puts a disputed proposal to the validators' vote from this block: the set's power (the
/// accused's excluded) is the quorum's base, and the vote ends `vote_period` from now.
pub(crate) fn open_vote(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    mut prop: Proposal,
    why: &str,
) -> Event {
    let p = params(state);
    let accused_power = accused_power(state, &prop.operator);
    let total: u64 = validator_set::reported(state).iter().map(|(_, p)| *p).sum();
    let decides_at = ctx.time.saturating_add(p.vote_period);
    if let Some(d) = prop.dispute.as_mut() {
        d.resolver = Resolver::ValidatorVote;
        d.decides_at = decides_at;
        d.eligible_power = total.saturating_sub(accused_power);
    }
    state.put_raw(keys::deadline(decides_at, prop.id), vec![1]);
    put_proposal(state, &prop);
    Event::new(super::events::SLASH_VOTE_OPENED)
        .attr("proposal", prop.id)
        .attr("operator", prop.operator)
        .attr("vote_ends", decides_at)
        .attr("reason", why)
}

fn accused_power(state: &impl StateRead, operator_address: &Address) -> u64 {
    operator(state, operator_address)
        .and_then(|o| {
            state.get::<u64>(&crate::modules::staking::keys::validator_set_member(
                &o.consensus_pubkey,
            ))
        })
        .unwrap_or(0)
}

pub fn vote(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgVoteDispute,
) -> Result<Vec<Event>, TxError> {
    let mut prop =
        proposal(state, msg.proposal).ok_or(SlashingError::UnknownProposal(msg.proposal))?;
    let Some(mut d) = prop
        .dispute
        .clone()
        .filter(|_| prop.status == ProposalStatus::Disputed)
    else {
        return Err(SlashingError::WrongStatus {
            id: prop.id,
            status: prop.status.name(),
        }
        .into());
    };
    if d.resolver != Resolver::ValidatorVote {
        return Err(SlashingError::NotDecidedByVote(prop.id).into());
    }
    if ctx.time >= d.decides_at {
        return Err(SlashingError::VotePeriodClosed {
            deadline: d.decides_at,
            now: ctx.time,
        }
        .into());
    }
    if *signer == prop.operator {
        return Err(SlashingError::AccusedCannotVote.into());
    }
    let power = accused_power(state, signer);
    if power == 0 {
        return Err(SlashingError::NotAValidator(signer.to_string()).into());
    }
    let key = keys::vote(prop.id, signer);
    if state.get_raw(&key).is_some() {
        return Err(SlashingError::AlreadyVoted(signer.to_string()).into());
    }
    state.put(
        key,
        &Vote {
            proposal: prop.id,
            voter: *signer,
            uphold: msg.uphold,
            power,
            height: ctx.height,
        },
    );
    if msg.uphold {
        d.yes_power = d.yes_power.saturating_add(power);
    } else {
        d.no_power = d.no_power.saturating_add(power);
    }
    prop.dispute = Some(d);
    put_proposal(state, &prop);
    Ok(vec![Event::new(super::events::SLASH_VOTED)
        .attr("proposal", prop.id)
        .attr("voter", signer)
        .attr("uphold", msg.uphold)
        .attr("power", power)])
}
