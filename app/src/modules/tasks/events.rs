//! The tasks module's events: the `kind` of every event it emits, for CometBFT's index and for
//! the programs that watch the chain (the CLI, the operator agent, tests). Match on these
//! constants, never on retyped strings. Attributes are those set where the event is built (a few
//! gain more on the way, such as `resolver` on a dispute); every
//! event of a tx also carries `msg_index`.

/// Attributes: `delay_blocks`, `operator`, `round`, `task`.
pub const RESULT_COMMITTED: &str = "result_committed";

/// Attributes: `agreeing`, `disagreeing`, `leaf_index`, `result_hash`, `round`, `task`.
pub const RESULT_FINALIZED: &str = "result_finalized";

/// Attributes: `operator`, `result_hash`, `round`, `task`.
pub const RESULT_REVEALED: &str = "result_revealed";

/// Attributes: `submission_fee`, `submitter`, `target_ref`, `task`, `window`.
pub const SUBMISSION_CONFIRMED: &str = "submission_confirmed";

/// Attributes: `opens_after`, `submitter`, `task`, `window`, `window_end`.
pub const SUBMISSION_DUE: &str = "submission_due";

/// Attributes: `commit_end`, `members`, `quorum`, `reveal_end`, `round`, `task`.
pub const TASK_ASSIGNED: &str = "task_assigned";

/// Attributes: `quorum`, `size`, `task`.
pub const TASK_ESCALATED: &str = "task_escalated";

/// Attributes: `reason`, `task`.
pub const TASK_ESCALATION_UNASSIGNED: &str = "task_escalation_unassigned";

/// Attributes: `protocol_fee`, `reason`, `reexecution`, `refund`, `task`.
pub const TASK_FAILED: &str = "task_failed";

/// Attributes: `client`, `consistency`, `difficulty_units`, `fee`, `kind`, `payload_hash`, `task`, `unit_price`.
pub const TASK_POSTED: &str = "task_posted";

/// Attributes: `unit_price`, `utilisation_ppm`.
pub const TASK_PRICE: &str = "task_price";

/// Attributes: `status`, `task`.
pub const TASK_PRUNED: &str = "task_pruned";

/// Attributes: `accused`, `original_task`, `proposal`, `task`.
pub const TASK_REEXECUTION_STARTED: &str = "task_reexecution_started";

/// Attributes: `height`, `results`, `root`.
pub const TASK_RESULTS_ROOT: &str = "task_results_root";

/// Attributes: `refund`, `task`.
pub const TASK_UNDELIVERED: &str = "task_undelivered";
