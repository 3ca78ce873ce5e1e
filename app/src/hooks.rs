//! What a lower module tells a higher one, as plain function pointers.
//!
//! Modules are layered `bank ← staking ← reputation ← {issuance, slashing} ← tasks ←
//! coprocessors` and none
//! imports a module above it. Where a lower module must let a higher one act — a validator signed
//! a block, stake was slashed, a dispute needs a re-execution — it calls a field of [`Hooks`]. The
//! App wires the fields to the higher modules' functions (`crate::app::HOOKS`), so the direction of
//! every import stays downward and every cross-layer call is listed here, in one place.
//!
//! Hooks take the state as `&mut dyn StateWrite`: the same overlay the caller writes, so a hook's
//! writes are part of the caller's block or tx and roll back with it.

use crate::block::BlockCtx;
use crate::crypto::Address;
use crate::events::Event;
use crate::state::{StateRead, StateWrite};

/// What a re-execution needs to know about the disputed proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReexecutionRequest {
    /// The disputed `result_mismatch` proposal.
    pub proposal: u64,
    /// The operator it accuses.
    pub accused: Address,
    /// The task whose result it disputes.
    pub task_id: u64,
}

/// What a started re-execution answers: its task id and events, or why it cannot start.
pub type ReexecutionStarted = Result<(u64, Vec<Event>), String>;

/// How a sold slot ended when its round closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotOutcome {
    /// The slot's result agreed with the finalized aggregate; `pay` is the member's pay line
    /// (before commission), still in `task_escrow`.
    Agreed { pay: u128 },
    /// The slot's result disagreed with the finalized aggregate.
    Disagreed,
    /// The buyer did not commit, or committed and did not reveal.
    Missed,
    /// The buyer revealed but the round finalized nothing (no quorum).
    Unsettled,
}

/// A sold slot whose round closed: whom it belonged to, who bought it, and what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoldSlot {
    pub task_id: u64,
    pub member: Address,
    pub coprocessor: Address,
    pub assigned_height: u64,
    pub commit_blocks: u64,
    pub commit_height: Option<u64>,
    pub reveal_height: Option<u64>,
}

/// What closing a sold slot answers: unop paid to the buyer out of `task_escrow`, and events.
pub type SlotClosed = (u128, Vec<Event>);

/// The cross-layer calls. Every field is a function of state and arguments only.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// staking → slashing (the SLA's uptime) and reputation (uptime): an operator in the
    /// validator set signed (or missed) the last commit.
    pub block_signed: fn(&mut dyn StateWrite, &Address, bool),
    /// staking → issuance (the period's penalties and faulty operators): `amount` unop of the
    /// operator's stake were slashed.
    pub stake_slashed: fn(&mut dyn StateWrite, &Address, u128),
    /// staking → slashing: whether a slash proposal against the operator is still open (its
    /// unbonding entries are not paid out while one is).
    pub slash_pending: fn(&dyn StateRead, &Address) -> bool,
    /// slashing → tasks: a disputed `result_mismatch` starts a re-execution task; answers its id
    /// and events, or why it cannot start (the proposal then goes to a vote).
    pub start_reexecution:
        fn(&mut dyn StateWrite, &BlockCtx, ReexecutionRequest) -> ReexecutionStarted,
    /// tasks → coprocessors: the round of a sold slot closed. Answers what it paid the buyer
    /// out of `task_escrow` (at most the pay of an `Agreed` slot, 0 otherwise; the member gets
    /// the rest) and its events.
    pub slot_closed: fn(&mut dyn StateWrite, &BlockCtx, &SoldSlot, SlotOutcome) -> SlotClosed,
}

impl Hooks {
    /// Hooks that do nothing and report no pending proposal: for unit tests of a lower module on
    /// its own.
    pub const NONE: Hooks = Hooks {
        block_signed: |_, _, _| {},
        stake_slashed: |_, _, _| {},
        slash_pending: |_, _| false,
        start_reexecution: |_, _, _| Err("no module above handles re-execution".into()),
        slot_closed: |_, _, _, _| (0, Vec::new()),
    };
}
