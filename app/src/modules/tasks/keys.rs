//! tasks' key layout (public API). Addresses are 20 raw bytes; ids and heights 8 bytes
//! big-endian, so that key order is numeric order.

use crate::crypto::Address;

pub const PARAMS: &[u8] = b"tasks/params";
pub const NEXT_ID: &[u8] = b"tasks/next_id";
pub const UNIT_PRICE: &[u8] = b"tasks/unit_price";
pub const TASK_PREFIX: &[u8] = b"tasks/task/";
pub const BY_STATUS_PREFIX: &[u8] = b"tasks/by_status/";
pub const BY_CLIENT_PREFIX: &[u8] = b"tasks/by_client/";
pub const BY_OPERATOR_PREFIX: &[u8] = b"tasks/by_operator/";
pub const RESERVED_PREFIX: &[u8] = b"tasks/reserved/";
pub const DUE_PREFIX: &[u8] = b"tasks/due/";
pub const PRUNE_PREFIX: &[u8] = b"tasks/prune/";
pub const RESULT_PREFIX: &[u8] = b"tasks/result/";
pub const BLOCK_RESULTS_PREFIX: &[u8] = b"tasks/block_results/";
pub const SLOT_PREFIX: &[u8] = b"tasks/slot/";
pub const SLOT_HOLDER_PREFIX: &[u8] = b"tasks/slot_holder/";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `tasks/task/{id}` → [`super::Task`].
pub fn task(id: u64) -> Vec<u8> {
    join(&[TASK_PREFIX, &id.to_be_bytes()])
}

/// `tasks/by_status/{status index}/{id}` → `[1]`.
pub fn by_status(status: u8, id: u64) -> Vec<u8> {
    join(&[BY_STATUS_PREFIX, &[status], b"/", &id.to_be_bytes()])
}

pub fn by_status_prefix(status: u8) -> Vec<u8> {
    join(&[BY_STATUS_PREFIX, &[status], b"/"])
}

/// `tasks/by_client/{client}/{id}` → `[1]`.
pub fn by_client(client: &Address, id: u64) -> Vec<u8> {
    join(&[BY_CLIENT_PREFIX, &client.0, b"/", &id.to_be_bytes()])
}

pub fn by_client_prefix(client: &Address) -> Vec<u8> {
    join(&[BY_CLIENT_PREFIX, &client.0, b"/"])
}

/// `tasks/by_operator/{operator}/{id}` → `[1]`: every task the operator sat on a committee of
/// (any round), while the task is in state.
pub fn by_operator(operator: &Address, id: u64) -> Vec<u8> {
    join(&[BY_OPERATOR_PREFIX, &operator.0, b"/", &id.to_be_bytes()])
}

pub fn by_operator_prefix(operator: &Address) -> Vec<u8> {
    join(&[BY_OPERATOR_PREFIX, &operator.0, b"/"])
}

/// `tasks/reserved/{operator}` → u64 difficulty units reserved by open duties (absent: 0).
pub fn reserved(operator: &Address) -> Vec<u8> {
    join(&[RESERVED_PREFIX, &operator.0])
}

/// `tasks/due/{height}/{id}` → `[1]`: the end block at `height` acts on the task (aggregates
/// its round, or closes its submission window). One entry per open task.
pub fn due(height: u64, id: u64) -> Vec<u8> {
    join(&[DUE_PREFIX, &height.to_be_bytes(), b"/", &id.to_be_bytes()])
}

/// `tasks/prune/{height}/{id}` → `[1]`: the finished task is deleted at the end of `height`.
pub fn prune(height: u64, id: u64) -> Vec<u8> {
    join(&[PRUNE_PREFIX, &height.to_be_bytes(), b"/", &id.to_be_bytes()])
}

/// `tasks/result/{id}` → [`super::state::ResultRecord`]: kept after the task is pruned.
pub fn result(id: u64) -> Vec<u8> {
    join(&[RESULT_PREFIX, &id.to_be_bytes()])
}

/// `tasks/block_results/{height}` → [`super::state::BlockResults`]: the Merkle root over the
/// results finalized in that block, and its leaves (kept forever).
pub fn block_results(height: u64) -> Vec<u8> {
    join(&[BLOCK_RESULTS_PREFIX, &height.to_be_bytes()])
}

/// `tasks/slot/{task}/{member}` → [`super::state::SlotSale`]: the member offered its slot of the
/// task's current round (an open auction) or sold it to a coprocessor; the member itself can no
/// longer commit or reveal for it.
pub fn slot(task: u64, member: &Address) -> Vec<u8> {
    join(&[SLOT_PREFIX, &task.to_be_bytes(), b"/", &member.0])
}

pub fn slot_prefix(task: u64) -> Vec<u8> {
    join(&[SLOT_PREFIX, &task.to_be_bytes(), b"/"])
}

/// `tasks/slot_holder/{task}/{coprocessor}` → the member [`Address`] whose slot the coprocessor
/// bought: whom its commit and reveal count for.
pub fn slot_holder(task: u64, coprocessor: &Address) -> Vec<u8> {
    join(&[
        SLOT_HOLDER_PREFIX,
        &task.to_be_bytes(),
        b"/",
        &coprocessor.0,
    ])
}

/// The height at `offset` in a key.
pub fn height_at(key: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        key.get(offset..offset + 8)?.try_into().ok()?,
    ))
}
