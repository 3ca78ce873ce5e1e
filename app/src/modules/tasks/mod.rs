//! tasks — the NodeOP task lifecycle (PROTOCOL.md §3.4; the full rules are in `docs/tasks.md`).
//!
//! A client posts a task and escrows its fee; in the same tx the chain samples a committee from
//! the eligible operators (weight = stake × effective reputation) and reserves their capacity.
//! Members commit, then reveal; the round aggregates at the end of the block where every
//! member that committed has revealed, or at the end of the reveal window. A round without
//! quorum escalates once to a fresh committee of 2n+1; a second failure refunds the client
//! minus the protocol fee. A finalized aggregate pays the agreeing members, raises a
//! result_mismatch proposal against each disagreeing one, and enters the block's Merkle root;
//! then the agreeing members deliver it in scheduled submission windows, with fallback.
//!
//! State keys: see [`keys`]. Hooks: end block ([`component::end_block`]: due rounds and
//! windows, the block's result root, pruning, the unit price). Invariants ([`invariants`]):
//! `task_escrow` == Σ escrow of open tasks; each operator's reserved units == Σ of its open
//! duties; the due queue names exactly the open tasks.

pub mod aggregate;
pub mod assign;
pub mod component;
pub mod error;
pub mod events;
pub mod genesis;
pub mod handler;
pub mod invariants;
pub mod keys;
pub mod merkle;
pub mod msg;
pub mod params;
pub mod query;
pub mod reexec;
pub mod rewards;
pub mod sampling;
pub mod state;

pub use error::{TasksError, CODESPACE};
pub use msg::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
pub use params::TasksParams;
pub use state::{SlotSale, Task, TaskStatus};
