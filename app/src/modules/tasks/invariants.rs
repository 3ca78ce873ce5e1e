//! tasks' invariants (checked after every block in debug and test builds):
//! - `task_escrow` holds exactly the escrow of open tasks, and finished tasks hold none;
//! - each operator's reserved units equal the sum of its open duties (and every reserved
//!   member belongs to an open task);
//! - the due queue has exactly one entry per open task, at its `due_height`.
//!
//! That every committee member was eligible is checked where it is drawn: reserving capacity
//! an operator does not have halts the node ([`super::assign`]).

use std::collections::BTreeMap;

use super::component::open_tasks;
use super::keys;
use super::state::Task;
use crate::crypto::Address;
use crate::modules::bank;
use crate::state::{decode_stored, StateRead};

pub fn check(state: &impl StateRead) -> Result<(), String> {
    let open = open_tasks(state);
    let escrowed: u128 = open.iter().map(|t| t.escrow).sum();
    let balance = bank::account(state, &bank::TASK_ESCROW.address()).balance;
    if balance != escrowed {
        return Err(format!(
            "tasks: task_escrow {balance} != escrow of open tasks {escrowed}"
        ));
    }
    let mut reserved: BTreeMap<Address, u64> = BTreeMap::new();
    for t in &open {
        for op in t.all_members() {
            let units = t.reserved_on(&op);
            if units > 0 {
                *reserved.entry(op).or_default() += units;
            }
        }
        let Some(h) = t.due_height else {
            return Err(format!("tasks: open task {} has no due height", t.id));
        };
        if state.get_raw(&keys::due(h, t.id)).is_none() {
            return Err(format!(
                "tasks: open task {} is missing from the due queue",
                t.id
            ));
        }
    }
    let due_entries = state.prefix_raw(keys::DUE_PREFIX, None, usize::MAX).len();
    if due_entries != open.len() {
        return Err(format!(
            "tasks: {due_entries} due entries for {} open tasks",
            open.len()
        ));
    }
    let mut stored: BTreeMap<Address, u64> = BTreeMap::new();
    for (k, v) in state.prefix_raw(keys::RESERVED_PREFIX, None, usize::MAX) {
        if let Some(a) = crate::state::keys::address_at(&k, keys::RESERVED_PREFIX.len()) {
            stored.insert(a, decode_stored(&k, &v));
        }
    }
    if stored != reserved {
        return Err(format!(
            "tasks: reserved units {stored:?} != open duties {reserved:?}"
        ));
    }
    Ok(())
}

/// Escrow and reservations of a list of tasks (for genesis validation).
pub fn escrow_of(tasks: &[Task]) -> u128 {
    tasks
        .iter()
        .filter(|t| t.status.is_open())
        .map(|t| t.escrow)
        .sum()
}
