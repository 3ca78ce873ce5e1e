//! coprocessors' invariants (checked after every block in debug and test builds):
//! - `coprocessor_collateral` holds exactly Σ (free + locked + pending) collateral;
//! - each coprocessor's pending collateral is the sum of its queued withdrawals, its locked
//!   collateral the sum of its won auctions' locks, its reserved units the sum of their
//!   difficulties, and reserved ≤ capacity;
//! - every open auction belongs to an open task slot (task in commit–reveal, member on the
//!   current committee, not committed, slot offered and unsold); every won auction's slot is
//!   sold to its winner.
//!
//! Value across outcomes is conserved by construction and checked by bank's supply invariant.

use std::collections::BTreeMap;

use super::settle::all_auctions;
use super::state::{coprocessors, withdrawals, AuctionStatus};
use crate::crypto::Address;
use crate::modules::{bank, tasks};
use crate::state::StateRead;

pub fn check(state: &impl StateRead) -> Result<(), String> {
    let all = coprocessors(state);
    let mut held: u128 = 0;
    for c in &all {
        held = c
            .free_collateral
            .checked_add(c.locked_collateral)
            .and_then(|x| x.checked_add(c.pending_collateral))
            .and_then(|x| x.checked_add(held))
            .ok_or("coprocessors: collateral overflows u128")?;
        if c.reserved_units > c.capacity_units {
            return Err(format!(
                "coprocessors: {} reserves {} of {} units",
                c.address, c.reserved_units, c.capacity_units
            ));
        }
    }
    let balance = bank::account(state, &bank::COPROCESSOR_COLLATERAL.address()).balance;
    if balance != held {
        return Err(format!(
            "coprocessors: coprocessor_collateral {balance} != free + locked + pending {held}"
        ));
    }
    let mut pending: BTreeMap<Address, u128> = BTreeMap::new();
    for w in withdrawals(state) {
        *pending.entry(w.coprocessor).or_default() += w.amount;
    }
    let mut locked: BTreeMap<Address, (u128, u64)> = BTreeMap::new();
    for a in all_auctions(state) {
        match a.status {
            AuctionStatus::Open => {
                let t = tasks::state::task(state, a.task_id).ok_or_else(|| {
                    format!("coprocessors: open auction {} names missing task", a.id)
                })?;
                let m = t.current_round().member(&a.member);
                let slot = tasks::state::slot(state, a.task_id, &a.member);
                let ok = t.status == tasks::TaskStatus::Assigned
                    && m.is_some_and(|m| m.commitment.is_none())
                    && slot.is_some_and(|s| s.coprocessor.is_none());
                if !ok {
                    return Err(format!(
                        "coprocessors: open auction {} does not belong to an open task slot",
                        a.id
                    ));
                }
            }
            AuctionStatus::Won => {
                let winner = a
                    .winner
                    .ok_or("coprocessors: a won auction has no winner")?;
                let slot = tasks::state::slot(state, a.task_id, &a.member);
                if slot.and_then(|s| s.coprocessor) != Some(winner) {
                    return Err(format!(
                        "coprocessors: won auction {}'s slot is not sold to its winner",
                        a.id
                    ));
                }
                let e = locked.entry(winner).or_default();
                e.0 += a.collateral_locked;
                e.1 += a.difficulty_units;
            }
            _ => {}
        }
    }
    for c in &all {
        let p = pending.get(&c.address).copied().unwrap_or(0);
        let (l, r) = locked.get(&c.address).copied().unwrap_or((0, 0));
        if p != c.pending_collateral || l != c.locked_collateral || r != c.reserved_units {
            return Err(format!(
                "coprocessors: {} records pending {} locked {} reserved {}, its withdrawals and \
                 won auctions hold {p}, {l} and {r}",
                c.address, c.pending_collateral, c.locked_collateral, c.reserved_units
            ));
        }
    }
    Ok(())
}
