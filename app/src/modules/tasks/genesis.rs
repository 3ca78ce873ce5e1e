//! tasks' genesis content: params, and (in an export) every task in state, the result records,
//! the block roots, the id counter and the unit price. Index keys, due and prune entries and
//! reserved units are derived from the tasks on import.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys;
use super::params::TasksParams;
use super::state::{put_reserved, put_slot, put_task, BlockResults, ResultRecord, SlotSale, Task};
use crate::crypto::Address;
use crate::serde_u128;
use crate::state::{decode_stored, StateRead, StateReadExt, StateWrite, StateWriteExt};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TasksGenesis {
    pub params: TasksParams,
    pub next_id: u64,
    /// The current unit price (0: start at `params.initial_unit_price`).
    #[serde(with = "serde_u128")]
    pub unit_price: u128,
    pub tasks: Vec<Task>,
    pub results: Vec<ResultRecord>,
    pub block_results: Vec<BlockResults>,
    /// Slots members offered or sold to coprocessors (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<SlotSale>,
}

impl Default for TasksGenesis {
    fn default() -> Self {
        Self {
            params: TasksParams::default(),
            next_id: 1,
            unit_price: 0,
            tasks: Vec::new(),
            results: Vec::new(),
            block_results: Vec::new(),
            slots: Vec::new(),
        }
    }
}

impl TasksGenesis {
    /// What open tasks hold (must equal the `task_escrow` balance).
    pub fn escrowed(&self) -> u128 {
        super::invariants::escrow_of(&self.tasks)
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = self.params.problems();
        let mut ids = std::collections::BTreeSet::new();
        for t in &self.tasks {
            if !ids.insert(t.id) || t.id >= self.next_id {
                out.push(format!(
                    "tasks.tasks: id {} is repeated or not below next_id",
                    t.id
                ));
            }
            if t.rounds.is_empty() {
                out.push(format!("tasks.tasks: task {} has no committee", t.id));
            }
            if t.status.is_open() != t.due_height.is_some() {
                out.push(format!(
                    "tasks.tasks: task {} is {} but its due height is {:?}",
                    t.id,
                    t.status.name(),
                    t.due_height
                ));
            }
        }
        for sale in &self.slots {
            // slot records stay until their task is pruned
            let known = self
                .tasks
                .iter()
                .any(|t| t.id == sale.task_id && t.all_members().contains(&sale.member));
            if !known {
                out.push(format!(
                    "tasks.slots: task {} in state has no member {}",
                    sale.task_id, sale.member
                ));
            }
        }
        if self.unit_price != 0
            && !(self.params.min_unit_price..=self.params.max_unit_price).contains(&self.unit_price)
        {
            out.push("tasks.unit_price is outside [min_unit_price, max_unit_price]".into());
        }
        out
    }

    pub fn apply(&self, state: &mut impl StateWrite) {
        state.put(keys::PARAMS.to_vec(), &self.params);
        state.put(keys::NEXT_ID.to_vec(), &self.next_id);
        let price = if self.unit_price == 0 {
            self.params.initial_unit_price
        } else {
            self.unit_price
        };
        state.put(keys::UNIT_PRICE.to_vec(), &price);
        let mut reserved: BTreeMap<Address, u64> = BTreeMap::new();
        for t in &self.tasks {
            put_task(state, t);
            state.put_raw(keys::by_status(t.status.index(), t.id), vec![1]);
            state.put_raw(keys::by_client(&t.client, t.id), vec![1]);
            for m in t.all_members() {
                state.put_raw(keys::by_operator(&m, t.id), vec![1]);
                *reserved.entry(m).or_default() += t.reserved_on(&m);
            }
            if let Some(h) = t.due_height {
                state.put_raw(keys::due(h, t.id), vec![1]);
            }
            if let Some(f) = t.finished_height {
                state.put_raw(
                    keys::prune(f.saturating_add(self.params.task_retention), t.id),
                    vec![1],
                );
            }
        }
        for (op, units) in reserved {
            put_reserved(state, &op, units);
        }
        for r in &self.results {
            state.put(keys::result(r.task_id), r);
        }
        for b in &self.block_results {
            state.put(keys::block_results(b.height), b);
        }
        for sale in &self.slots {
            put_slot(state, sale);
        }
    }

    /// The content that reproduces the tasks state.
    pub fn export(state: &impl StateRead) -> Self {
        let list = |prefix: &[u8]| state.prefix_raw(prefix, None, usize::MAX);
        Self {
            params: super::state::params(state),
            next_id: state.get(keys::NEXT_ID).unwrap_or(1),
            unit_price: super::state::unit_price(state),
            tasks: list(keys::TASK_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            results: list(keys::RESULT_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            block_results: list(keys::BLOCK_RESULTS_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
            slots: list(keys::SLOT_PREFIX)
                .iter()
                .map(|(k, v)| decode_stored(k, v))
                .collect(),
        }
    }
}
