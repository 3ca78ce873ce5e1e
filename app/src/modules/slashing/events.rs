//! The slashing module's events: the `kind` of every event it emits, for CometBFT's index and for
//! the programs that watch the chain (the CLI, the operator agent, tests). Match on these
//! constants, never on retyped strings. Attributes are those set where the event is built (a few
//! gain more on the way, such as `resolver` on a dispute); every
//! event of a tx also carries `msg_index`.

/// Attributes: `operator`, `proposal`.
pub const SLASH_DISPUTED: &str = "slash_disputed";

/// Attributes: `amount`, `burned`, `disputed`, `offence`, `operator`, `proposal`, `to_reporter`, `to_treasury`.
pub const SLASH_EXECUTED: &str = "slash_executed";

/// Attributes: `operator`, `proposal`, `reason`.
pub const SLASH_OVERTURNED: &str = "slash_overturned";

/// Attributes: `amount`, `deadline`, `offence`, `operator`, `proposal`, `reporter`.
pub const SLASH_PROPOSED: &str = "slash_proposed";

/// Attributes: `operator`, `proposal`, `reason`, `vote_ends`.
pub const SLASH_VOTE_OPENED: &str = "slash_vote_opened";

/// Attributes: `power`, `proposal`, `uphold`, `voter`.
pub const SLASH_VOTED: &str = "slash_voted";
