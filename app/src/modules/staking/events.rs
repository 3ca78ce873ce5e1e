//! The staking module's events: the `kind` of every event it emits, for CometBFT's index and for
//! the programs that watch the chain (the CLI, the operator agent, tests). Match on these
//! constants, never on retyped strings. Attributes are those set where the event is built (a few
//! gain more on the way, such as `resolver` on a dispute); every
//! event of a tx also carries `msg_index`.

/// Attributes: `amount`, `delegator`, `operator`, `shares`.
pub const DELEGATE: &str = "delegate";

/// Attributes: `epoch`, `fees`, `paid_to_validators`, `to_treasury`, `validators`.
pub const EPOCH: &str = "epoch";

/// Attributes: `jailed_until`, `missed_blocks`, `operator`, `reason`, `window`.
pub const JAILED: &str = "jailed";

/// Attributes: `operator`.
pub const OPERATOR_EDITED: &str = "operator_edited";

/// Attributes: `consensus_pubkey`, `moniker`, `operator`, `self_bond`.
pub const OPERATOR_REGISTERED: &str = "operator_registered";

/// Attributes: `amount`, `burned`, `infraction_height`, `operator`, `reason`, `to_treasury`.
pub const SLASHED: &str = "slashed";

/// Attributes: `operator`, `reason`.
pub const TOMBSTONED: &str = "tombstoned";

/// Attributes: `amount`, `delegator`, `operator`, `unbonding_id`.
pub const UNBONDING_COMPLETED: &str = "unbonding_completed";

/// Attributes: `amount`, `completion_time`, `delegator`, `operator`, `unbonding_id`.
pub const UNDELEGATE: &str = "undelegate";

/// Attributes: `operator`.
pub const UNJAIL: &str = "unjail";

/// Attributes: `reason`.
pub const VALIDATOR_SET_KEPT: &str = "validator_set_kept";

/// Attributes: `consensus_pubkey`, `power`.
pub const VALIDATOR_UPDATE: &str = "validator_update";
