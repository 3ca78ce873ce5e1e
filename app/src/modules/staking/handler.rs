//! staking's message handlers. Every amount is checked; nothing here panics on user input.

use super::state::{
    delegation, deposit, insert_unbonding, next_unbonding_id, operator, params, put_delegation,
    put_operator, withdraw,
};
use super::{
    consensus_address, keys, liveness, Delegation, MsgDelegate, MsgEditOperator,
    MsgRegisterOperator, MsgUndelegate, Operator, StakingError, UnbondingEntry,
};
use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::hooks::Hooks;
use crate::modules::bank;
use crate::state::{StateWrite, StateWriteExt};

fn bank_err(e: bank::BankError) -> StakingError {
    match e {
        bank::BankError::InsufficientFunds { balance, needed } => {
            StakingError::InsufficientDelegation {
                available: balance,
                requested: needed,
            }
        }
        _ => StakingError::Overflow,
    }
}

pub fn register_operator(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgRegisterOperator,
) -> Result<Vec<Event>, crate::error::TxError> {
    msg.check_stateless()?;
    let p = params(state);
    if operator(state, signer).is_some() {
        return Err(StakingError::AlreadyOperator(signer.to_string()).into());
    }
    if state
        .get_raw(&keys::consensus_key(&msg.consensus_pubkey))
        .is_some()
    {
        return Err(StakingError::ConsensusKeyInUse(hex::encode(msg.consensus_pubkey)).into());
    }
    if msg.self_bond < p.min_self_bond {
        return Err(StakingError::SelfBondTooLow {
            got: msg.self_bond,
            min: p.min_self_bond,
        }
        .into());
    }
    bank::transfer(state, signer, &bank::BONDED_POOL.address(), msg.self_bond)?;
    let mut op = Operator {
        address: *signer,
        consensus_pubkey: msg.consensus_pubkey,
        moniker: msg.moniker.clone(),
        capacity_units: msg.capacity_units,
        region: msg.region.clone(),
        commission_ppm: msg.commission_ppm,
        tokens: 0,
        shares: 0,
        self_shares: 0,
        jailed_until: None,
        tombstoned: false,
        slashed_total: 0,
        slash_count: 0,
        registered_height: ctx.height,
    };
    let shares = deposit(&mut op, msg.self_bond)?;
    op.self_shares = shares;
    put_operator(state, &op);
    put_delegation(
        state,
        &Delegation {
            delegator: *signer,
            operator: *signer,
            shares,
        },
    );
    state.put(keys::consensus_key(&msg.consensus_pubkey), signer);
    state.put(
        keys::consensus_address(&consensus_address(&msg.consensus_pubkey)),
        signer,
    );
    liveness::start_tracking(state, &consensus_address(&msg.consensus_pubkey), ctx.height);
    Ok(vec![Event::new(super::events::OPERATOR_REGISTERED)
        .attr("operator", signer)
        .attr(
            "consensus_pubkey",
            crate::serde_base64_32::encode(&msg.consensus_pubkey),
        )
        .attr("moniker", &msg.moniker)
        .attr("self_bond", msg.self_bond)])
}

pub fn edit_operator(
    state: &mut impl StateWrite,
    signer: &Address,
    msg: &MsgEditOperator,
) -> Result<Vec<Event>, StakingError> {
    msg.check_stateless()?;
    let mut op =
        operator(state, signer).ok_or_else(|| StakingError::UnknownOperator(signer.to_string()))?;
    if let Some(m) = &msg.moniker {
        op.moniker = m.clone();
    }
    if let Some(c) = msg.capacity_units {
        op.capacity_units = c;
    }
    if let Some(r) = &msg.region {
        op.region = r.clone();
    }
    if let Some(c) = msg.commission_ppm {
        op.commission_ppm = c;
    }
    put_operator(state, &op);
    Ok(vec![
        Event::new(super::events::OPERATOR_EDITED).attr("operator", signer)
    ])
}

pub fn delegate(
    state: &mut impl StateWrite,
    signer: &Address,
    msg: &MsgDelegate,
) -> Result<Vec<Event>, crate::error::TxError> {
    let target = msg.check_stateless()?;
    let mut op = operator(state, &target)
        .ok_or_else(|| StakingError::UnknownOperator(msg.operator.clone()))?;
    if op.tombstoned {
        return Err(StakingError::Tombstoned(msg.operator.clone()).into());
    }
    bank::transfer(state, signer, &bank::BONDED_POOL.address(), msg.amount)?;
    let shares = deposit(&mut op, msg.amount)?;
    let mut d = delegation(state, signer, &target).unwrap_or(Delegation {
        delegator: *signer,
        operator: target,
        shares: 0,
    });
    d.shares = d.shares.checked_add(shares).ok_or(StakingError::Overflow)?;
    if *signer == target {
        op.self_shares = d.shares;
    }
    put_operator(state, &op);
    put_delegation(state, &d);
    Ok(vec![Event::new(super::events::DELEGATE)
        .attr("delegator", signer)
        .attr("operator", target)
        .attr("amount", msg.amount)
        .attr("shares", shares)])
}

pub fn undelegate(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
    msg: &MsgUndelegate,
) -> Result<Vec<Event>, crate::error::TxError> {
    let target = msg.check_stateless()?;
    let p = params(state);
    let mut op = operator(state, &target)
        .ok_or_else(|| StakingError::UnknownOperator(msg.operator.clone()))?;
    let mut d = delegation(state, signer, &target).ok_or(StakingError::InsufficientDelegation {
        available: 0,
        requested: msg.amount,
    })?;
    let burned = withdraw(&mut op, d.shares, msg.amount)?;
    d.shares -= burned;
    if *signer == target {
        op.self_shares = d.shares;
        let remaining = op.self_bond();
        if d.shares > 0 && remaining < p.min_self_bond {
            return Err(StakingError::SelfBondWouldFallBelowMinimum {
                remaining,
                min: p.min_self_bond,
            }
            .into());
        }
    }
    bank::transfer(
        state,
        &bank::BONDED_POOL.address(),
        &bank::UNBONDING_POOL.address(),
        msg.amount,
    )
    .map_err(bank_err)?;
    let id = next_unbonding_id(state);
    let completion_time = ctx
        .time
        .checked_add(p.unbonding_time)
        .ok_or(StakingError::Overflow)?;
    insert_unbonding(
        state,
        &UnbondingEntry {
            id,
            delegator: *signer,
            operator: target,
            amount: msg.amount,
            initial_amount: msg.amount,
            creation_height: ctx.height,
            completion_time,
        },
    );
    put_operator(state, &op);
    put_delegation(state, &d);
    Ok(vec![Event::new(super::events::UNDELEGATE)
        .attr("delegator", signer)
        .attr("operator", target)
        .attr("amount", msg.amount)
        .attr("unbonding_id", id)
        .attr("completion_time", completion_time)])
}

pub fn unjail(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    signer: &Address,
) -> Result<Vec<Event>, StakingError> {
    let mut op =
        operator(state, signer).ok_or_else(|| StakingError::UnknownOperator(signer.to_string()))?;
    if op.tombstoned {
        return Err(StakingError::Tombstoned(signer.to_string()));
    }
    let Some(until) = op.jailed_until else {
        return Err(StakingError::NotJailed(signer.to_string()));
    };
    if ctx.time < until {
        return Err(StakingError::JailedTooEarly {
            until,
            now: ctx.time,
        });
    }
    op.jailed_until = None;
    put_operator(state, &op);
    liveness::start_tracking(state, &consensus_address(&op.consensus_pubkey), ctx.height);
    Ok(vec![
        Event::new(super::events::UNJAIL).attr("operator", signer)
    ])
}

/// Pays matured unbonding entries (completion_time ≤ block time), oldest first. An entry whose
/// operator has an open slash proposal waits (no stake leaves before its slash lands); it is
/// paid in the first block after the proposal closes.
pub fn pay_matured_unbondings(
    state: &mut impl StateWrite,
    ctx: &BlockCtx,
    hooks: &Hooks,
) -> Vec<Event> {
    let mut events = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    'pages: loop {
        let page = state.prefix_raw(keys::UNBONDING_QUEUE_PREFIX, cursor.as_deref(), 256);
        if page.is_empty() {
            break;
        }
        for (k, _) in &page {
            cursor = Some(k.clone());
            let Some(id) = crate::state::keys::trailing_id(k) else {
                continue;
            };
            let Some(entry) = super::state::unbonding_entry(state, id) else {
                crate::state::fatal(&format!("unbonding queue names missing entry {id}"));
            };
            if entry.completion_time > ctx.time {
                break 'pages;
            }
            if (hooks.slash_pending)(state, &entry.operator) {
                continue;
            }
            if entry.amount > 0 {
                if let Err(e) = bank::transfer(
                    state,
                    &bank::UNBONDING_POOL.address(),
                    &entry.delegator,
                    entry.amount,
                ) {
                    crate::state::fatal(&format!("unbonding_pool cannot pay entry {id}: {e}"));
                }
            }
            super::state::remove_unbonding(state, &entry);
            events.push(
                Event::new(super::events::UNBONDING_COMPLETED)
                    .attr("delegator", entry.delegator)
                    .attr("operator", entry.operator)
                    .attr("amount", entry.amount)
                    .attr("unbonding_id", id),
            );
        }
    }
    events
}
