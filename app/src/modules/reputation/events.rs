//! The reputation module's events: the `kind` of every event it emits, for CometBFT's index and for
//! the programs that watch the chain (the CLI, the operator agent, tests). Match on these
//! constants, never on retyped strings. Attributes are those set where the event is built (a few
//! gain more on the way, such as `resolver` on a dispute); every
//! event of a tx also carries `msg_index`.

/// Attributes: `blocks`, `epoch`, `records`, `updated`.
pub const REPUTATION_EPOCH: &str = "reputation_epoch";
